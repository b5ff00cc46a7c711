"""``vigie bench signals``: the weak signals on simulated months with and without ground-truth drifts (issue 9).

For each seed, ``simulations/drifts.py`` generates a population (agents in crews and sites, robots) over
``--days`` calendar days twice: once with injected drifts, once without. ``detect`` runs once per population over
the whole period; since every signal is causal (stats.py), a signal's ``first_flagged`` is the day a run every
evening would have flagged it first, so one run stands for the day-by-day one (tests/unit/test_signals_detect.py
checks it).

Scoring: an injected drift is *detected* when its signal (kind and subject) is first flagged between its start and
14 days later; days to detection are calendar days from the start. A *false flag* is a flagged signal that no
injected drift explains (same kind and subject, or one of the drift's ``also`` subjects, first flagged on or after
its start); each signal counts at most once per run. Rates are per 100 agent-months (agents × days / 30.44).
Parameters were tuned on seeds 101, 102, 103; the default seeds reported are 1, 2, 3.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.doc_section import write_between
from services.signals.detect import detect
from services.signals.model import Signal
from simulations.drifts import InjectedDrift, Simulation, simulate

START, END = "<!-- bench-signals:start -->", "<!-- bench-signals:end -->"
WITHIN_DAYS = 14
TARGET_DETECTION = 0.90
TARGET_FALSE_PER_100 = 2.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--agents", type=int, default=300)
    parser.add_argument("--days", type=int, default=182, help="calendar days simulated (about six months)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--drifts-per-kind", type=int, default=3)
    parser.add_argument("--out", type=Path, help="Markdown file whose bench-signals section is replaced")


def score(sim: Simulation, signals: list[Signal]) -> dict[str, Any]:
    """Detections per injected drift and the flags no drift explains."""
    by_key = {(s.kind, s.subject_kind, s.subject_id): s for s in signals}
    explained: dict[tuple[str, str, str], list[InjectedDrift]] = defaultdict(list)
    for drift in sim.drifts:
        explained[(drift.kind, drift.subject_kind, drift.subject_id)].append(drift)
        for key in drift.also:
            explained[key].append(drift)
    detections = []
    for drift in sim.drifts:
        signal = by_key.get((drift.kind, drift.subject_kind, drift.subject_id))
        first = signal.first_flagged if signal is not None else None
        delay = (first - drift.start).days if first is not None else None
        detections.append({"kind": drift.kind, "delay_days": delay,
                           "detected": delay is not None and 0 <= delay <= WITHIN_DAYS})
    false_flags: list[str] = []
    for s in signals:
        if s.first_flagged is None:
            continue
        causes = explained.get((s.kind, s.subject_kind, s.subject_id), [])
        if not any(s.first_flagged >= d.start for d in causes):
            false_flags.append(s.kind)
    return {"detections": detections, "false_flags": false_flags}


def run_benchmark(*, agents: int, days: int, seeds: list[int], drifts_per_kind: int) -> dict[str, Any]:
    started = time.perf_counter()
    detections: list[dict[str, Any]] = []
    false_by_kind: dict[str, int] = defaultdict(int)
    agent_months = 0.0
    detect_s = 0.0
    for seed in seeds:
        for with_drifts in (True, False):
            sim = simulate(agents=agents, days=days, seed=seed, drifts=with_drifts, drifts_per_kind=drifts_per_kind)
            t0 = time.perf_counter()
            signals = detect(sim.agent_days, sim.robot_days, sim.heat_episodes, until=sim.end)
            detect_s += time.perf_counter() - t0
            scored = score(sim, signals)
            detections.extend(scored["detections"])
            for kind in scored["false_flags"]:
                false_by_kind[kind] += 1
            agent_months += sim.agent_months
    per_kind: dict[str, dict[str, Any]] = {}
    for d in detections:
        entry = per_kind.setdefault(d["kind"], {"injected": 0, "detected": 0, "delays": []})
        entry["injected"] += 1
        entry["detected"] += int(d["detected"])
        if d["detected"]:
            entry["delays"].append(d["delay_days"])
    for kind, count in false_by_kind.items():
        per_kind.setdefault(kind, {"injected": 0, "detected": 0, "delays": []})["false_flags"] = count
    for entry in per_kind.values():
        entry.setdefault("false_flags", 0)
        delays = entry.pop("delays")
        entry["median_days_to_detection"] = statistics.median(delays) if delays else None
    delays = [d["delay_days"] for d in detections if d["detected"]]
    rate = sum(d["detected"] for d in detections) / len(detections) if detections else 0.0
    false_total = sum(false_by_kind.values())
    false_rate = 100.0 * false_total / agent_months if agent_months else 0.0
    return {
        "detection_rate": round(rate, 4),
        "median_days_to_detection": statistics.median(delays) if delays else None,
        "false_flags_per_100_agent_months": round(false_rate, 3),
        "injected_drifts": len(detections),
        "false_flags": false_total,
        "agent_months": round(agent_months, 1),
        "within_days": WITHIN_DAYS,
        "targets": {"detection_rate": TARGET_DETECTION, "false_flags_per_100_agent_months": TARGET_FALSE_PER_100,
                    "detection_met": rate >= TARGET_DETECTION, "false_flags_met": false_rate <= TARGET_FALSE_PER_100},
        "per_kind": dict(sorted(per_kind.items())),
        "seeds": seeds, "tuning_seeds": [101, 102, 103],
        "sizes": {"agents": agents, "days": days, "drifts_per_kind": drifts_per_kind,
                  "populations": 2 * len(seeds)},
        "runtime_s": round(time.perf_counter() - started, 2), "detect_s": round(detect_s, 2),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "load_average": [round(x, 2) for x in os.getloadavg()]},
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _days(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


def _met(flag: bool) -> str:
    return "**met**" if flag else "**missed**"


def markdown(r: dict[str, Any]) -> str:
    t, sz, m = r["targets"], r["sizes"], r["machine"]
    rows = "\n".join(
        f"| {kind} | {e['injected']} | {e['detected']} | {_days(e['median_days_to_detection'])} | {e['false_flags']} |"
        for kind, e in r["per_kind"].items())
    seeds = ", ".join(map(str, r["seeds"]))
    within, rate, false_rate = r["within_days"], f"{r['detection_rate']:.1%}", r["false_flags_per_100_agent_months"]
    detection_met, false_met = _met(t["detection_met"]), _met(t["false_flags_met"])
    return f"""## Weak signals on simulated months (issue 9)

