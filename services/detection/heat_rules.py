"""Heat: physiological strain (PSI and estimated core temperature) and WBGT above the ISO 7243 reference.

Both are judged on one-minute means, as the minutes complete: the core-temperature filter of Buller et al.
(2013) was fitted on one-minute mean heart rates, and a one-minute mean WBGT does not flip with each gust.
Frames must come in time order (the engine only passes in-order frames).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from services.alerts import Severity
from services.detection.config import RuleConfig
from services.detection.episodes import Episodes, Source
from services.detection.outcomes import Outcome, RuleId
from services.exposure import heat
from services.exposure.heat_strain import physiological_strain_index
from services.model import Frame

MINUTE = timedelta(minutes=1)
HR_PLAUSIBLE_BPM = (25.0, 240.0)  # outside: a loose strap or a motion artefact, not a heart rate


class CoreTempEstimate(Protocol):
    """A sequential core-temperature estimate fed one-minute mean heart rates (``CoreTempFilter``)."""

    @property
    def ct_c(self) -> float: ...

    def step(self, hr_bpm: float | None, ts: datetime | None = None) -> CoreTempEstimate: ...


@dataclass(slots=True)
class MinuteMean:
    """Mean of a value per UTC minute; ``add`` returns the previous minute's mean when a new minute starts."""

    minute: datetime | None = None
    total: float = 0.0
    count: int = 0

    def add(self, ts: datetime, value: float | None) -> tuple[datetime, float] | None:
        start = ts.replace(second=0, microsecond=0)
        done: tuple[datetime, float] | None = None
        if self.minute is None or start > self.minute:
            if self.minute is not None and self.count:
                done = (self.minute, self.total / self.count)
            self.minute, self.total, self.count = start, 0.0, 0
        if value is not None and math.isfinite(value):
            self.total += value
            self.count += 1
        return done


@dataclass(slots=True)
class HeatTrack:
    """Per wearer: the running core-temperature estimate and the consecutive minutes above/below the reference."""

    core_temp: CoreTempEstimate
    hr: MinuteMean = field(default_factory=MinuteMean)
    excess: MinuteMean = field(default_factory=MinuteMean)
    last_excess_minute: datetime | None = None
    minutes_over: int = 0
    minutes_under: int = 0


def on_frame(track: HeatTrack, episodes: Episodes, src: Source, frame: Frame, wbgt_ref_c: float | None,
             cfg: RuleConfig) -> list[Outcome]:  # fmt: skip
    low_bpm, high_bpm = HR_PLAUSIBLE_BPM
    hr = frame.hr_bpm if frame.hr_bpm is not None and low_bpm <= frame.hr_bpm <= high_bpm else None
    out: list[Outcome] = []
    minute_hr = track.hr.add(frame.ts, hr)
    if minute_hr is not None:
        out += _strain(track, episodes, src, minute_hr, cfg)
    wbgt = heat.wbgt_c(frame.env.temp_c, frame.env.rh_pct, frame.env.globe_temp_c) if frame.env is not None else None
    excess = wbgt[0] - wbgt_ref_c if wbgt is not None and wbgt_ref_c is not None else None
    minute_excess = track.excess.add(frame.ts, excess)
    if minute_excess is not None:
        out += _wbgt(track, episodes, src, minute_excess, wbgt_ref_c, cfg)
    return out


def _strain(track: HeatTrack, episodes: Episodes, src: Source, minute: tuple[datetime, float],
            cfg: RuleConfig) -> list[Outcome]:  # fmt: skip
    start, hr_bpm = minute
    track.core_temp = track.core_temp.step(hr_bpm, start)
    ct_c = track.core_temp.ct_c
    psi = physiological_strain_index(ct_c, hr_bpm, cfg.psi_core_temp_0_c, cfg.psi_hr_0_bpm)
    return episodes.hysteresis(
        src,
        RuleId.HEAT_STRAIN,
        raise_if=psi >= cfg.psi_raise or ct_c >= cfg.core_temp_raise_c,
        clear_if=psi <= cfg.psi_clear and ct_c <= cfg.core_temp_clear_c,
        severity=Severity.WARNING,
        message=f"Heat strain: PSI {psi:.1f}, estimated core temperature {ct_c:.1f} °C — stop, cool down, drink",
        clear_reason=f"back to work: PSI {psi:.1f}, estimated core temperature {ct_c:.1f} °C",
        details={"psi": round(psi, 2), "core_temp_c": round(ct_c, 2), "hr_bpm_1min": round(hr_bpm, 1),
                 "minute": start.isoformat()},
    )  # fmt: skip


def _wbgt(track: HeatTrack, episodes: Episodes, src: Source, minute: tuple[datetime, float],
          wbgt_ref_c: float | None, cfg: RuleConfig) -> list[Outcome]:  # fmt: skip
    start, excess_c = minute
    if track.last_excess_minute is None or start - track.last_excess_minute != MINUTE:
        track.minutes_over = track.minutes_under = 0  # runs are of consecutive minutes
    track.last_excess_minute = start
    track.minutes_over = track.minutes_over + 1 if excess_c > 0.0 else 0
    track.minutes_under = track.minutes_under + 1 if excess_c <= -cfg.wbgt_clear_margin_c else 0
    ref = f" {wbgt_ref_c:.1f} °C" if wbgt_ref_c is not None else ""
    return episodes.hysteresis(
        src,
        RuleId.WBGT_OVER_REFERENCE,
        raise_if=track.minutes_over >= cfg.wbgt_over_raise_min,
        clear_if=track.minutes_under >= cfg.wbgt_clear_min,
        severity=Severity.WARNING,
        message=f"WBGT above the ISO 7243 reference{ref} for {track.minutes_over} min — reduce the pace, rest in shade",
        clear_reason=f"WBGT {cfg.wbgt_clear_margin_c:.1f} °C or more below the reference for {track.minutes_under} min",
        details={"wbgt_excess_c": round(excess_c, 2), "wbgt_ref_c": wbgt_ref_c, "minutes_over": track.minutes_over},
    )  # fmt: skip
