"""Today's exposure as supervisors see it live: doses so far, their projection to the end of the shift, and the
day's curves minute by minute against their action and limit values.

Doses are shares of the daily reference exposure, from the ledger's additive sums:

* noise — 100 × Σ t·10^(0.1·L_Aeq) / (T0 · 10^(0.1·85)): the share of the daily dose at the upper action value
  L_EX,8h = 85 dB(A) (ISO 9612:2009; Code du travail R4431-2; 3 dB exchange rate), so 100 % is L_EX,8h = 85;
* hand-arm vibration — HSE exposure points 100 × Σ a_hv²·T / (T0 · 2.5²): 100 is the action value
  A(8) = 2.5 m/s², 400 the limit value 5 m/s² (ISO 5349-1:2001; Directive 2002/44/EC; HSE L140).

A projection extends today's average rate over the planned shift (``projected``); it is a prompt to rotate a
task, not a measurement, and is never lower than what was already received.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from services.exposure import heat, heat_strain, noise, vibration
from services.exposure.handling import DAILY_TONNAGE_INDICATOR_KG

F64Array = npt.NDArray[np.float64]

NOISE_DOSE_100_SUM: float = noise.REFERENCE_DURATION_S * 10.0 ** (0.1 * noise.UPPER_ACTION_LEX_DBA)
"""Σ t·10^(0.1·L_Aeq) (s) of a full dose: 8 h at 85 dB(A), the upper action value (R4431-2)."""

HAV_POINTS_100_SUM: float = vibration.REFERENCE_DURATION_S * vibration.HAV_ACTION_A8_MS2**2
"""Σ a_hv²·T (m²/s³) of 100 HSE points: A(8) = 2.5 m/s², the action value (Directive 2002/44/EC art. 3)."""

MIN_WORKED_FOR_PROJECTION_S = 900.0
"""Below a quarter of an hour of data today's average rate says too little about the rest of the shift."""


Sums = TypeVar("Sums", float, F64Array)


def noise_dose_pct(sum_t_10pow: Sums) -> Sums:
    """Noise dose in % of the 85 dB(A) daily dose: 100·Σ t·10^(0.1·L_Aeq) / (28 800 s·10^8.5) (ISO 9612).

    Element-wise on an array of sums (plain float arithmetic for one value: ``GET /agents`` calls it per agent).
    """
    return 100.0 * sum_t_10pow / NOISE_DOSE_100_SUM


def hav_points(sum_a2t_m2s3: Sums) -> Sums:
    """HSE exposure points 100·Σ a_hv²·T / (28 800 s·2.5²): 100 = action value, 400 = limit (ISO 5349-1)."""
    return 100.0 * sum_a2t_m2s3 / HAV_POINTS_100_SUM


def projected(value: float | None, worked_s: float, shift_s: float) -> float | None:
    """``value`` extended linearly to the end of a ``shift_s`` shift at today's average rate.

    value × shift_s / worked_s, never below ``value`` (what was received stays received, even past the
    planned shift); None without a value or with less than ``MIN_WORKED_FOR_PROJECTION_S`` worked.
    """
    if value is None or worked_s < MIN_WORKED_FOR_PROJECTION_S:
        return None
    return max(value, value * shift_s / worked_s)


@dataclass(frozen=True, slots=True)
class ExposureToday:
    """One agent's exposure so far on the site's local ``day``; None where nothing was measured."""

    day: date
    worked_s: float
    noise_dose_pct: float | None
    noise_dose_projected_pct: float | None
    hav_points: float | None
    hav_points_projected: float | None
    psi_max: float | None
    wbgt_max_c: float | None
    lifts: int
    tonnage_kg: float


def exposure_today(
    day: date,
    *,
    worked_s: float,
    noise_s: float,
    noise_sum_t_10pow: float,
    hav_s: float,
    hav_sum_a2t: float,
    psi_max: float | None,
    wbgt_max_c: float | None,
    lifts: int,
    tonnage_kg: float,
    shift_s: float,
) -> ExposureToday:
    """Today's doses from the ledger's sums (see the module docstring), projected over a ``shift_s`` shift.

    The noise dose is None when no second of noise was measured; the HAV points are None when no tool
    trigger time was recorded (as the ledger's A(8), which is not judged without one).
    """
    noise_pct = noise_dose_pct(noise_sum_t_10pow) if noise_s > 0.0 else None
    points = hav_points(hav_sum_a2t) if hav_s > 0.0 else None
    return ExposureToday(
        day=day, worked_s=worked_s, noise_dose_pct=noise_pct,
        noise_dose_projected_pct=projected(noise_pct, worked_s, shift_s), hav_points=points,
        hav_points_projected=projected(points, worked_s, shift_s), psi_max=psi_max, wbgt_max_c=wbgt_max_c,
        lifts=lifts, tonnage_kg=tonnage_kg,
    )  # fmt: skip