Command: `vigie bench signals --out docs/benchmarks.md` (also run by `make bench`; `benchmarks/bench_signals.py`,
population from `simulations/drifts.py`). Machine: {m['cpus']} cores (shared), Python {m['python']}, load average
{', '.join(map(str, m['load_average']))} at the end. Measured {r['measured_at']}; whole run {r['runtime_s']} s
({r['detect_s']} s in `detect`).

{sz['agents']} agents (crews of 10, 6 sites, robots in about half the crews) over {sz['days']} calendar days, seeds
{seeds}, each with and without injected drifts ({sz['populations']} populations, {r['agent_months']:,} agent-months);
{r['injected_drifts']} injected drifts ({sz['drifts_per_kind']} per kind and seed, each reaching its size over a
week). Parameters tuned on seeds {', '.join(map(str, r['tuning_seeds']))}, not the ones reported.

| figure | measured | target |
| --- | --- | --- |
| drifts flagged within {within} days of their start | {rate} | ≥ 90 %: {detection_met} |
| median days to detection | {_days(r['median_days_to_detection'])} | – |
| false flags per 100 agent-months | {false_rate} ({r['false_flags']} flags) | ≤ 2: {false_met} |

| signal | injected | detected ≤ {r['within_days']} d | median days | false flags |
| --- | --- | --- | --- | --- |
{rows}

A false flag is a signal flagged without an injected drift behind it (counted once per signal and run); the drifts
are the simulator's, of the sizes stated in docs/signals.md, so these figures say the statistics work on data shaped
like this, not that every real drift of any size is caught.
"""


def write_section(path: Path, section: str) -> None:
    """Replace what lies between this benchmark's markers in ``path`` (append markers and section if absent)."""
    write_between(path, START, END, section)


def run(args: argparse.Namespace) -> int:
    result = run_benchmark(agents=args.agents, days=args.days, seeds=list(args.seeds),
                           drifts_per_kind=args.drifts_per_kind)
    print(json.dumps(result))
    if args.out is not None:
        write_section(args.out, markdown(result))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())

