"""Daily vibration exposure A(8): hand-arm (ISO 5349-1) and whole-body (ISO 2631-1).

Values of Directive 2002/44/EC art. 3 and Code du travail R4443-1 (limits) / R4443-2 (action values): hand-arm
A(8) action 2.5 m/s², limit 5 m/s²; whole-body A(8) action 0.5 m/s², limit 1.15 m/s².

As for noise, the state a ledger keeps per agent and local day is a sum of a²·T terms (additive, so frames
fold in any order); A(8) and the HSE points are read off it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

REFERENCE_DURATION_S = 28_800.0
"""T0 = 8 h (ISO 5349-1:2001; ISO 2631-1:1997; Directive 2002/44/EC annexes A and B)."""

HAV_ACTION_A8_MS2 = 2.5
HAV_LIMIT_A8_MS2 = 5.0
WBV_ACTION_A8_MS2 = 0.5
WBV_LIMIT_A8_MS2 = 1.15
WBV_AXIS_FACTORS = (1.4, 1.4, 1.0)
"""k_x, k_y, k_z for the health assessment (ISO 2631-1:1997; Directive 2002/44/EC annex B.1)."""


@dataclass(frozen=True, slots=True)
class HavDose:
    """Additive hand-arm state: ``sum_a2t_m2s3`` = Σ a_hv,i²·T_i, ``seconds`` = Σ T_i (trigger time)."""

    sum_a2t_m2s3: float = 0.0
    seconds: float = 0.0

    def merge(self, other: HavDose) -> HavDose:
        """Combine two disjoint sets of trigger time (commutative and associative)."""
        return HavDose(self.sum_a2t_m2s3 + other.sum_a2t_m2s3, self.seconds + other.seconds)

    def add(self, ahv_ms2: float, trigger_s: float) -> HavDose:
        """Fold in ``trigger_s`` seconds of a tool at vibration total value ``ahv_ms2``."""
        _check_non_negative(ahv_ms2=ahv_ms2, trigger_s=trigger_s)
        return self.merge(HavDose(ahv_ms2 * ahv_ms2 * trigger_s, trigger_s))


def accumulate_hav(ahv_ms2: npt.ArrayLike, trigger_s: npt.ArrayLike = 1.0) -> HavDose:
    """The ``HavDose`` of many records at once; NaN values are skipped, ``trigger_s`` broadcasts."""
    a = np.asarray(ahv_ms2, dtype=np.float64).ravel()
    t = np.broadcast_to(np.asarray(trigger_s, dtype=np.float64), a.shape)
    ok = np.isfinite(a) & np.isfinite(t)
    if np.any(a[ok] < 0.0) or np.any(t[ok] < 0.0):
        raise ValueError("ahv_ms2 and trigger_s must be >= 0")
    return HavDose(float(np.sum(a[ok] ** 2 * t[ok])), float(np.sum(t[ok])))


def hav_a8_ms2(dose: HavDose) -> float:
    """A(8) = sqrt((1/T0)·Σ a_hv,i²·T_i), T0 = 8 h (ISO 5349-1:2001; Directive 2002/44/EC annex A)."""
    return math.sqrt(dose.sum_a2t_m2s3 / REFERENCE_DURATION_S)


def hav_points(dose: HavDose) -> float:
    """HSE exposure points Σ 2·a_hv,i²·T_i[h]: 100 points = the 2.5 m/s² action value, 400 = the 5 m/s² limit.

    HSE L140 "Hand-arm vibration at work" (2nd ed. 2019), exposure points system; equal to 100·(A(8)/2.5)².
    """
    return 2.0 * dose.sum_a2t_m2s3 / 3600.0


def time_to_reach_a8(dose: HavDose, current_ahv_ms2: float, target_ms2: float = HAV_LIMIT_A8_MS2) -> float | None:
    """Trigger seconds left at ``current_ahv_ms2`` before A(8) reaches ``target_ms2``.

    Solves Σ a²T + a_now²·t = target²·T0 for t: 0 when already reached, None when the tool does not vibrate.
    """
    needed = target_ms2 * target_ms2 * REFERENCE_DURATION_S - dose.sum_a2t_m2s3
    if needed <= 0.0:
        return 0.0
    if not current_ahv_ms2 > 0.0:
        return None
    return needed / (current_ahv_ms2 * current_ahv_ms2)


@dataclass(frozen=True, slots=True)
class WbvDose:
    """Additive whole-body state: Σ a_wj²·T per axis (x, y, z) and the measured ``seconds``."""

    sum_x_m2s3: float = 0.0
    sum_y_m2s3: float = 0.0
    sum_z_m2s3: float = 0.0
    seconds: float = 0.0

    def merge(self, other: WbvDose) -> WbvDose:
        """Combine two disjoint sets of seconds (commutative and associative)."""
        return WbvDose(
            self.sum_x_m2s3 + other.sum_x_m2s3,
            self.sum_y_m2s3 + other.sum_y_m2s3,
            self.sum_z_m2s3 + other.sum_z_m2s3,
            self.seconds + other.seconds,
        )

    def add(self, aw_ms2: tuple[float, float, float], duration_s: float) -> WbvDose:
        """Fold in ``duration_s`` of frequency-weighted r.m.s. accelerations (a_wx, a_wy, a_wz)."""
        x, y, z = aw_ms2
        _check_non_negative(aw_x_ms2=x, aw_y_ms2=y, aw_z_ms2=z, duration_s=duration_s)
        return self.merge(WbvDose(x * x * duration_s, y * y * duration_s, z * z * duration_s, duration_s))


def accumulate_wbv(aw_ms2: npt.ArrayLike, duration_s: npt.ArrayLike = 1.0) -> WbvDose:
    """The ``WbvDose`` of an (n, 3) array of per-axis a_w; rows with a NaN are skipped."""
    a = np.asarray(aw_ms2, dtype=np.float64).reshape(-1, 3)
    t = np.broadcast_to(np.asarray(duration_s, dtype=np.float64), a.shape[:1])
    ok = np.all(np.isfinite(a), axis=1) & np.isfinite(t)
    if np.any(a[ok] < 0.0) or np.any(t[ok] < 0.0):
        raise ValueError("aw_ms2 and duration_s must be >= 0")
    sums = np.sum(a[ok] ** 2 * t[ok, None], axis=0)
    return WbvDose(float(sums[0]), float(sums[1]), float(sums[2]), float(np.sum(t[ok])))


def wbv_a8_axes_ms2(dose: WbvDose) -> tuple[float, float, float]:
    """Per-axis A_j(8) = k_j·sqrt((1/T0)·Σ a_wj²·T), k = 1.4, 1.4, 1.0 (Directive 2002/44/EC annex B.1)."""
    kx, ky, kz = WBV_AXIS_FACTORS
    return (
        kx * math.sqrt(dose.sum_x_m2s3 / REFERENCE_DURATION_S),
        ky * math.sqrt(dose.sum_y_m2s3 / REFERENCE_DURATION_S),
        kz * math.sqrt(dose.sum_z_m2s3 / REFERENCE_DURATION_S),
    )


def wbv_a8_ms2(dose: WbvDose) -> float:
    """Whole-body A(8): the highest of the three weighted axis values (Directive 2002/44/EC annex B.1)."""
    return max(wbv_a8_axes_ms2(dose))


@dataclass(frozen=True, slots=True)
class VibrationJudgement:
    """A(8) against the action value (reached, ≥) and the limit value (exceeded, >) of R4443-1/R4443-2."""

    a8_ms2: float
    action_reached: bool
    limit_exceeded: bool


def judge_hav(dose: HavDose) -> VibrationJudgement:
    """Hand-arm A(8) against 2.5 m/s² (action) and 5 m/s² (limit), Directive 2002/44/EC art. 3(1)."""
    a8 = hav_a8_ms2(dose)
    return VibrationJudgement(a8, a8 >= HAV_ACTION_A8_MS2, a8 > HAV_LIMIT_A8_MS2)


def judge_wbv(dose: WbvDose) -> VibrationJudgement:
    """Whole-body A(8) against 0.5 m/s² (action) and 1.15 m/s² (limit), Directive 2002/44/EC art. 3(2)."""
    a8 = wbv_a8_ms2(dose)
    return VibrationJudgement(a8, a8 >= WBV_ACTION_A8_MS2, a8 > WBV_LIMIT_A8_MS2)


def _check_non_negative(**values: float) -> None:
    for name, value in values.items():
        if not value >= 0.0:
            raise ValueError(f"{name} must be >= 0, got {value}")
