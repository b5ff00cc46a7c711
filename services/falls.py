"""Fall and man-down detection from a waist or vest IMU, one detector per wearer, fed 1-s frames.

A short chain a safety officer can follow. Every |a| peak above ``candidate_peak_g``, the largest within
±``peak_separation_s``, is a candidate impact. ``decision_after_s`` later, three measurements get points
from a table (a scorecard) and the points are added up:

* ``peak_g``: the peak |a| in g, how hard the hit was;
* ``impact_dv_ms``: ∫ | |a| − 1 g | dt from −0.1 s to +0.4 s around the peak (m/s), the speed the body lost
  in the hit (a jump landing is short, a body hitting the floor is long and hard);
* ``tilt_deg``: the angle between the mean acceleration over [−3 s, −1 s] (the posture just before, learned
  on the spot: no device axis is assumed) and over [+1 s, +2.5 s] (the posture after): lying down.

A total at or above ``score_threshold`` raises ``FALL_SUSPECTED`` at once, with its stages, each timestamped:
``IMPACT`` (the peak), ``LYING`` (from when the posture stayed ``lying_tilt_deg`` away from the one before),
``INACTIVE`` (post-impact motion below ``inactive_acc_std_ms2``); stages alone are reported for an impact
followed by lying that scores less. Impacts within ``refractory_s`` of a suspected fall are ignored.
``NO_MOTION`` is the other man-down: ``no_motion_s`` of stillness with no suspected fall before it.

Frames at 20-200 Hz go onto one ``internal_rate_hz`` grid, low-passed at ``lowpass_hz``: every device is
judged on the same bandwidth, so one set of tables holds at any rate. The gyroscope is not used (it added
nothing on SisFall). Tables fitted on SisFall (Sucerquia et al., Sensors 2017, 17(1):198): see
``services/falls_params.json`` (the same values and how they were fitted, by ``vigie bench falls``).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from services.falls_stream import SampleStream

DETECTOR_VERSION = "falls-1.0"
G_MS2 = 9.80665
FEATURES = ("peak_g", "impact_dv_ms", "tilt_deg")

Array = npt.NDArray[np.float64]


class FallEventKind(StrEnum):
    IMPACT = "impact"
    LYING = "lying"
    INACTIVE = "inactive"
    FALL_SUSPECTED = "fall_suspected"
    NO_MOTION = "no_motion"


@dataclass(frozen=True, slots=True)
class FallEvent:
    """One stage or alarm; ``ts`` is when it happened in the wearer's data (UTC), not when it was found."""

    kind: FallEventKind
    ts: datetime
    peak_acc_ms2: float | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class FallParams:
    """Thresholds and windows (seconds relative to the impact peak) and the fitted scorecard.

    ``scorecard_edges[k]`` splits feature ``FEATURES[k]`` into bins (a value equal to an edge goes up) and
    ``scorecard_points[k]`` gives the points of each bin (one more than the edges).
    """

    internal_rate_hz: float = 50.0
    lowpass_hz: float = 6.0
    lowpass_taps: int = 21
    candidate_peak_g: float = 1.6
    peak_separation_s: float = 1.0
    upright_from_s: float = 3.0
    upright_to_s: float = 1.0
    impact_before_s: float = 0.1
    impact_after_s: float = 0.4
    posture_from_s: float = 1.0
    decision_after_s: float = 2.5
    scorecard_edges: tuple[tuple[float, ...], ...] = (
        (1.8, 2.0, 2.25, 2.5, 2.75, 4.0),  # peak_g
        (1.25, 1.5, 1.75),  # impact_dv_ms
        (25.0, 30.0, 35.0, 40.0, 55.0, 60.0, 65.0, 75.0),  # tilt_deg
    )
    scorecard_points: tuple[tuple[float, ...], ...] = (
        (-2.99, -2.32, -1.71, 0.04, 0.2, 0.91, 3.82),
        (-2.91, -1.61, -0.06, 0.52),
        (-6.12, -2.23, -0.58, 0.72, 2.36, 3.49, 4.75, 5.05, 5.51),
    )
    score_threshold: float = 1.2
    lying_tilt_deg: float = 45.0
    inactive_acc_std_ms2: float = 0.5
    refractory_s: float = 30.0
    no_motion_s: float = 120.0
    no_motion_acc_std_ms2: float = 0.3
    max_gap_s: float = 2.0  # a single lost frame is bridged; a longer hole restarts the stream

    def __post_init__(self) -> None:
        if len(self.scorecard_edges) != len(FEATURES) or len(self.scorecard_points) != len(FEATURES):
            raise ValueError(f"the scorecard needs one table per feature {FEATURES}")
        for edges, points in zip(self.scorecard_edges, self.scorecard_points, strict=True):
            if len(points) != len(edges) + 1 or list(edges) != sorted(edges):
                raise ValueError("each scorecard table needs sorted edges and one more points than edges")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FallParams:
        """Build from ``to_dict`` output or a ``falls_params.json`` document (its ``params`` member)."""
        raw = data.get("params", data)
        unknown = set(raw) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown fall parameters: {sorted(unknown)}")
        values: dict[str, Any] = {key: tuple(tuple(float(v) for v in row) for row in value)
                                  if key.startswith("scorecard_") else value for key, value in raw.items()}  # fmt: skip
        return cls(**values)


