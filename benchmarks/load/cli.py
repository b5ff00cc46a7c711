"""``vigie bench load`` (also ``python -m benchmarks.load``): the whole benchmark, one JSON object on stdout.

    vigie bench load [--wearables 10000[,N2...]] [--robots 100] [--duration-s 600] [--workers 1]
        [--drain-frames 20000] [--baselines nodered,naive] [--no-ceiling] [--publisher raw|paho] [--quick]
        [--out docs/benchmarks.md]

Order: broker and database up, roster registered; the drain measurements (Vigie with 1 worker, with 2 when
``vigie ingest`` exists, then each baseline installed here, then the ceilings: paho and gmqtt consumers doing
nothing), then one sustained run per size asked, smallest first. Everything runs on private, throwaway services
in a temporary directory (``--keep`` keeps it).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.load import drain, publisher, report, rig, sustained

log = logging.getLogger(__name__)
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO_ROOT / "docs" / "benchmarks.md"
QUICK = {"wearables": [200], "robots": 5, "duration_s": 30, "probe_interval_s": 1.0, "drain_frames": 3000,
         "drain_devices": 300}  # fmt: skip
TARGET_WEARABLES, TARGET_ROBOTS, TARGET_DURATION_S, TARGET_P99_MS = 10_000, 100, 600, 250.0
FRAMES_PER_PUBLISHER = 5000  # frames/s per publisher process: comfortable for paho, a fraction of raw's


def _sizes(text: str) -> list[int]:
    return sorted(int(part) for part in text.split(",") if part.strip())


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--wearables", type=_sizes, default=None, help="one size or several: 500,2000,10000")
    parser.add_argument("--robots", type=int, default=None, help="robots at 10 Hz (default 100)")
    parser.add_argument("--duration-s", type=int, default=None, help="per sustained run (default 600)")
    parser.add_argument("--workers", type=int, default=1, help="gateway ingest workers in the sustained runs")
    parser.add_argument("--probe-interval-s", type=float, default=None, help="one SOS probe every ... (default 5)")
    parser.add_argument("--publishers", type=int, default=None,
                        help=f"publisher processes (default: one per {FRAMES_PER_PUBLISHER} frames/s)")
    parser.add_argument("--publisher", choices=publisher.PUBLISHERS, default="raw",
                        help="the load generator's MQTT client: raw (rawmqtt, default) or paho")  # fmt: skip
    parser.add_argument("--drain-frames", type=int, default=None, help="frames queued per drain (default 20000)")
    parser.add_argument("--drain-devices", type=int, default=None, help="devices they come from (default 1000)")
    parser.add_argument("--no-drain", action="store_true", help="skip the capacity (drain) measurements")
    parser.add_argument("--no-sustained", action="store_true", help="only the drain measurements")
    parser.add_argument("--baselines", default="nodered,naive", help="comma list, or '' for none")
    parser.add_argument("--no-ceiling", action="store_true",
                        help="skip the drains by consumers that do nothing (paho, gmqtt: the broker + client ceilings)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 200 wearables, 5 robots, 30 s")
    parser.add_argument("--out", type=Path, default=None,
                        help="Markdown file whose load section to replace (default docs/benchmarks.md; "
                             "--quick writes nothing unless --out is given)")
    parser.add_argument("--no-out", action="store_true", help="write no Markdown")
    parser.add_argument("--workdir", type=Path, default=None, help="default: a new directory under /tmp")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, database)")


def _resolve(args: argparse.Namespace) -> dict[str, Any]:
    base = dict(QUICK) if args.quick else {"wearables": [TARGET_WEARABLES], "robots": TARGET_ROBOTS,
                                           "duration_s": TARGET_DURATION_S, "probe_interval_s": 5.0,
                                           "drain_frames": 20_000, "drain_devices": 1000}  # fmt: skip
    for key in base:
        value = getattr(args, key, None)
        if value is not None:
            base[key] = value
    out = args.out if args.out is not None else (None if args.quick else DEFAULT_OUT)
    base["out"] = None if args.no_out else out
    base["ceiling"] = not getattr(args, "no_ceiling", False)
    return base


def _code_state() -> str:
    def git(*argv: str) -> str:
        done = subprocess.run(["git", *argv], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "gateway", "services")
    return f"{commit} + uncommitted gateway/services changes" if dirty else commit


def _drains(services: rig.Services, opts: dict[str, Any], baselines: list[str], workdir: Path,
            notes: list[str]) -> dict[str, Any]:  # fmt: skip
    devices = min(opts["drain_devices"], max(opts["wearables"]))
    seconds_n = max(1, math.ceil(opts["drain_frames"] / devices))
    publishers = max(1, min(4, math.ceil(devices / FRAMES_PER_PUBLISHER)))
    results: list[drain.DrainResult] = []
    worker_counts = [1, 2] if rig.ingest_command_available() else [1]
    if worker_counts == [1]:
        notes.append("`vigie ingest` is not in this checkout: the 2-worker drain was not run.")
    for workers in worker_counts:
        # Each drain gets seconds of its own, just before now (never seen by the gateway: no duplicates).
        last = int(time.time()) - 1
        seconds = list(range(last - seconds_n + 1, last + 1))
        try:
            results.append(drain.drain_vigie(services, workers, devices, seconds, 1 if devices < 2000 else publishers))
        except Exception as exc:  # one consumer failing must not lose the others' figures
            log.exception("Vigie drain with %d workers failed", workers)
            results.append(drain.DrainResult(f"vigie ({workers} workers)", 0, None, None, None, False, error=str(exc)))
    if baselines:
        try:
            from benchmarks.baselines import available
        except ImportError as exc:
            notes.append(f"baselines unavailable ({exc}): no ratios against them.")
            baselines = []
    for name in baselines:
        if not available(name):  # type: ignore[arg-type]
            notes.append(f"baseline {name} is not installed here (scripts/install-node-red.sh): not run.")
            continue
        last = int(time.time()) - 1
        seconds = list(range(last - seconds_n + 1, last + 1))
        try:
            results.append(drain.drain_baseline(services, name, workdir / name, devices, seconds, 1))
        except Exception as exc:
            log.exception("baseline %s failed", name)
            results.append(drain.DrainResult(name, 0, None, None, None, False, error=str(exc)[:300]))
    for client in drain.CEILINGS if opts.get("ceiling", True) else ():
        # What the broker and the client alone deliver here: the most any consumer on that client can drain.
        last = int(time.time()) - 1
        seconds = list(range(last - seconds_n + 1, last + 1))
        try:
            results.append(drain.drain_ceiling(services, workdir / "ceiling", devices, seconds, 1, client=client))
        except Exception as exc:
            log.exception("the %s ceiling drain failed", client)
            results.append(drain.DrainResult(drain.CEILINGS[client], 0, None, None, None, False, error=str(exc)[:300]))
    return {"frames": devices * seconds_n, "devices": devices, "results": [r.as_json() for r in results],
            "ratios": _ratios(results)}  # fmt: skip


def _ratios(results: list[drain.DrainResult]) -> dict[str, float | None]:
    by_name = {r.consumer: r.frames_per_s for r in results}
    ratios: dict[str, float | None] = {}
    one, two = by_name.get("vigie (1 worker)"), by_name.get("vigie (2 workers)")
    best = max((v for k, v in by_name.items() if k.startswith("vigie") and v), default=None)
    ceiling = by_name.get(drain.CEILING)
    for name in ("nodered", "naive"):
        if by_name.get(name) and best:
            ratios[f"Vigie / {name}"] = round(best / by_name[name], 2)  # type: ignore[operator]
    if ceiling and by_name.get("nodered"):
        ratios["ceiling / nodered"] = round(ceiling / by_name["nodered"], 2)  # type: ignore[operator]
    if ceiling and best:
        ratios["Vigie / ceiling"] = round(best / ceiling, 2)
    other = by_name.get(drain.CEILINGS["gmqtt"])
    if ceiling and other:
        ratios["gmqtt / paho, no work"] = round(other / ceiling, 2)
    if one and two:
        ratios["2 workers / 1 worker"] = round(two / one, 2)
    return ratios


def _targets(runs: list[dict[str, Any]], drains: dict[str, Any] | None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    full = [r for r in runs if r["wearables"] >= TARGET_WEARABLES and r["robots"] >= TARGET_ROBOTS
            and r["duration_s"] >= TARGET_DURATION_S]  # fmt: skip
    if runs:
        r = full[-1] if full else runs[-1]
        ok = bool(full) and r["lag"]["flat"] and r["all_stored"] and r["publisher"]["kept_up"]
        what = (f"{r['wearables']:,} wearables + {r['robots']} robots for {r['duration_s']} s: lag "
                f"{'flat' if r['lag']['flat'] else 'growing'}, {r['frames_per_s']:,} frames/s stored"
                + ("" if full else " (smaller than the target run)"))  # fmt: skip
        out.append({"target": "10,000 wearables + 100 robots for 10 min, flat lag", "measured": what, "met": ok})
        p99 = r["alert_latency_ms"]["p99"]
        enough = r["alert_latency_ms"]["measured"] >= 100
        out.append({"target": "p99 alert latency ≤ 250 ms (≥ 100 probes)",
                    "measured": f"{p99} ms over {r['alert_latency_ms']['measured']} probes",
                    "met": (p99 is not None and p99 <= TARGET_P99_MS and enough) if full else None})  # fmt: skip
    ratios = (drains or {}).get("ratios") or {}
    for key, goal in (("Vigie / nodered", 5.0), ("2 workers / 1 worker", 1.8)):
        value = ratios.get(key)
        measured = f"{value}×" if value else "not measured"
        if key == "Vigie / nodered" and ratios.get("ceiling / nodered"):
            # Whether the target is reachable at all here with paho: a consumer doing nothing bounds any ratio.
            measured += f" (a paho consumer doing nothing: {ratios['ceiling / nodered']}×)"
        out.append({"target": f"{key} frames/s ≥ {goal}×", "measured": measured,
                    "met": None if value is None else value >= goal})  # fmt: skip
    return out


def run(args: argparse.Namespace) -> int:
    opts = _resolve(args)
    publisher.use_publisher(getattr(args, "publisher", "raw"))
    command = "vigie bench load " + " ".join(sys.argv[sys.argv.index("load") + 1:] if "load" in sys.argv else [])
    load_before = os.getloadavg()[0]
    workdir = rig.make_workdir(args.workdir)
    baselines = [b for b in args.baselines.split(",") if b.strip()]
    notes: list[str] = []
    services = rig.start_services(workdir)
    runs: list[dict[str, Any]] = []
    drains = None
    try:
        biggest = max(opts["wearables"])
        rig.register_roster(services.database_url, biggest, opts["robots"], datetime.now(UTC) - timedelta(hours=1))
        if not args.no_drain:
            drains = _drains(services, opts, baselines, workdir, notes)
        if not args.no_sustained:
            for n in opts["wearables"]:
                publishers = args.publishers or max(1, math.ceil(n / FRAMES_PER_PUBLISHER))
                plan = sustained.Plan(n, opts["robots"], opts["duration_s"], publishers, opts["probe_interval_s"],
                                      workers=args.workers)  # fmt: skip
                log.info("sustained run: %d wearables, %d robots, %d s", n, opts["robots"], opts["duration_s"])
                runs.append(sustained.run(services, plan))
        info = report.machine(services.database_url)
    finally:
        services.stop()
        if not args.keep:
            rig.remove_workdir(workdir)
    info["load_avg"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    result = {"benchmark": "load", "command": command.strip(), "code": _code_state(),
              "measured_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "machine": info,
              "sustained": runs, "drain": drains, "targets": _targets(runs, drains), "notes": notes}  # fmt: skip
    print(json.dumps(result, indent=2))
    if opts["out"] is not None:
        report.write_section(opts["out"], report.markdown(result))
        print(f"wrote the load section of {opts['out']}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__.splitlines()[0])
    add_arguments(parser)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return run(parser.parse_args(argv))
