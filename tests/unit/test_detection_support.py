"""Builders for the detection-engine tests (no tests here): a wearable streaming 1-s frames, IMU seconds,
a scripted fall detector implementing ``FallDetector.update``, a scripted core-temperature estimate."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from services.detection import Clear, ConfigResolver, DetectionEngine, Outcome, Raise, RuleConfig
from services.detection.heat_rules import CoreTempEstimate
from services.exposure.heat_strain import CoreTempFilter
from services.falls import FallEvent, FallEventKind
from services.model import Frame, Imu, Received

T0 = datetime(2026, 7, 15, 7, 0, tzinfo=UTC)  # 09:00 in Paris, a summer round
SECOND = timedelta(seconds=1)
RATE_HZ = 50.0
GRAVITY_MS2 = 9.81

if "checkin" in {f.name for f in fields(Frame)}:
    CheckinFrame: type[Frame] = Frame
else:  # until the contract's ``checkin`` lands on ``Frame``

    @dataclass(frozen=True, slots=True)
    class _CheckinFrame(Frame):
        checkin: bool = False

    CheckinFrame = _CheckinFrame


def still_imu(seed: int = 0) -> Imu:
    """One second of a motionless wearer: gravity plus sensor noise (σ 0.02 m/s²)."""
    rng = np.random.default_rng(seed)
    acc = np.tile(np.array([0.0, 0.0, GRAVITY_MS2]), (int(RATE_HZ), 1)) + rng.normal(0.0, 0.02, (int(RATE_HZ), 3))
    return Imu(RATE_HZ, acc.astype(np.float32))


def walking_imu(seed: int = 0) -> Imu:
    """One second of walking: a 2 Hz vertical bounce of ±3 m/s² on gravity."""
    t = np.arange(int(RATE_HZ)) / RATE_HZ
    acc = np.zeros((int(RATE_HZ), 3))
    acc[:, 2] = GRAVITY_MS2 + 3.0 * np.sin(2 * np.pi * 2.0 * t + seed)
    acc[:, 0] = 1.0 * np.sin(2 * np.pi * 1.0 * t)
    return Imu(RATE_HZ, acc.astype(np.float32))


@dataclass
class ScriptedFalls:
    """A fall-detector factory whose detectors emit ``events`` in the frame covering each event's time.

    Implements the same ``update`` as ``services.falls.FallDetector``; every detector it makes shares the script.
    """

    events: list[FallEvent] = field(default_factory=list)
    updates: int = 0

    def __call__(self) -> ScriptedFalls._Detector:
        return ScriptedFalls._Detector(self)

    def fall_at(self, ts: datetime, peak_acc_ms2: float = 38.0) -> datetime:
        """A textbook fall: impact, lying 1 s later, inactive from 3 s, suspected at 5 s; returns the suspicion."""
        self.events += [
            FallEvent(FallEventKind.IMPACT, ts, peak_acc_ms2=peak_acc_ms2),
            FallEvent(FallEventKind.LYING, ts + 1 * SECOND),
            FallEvent(FallEventKind.INACTIVE, ts + 3 * SECOND),
            FallEvent(FallEventKind.FALL_SUSPECTED, ts + 5 * SECOND, detail="impact then lying still"),
        ]
        return ts + 5 * SECOND

    @dataclass
    class _Detector:
        script: ScriptedFalls

        def update(self, ts: datetime, acc_ms2: Any, gyr_rads: Any, rate_hz: float) -> list[FallEvent]:
            self.script.updates += 1
            return [e for e in self.script.events if ts <= e.ts < ts + SECOND]


@dataclass(frozen=True)
class ScriptedCoreTemp:
    """A core-temperature estimate that reads its value after each minute from a script (last value repeats)."""

    script: tuple[float, ...]
    steps: int = 0

    @property
    def ct_c(self) -> float:
        return 37.1 if self.steps == 0 else self.script[min(self.steps, len(self.script)) - 1]

    def step(self, hr_bpm: float | None, ts: datetime | None = None) -> ScriptedCoreTemp:
        return ScriptedCoreTemp(self.script, self.steps + 1)


def engine(
    config: RuleConfig | None = None,
    crews: dict[str, dict[str, float | bool]] | None = None,
    falls: ScriptedFalls | None = None,
    core_temp: Callable[[], CoreTempEstimate] = CoreTempFilter,
) -> DetectionEngine:
    resolver = ConfigResolver(config, crews)
    return DetectionEngine(resolver.config_for, falls if falls is not None else ScriptedFalls(), core_temp)


@dataclass
class Wearable:
    """A device streaming one frame per second into ``engine``; ``received_at`` is ``lag_s`` after the frame."""

    engine: DetectionEngine
    device_id: str = "wear-0001"
    agent_id: str | None = "agent-07"
    crew_id: str | None = None
    ts: datetime = T0
    seq: int = 0
    lag_s: float = 0.4
    wbgt_ref_c: float | None = None
    hav_points_today: float | None = None

    @property
    def received_at(self) -> datetime:
        """The gateway time of the last frame sent."""
        return self.ts - SECOND + timedelta(seconds=self.lag_s)

    def send(self, *, late: bool = False, checkin: bool = False, **sections: Any) -> list[Outcome]:
        """One second; ``late`` frames arrive an hour after their time (a device flushing its buffer)."""
        if checkin:
            frame: Frame = CheckinFrame(self.device_id, self.seq, self.ts, checkin=True, **sections)
        else:
            frame = Frame(self.device_id, self.seq, self.ts, **sections)
        received_at = self.ts + (timedelta(hours=1) if late else timedelta(seconds=self.lag_s))
        received = Received(frame, received_at, self.agent_id, late=late)
        self.ts, self.seq = self.ts + SECOND, self.seq + 1
        return self.engine.on_frame(received, self.crew_id, self.wbgt_ref_c, self.hav_points_today)

    def run(self, seconds: int, **sections: Any) -> list[Outcome]:
        out: list[Outcome] = []
        for _ in range(seconds):
            out += self.send(**sections)
        return out

    def skip(self, seconds: float) -> None:
        """Time passes without a frame (the device is silent)."""
        self.ts += timedelta(seconds=seconds)


def named(outcomes: Iterable[Outcome]) -> list[tuple[str, str]]:
    """(kind, rule) of each outcome, e.g. ("raise", "fall"), for compact assertions."""
    result: list[tuple[str, str]] = []
    for o in outcomes:
        rule = o.draft.rule if isinstance(o, Raise) else o.rule
        result.append((type(o).__name__.lower(), rule))
    return result


def raises(outcomes: Sequence[Outcome], rule: str) -> list[Raise]:
    return [o for o in outcomes if isinstance(o, Raise) and o.draft.rule == rule]


def clears(outcomes: Sequence[Outcome], rule: str) -> list[Clear]:
    return [o for o in outcomes if isinstance(o, Clear) and o.rule == rule]


def of_rule(outcomes: Sequence[Outcome], rule: str) -> list[Outcome]:
    return [o for o in outcomes if o.key[2] == rule]