DEFAULT_FALL_PARAMS = FallParams()


class Measures(NamedTuple):
    """What the detector measured around one candidate impact, in ``FEATURES`` order (see the docstring)."""

    peak_g: float
    impact_dv_ms: float
    tilt_deg: float


def score(measures: Measures, params: FallParams) -> tuple[float, tuple[float, ...]]:
    """The scorecard total and the points of each feature."""
    tables = zip(measures, params.scorecard_edges, params.scorecard_points, strict=True)
    parts = tuple(points[bisect_right(edges, value)] for value, edges, points in tables)
    return float(sum(parts)), parts


def _angle_deg(u: Array, v: Array) -> float:
    cos = float(u @ v) / math.sqrt(float(u @ u) * float(v @ v) or 1.0)
    return math.degrees(math.acos(max(-1.0, min(1.0, cos))))


def _windows(i: int, params: FallParams) -> tuple[slice, slice, slice]:
    """Upright (before), impact and posture (after) windows of the candidate at sample ``i``."""
    offsets_s = (-params.upright_from_s, -params.upright_to_s, -params.impact_before_s, params.impact_after_s,
                 params.posture_from_s, params.decision_after_s)  # fmt: skip
    at = [i + round(offset * params.internal_rate_hz) for offset in offsets_s]
    return slice(max(0, at[0]), max(0, at[1])), slice(max(0, at[2]), at[3]), slice(at[4], at[5])


def measure(acc: Array, norm: Array, i: int, params: FallParams) -> Measures | None:
    """Measure the candidate at index ``i`` of internal-rate samples; None if the windows are not available."""
    upright, impact, posture = _windows(i, params)
    if posture.stop > len(norm) or upright.stop - upright.start < max(2, round(0.2 * params.internal_rate_hz)):
        return None
    return Measures(
        peak_g=float(norm[i]) / G_MS2,
        impact_dv_ms=float(np.abs(norm[impact] - G_MS2).sum()) / params.internal_rate_hz,
        tilt_deg=_angle_deg(acc[upright].sum(axis=0), acc[posture].sum(axis=0)),
    )


def find_peaks(norm: Array, start: int, stop: int, half_width: int, threshold_ms2: float) -> npt.NDArray[np.intp]:
    """Indices in [start, stop) where |a| ≥ threshold and is the first largest within ±half_width samples."""
    hits = np.flatnonzero(norm[start:stop] >= threshold_ms2) if stop > start else np.empty(0, dtype=np.intp)
    if hits.size == 0:
        return hits
    lo = start - half_width
    seg = norm[max(0, lo) : stop + half_width]
    pad_left, pad_right = max(0, -lo), stop - start + 2 * half_width - len(seg) - max(0, -lo)
    if pad_left or pad_right:
        seg = np.concatenate((np.full(pad_left, -np.inf), seg, np.full(pad_right, -np.inf)))
    first_largest = np.argmax(seg[hits[:, None] + np.arange(2 * half_width + 1)], axis=1) == half_width
    return np.asarray(hits[first_largest] + start, dtype=np.intp)