def local_day_bounds(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """[start, end) in UTC of the site's local ``day``: 23 h or 25 h on the days the clocks change."""
    start = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    return start, end


@dataclass(frozen=True, slots=True)
class DayCurves:
    """Cumulative doses at the end of each minute of the day that has data (arrays of the same length)."""

    noise_dose_pct: F64Array
    hav_points: F64Array
    lifts: npt.NDArray[np.int64]
    tonnage_kg: F64Array


def cumulative_curves(
    noise_sum_t_10pow: npt.ArrayLike, hav_sum_a2t: npt.ArrayLike, lifts: npt.ArrayLike, tonnage_kg: npt.ArrayLike
) -> DayCurves:
    """Running totals over the day of per-minute sums (in minute order): the same doses as ``exposure_today``.

    Sums are additive, so the last value of each curve is the ledger's day total for the same frames.
    """
    return DayCurves(
        noise_dose_pct=noise_dose_pct(np.cumsum(np.asarray(noise_sum_t_10pow, dtype=np.float64))),
        hav_points=hav_points(np.cumsum(np.asarray(hav_sum_a2t, dtype=np.float64))),
        lifts=np.cumsum(np.asarray(lifts, dtype=np.int64)),
        tonnage_kg=np.cumsum(np.asarray(tonnage_kg, dtype=np.float64)),
    )


EnvRows = Sequence[Sequence[float | None]]


def minute_max_wbgt_c(env_per_minute: Sequence[EnvRows | None]) -> list[float | None]:
    """Per minute, the highest WBGT of its frames, computed as the ledger does (``heat.wbgt_c_array``).

    Each item holds that minute's (air °C, RH %, globe °C or None) rows, or None; a minute without a frame
    giving air temperature and humidity gives None. WBGT is not linear in its inputs, so it is computed per
    frame and only then reduced.
    """
    blocks = [np.asarray(b, dtype=np.float64).reshape(-1, 3) if b is not None else np.empty((0, 3))
              for b in env_per_minute]  # fmt: skip
    if not blocks:
        return []
    rows = np.concatenate(blocks)
    minute = np.repeat(np.arange(len(blocks)), [b.shape[0] for b in blocks])
    wbgt, _ = heat.wbgt_c_array(rows[:, 0], rows[:, 1], rows[:, 2])
    best = np.full(len(blocks), -np.inf)
    valid = np.isfinite(wbgt)
    np.maximum.at(best, minute[valid], wbgt[valid])
    return [float(v) if np.isfinite(v) else None for v in best]


@dataclass(frozen=True, slots=True)
class ReferenceLine:
    """A horizontal line on a curve: what reaching it means is named by ``key``."""

    key: str
    value: float


def noise_dose_lines(hearing_attenuation_db: float = 0.0) -> tuple[ReferenceLine, ...]:
    """The R4431-2 values on the noise-dose scale (100·10^((L − 85)/10) %): 80 → 31.6 %, 85 → 100 %.

    The limit value 87 dB(A) is judged at the ear (R4431-3): with a registered protector attenuation A, the
    dose received is over the limit above 87 + A dB(A) unprotected, so that is where its line is drawn
    (158.5 % without protection).
    """
    return (
        ReferenceLine("lower_action", noise.dose_pct(noise.LOWER_ACTION_LEX_DBA)),
        ReferenceLine("upper_action", noise.dose_pct(noise.UPPER_ACTION_LEX_DBA)),
        ReferenceLine("limit", noise.dose_pct(noise.LIMIT_LEX_DBA + hearing_attenuation_db)),
    )


def hav_points_lines() -> tuple[ReferenceLine, ...]:
    """Directive 2002/44/EC hand-arm values in HSE points: action 2.5 m/s² → 100, limit 5 m/s² → 400."""
    full_day_s = vibration.REFERENCE_DURATION_S
    return (
        ReferenceLine("action", hav_points(vibration.HAV_ACTION_A8_MS2**2 * full_day_s)),
        ReferenceLine("limit", hav_points(vibration.HAV_LIMIT_A8_MS2**2 * full_day_s)),
    )


def wbgt_lines(wbgt_ref_c: float) -> tuple[ReferenceLine, ...]:
    """The ISO 7243:2017 reference WBGT for the agent's task and acclimatisation (``ExposureProfile``)."""
    return (ReferenceLine("reference", wbgt_ref_c),)


def hr_lines() -> tuple[ReferenceLine, ...]:
    """180 bpm, where the heart-rate term of the physiological strain index is at its maximum (Moran 1998)."""
    return (ReferenceLine("psi_hr_max", heat_strain.PSI_HR_MAX_BPM),)


def tonnage_lines() -> tuple[ReferenceLine, ...]:
    """The NF X35-109:2011 daily cumulative tonnage indicator (7.5 t)."""
    return (ReferenceLine("recommended", DAILY_TONNAGE_INDICATOR_KG),)
