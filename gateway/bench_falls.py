"""``vigie bench falls``: how well ``services.falls`` finds falls in a SisFall-format .npz, and how fast.

Each recording is fed to a fresh ``FallDetector`` in 1-s frames with their timestamps, exactly as the gateway
does. A fall recording counts as detected when ``FALL_SUSPECTED`` is raised at least once; specificity is the
share of activity recordings without any; false alarms per hour count every ``FALL_SUSPECTED`` over the
activity recordings. Latency runs from the impact, taken as the time of the recording's largest |acc|, to
the ``FALL_SUSPECTED`` timestamp (the data time it refers to; the gateway has it at the end of that frame,
``latency_s_median_frame_end``).

Fitting (``--fit-out``, and inside every fold with ``--cv loso``): the points tables are boosted monotone
decision stumps (logistic loss, classes balanced) on the candidates of the training subjects: a fall
recording's candidate at its largest |acc| is a fall, every candidate in an activity recording is not.
The threshold is then chosen by leave-one-subject-out within the training subjects: the one that best
clears both targets (maximises min(sensitivity − 98 %, specificity − 99 %)). Held-out subjects are never
used for fitting. Dataset: Sucerquia et al., SisFall, Sensors 2017, 17(1):198.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from services.falls import (
    DEFAULT_FALL_PARAMS,
    DETECTOR_VERSION,
    FEATURES,
    FallDetector,
    FallEventKind,
    FallParams,  # fmt: skip
    trial_candidates,
)

Array = npt.NDArray[np.float64]
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
TARGET_SENSITIVITY, TARGET_SPECIFICITY = 0.98, 0.99
GRID = (  # candidate bin edges, round numbers so the tables read well: peak_g, impact_dv_ms, tilt_deg
    (1.8, 2.0, 2.25, 2.5, 2.75, 3.0, 3.5, 4.0, 5.0, 6.0, 8.0),
    (0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.25, 2.5, 3.0, 3.5, 4.0, 5.0),
    (15.0, 20.0, 25.0, 30.0, 35.0, 40.0, 45.0, 50.0, 55.0, 60.0, 65.0, 70.0, 75.0, 80.0, 90.0, 100.0, 110.0),
)
ROUNDS, LEARNING_RATE, L2 = 200, 0.1, 1.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, required=True, help="a .npz in the SisFall dev-split format")
    parser.add_argument("--cv", choices=("none", "loso"), default="none",
                        help="loso: leave one subject out, fitting inside each fold (default: no fitting)")  # fmt: skip
    parser.add_argument("--rate-hz", type=float, default=None, help="resample the recordings to this rate first")
    parser.add_argument("--params", type=Path, default=None, help="a falls_params.json (default: the shipped one)")
    parser.add_argument("--fit-out", type=Path, default=None,
                        help="fit on the selected subjects, write the params there, then evaluate them")  # fmt: skip
    parser.add_argument("--subjects", default=None, help="comma-separated subject ids to keep (default: all)")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="worker processes")  # fmt: skip


class Recordings:
    """The .npz, each recording optionally resampled (band-limited, FFT with mirrored ends) to ``rate_hz``."""

    def __init__(self, path: Path, rate_hz: float | None) -> None:
        with np.load(path) as npz:
            self.data = np.asarray(npz["data"], dtype=np.float64)
            self.offsets, self.lengths = npz["offsets"].astype(np.int64), npz["lengths"].astype(np.int64)
            self.names, self.subject = npz["names"].astype(str), npz["subject"].astype(str)
            self.is_fall = npz["is_fall"].astype(bool)
            self.meta: dict[str, Any] = json.loads(str(npz["meta"]))
        self.native_hz = float(self.meta["rate_hz"])
        self.rate_hz = rate_hz or self.native_hz

    def __len__(self) -> int:
        return len(self.offsets)

    def trial(self, t: int) -> Array:
        x = self.data[self.offsets[t] : self.offsets[t] + self.lengths[t]]
        return x if self.rate_hz == self.native_hz else resample_fft(x, self.native_hz, self.rate_hz)


def resample_fft(x: Array, rate_in: float, rate_out: float) -> Array:
    n = len(x)
    m = max(1, round(n * rate_out / rate_in))
    spec = np.fft.rfft(np.concatenate((x[::-1], x, x[::-1])), axis=0)
    out = np.fft.irfft(spec[: 3 * m // 2 + 1], n=3 * m, axis=0) * (m / n)
    return np.asarray(out[m : 2 * m], dtype=np.float64)


_REC: Recordings | None = None


def _init_worker(path: Path, rate_hz: float | None) -> None:
    global _REC  # noqa: PLW0603 - one read-only copy of the recordings per worker process
    _REC = Recordings(path, rate_hz)


def _impact_s(x: Array, rate_hz: float) -> float:
    return float(np.argmax(np.linalg.norm(x[:, :3], axis=1))) / rate_hz


def _candidates(trials: Sequence[int]) -> list[tuple[int, Array, Array, float]]:
    """(trial, peak times, features, impact time) for fitting, with the detector's own measuring code."""
    assert _REC is not None
    out = []
    for t in trials:
        x = _REC.trial(t)
        found = trial_candidates(x[:, :3], _REC.rate_hz)
        times = np.array([s for s, _ in found], dtype=np.float64)
        feats = np.array([tuple(m) for _, m in found], dtype=np.float64).reshape(-1, len(FEATURES))
        out.append((t, times, feats, _impact_s(x, _REC.rate_hz)))
    return out


