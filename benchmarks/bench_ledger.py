"""Micro-benchmark of the ingest's ledger step on one batch: per-frame (before) vs batch numpy (now).

    .venv/bin/python -m benchmarks.bench_ledger [--frames 1000] [--repeat 30]

Times the pure parts of ``LedgerUpdater.update`` on a batch of full 1-s wearable frames (noise, environment
with or without a globe, hand-arm and whole-body vibration, heart rate, a lift now and then): the day
increments (``services.ledger.day_deltas``), the heart-rate minutes (``ledger_store.hr_minute_sums``) and the
COPY rows (``ledger_store.day_row``). "before" is the per-frame reference kept in
tests/unit/test_ledger_vectorised.py. Two batch shapes: one frame from each of 1,000 agents (the live case:
every agent's latest second) and 20 frames from each of 50 agents (a backlog). Prints µs per frame, best of
``--repeat`` runs (the machine is shared).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from gateway.db import ledger_store
from services import ledger
from services.exposure.heat import Task
from services.exposure.night import local_day
from services.model import Environment, Frame, HandArmVibration, Lift, Noise, Received, WholeBodyVibration
from tests.unit.test_ledger_vectorised import reference_day_deltas, reference_hr_minute_sums

PARIS = ZoneInfo("Europe/Paris")
START = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)


def full_frame(rnd: random.Random, device: str, seq: int, ts: datetime) -> Frame:
    globe = rnd.uniform(25, 50) if rnd.random() < 0.5 else None
    return Frame(
        device, seq, ts, hr_bpm=rnd.uniform(70, 160), noise=Noise(rnd.uniform(60, 100), rnd.uniform(100, 140)),
        env=Environment(rnd.uniform(15, 38), rnd.uniform(20, 90), globe),
        hav=HandArmVibration(rnd.uniform(0, 8), rnd.choice([0.0, 1.0]), "trimmer-1"),
        wbv=WholeBodyVibration((rnd.uniform(0, 1), rnd.uniform(0, 1), rnd.uniform(0, 1)), 1.0),
        lift=Lift(1, rnd.uniform(5, 30)) if rnd.random() < 0.05 else None,
    )  # fmt: skip


def batch(agents: int, frames: int, seed: int = 1) -> tuple[list[Received], dict[str, ledger.ExposureProfile]]:
    rnd = random.Random(seed)
    per_agent = frames // agents
    out = [
        Received(full_frame(rnd, f"wear-{a}", s, START + timedelta(seconds=s)), START, f"agent-{a}")
        for s in range(per_agent) for a in range(agents)
    ]  # fmt: skip
    profiles = {f"agent-{a}": ledger.ExposureProfile(20.0, rnd.choice(list(Task))) for a in range(agents)}
    return out, profiles


def best_us_per_frame(step: Callable[[], object], frames: int, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return round(min(times) / frames * 1e6, 2)


def update_before(frames: list[Received], profiles: dict[str, ledger.ExposureProfile]) -> list[tuple[object, ...]]:
    """What ``LedgerUpdater.update`` computed before writing: per-frame deltas, one COPY row each, HR minutes."""
    hr = reference_hr_minute_sums(frames)
    hr_days = {(a, local_day(m, PARIS)) for a, m in hr}
    return [ledger_store.day_row(d, hr_days) for d in reference_day_deltas(frames, profiles, PARIS)]


def update_now(frames: list[Received], profiles: dict[str, ledger.ExposureProfile]) -> list[tuple[object, ...]]:
    """What it computes now: the batch's columns, their COPY rows, HR minutes."""
    hr = ledger_store.hr_minute_sums(frames)
    days = {m: local_day(m, PARIS) for m in {m for _, m in hr}}
    hr_days = {(a, days[m]) for a, m in hr}
    return ledger_store.day_rows(ledger.day_table(frames, profiles, PARIS), {}, hr_days)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    results = {}
    for agents in (1000, 50):
        frames, profiles = batch(agents, args.frames)
        n = len(frames)
        steps: dict[str, Callable[[], object]] = {
            "day_deltas_before": partial(reference_day_deltas, frames, profiles, PARIS),
            "day_deltas_now": partial(ledger.day_deltas, frames, profiles, PARIS),
            "hr_minute_sums_before": partial(reference_hr_minute_sums, frames),
            "hr_minute_sums_now": partial(ledger_store.hr_minute_sums, frames),
            "update_before": partial(update_before, frames, profiles),
            "update_now": partial(update_now, frames, profiles),
        }
        results[f"{agents}_agents"] = {f"{k}_us": best_us_per_frame(step, n, args.repeat) for k, step in steps.items()}
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
