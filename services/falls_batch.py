"""Many wearers' fall detectors over one ingest batch at once: the same decisions, far fewer numpy calls.

A gateway batch holds about one 1-s frame from each of ~1,000 devices; fed one by one, ``FallDetector`` spends
its time in numpy's per-call overhead on 50-sample arrays. ``FallDetectorBank.update`` takes the batch (each
device's frames in order) and returns, frame by frame, exactly what each detector's ``update`` would have
returned, leaving each detector in the same state. Devices' frames go in rounds (the first frame of every
device, then the second...), and in each round the common frame — on the internal grid, right after the
previous one, the filter's context full — is handled with all the others:

* the low-pass filter: every device's context and samples laid end to end, one ``np.convolve`` per round.
  Each output is the dot product of the same ``lowpass_taps`` samples with the same taps as in the device's
  own ``np.convolve``, so the filtered samples are bit for bit the same (the tests check it);
* |a|: one ``einsum`` over all new samples, row by row as the detector does it;
* the candidate screen: whether any of a device's ``unscanned_norms`` reaches ``candidate_peak_g`` (the same
  values, the same ``>=`` as ``find_peaks``); only then does the detector scan them itself. Candidates waiting
  for their decision are judged by the detector's own code, as always;
* the no-motion standard deviation. A batched sum need not round like the detector's, so a value close to
  ``no_motion_acc_std_ms2`` — within ``UNSURE`` × (1 + a bound on the frame's largest component), some 10⁴
  times any rounding error — is left for the detector to compute and compare itself.

Every other frame — a device's first, one after a gap, off the grid or at another rate, repeated or out of
order — goes through the detector's own steps one by one. Measures, scores and events come only from
``services.falls``: this module moves arrays, it judges nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from services.falls import G_MS2, Array, FallDetector, FallEvent, FallParams, checked_acc

UNSURE = 1e-9  # relative: far above the rounding of sums of 50-200 samples, far below any real difference


class RefusedFrame(ValueError):
    """A frame of the batch that ``FallDetector.update`` would refuse (checked before any detector moves)."""


class FallFrame(NamedTuple):
    """One IMU frame for one detector, as ``FallDetector.update`` takes it (the gyroscope is not used)."""

    detector: FallDetector
    ts: datetime
    acc_ms2: npt.ArrayLike
    rate_hz: float


class _Ready(NamedTuple):
    """A frame admitted to the vectorised path."""

    at: int  # its index in the batch
    detector: FallDetector
    t0_s: float
    acc: Array


class FallDetectorBank:
    """Runs a batch of frames through their detectors together; counts the frames taken each way."""

    def __init__(self) -> None:
        self.vectorised = 0
        self.one_by_one = 0

    def update(self, frames: Sequence[FallFrame]) -> list[list[FallEvent]]:
        """The events of each frame, as ``frame.detector.update`` in batch order would give them.

        Every frame is checked before any detector moves: for a frame ``update`` would refuse, ``RefusedFrame``
        (a ``ValueError`` with ``update``'s message), and no detector has taken any frame of the batch.
        """
        try:
            accs = [checked_acc(f.acc_ms2, f.rate_hz) for f in frames]
        except ValueError as exc:
            raise RefusedFrame(str(exc)) from exc
        out: list[list[FallEvent]] = [[] for _ in frames]
        if len({id(f.detector) for f in frames}) == len(frames):  # the live case: one frame per detector
            self._round(frames, accs, range(len(frames)), out)
            return out
        queues: dict[int, list[int]] = {}
        for k, frame in enumerate(frames):
            queues.setdefault(id(frame.detector), []).append(k)
        rounds, depth = list(queues.values()), 0
        while rounds:  # a detector's frames in order; detectors are independent of one another
            self._round(frames, accs, [queue[depth] for queue in rounds], out)
            depth += 1
            rounds = [queue for queue in rounds if len(queue) > depth]
        return out

    def _round(self, frames: Sequence[FallFrame], accs: list[Array], batch: Sequence[int],
               out: list[list[FallEvent]]) -> None:  # fmt: skip
        ready: dict[tuple[int, int], tuple[FallParams, list[_Ready]]] = {}
        for k in batch:
            frame, acc = frames[k], accs[k]
            detector = frame.detector
            t0_s = detector.admit(frame.ts) if len(acc) else None
            if t0_s is None:
                continue
            if detector.stream.on_grid(t0_s, frame.rate_hz):
                params = detector.params
                same = ready.get((id(params), len(acc)))
                if same is None:
                    same = ready[id(params), len(acc)] = (params, [])
                same[1].append(_Ready(k, detector, t0_s, acc))
                continue
            self.one_by_one += 1
            out[k] = detector.take(t0_s, acc, frame.rate_hz)
        for params, group in ready.values():
            self.vectorised += len(group)
            _vectorised(params, group, out)


def _vectorised(params: FallParams, group: list[_Ready], out: list[list[FallEvent]]) -> None:
    """One round's on-grid frames of one length, of detectors sharing ``params``: filtered, screened together."""
    taps = group[0].detector.stream.taps
    width, d, n = len(taps) - 1, len(group), len(group[0].acc)  # ``width``: the full context (``on_grid``)
    seq = np.concatenate([block for r in group for block in (r.detector.stream.context, r.acc)]).reshape(d, -1, 3)
    flat = np.zeros(3 * d * (width + n) + width)  # x of every device, then y, then z; zeros to end the last
    flat[: 3 * d * (width + n)].reshape(3, d, width + n)[...] = seq.transpose(2, 0, 1)
    conv = np.convolve(flat, taps, mode="valid")  # the output at a device's sample t starts at its context's t
    new = np.ascontiguousarray(conv.reshape(3, d, width + n)[:, :, :n].transpose(1, 2, 0))  # (d, n, 3)
    norm = np.sqrt(np.einsum("ij,ij->i", new.reshape(-1, 3), new.reshape(-1, 3))).reshape(d, n)
    moving = _moving(params, new)
    starts, pieces = [], []
    for j, r in enumerate(group):  # the new context: the frame's own end, or a copy (not a view of the whole batch)
        context = r.acc[n - width :] if n >= width else seq[j, n:].copy()
        starts.append(r.detector.stream.advance(r.t0_s, r.acc, context))
        r.detector.append(starts[-1], new[j], norm[j])
        pieces.append(r.detector.unscanned_norms())
    hot = _any_reaches(pieces, params.candidate_peak_g * G_MS2)
    for j, r in enumerate(group):
        out[r.at] = r.detector.judge_appended(starts[j], new[j], quiet=not hot[j], moving=moving[j])


def _moving(params: FallParams, new: Array) -> list[bool | None]:
    """Per frame of ``new`` (d, n, 3): does its motion reach the no-motion limit (``falls.motion_std_ms2``)?
    None when too close to tell: the detector will compute it."""
    mean = new.mean(axis=1, keepdims=True)
    dev = new - mean
    std = np.sqrt(np.einsum("dij,dij->d", dev, dev) / new.shape[1])
    margin = UNSURE * (1.0 + np.abs(mean).max(axis=(1, 2)) + math.sqrt(new.shape[1]) * std)  # ≥ UNSURE(1 + max|a|)
    limit = params.no_motion_acc_std_ms2
    return [None if abs(v - limit) <= e else v >= limit for v, e in zip(std.tolist(), margin.tolist(), strict=True)]


def _any_reaches(pieces: list[Array], threshold: float) -> list[bool]:
    """Per piece: whether any value reaches ``threshold`` (``>=``, as ``falls.find_peaks`` tests it)."""
    sizes = np.array([len(piece) for piece in pieces])
    hot = np.zeros(len(pieces), dtype=bool)
    filled = np.flatnonzero(sizes)
    if filled.size:
        starts = np.cumsum(sizes[filled]) - sizes[filled]
        hot[filled] = np.logical_or.reduceat(np.concatenate(pieces) >= threshold, starts)
    return [bool(h) for h in hot]
