"""Browser benchmark of the supervisors' dashboard at 10,000 agents, against a baseline of 100.

    .venv/bin/python -m benchmarks.bench_dashboard [--agents 10000] [--baseline-agents 100] [--seconds 20]
        [--rounds 2] [--warmup-seconds 4] [--profile-seconds 4] [--robots 100] [--out docs/benchmarks.md]

Headless Debian Chromium, driven over the DevTools protocol by ``benchmarks/cdp.py`` (not Playwright, whose
Network domain copies every WebSocket frame on the page's main thread), opens the real dashboard files served
by :class:`benchmarks.fake_gateway.FakeGateway`, whose synthetic site sends, every second, every agent's
new readings (the worst case: every wearable reports each second), 100 robots, and an alert every 2 s.
The probe injected into the page (``dashboard_probe.js``) measures frame intervals, long tasks, the
latency from a live message to the frame that drew it, and from an alert to its card in the feed.
Both runs use the same browser and script; figures are reported with their ratio target / baseline, as
the machine (2 shared cores) moves absolute figures from run to run.

Prints one JSON object; with ``--out``, replaces the section "Dashboard at 10,000 agents (browser)" of
that Markdown file (or appends it), leaving the other sections as they are.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.cdp import Browser, Page
from benchmarks.dashboard_report import RATIOS, get, markdown, percentile, ratio, summarise, write_section
from benchmarks.fake_gateway import REPO_ROOT, FakeGateway
from benchmarks.synthetic_site import SyntheticSite

CHROMIUM = "/usr/bin/chromium"
# As tests/e2e/test_dashboard.py, plus exact heap sizes and window.gc() for the footprint.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run",
                 "--enable-precise-memory-info", "--js-flags=--expose-gc"]  # fmt: skip
VIEWPORT = {"width": 1600, "height": 1000}
PROBE = Path(__file__).with_name("dashboard_probe.js")
ARTIFACTS = REPO_ROOT / "test-artifacts"


def profile(page: Page, seconds: float, top: int = 8) -> list[dict[str, Any]]:
    """Samples the page's JavaScript for ``seconds`` (CDP Profiler), after the measured window since sampling
    slows the page; returns the functions with the most self time, as shares of the busy (non-idle) time."""
    page.send("Profiler.enable")
    page.send("Profiler.setSamplingInterval", {"interval": 500})  # µs
    page.send("Profiler.start")
    time.sleep(seconds)
    nodes = page.send("Profiler.stop")["profile"]["nodes"]
    page.send("Profiler.disable")
    self_hits: dict[str, int] = {}
    for node in nodes:
        frame = node["callFrame"]
        name = frame["functionName"] or "(anonymous)"
        where = frame["url"].rsplit("/", 1)[-1]
        key = f"{where}:{frame['lineNumber'] + 1} {name}" if where else name
        self_hits[key] = self_hits.get(key, 0) + node.get("hitCount", 0)
    busy = sum(hits for key, hits in self_hits.items() if key != "(idle)") or 1
    ranked = sorted(((key, hits) for key, hits in self_hits.items() if key != "(idle)"), key=lambda kv: -kv[1])
    return [{"what": key, "busy_pct": round(100 * hits / busy, 1)} for key, hits in ranked[:top]]


def run_once(browser: Browser, n_agents: int, seconds: float, warmup_s: float, n_robots: int,
             profile_s: float = 0.0) -> dict[str, Any]:
    """Loads the dashboard on a synthetic site of ``n_agents``, measures it for ``seconds``, then (if
    ``profile_s``) samples where its JavaScript spends the time."""
    gateway = FakeGateway(SyntheticSite(n_agents, n_robots=n_robots)).start()
    page = browser.new_page(VIEWPORT["width"], VIEWPORT["height"], locale="fr-FR", timezone_id="Europe/Paris")
    try:
        page.add_init_script(PROBE.read_text(encoding="utf-8"))
        started = time.perf_counter()
        page.goto(gateway.url)
        page.wait_for("""document.querySelector('[data-testid="connection-state"][data-state="open"]')""", 120)
        load_ms = round((time.perf_counter() - started) * 1000)
        time.sleep(warmup_s)
        sent_before = gateway.sent.get("agents.changed", 0)
        page.evaluate("window.__vigieBench.start()")
        time.sleep(seconds)
        raw = page.evaluate("window.__vigieBench.stop()")
        sent = gateway.sent.get("agents.changed", 0) - sent_before
        footprint = page.evaluate("window.__vigieBench.footprint()")
        hot = profile(page, profile_s) if profile_s else None
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(ARTIFACTS / f"bench-dashboard-{n_agents}.png")
        return {"raw": raw, "footprint": footprint, "load_ms": load_ms, "errors": list(page.errors), "sent": sent,
                "build_ms": percentile(gateway.build_ms, 50), "profile": hot}  # fmt: skip
    finally:
        page.close()
        gateway.stop()


def measure(browser: Browser, sizes: Sequence[int], args: argparse.Namespace) -> list[dict[str, Any]]:
    """Runs each size ``args.rounds`` times, alternating sizes, so a change in the machine's load (2 shared
    cores) falls on both alike; returns one summary per size."""
    runs: dict[int, list[dict[str, Any]]] = {size: [] for size in sizes}
    for round_index in range(args.rounds):
        for size in sizes:
            last = round_index == args.rounds - 1
            runs[size].append(run_once(browser, size, args.seconds / args.rounds, args.warmup_seconds, args.robots,
                                       profile_s=args.profile_seconds if last else 0.0))  # fmt: skip
    summaries = []
    for size in sizes:
        window_s = sum(run["raw"]["window_ms"] for run in runs[size]) / 1000
        summary = summarise(runs[size], sum(run["sent"] for run in runs[size]) / window_s)
        summary.update(agents=size, robots=args.robots, profile=runs[size][-1]["profile"],
                       server_build_ms_p50=percentile([run["build_ms"] for run in runs[size] if run["build_ms"]], 50))
        summaries.append(summary)
    return summaries


def code_state() -> str:
    """Which dashboard code was measured: the commit, and whether dashboards/static had local changes."""
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    if not git("status", "--porcelain", "--", "dashboards/static"):
        return commit
    # Uncommitted files: name the exact contents measured, so a later run can tell whether they changed.
    digest = hashlib.sha1(usedforsecurity=False)
    for path in sorted((REPO_ROOT / "dashboards" / "static").rglob("*")):
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return f"{commit} + uncommitted dashboard changes, files sha1 {digest.hexdigest()[:10]}"


def machine(browser_version: str) -> dict[str, Any]:
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        model = next((line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                      if line.startswith("model name")), "")  # fmt: skip
    return {"cores": os.cpu_count(), "cpu": model, "chromium": browser_version, "python": platform.python_version(),
            "load_avg_1min": round(os.getloadavg()[0], 2)}  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_dashboard", description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--baseline-agents", type=int, default=100)
    parser.add_argument("--robots", type=int, default=100, help="the same in both runs, so the ratio is the agents'")
    parser.add_argument("--seconds", type=float, default=20.0, help="measuring time per size, split over the rounds")
    parser.add_argument("--warmup-seconds", type=float, default=4.0, help="before each run's window")
    parser.add_argument("--rounds", type=int, default=2, help="runs per size, alternating sizes; windows pooled")
    parser.add_argument("--profile-seconds", type=float, default=4.0,
                        help="JS sampling after the last window of each size (0: none)")
    parser.add_argument("--out", type=Path, help="Markdown file whose dashboard section to replace")
    args = parser.parse_args(argv)

    command = "python -m benchmarks.bench_dashboard " + " ".join(sys.argv[1:] if argv is None else argv)
    load_before = os.getloadavg()[0]
    browser = Browser(CHROMIUM, CHROMIUM_ARGS)
    try:
        info = machine(browser.version)
        baseline, target = measure(browser, [args.baseline_agents, args.agents], args)
    finally:
        browser.close()
    info["load_avg_1min"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]

    report: dict[str, Any] = {
        "benchmark": "dashboard", "command": command.strip(), "code": code_state(),
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "machine": info,
        "seconds": args.seconds, "rounds": args.rounds, "warmup_seconds": args.warmup_seconds,
        "profile_seconds": args.profile_seconds,
        "baseline": baseline, "target": target,
        "ratios": {name: ratio(get(target, key), get(baseline, key)) for name, key in RATIOS.items()},
    }  # fmt: skip
    print(json.dumps(report, indent=2))
    if args.out:
        write_section(args.out, markdown(report))
        print(f"wrote the dashboard section of {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
