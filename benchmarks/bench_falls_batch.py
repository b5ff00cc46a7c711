"""Micro-benchmark of the fall detectors on the gateway's batches: each device's ``FallDetector.update`` one by
one (the baseline) vs ``FallDetectorBank.update`` on the whole batch, in the same process.

    .venv/bin/python -m benchmarks.bench_falls_batch [--devices 1000] [--seconds 20] [--repeat 3]

Each device walks (a 1.6-2.2 Hz gait, a vertical bounce of 2-8 m/s², so some steps reach the 1.6 g candidate
threshold and go through the full peak scan) and sends one 50-sample frame per second; one batch holds every
device's frame of one second, as the ingest receives them. The first two seconds warm the detectors up and
are not timed. Prints one JSON object: CPU µs per frame of each way (the process's CPU time, best of
``--repeat``: the machine is shared and wall time swings with its load), their ratio, and whether both gave
the same events.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime, timedelta

import numpy as np

from services.falls import FallDetector, FallEvent
from services.falls_batch import FallDetectorBank, FallFrame

START = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
RATE_HZ = 50
WARM_UP_S = 2


def walking(devices: int, seconds: int, seed: int = 1) -> np.ndarray:
    """(devices, seconds × 50, 3) acceleration in m/s², gravity on z, each device its own gait and sensor noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(seconds * RATE_HZ) / RATE_HZ
    step_hz, bounce, phase = rng.uniform(1.6, 2.2, (3, devices, 1)) * [[[1.0]], [[4.0 / 1.6]], [[3.0]]]
    step = 2 * np.pi * step_hz * t + phase
    acc = np.stack([1.0 * np.sin(step + 0.5), 0.8 * np.sin(step / 2), 9.81 + bounce * np.sin(step)], axis=-1)
    return acc + rng.normal(0.0, 0.05, acc.shape)


def one_by_one(acc: np.ndarray) -> tuple[float, list[list[FallEvent]]]:
    detectors = [FallDetector() for _ in acc]
    events: list[list[FallEvent]] = [[] for _ in acc]
    elapsed = 0.0
    for s in range(acc.shape[1] // RATE_HZ):
        ts, frames = START + timedelta(seconds=s), acc[:, s * RATE_HZ : (s + 1) * RATE_HZ]
        began = time.process_time()
        found = [detector.update(ts, frame, None, RATE_HZ) for detector, frame in zip(detectors, frames, strict=True)]
        elapsed += time.process_time() - began if s >= WARM_UP_S else 0.0
        for mine, new in zip(events, found, strict=True):
            mine.extend(new)
    return elapsed, events


def batched(acc: np.ndarray) -> tuple[float, list[list[FallEvent]], FallDetectorBank]:
    detectors, bank = [FallDetector() for _ in acc], FallDetectorBank()
    events: list[list[FallEvent]] = [[] for _ in acc]
    elapsed = 0.0
    for s in range(acc.shape[1] // RATE_HZ):
        ts, frames = START + timedelta(seconds=s), acc[:, s * RATE_HZ : (s + 1) * RATE_HZ]
        batch = [FallFrame(detector, ts, frame, RATE_HZ) for detector, frame in zip(detectors, frames, strict=True)]
        began = time.process_time()
        found = bank.update(batch)
        elapsed += time.process_time() - began if s >= WARM_UP_S else 0.0
        for mine, new in zip(events, found, strict=True):
            mine.extend(new)
    return elapsed, events, bank


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    acc = walking(args.devices, args.seconds)
    timed_frames = args.devices * (args.seconds - WARM_UP_S)
    loop_s, bank_s, same = [], [], True
    for _ in range(args.repeat):  # alternated, so that a busy spell of the machine hits both
        elapsed, reference = one_by_one(acc)
        loop_s.append(elapsed)
        elapsed, events, bank = batched(acc)
        bank_s.append(elapsed)
        same = same and events == reference
    loop_us, bank_us = min(loop_s) / timed_frames * 1e6, min(bank_s) / timed_frames * 1e6
    print(json.dumps({
        "devices": args.devices, "seconds": args.seconds, "timed_frames": timed_frames,
        "per_device_us_per_frame": round(loop_us, 1), "bank_us_per_frame": round(bank_us, 1),
        "speedup": round(loop_us / bank_us, 1), "same_events": same,
        "events": sum(len(e) for e in reference), "bank_frames_vectorised": bank.vectorised,
        "bank_frames_one_by_one": bank.one_by_one,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