def checked_acc(acc_ms2: npt.ArrayLike, rate_hz: float) -> Array:
    """The frame's acceleration as float64 (n, 3); ValueError for any other shape or a rate that is not positive."""
    acc = np.asarray(acc_ms2, dtype=np.float64)
    if acc.ndim != 2 or acc.shape[1] != 3 or not rate_hz > 0:
        raise ValueError(f"expected (n, 3) acceleration and a positive rate, got {acc.shape} at {rate_hz} Hz")
    return acc


def motion_std_ms2(new: Array) -> float:
    """Overall standard deviation of a frame's acceleration (m/s²), the root of the summed axis variances."""
    dev = new - new.mean(axis=0)
    return math.sqrt(float(np.einsum("ij,ij->", dev, dev)) / len(new))


def internal_signal(acc_ms2: npt.ArrayLike, rate_hz: float, params: FallParams = DEFAULT_FALL_PARAMS) -> Array:
    """A whole recording on the internal grid, filtered, exactly as the streaming detector sees it."""
    _, out = SampleStream(params).push(0.0, np.asarray(acc_ms2, dtype=np.float64), rate_hz)
    return out


def trial_candidates(acc_ms2: npt.ArrayLike, rate_hz: float,
                     params: FallParams = DEFAULT_FALL_PARAMS) -> list[tuple[float, Measures]]:  # fmt: skip
    """(peak time in s, measures) of every candidate the detector would judge in a recording (for fitting)."""
    acc = internal_signal(acc_ms2, rate_hz, params)
    norm = np.linalg.norm(acc, axis=1)
    half = round(params.peak_separation_s * params.internal_rate_hz)
    out = []
    for i in find_peaks(norm, 0, len(norm) - half, half, params.candidate_peak_g * G_MS2):
        found = measure(acc, norm, int(i), params)
        if found is not None:
            out.append((float(i) / params.internal_rate_hz, found))
    return out


