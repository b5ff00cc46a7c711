"""Synthetic waist IMU recordings for the fall-detector tests (no dataset needed), and a frame feeder.

Signals are built in the body frame (x forward, y left, z up: at rest the accelerometer reads +1 g on z) and
turned into the device frame by ``mount``, a rotation: devices are not all worn the same way up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from services.falls import FallDetector, FallEvent, FallEventKind

G = 9.80665
T0 = datetime(2025, 6, 2, 7, 30, tzinfo=UTC)


def rotation(axis: tuple[float, float, float], angle_deg: float) -> np.ndarray:
    k = np.asarray(axis, dtype=float) / np.linalg.norm(axis)
    cross = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    a = np.radians(angle_deg)
    return np.eye(3) + np.sin(a) * cross + (1 - np.cos(a)) * cross @ cross


@dataclass
class Body:
    """A recording under construction: ``t`` in seconds, trunk tilt, |a| dips and pulses, gait."""

    rate_hz: float
    duration_s: float
    seed: int = 0
    t: np.ndarray = field(init=False)
    tilt_rad: np.ndarray = field(init=False)
    scale: np.ndarray = field(init=False)
    extra: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.t = np.arange(round(self.duration_s * self.rate_hz)) / self.rate_hz
        self.tilt_rad = np.zeros_like(self.t)
        self.scale = np.ones_like(self.t)
        self.extra = np.zeros((len(self.t), 3))

    def _window(self, start_s: float, length_s: float) -> tuple[np.ndarray, np.ndarray]:
        inside = (self.t >= start_s) & (self.t < start_s + length_s)
        return inside, (self.t[inside] - start_s) / length_s

    def walk(self, start_s: float, end_s: float, step_hz: float = 2.0) -> Body:
        on = (self.t >= start_s) & (self.t < end_s)
        t = self.t[on]
        self.extra[on] += np.column_stack([1.0 * np.sin(2 * np.pi * step_hz * t + 0.5),
                                           0.8 * np.sin(np.pi * step_hz * t),
                                           2.5 * np.sin(2 * np.pi * step_hz * t)])  # fmt: skip
        return self

    def tilt(self, start_s: float, length_s: float, to_deg: float) -> Body:
        """Lean smoothly from the current tilt to ``to_deg`` (about the body's left-right axis)."""
        inside, u = self._window(start_s, length_s)
        before = self.tilt_rad[inside][0] if inside.any() else 0.0
        self.tilt_rad[inside] = before + (np.radians(to_deg) - before) * (3 * u**2 - 2 * u**3)
        self.tilt_rad[self.t >= start_s + length_s] = np.radians(to_deg)
        return self

    def drop(self, start_s: float, length_s: float, lowest_g: float) -> Body:
        """|a| dips towards ``lowest_g`` (a free fall, a jump's flight)."""
        inside, u = self._window(start_s, length_s)
        self.scale[inside] -= (1 - lowest_g) * np.sin(np.pi * u)
        return self

    def pulse(self, centre_s: float, width_s: float, peak_g: float) -> Body:
        """A half-sine shock along the body's current vertical, |a| reaching about ``peak_g``."""
        inside, u = self._window(centre_s - width_s / 2, width_s)
        self.scale[inside] += (peak_g - 1) * np.sin(np.pi * u)
        return self

    def acc_ms2(self, mount: np.ndarray | None = None, noise_ms2: float = 0.03) -> np.ndarray:
        up = np.column_stack([np.sin(self.tilt_rad), np.zeros_like(self.t), np.cos(self.tilt_rad)])
        acc = G * self.scale[:, None] * up + self.extra
        acc += np.random.default_rng(self.seed).normal(0.0, noise_ms2, acc.shape)
        return acc @ (np.eye(3) if mount is None else mount).T


FALL_IMPACT_S = 8.0


def fall(rate_hz: float, *, lead_s: float = 0.0, after_s: float = 8.0) -> Body:
    """Walking, a trip: the trunk pitches forward and drops (free fall), hits the ground hard, lies still."""
    impact = lead_s + FALL_IMPACT_S
    return (Body(rate_hz, impact + after_s).walk(0.0, impact - 0.6).tilt(impact - 0.6, 0.7, 90.0)
            .drop(impact - 0.55, 0.45, 0.25).pulse(impact, 0.15, 6.0))  # fmt: skip


def everyday(kind: str, rate_hz: float) -> Body:
    """Movements that must not raise a fall: walking, sitting down hard, a jump, jogging."""
    body = Body(rate_hz, 40.0)
    if kind == "walking":
        return body.walk(0.0, 40.0)
    if kind == "sitting down hard":
        return body.walk(0.0, 8.0).tilt(8.0, 0.6, 30.0).drop(8.0, 0.5, 0.6).pulse(8.6, 0.12, 3.0)
    if kind == "jumping":
        body.walk(0.0, 6.0)
        for at in (8.0, 14.0, 20.0):
            body.pulse(at, 0.25, 2.0).drop(at + 0.15, 0.35, 0.05).pulse(at + 0.55, 0.12, 4.5)
        return body
    if kind == "jogging":
        body.walk(0.0, 40.0, step_hz=2.8)
        for at in np.arange(1.0, 39.0, 1 / 2.8):
            body.drop(at - 0.2, 0.2, 0.4).pulse(at, 0.1, 3.2)
        return body
    raise ValueError(kind)


def feed(acc: np.ndarray, rate_hz: float, detector: FallDetector | None = None,
         start: datetime = T0) -> list[FallEvent]:  # fmt: skip
    """Send ``acc`` as consecutive 1-s frames, as the gateway does; all events, in order."""
    detector = detector or FallDetector()
    per_frame = round(rate_hz)
    events: list[FallEvent] = []
    for k in range(0, len(acc), per_frame):
        chunk = acc[k : k + per_frame]
        events += detector.update(start + timedelta(seconds=k / rate_hz), chunk, np.zeros_like(chunk), rate_hz)
    return events


def kinds(events: list[FallEvent]) -> list[FallEventKind]:
    return [e.kind for e in events]