def _stream(job: tuple[Sequence[int], dict[str, Any]]) -> list[tuple[int, list[float], list[float], float, int, float]]:
    """Feed each trial frame by frame; (trial, suspected at, frame end, impact, frames, seconds in update)."""
    trials, params_dict = job
    assert _REC is not None
    params, rate = FallParams.from_dict(params_dict), _REC.rate_hz
    out = []
    for t in trials:
        x = _REC.trial(t)
        detector, suspected, frame_end, spent, k = FallDetector(params), [], [], 0.0, 0
        while (a := math.ceil(k * rate - 1e-9)) < len(x):
            b = min(len(x), math.ceil((k + 1) * rate - 1e-9))
            started = time.perf_counter()
            events = detector.update(EPOCH + timedelta(seconds=a / rate), x[a:b, :3], x[a:b, 3:6], rate)
            spent += time.perf_counter() - started
            for event in events:
                if event.kind is FallEventKind.FALL_SUSPECTED:
                    suspected.append((event.ts - EPOCH).total_seconds())
                    frame_end.append(b / rate)
            k += 1
        out.append((t, suspected, frame_end, _impact_s(x, rate), k, spent))
    return out


def fit_tables(features: Array, y: npt.NDArray[np.bool_]) -> list[Array]:
    """Boosted monotone stumps (logistic loss, balanced classes) on GRID bins: one points table per feature."""
    bins = np.column_stack([np.searchsorted(GRID[j], features[:, j], side="right") for j in range(len(FEATURES))])
    w = np.where(y, 1.0, y.sum() / max(1, (~y).sum()))
    target, f = y.astype(np.float64), np.zeros(len(y))
    tables = [np.zeros(len(g) + 1) for g in GRID]
    for _ in range(ROUNDS):
        p = 1.0 / (1.0 + np.exp(-f))
        g, h = w * (target - p), w * p * (1 - p)
        best: tuple[float, int, int, float, float] | None = None
        for j, grid in enumerate(GRID):
            gb, hb = np.bincount(bins[:, j], g, len(grid) + 1), np.bincount(bins[:, j], h, len(grid) + 1)
            gl, hl = np.cumsum(gb)[:-1], np.cumsum(hb)[:-1]
            left, right = gl / (hl + L2), (gb.sum() - gl) / (hb.sum() - hl + L2)
            gain = np.where(right >= left, gl * left + (gb.sum() - gl) * right, -1.0)  # more of each: more points
            k = int(np.argmax(gain))
            if best is None or gain[k] > best[0]:
                best = (float(gain[k]), j, k, float(left[k]), float(right[k]))
        assert best is not None
        _, j, k, left_v, right_v = best
        tables[j][: k + 1] += LEARNING_RATE * left_v
        tables[j][k + 1 :] += LEARNING_RATE * right_v
        f += np.where(bins[:, j] <= k, LEARNING_RATE * left_v, LEARNING_RATE * right_v)
    return tables


def tables_to_params(tables: list[Array], threshold: float, base: FallParams) -> FallParams:
    """Keep only the edges where the points change: short tables a person can read."""
    edges, points = [], []
    for grid, table in zip(GRID, tables, strict=True):
        pts = np.round(table, 2)
        keep = [k for k in range(len(grid)) if pts[k] != pts[k + 1]]
        edges.append(tuple(grid[k] for k in keep))
        points.append(tuple(float(v) for v in [pts[0], *(pts[k + 1] for k in keep)]))
    return replace(base, scorecard_edges=tuple(edges), scorecard_points=tuple(points),
                   score_threshold=round(threshold, 2))  # fmt: skip


def _scores(params: FallParams, features: Array) -> Array:
    out = np.zeros(len(features))
    for j, (edges, points) in enumerate(zip(params.scorecard_edges, params.scorecard_points, strict=True)):
        out += np.asarray(points)[np.searchsorted(edges, features[:, j], side="right")]
    return out


