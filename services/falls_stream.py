"""The fall detector's input stage: frames at any rate onto its internal grid, low-passed (services/falls.py).

One stream per wearer, fed every IMU frame in order: it averages faster input over ``round(rate / internal)``
samples (a boxcar against aliasing), interpolates onto the grid t = k / rate, then low-passes it with a
Hamming-windowed sinc. ``on_grid`` and ``advance`` let ``services.falls_batch`` filter many streams' frames in
one numpy call and hand each stream its share.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from services.falls import FallParams

Array = npt.NDArray[np.float64]


class SampleStream:
    """Streams samples at any rate onto the internal grid t = k / rate (k counted from the first frame).

    Faster input is averaged over ``round(rate / internal)`` samples (a boxcar against aliasing), then the
    grid is low-passed (Hamming-windowed sinc); filtered samples lag the input by half the taps.
    """

    def __init__(self, params: FallParams) -> None:
        self.rate_hz = params.internal_rate_hz
        n = np.arange(params.lowpass_taps) - (params.lowpass_taps - 1) / 2
        taps = np.sinc(2 * params.lowpass_hz / self.rate_hz * n) * np.hamming(params.lowpass_taps)
        self.taps = taps / taps.sum()
        self.full_context = len(taps) - 1 if len(taps) % 2 else -1  # as ``_filter`` keeps it (odd taps only)
        self.reset()

    def reset(self) -> None:
        self.next_index: int | None = None
        self.last: tuple[float, Array] | None = None
        self.tail: tuple[float, Array] | None = None
        self.end_s: float | None = None
        self.context: Array | None = None
        self.filtered_next = 0

    def push(self, t0_s: float, samples: Array, rate_hz: float) -> tuple[int, Array]:
        """Add one frame; return the grid index of the first new filtered sample and the new samples."""
        self.end_s = t0_s + (len(samples) - 1) / rate_hz
        first = round(t0_s * self.rate_hz)
        if rate_hz == self.rate_hz and abs(t0_s * self.rate_hz - first) < 1e-6 and self.next_index in (None, first):
            self.next_index, self.last, self.tail = first + len(samples), (self.end_s, samples[-1]), None
            return self._filter(first, samples)  # already on the grid: nothing to interpolate
        k = max(1, round(rate_hz / self.rate_hz))
        prev = self.tail[1] if self.tail is not None and self.tail[0] == rate_hz else samples[:0]
        raw = np.concatenate((prev, samples)) if len(prev) else samples
        if k > 1 and len(raw) >= k:
            csum = np.cumsum(np.concatenate((np.zeros((1, 3)), raw)), axis=0)
            values = (csum[k:] - csum[:-k]) / k
            times = t0_s + (np.arange(len(values)) - len(prev) + (k - 1) / 2) / rate_hz
        else:
            values, times = samples, t0_s + np.arange(len(samples)) / rate_hz
        self.tail = (rate_hz, raw[len(raw) - (k - 1) :] if k > 1 else raw[:0])
        if self.last is not None:
            keep = times > self.last[0]
            times = np.concatenate(([self.last[0]], times[keep]))
            values = np.concatenate((self.last[1][None, :], values[keep]))
        if self.next_index is None:
            self.next_index = math.ceil(times[0] * self.rate_hz - 1e-9)
        first, last = self.next_index, math.floor(times[-1] * self.rate_hz + 1e-9)
        self.last = (float(times[-1]), values[-1])
        if last < first:
            return self.filtered_next, np.empty((0, 3))
        grid = np.arange(first, last + 1) / self.rate_hz
        self.next_index = last + 1
        return self._filter(first, np.column_stack([np.interp(grid, times, values[:, a]) for a in range(3)]))

    def on_grid(self, t0_s: float, rate_hz: float) -> bool:
        """Whether ``push`` would only filter this frame: on the grid, next in line, the filter's context full."""
        at = t0_s * self.rate_hz
        return (rate_hz == self.rate_hz and self.next_index == round(at) and abs(at - self.next_index) < 1e-6
                and self.context is not None and len(self.context) == self.full_context)  # fmt: skip

    def advance(self, t0_s: float, samples: Array, context: Array) -> int:
        """``push`` of an ``on_grid`` frame that ``services.falls_batch`` filtered (``context``: the last
        ``len(taps) - 1`` samples of the old context and the frame); the grid index of its first filtered sample."""
        assert self.next_index is not None
        self.end_s = t0_s + (len(samples) - 1) / self.rate_hz
        self.next_index, self.last, self.tail = self.next_index + len(samples), (self.end_s, samples[-1]), None
        self.context, start, self.filtered_next = context, self.filtered_next, self.filtered_next + len(samples)
        return start

    def _filter(self, first: int, grid: Array) -> tuple[int, Array]:
        half = len(self.taps) // 2
        if self.context is None:  # the stream starts: hold its first sample before it
            self.context, self.filtered_next = np.repeat(grid[:1], half, axis=0), first
        seq = np.concatenate((self.context, grid))
        self.context = seq[max(0, len(seq) - 2 * half) :]
        if len(seq) <= 2 * half:
            return self.filtered_next, np.empty((0, 3))
        out = np.column_stack([np.convolve(seq[:, a], self.taps, mode="valid") for a in range(3)])
        start, self.filtered_next = self.filtered_next, self.filtered_next + len(out)
        return start, out
