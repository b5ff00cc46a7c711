"""Exposures that call for action during the shift: noise peaks, hand-arm vibration points, heavy lifting."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.alerts import Severity
from services.detection.config import RuleConfig
from services.detection.episodes import Episodes, Source
from services.detection.outcomes import Outcome, RuleId
from services.exposure.noise import LIMIT_PEAK_DBC, UPPER_ACTION_PEAK_DBC
from services.model import Frame

HOUR = timedelta(hours=1)


@dataclass(slots=True)
class NoiseTrack:
    last_loud_ts: datetime | None = None


def noise_peak(track: NoiseTrack, episodes: Episodes, src: Source, frame: Frame, cfg: RuleConfig) -> list[Outcome]:
    """LCpeak ≥ ``noise_peak_raise_dbc`` raises; ``noise_quiet_clear_s`` of peaks below the clear level clear.

    The judgement is on the level without hearing protection, as R4431-3 requires for action values.
    """
    if frame.noise is None:
        return []
    peak = frame.noise.lcpeak_db
    loud = peak is not None and math.isfinite(peak) and peak >= cfg.noise_peak_clear_dbc
    if loud:
        track.last_loud_ts = src.ts
    quiet = track.last_loud_ts is None or (src.ts - track.last_loud_ts).total_seconds() >= cfg.noise_quiet_clear_s
    over = peak is not None and loud and peak >= cfg.noise_peak_raise_dbc
    which = ("limit value" if peak is not None and peak > LIMIT_PEAK_DBC
             else "upper action value" if peak is not None and peak >= UPPER_ACTION_PEAK_DBC
             else "lower action value")  # fmt: skip
    return episodes.hysteresis(
        src,
        RuleId.NOISE_PEAK,
        raise_if=over,
        clear_if=quiet,
        severity=Severity.WARNING,
        message=f"Noise peak {peak or 0.0:.0f} dB(C) reaches the R4431-2 {which}: check hearing protection",
        clear_reason=f"no peak at or above {cfg.noise_peak_clear_dbc:.0f} dB(C) for {cfg.noise_quiet_clear_s:.0f} s",
        details={"lcpeak_db": peak},
    )


@dataclass(slots=True)
class HavTrack:
    escalated: bool = False


def hav_points(track: HavTrack, episodes: Episodes, src: Source, points: float, cfg: RuleConfig) -> list[Outcome]:
    """Today's HSE points: warn at ``hav_warn_points``, escalate (``Confirm``) at ``hav_critical_points``."""
    critical = points >= cfg.hav_critical_points
    details = {"hav_points_today": round(points, 1)}
    if not episodes.is_open(src.subject, RuleId.HAV_LIMIT_APPROACHING):
        if points < cfg.hav_warn_points:
            return []
        track.escalated = critical
        if critical:
            return episodes.raise_(src, RuleId.HAV_LIMIT_APPROACHING, Severity.CRITICAL,
                                   _hav_limit_message(points), details)  # fmt: skip
        message = f"Hand-arm vibration at {points:.0f} of 400 daily points: change tool or task before the limit"
        return episodes.raise_(src, RuleId.HAV_LIMIT_APPROACHING, Severity.WARNING, message, details)
    if points <= cfg.hav_clear_points:
        track.escalated = False
        return episodes.clear(
            src.subject, RuleId.HAV_LIMIT_APPROACHING, src.ts, f"today's points back to {points:.0f} (a new day)"
        )
    if critical and not track.escalated:
        track.escalated = True
        return episodes.confirm(src.subject, RuleId.HAV_LIMIT_APPROACHING, src.ts, _hav_limit_message(points),
                                Severity.CRITICAL)  # fmt: skip
    return []


def _hav_limit_message(points: float) -> str:
    return f"Hand-arm vibration at {points:.0f} points: the A(8) 5 m/s² limit value is reached — stop vibrating tools"


@dataclass(slots=True)
class LiftTrack:
    heavy: deque[tuple[datetime, int]] = field(default_factory=deque)
    last_very_heavy_ts: datetime | None = None


def lifting(track: LiftTrack, episodes: Episodes, src: Source, frame: Frame, cfg: RuleConfig) -> list[Outcome]:
    """One lift ≥ ``lift_single_raise_kg``, or ``lift_heavy_per_hour_raise`` lifts ≥ ``lift_heavy_kg`` in an hour.

    Judged on every frame (time passes); a frame's ``count`` lifts are classed by its mean load, as the ledger
    does (``HandlingDay.add``).
    """
    lift = frame.lift
    very_heavy = lift is not None and lift.count > 0 and lift.load_kg >= cfg.lift_single_raise_kg
    if lift is not None and lift.count > 0 and lift.load_kg >= cfg.lift_heavy_kg:
        track.heavy.append((src.ts, lift.count))
    if very_heavy:
        track.last_very_heavy_ts = src.ts
    while track.heavy and src.ts - track.heavy[0][0] >= HOUR:
        track.heavy.popleft()
    per_hour = sum(count for _, count in track.heavy)
    since_very_heavy_s = (src.ts - track.last_very_heavy_ts).total_seconds() if track.last_very_heavy_ts else None
    calm = since_very_heavy_s is None or since_very_heavy_s >= cfg.lift_clear_quiet_s
    if very_heavy and lift is not None:
        message = f"Lift of {lift.load_kg:.0f} kg: above the NF X35-109 {cfg.lift_single_raise_kg:.0f} kg maximum"
    else:
        message = (f"{per_hour} lifts of {cfg.lift_heavy_kg:.0f} kg or more in the last hour: "
                   "share the load or use the follower")  # fmt: skip
    return episodes.hysteresis(
        src,
        RuleId.LIFTING_OVERLOAD,
        raise_if=very_heavy or per_hour >= cfg.lift_heavy_per_hour_raise,
        clear_if=calm and per_hour <= cfg.lift_heavy_per_hour_clear,
        severity=Severity.WARNING,
        message=message,
        clear_reason=f"{per_hour} heavy lifts in the last hour, none above {cfg.lift_single_raise_kg:.0f} kg lately",
        details={"load_kg": lift.load_kg if lift is not None else None, "heavy_lifts_last_hour": per_hour},
    )