class FallDetector:
    """One wearer's detector: feed ``update`` every IMU frame in order; it keeps a few seconds of samples."""

    def __init__(self, params: FallParams = DEFAULT_FALL_PARAMS) -> None:
        self._p = params
        self._rate = params.internal_rate_hz
        self._half = round(params.peak_separation_s * self._rate)
        self._decide = round(params.decision_after_s * self._rate)
        self._keep = self._half + self._decide + round((params.upright_from_s + 2.0) * self._rate)
        self._suspect_after_s = (self._decide - 1 + params.lowpass_taps // 2) / self._rate  # last input sample used
        self._origin: datetime | None = None
        self.stream = SampleStream(params)  # public for services.falls_batch, which filters many streams at once
        self._last_fall_s: float | None = None
        self._clear()

    def _clear(self) -> None:
        self._acc: Array = np.empty((0, 3))  # views of ``_stores`` from ``_store_at`` on, where new samples are written
        self._norm: Array = np.empty(0)
        self._stores: tuple[Array, Array] = (self._acc, self._norm)
        self._store_at = 0
        self._first = 0  # grid index of self._acc[0]
        self._scan_from: int | None = None
        self._pending: list[int] = []
        self._still_since_s: float | None = None
        self._no_motion_sent = False

    def update(self, ts: datetime, acc_ms2: np.ndarray, gyr_rads: np.ndarray | None,
               rate_hz: float) -> list[FallEvent]:  # fmt: skip
        """Take one frame (``ts`` = its first sample, UTC); return the events it completes, oldest first."""
        acc = checked_acc(acc_ms2, rate_hz)
        t0 = self.admit(ts) if len(acc) else None
        return [] if t0 is None else self.take(t0, acc, rate_hz)

    @property
    def params(self) -> FallParams:
        return self._p

    # ``update``'s steps, also taken by services.falls_batch.FallDetectorBank for many detectors at once.

    def take(self, t0_s: float, acc: np.ndarray, rate_hz: float) -> list[FallEvent]:
        """An admitted frame's samples (checked, starting at ``t0_s``) filtered, kept and judged one detector at a
        time; the bank filters its on-grid frames together instead (``FallDetectorBank``)."""
        start, new = self.stream.push(t0_s, acc, rate_hz)
        if len(new) == 0:
            return []
        self.append(start, new, np.sqrt(np.einsum("ij,ij->i", new, new)))
        return self.judge_appended(start, new)

    def admit(self, ts: datetime) -> float | None:
        """The frame's start in s from the stream's origin, or None for a frame to ignore; a gap restarts the stream."""
        self._origin = self._origin or ts
        t0 = (ts - self._origin).total_seconds()
        end = self.stream.end_s
        if end is not None and t0 < end - 0.5:
            return None  # a repeated or out-of-order frame: the stream has already moved past it
        if end is not None and t0 - end > self._p.max_gap_s:
            self.stream.reset()
            self._clear()
        return t0

    def append(self, start: int, new: Array, norm: Array) -> None:
        """Keep new filtered samples (grid index ``start`` on) and their norms."""
        if len(self._norm) == 0:
            self._first = start
        (acc_store, norm_store), size = self._stores, len(self._norm)
        end = self._store_at + size + len(new)
        if end > len(norm_store):  # new stores, twice what is kept: a copy every few frames, not two each frame
            room = 2 * max(self._keep, size + len(new))
            acc_store, norm_store = np.zeros((room, 3)), np.zeros(room)
            acc_store[:size], norm_store[:size] = self._acc, self._norm
            self._stores, self._store_at, end = (acc_store, norm_store), 0, size + len(new)
        acc_store[end - len(new) : end], norm_store[end - len(new) : end] = new, norm
        self._acc, self._norm = acc_store[self._store_at : end], norm_store[self._store_at : end]

    def unscanned_norms(self) -> Array:
        """The norms ``_find_and_judge`` will scan for candidate peaks next (maybe none)."""
        lo, hi = self._scan_range()
        return self._norm[lo:hi] if hi > lo else self._norm[:0]

    def _scan_range(self) -> tuple[int, int]:
        """[lo, hi) of the kept norms not yet scanned for candidates that now have ``peak_separation_s`` after them."""
        scan_from = self._first if self._scan_from is None else self._scan_from
        return scan_from - self._first, len(self._norm) - self._half

    def judge_appended(self, start: int, new: Array, quiet: bool = False,
                       moving: bool | None = None) -> list[FallEvent]:  # fmt: skip
        """The events completed by the samples just appended. ``quiet``: the caller knows no ``unscanned_norms``
        reaches ``candidate_peak_g``; ``moving``: whether ``motion_std_ms2(new)`` reaches the no-motion limit."""
        events = self._find_and_judge(quiet)
        events += self._no_motion(start, new, moving)
        drop = len(self._norm) - self._keep
        if drop > 0:
            self._acc, self._norm, self._first = self._acc[drop:], self._norm[drop:], self._first + drop
            self._store_at += drop
        return sorted(events, key=lambda e: e.ts) if events else events

    def _at(self, t_s: float) -> datetime:
        assert self._origin is not None
        return self._origin + timedelta(seconds=round(t_s, 6))

    def _find_and_judge(self, quiet: bool = False) -> list[FallEvent]:
        end = self._first + len(self._norm)
        lo, hi = self._scan_range()
        if hi > lo:
            if not quiet:
                peaks = find_peaks(self._norm, lo, hi, self._half, self._p.candidate_peak_g * G_MS2)
                self._pending += [int(i) + self._first for i in peaks]
            self._scan_from = self._first + hi
        events: list[FallEvent] = []
        while self._pending and self._pending[0] + self._decide <= end:
            events += self._judge(self._pending.pop(0))
        return events

    def _judge(self, peak: int) -> list[FallEvent]:
        p, rate = self._p, self._rate
        t_peak = peak / rate
        if self._last_fall_s is not None and t_peak - self._last_fall_s < p.refractory_s:
            return []
        i = peak - self._first
        found = measure(self._acc, self._norm, i, p)
        if found is None:
            return []
        total, parts = score(found, p)
        suspected = total >= p.score_threshold
        lying = found.tilt_deg >= p.lying_tilt_deg
        if not (suspected or lying):
            return []
        peak_ms2 = found.peak_g * G_MS2
        before = self._norm[max(0, i - self._half) : i]
        lowest_g = float(before.min()) / G_MS2 if before.size else found.peak_g
        events = [FallEvent(FallEventKind.IMPACT, self._at(t_peak), peak_ms2,
                            f"peak {found.peak_g:.1f} g, impact {found.impact_dv_ms:.1f} m/s, "
                            f"lowest {lowest_g:.2f} g in the second before")]  # fmt: skip
        lying_s = t_peak + p.posture_from_s
        if lying:
            lying_s = t_peak + self._lying_from(i) / rate
            events.append(FallEvent(FallEventKind.LYING, self._at(lying_s),
                                    detail=f"tilted {found.tilt_deg:.0f}° from the posture before"))  # fmt: skip
        still_ms2 = float(np.linalg.norm(self._acc[_windows(i, p)[2]].std(axis=0)))
        if still_ms2 <= p.inactive_acc_std_ms2:
            events.append(FallEvent(FallEventKind.INACTIVE, self._at(max(lying_s, t_peak + p.posture_from_s)),
                                    detail=f"motion {still_ms2:.2f} m/s² after the impact"))  # fmt: skip
        if suspected:
            self._last_fall_s = t_peak
            why = ", ".join(f"{name} {value:.1f}: {pts:+.1f}"
                            for name, value, pts in zip(FEATURES, found, parts, strict=True))  # fmt: skip
            events.append(FallEvent(FallEventKind.FALL_SUSPECTED, self._at(t_peak + self._suspect_after_s), peak_ms2,
                                    f"score {total:.1f} ≥ {p.score_threshold:.1f} ({why})"))  # fmt: skip
        return events

    def _lying_from(self, i: int) -> int:
        """Samples after the peak from which the posture stayed at least ``lying_tilt_deg`` from the one before."""
        upright = self._acc[_windows(i, self._p)[0]].mean(axis=0)
        after = self._acc[i + 1 : i + self._decide]
        cos = after @ upright / (np.linalg.norm(after, axis=1) * np.linalg.norm(upright) + 1e-12)
        below = np.flatnonzero(cos > math.cos(math.radians(self._p.lying_tilt_deg)))
        return int(below[-1]) + 2 if below.size else 1

    def _no_motion(self, start: int, new: Array, moving: bool | None = None) -> list[FallEvent]:
        p = self._p
        if len(new) < self._rate / 2:
            return []
        t_start, t_end = start / self._rate, (start + len(new)) / self._rate
        if moving is None:
            moving = motion_std_ms2(new) >= p.no_motion_acc_std_ms2
        if moving:
            self._still_since_s, self._no_motion_sent = None, False
            return []
        if self._still_since_s is None:
            self._still_since_s = t_start
        if self._no_motion_sent or t_end - self._still_since_s < p.no_motion_s:
            return []
        self._no_motion_sent = True
        if self._last_fall_s is not None and self._last_fall_s >= self._still_since_s - p.refractory_s:
            return []  # the suspected fall before this stillness is already the man-down alarm
        return [FallEvent(FallEventKind.NO_MOTION, self._at(self._still_since_s + p.no_motion_s),
                          detail=f"no motion for {p.no_motion_s:.0f} s")]  # fmt: skip