def choose_threshold(best: Array, fall: npt.NDArray[np.bool_]) -> float:
    """The threshold (score ≥ it alarms) that best clears both targets; the middle one among equals."""
    levels = np.unique(best[np.isfinite(best)])
    cuts = np.concatenate(([levels[0] - 1.0], (levels[:-1] + levels[1:]) / 2, [levels[-1] + 1.0]))
    sens = np.array([(best[fall] >= c).mean() for c in cuts])
    spec = np.array([(best[~fall] < c).mean() for c in cuts])
    value = np.minimum(sens - TARGET_SENSITIVITY, spec - TARGET_SPECIFICITY)
    ties = np.flatnonzero(value >= value.max() - 1e-12)
    return float(cuts[ties[len(ties) // 2]])


class Candidates:
    """Every candidate of every trial, labelled for fitting (1 fall, 0 activity, -1 other peaks of a fall)."""

    def __init__(self, rows: list[tuple[int, Array, Array, float]], rec: Recordings) -> None:
        rows = sorted(rows, key=lambda r: r[0])
        self.trial = np.concatenate([np.full(len(r[1]), r[0]) for r in rows]).astype(np.int64)
        self.X = np.concatenate([r[2] for r in rows]).reshape(-1, len(FEATURES))
        self.label = np.concatenate([self._labels(r, rec) for r in rows]).astype(np.int64)
        self.subject, self.is_fall = rec.subject, rec.is_fall  # per trial

    @staticmethod
    def _labels(row: tuple[int, Array, Array, float], rec: Recordings) -> npt.NDArray[np.int64]:
        t, times, _, impact = row
        if not rec.is_fall[t]:
            return np.zeros(len(times), dtype=np.int64)
        labels = np.full(len(times), -1, dtype=np.int64)
        if len(times) and np.min(np.abs(times - impact)) <= 1.0:
            labels[int(np.argmin(np.abs(times - impact)))] = 1
        return labels

    def best_per_trial(self, params: FallParams, mask: npt.NDArray[np.bool_]) -> Array:
        best = np.full(len(self.subject), -np.inf)
        np.maximum.at(best, self.trial[mask], _scores(params, self.X[mask]))
        return best


def fit_params(cands: Candidates, subjects: Sequence[str], base: FallParams) -> FallParams:
    """Fit tables on ``subjects``; choose the threshold by leave-one-subject-out among them."""
    in_fit = np.isin(cands.subject[cands.trial], subjects)
    usable = in_fit & (cands.label >= 0)
    y = cands.label[usable] == 1
    if y.all() or not y.any():
        raise ValueError("fitting needs candidates from both fall and activity recordings")
    final = fit_tables(cands.X[usable], y)
    if len(subjects) < 2:
        best = cands.best_per_trial(tables_to_params(final, 0.0, base), in_fit)
    else:
        best = np.full(len(cands.subject), -np.inf)
        for held in subjects:
            here = cands.subject[cands.trial] == held
            train = usable & ~here
            ytr = cands.label[train] == 1
            if ytr.all() or not ytr.any():
                continue
            inner = tables_to_params(fit_tables(cands.X[train], ytr), 0.0, base)
            best = np.maximum(best, cands.best_per_trial(inner, here))
    trials = np.isin(cands.subject, subjects)
    return tables_to_params(final, choose_threshold(best[trials], cands.is_fall[trials]), base)


def _fit_job(job: tuple[Candidates, list[str], FallParams]) -> FallParams:
    return fit_params(*job)


def _chunks(items: Sequence[int], n: int) -> list[list[int]]:
    return [list(items[i::n]) for i in range(n)] if items else []


def _summary(rec: Recordings, results: list[tuple[int, list[float], list[float], float, int, float]],
             trials: Sequence[int]) -> dict[str, Any]:  # fmt: skip
    by_trial = {r[0]: r for r in results}
    falls = [t for t in trials if rec.is_fall[t]]
    adls = [t for t in trials if not rec.is_fall[t]]
    detected = [t for t in falls if by_trial[t][1]]
    adl_alarms = sum(len(by_trial[t][1]) for t in adls)
    adl_hours = sum(int(rec.lengths[t]) for t in adls) / rec.native_hz / 3600
    latency = [by_trial[t][1][0] - by_trial[t][3] for t in detected]
    at_frame_end = [by_trial[t][2][0] - by_trial[t][3] for t in detected]
    frames, spent = sum(r[4] for r in results), sum(r[5] for r in results)

    def ratio(a: int, b: int) -> float | None:
        return round(a / b, 4) if b else None

    return {
        "trials": len(trials), "falls": len(falls),
        "sensitivity": ratio(len(detected), len(falls)),
        "specificity": ratio(sum(1 for t in adls if not by_trial[t][1]), len(adls)),
        "false_alarms_per_hour": round(adl_alarms / adl_hours, 3) if adl_hours else None,
        "latency_s_median": round(statistics.median(latency), 2) if latency else None,
        "latency_s_median_frame_end": round(statistics.median(at_frame_end), 2) if at_frame_end else None,
        "missed": sorted(str(rec.names[t]) for t in falls if not by_trial[t][1]),
        "false_alarm_trials": sorted(str(rec.names[t]) for t in adls if by_trial[t][1]),
        "activity_hours": round(adl_hours, 3),
        "us_per_frame": round(spent / frames * 1e6, 1) if frames else None,
    }  # fmt: skip


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    if not args.data.is_file():
        raise SystemExit(f"no such recordings file: {args.data}")
    rec = Recordings(args.data, args.rate_hz)
    keep = set(args.subjects.split(",")) if args.subjects else set(rec.subject.tolist())
    trials = [t for t in range(len(rec)) if rec.subject[t] in keep]
    subjects = sorted({str(rec.subject[t]) for t in trials})
    if args.cv == "loso" and len(subjects) < 2:
        raise SystemExit("leave-one-subject-out needs at least two subjects")
    jobs = max(1, args.jobs)
    with ProcessPoolExecutor(jobs, initializer=_init_worker, initargs=(args.data, args.rate_hz)) as pool:
        fold_params, source = _fold_params(pool, args, rec, trials, subjects)
        stream_jobs = [(part, fold_params[s].to_dict()) for s in subjects
                       for part in _chunks([t for t in trials if rec.subject[t] == s], jobs)]  # fmt: skip
        results = [r for part in pool.map(_stream, stream_jobs) for r in part]
    report = {**_summary(rec, results, trials), "subjects": subjects, "rate_hz": rec.rate_hz,
              "detector_version": DETECTOR_VERSION, "cv": args.cv, "params": source, "jobs": jobs,
              "elapsed_s": round(time.perf_counter() - started, 1)}  # fmt: skip
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


def _fold_params(pool: ProcessPoolExecutor, args: argparse.Namespace, rec: Recordings, trials: list[int],
                 subjects: list[str]) -> tuple[dict[str, FallParams], str]:  # fmt: skip
    """The params each subject is evaluated with, and where they come from."""
    base = FallParams.from_dict(json.loads(args.params.read_text())) if args.params else DEFAULT_FALL_PARAMS
    if args.cv != "loso" and not args.fit_out:
        return dict.fromkeys(subjects, base), str(args.params) if args.params else "shipped"
    rows = [row for part in pool.map(_candidates, _chunks(trials, 4 * max(1, args.jobs))) for row in part]
    cands = Candidates(rows, rec)
    if args.fit_out:
        fitted = fit_params(cands, subjects, base)
        _write_params(args.fit_out, fitted, rec, subjects, trials)
    if args.cv == "loso":
        fits = pool.map(_fit_job, [(cands, [s for s in subjects if s != held], base) for held in subjects])
        return dict(zip(subjects, fits, strict=True)), "fitted inside each fold"
    return dict.fromkeys(subjects, fitted), str(args.fit_out)


def _write_params(path: Path, params: FallParams, rec: Recordings, subjects: list[str], trials: list[int]) -> None:
    doc = {
        "detector_version": DETECTOR_VERSION,
        "features": list(FEATURES),
        "params": params.to_dict(),
        "fitted": {
            "data": rec.meta.get("source", ""), "split": rec.meta.get("split", ""), "subjects": subjects,
            "trials": len(trials), "falls": int(rec.is_fall[trials].sum()), "rate_hz": rec.rate_hz,
            "method": f"boosted monotone decision stumps, logistic loss, balanced classes, {ROUNDS} rounds, "
                      f"learning rate {LEARNING_RATE}, L2 {L2}, on fixed round-number bins; positives: the "
                      "candidate at a fall recording's largest |acc|; negatives: all candidates of activities",
            "threshold": "leave-one-subject-out within the fitted subjects, maximising "
                         f"min(sensitivity - {TARGET_SENSITIVITY}, specificity - {TARGET_SPECIFICITY})",
            "command": "vigie bench falls --data sisfall_dev.npz --fit-out services/falls_params.json",
            "figures": "docs/benchmarks.md, section Fall detection (SisFall dev split)",
        },
    }  # fmt: skip
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vigie bench falls", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
