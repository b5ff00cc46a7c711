"""Manual handling: the day's lifts and tonnage (NF X35-109), and the Revised NIOSH Lifting Equation.

NF X35-109:2011 ("Manutention manuelle de charge pour soulever, déplacer et pousser/tirer") gives the unit-mass
thresholds counted here (15 kg and 25 kg) and the 7.5 t per day cumulative tonnage indicator. Code du travail
R4541-9 caps what one person may carry habitually (55 kg, 25 kg for women), which is not judged here.

NIOSH: T. R. Waters, V. Putz-Anderson, A. Garg, L. J. Fine, "Revised NIOSH equation for the design and evaluation
of manual lifting tasks", Ergonomics 36(7):749-776 (1993), and the Applications Manual for the Revised NIOSH
Lifting Equation, DHHS (NIOSH) Publication 94-110 (1994; revised 2021), metric form, tables 5 (FM) and 7 (CM).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from enum import StrEnum

from services.model import LiftGeometry

HEAVY_LIFT_KG = 15.0
VERY_HEAVY_LIFT_KG = 25.0
DAILY_TONNAGE_INDICATOR_KG = 7_500.0


@dataclass(frozen=True, slots=True)
class HandlingDay:
    """Additive one-day handling tally; ``HandlingDay()`` is the identity of ``merge``.

    ``avoided_kg`` is load carried by a robot or an exoskeleton instead of the agent (not in ``tonnage_kg``).
    """

    lifts: int = 0
    lifts_ge_15kg: int = 0
    lifts_ge_25kg: int = 0
    tonnage_kg: float = 0.0
    avoided_kg: float = 0.0

    def merge(self, other: HandlingDay) -> HandlingDay:
        """Combine two disjoint sets of records (commutative and associative)."""
        return HandlingDay(
            self.lifts + other.lifts,
            self.lifts_ge_15kg + other.lifts_ge_15kg,
            self.lifts_ge_25kg + other.lifts_ge_25kg,
            self.tonnage_kg + other.tonnage_kg,
            self.avoided_kg + other.avoided_kg,
        )

    def add(self, count: int, load_kg: float, avoided_kg: float = 0.0) -> HandlingDay:
        """Fold in ``count`` lifts of about ``load_kg`` each (a frame's ``Lift``), plus any load avoided.

        The frame reports a mean load when it saw several lifts, so all ``count`` lifts are classed by that
        mean against the 15 kg and 25 kg thresholds.
        """
        if count < 0 or not load_kg >= 0.0 or not avoided_kg >= 0.0:
            raise ValueError("count, load_kg and avoided_kg must be >= 0")
        return self.merge(
            HandlingDay(
                lifts=count,
                lifts_ge_15kg=count if load_kg >= HEAVY_LIFT_KG else 0,
                lifts_ge_25kg=count if load_kg >= VERY_HEAVY_LIFT_KG else 0,
                tonnage_kg=count * load_kg,
                avoided_kg=avoided_kg,
            )
        )

    @property
    def tonnage_share(self) -> float:
        """The day's tonnage as a share of the NF X35-109 7.5 t indicator (1.0 = indicator reached)."""
        return self.tonnage_kg / DAILY_TONNAGE_INDICATOR_KG


LOAD_CONSTANT_KG = 23.0


class Coupling(StrEnum):
    """Hand-to-object coupling (Applications Manual table 6)."""

    GOOD = "good"
    FAIR = "fair"
    POOR = "poor"


def horizontal_multiplier(h_cm: float) -> float:
    """HM = 25/H, H in cm; 1 when H < 25 cm, 0 beyond 63 cm (Waters et al. 1993)."""
    if h_cm > 63.0:
        return 0.0
    return 25.0 / max(h_cm, 25.0)


def vertical_multiplier(v_cm: float) -> float:
    """VM = 1 − 0.003·|V − 75|, V the hands' height at the origin in cm; 0 beyond 175 cm."""
    if v_cm < 0.0:
        raise ValueError(f"v_cm must be >= 0, got {v_cm}")
    if v_cm > 175.0:
        return 0.0
    return 1.0 - 0.003 * abs(v_cm - 75.0)


def distance_multiplier(d_cm: float) -> float:
    """DM = 0.82 + 4.5/D, D the vertical travel in cm; 1 when D < 25 cm, 0 beyond 175 cm."""
    if d_cm > 175.0:
        return 0.0
    return 0.82 + 4.5 / max(d_cm, 25.0)


def asymmetric_multiplier(a_deg: float) -> float:
    """AM = 1 − 0.0032·A, A the trunk asymmetry angle in degrees; 0 beyond 135°."""
    if a_deg < 0.0:
        raise ValueError(f"a_deg must be >= 0, got {a_deg}")
    if a_deg > 135.0:
        return 0.0
    return 1.0 - 0.0032 * a_deg


_FM_FREQUENCIES_PER_MIN = (0.2, 0.5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
# Applications Manual table 5: per duration class, FM for V < 75 cm then V ≥ 75 cm, one value per frequency.
_FM_TABLE: dict[int, tuple[tuple[float, ...], tuple[float, ...]]] = {
    1: (
        (1.00, 0.97, 0.94, 0.91, 0.88, 0.84, 0.80, 0.75, 0.70, 0.60, 0.52, 0.45, 0.41, 0.37, 0.00, 0.00, 0.00),
        (1.00, 0.97, 0.94, 0.91, 0.88, 0.84, 0.80, 0.75, 0.70, 0.60, 0.52, 0.45, 0.41, 0.37, 0.34, 0.31, 0.28),
    ),
    2: (
        (0.95, 0.92, 0.88, 0.84, 0.79, 0.72, 0.60, 0.50, 0.42, 0.35, 0.30, 0.26, 0.00, 0.00, 0.00, 0.00, 0.00),
        (0.95, 0.92, 0.88, 0.84, 0.79, 0.72, 0.60, 0.50, 0.42, 0.35, 0.30, 0.26, 0.23, 0.21, 0.00, 0.00, 0.00),
    ),
    8: (
        (0.85, 0.81, 0.75, 0.65, 0.55, 0.45, 0.35, 0.27, 0.22, 0.18, 0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 0.00),
        (0.85, 0.81, 0.75, 0.65, 0.55, 0.45, 0.35, 0.27, 0.22, 0.18, 0.15, 0.13, 0.00, 0.00, 0.00, 0.00, 0.00),
    ),
}


def frequency_multiplier(frequency_per_min: float, duration_h: float, v_cm: float) -> float:
    """FM from Applications Manual table 5 by lifting frequency, work duration and V (< or ≥ 75 cm).

    Durations are classed ≤ 1 h, ≤ 2 h, ≤ 8 h (the manual's recovery-time conditions are the caller's to
    check). Frequencies below 0.2 lift/min count as 0.2; between two tabulated frequencies the higher one
    is used (the lower FM, so the RWL is never overstated); above 15 lifts/min FM = 0.
    """
    if not frequency_per_min >= 0.0:
        raise ValueError(f"frequency_per_min must be >= 0, got {frequency_per_min}")
    if not 0.0 <= duration_h <= 8.0:
        raise ValueError(f"the equation covers work durations up to 8 h, got {duration_h}")
    if frequency_per_min > _FM_FREQUENCIES_PER_MIN[-1]:
        return 0.0
    duration_class = next(limit for limit in (1, 2, 8) if duration_h <= limit)
    row = bisect.bisect_left(_FM_FREQUENCIES_PER_MIN, frequency_per_min)
    low_v, high_v = _FM_TABLE[duration_class]
    return (high_v if v_cm >= 75.0 else low_v)[row]


def coupling_multiplier(coupling: Coupling, v_cm: float) -> float:
    """CM from Applications Manual table 7: good 1.00; fair 0.95 below 75 cm, 1.00 from 75 cm; poor 0.90."""
    if coupling is Coupling.GOOD:
        return 1.0
    if coupling is Coupling.FAIR:
        return 0.95 if v_cm < 75.0 else 1.0
    return 0.90


def recommended_weight_limit_kg(
    h_cm: float,
    v_cm: float,
    d_cm: float,
    a_deg: float,
    frequency_per_min: float,
    duration_h: float,
    coupling: Coupling,
) -> float:
    """RWL = LC·HM·VM·DM·AM·FM·CM with LC = 23 kg (Waters et al. 1993, metric form).

    H: hands' horizontal distance from the mid-point between the ankles; V: hands' height at the origin;
    D: vertical travel; A: asymmetry angle; all at the origin of the lift for a single-task analysis.
    """
    return (
        LOAD_CONSTANT_KG
        * horizontal_multiplier(h_cm)
        * vertical_multiplier(v_cm)
        * distance_multiplier(d_cm)
        * asymmetric_multiplier(a_deg)
        * frequency_multiplier(frequency_per_min, duration_h, v_cm)
        * coupling_multiplier(coupling, v_cm)
    )


def lifting_index(load_kg: float, rwl_kg: float) -> float:
    """LI = load / RWL (Waters et al. 1993): above 1 some workers are at risk, above 3 many are; inf when RWL = 0."""
    if rwl_kg <= 0.0:
        return float("inf")
    return load_kg / rwl_kg


def lift_index(load_kg: float, geometry: LiftGeometry) -> float:
    """The NIOSH lifting index of one lift whose geometry is known (Waters et al. 1993)."""
    rwl_kg = recommended_weight_limit_kg(
        geometry.h_cm, geometry.v_cm, geometry.d_cm, geometry.a_deg, geometry.freq_per_min,
        geometry.duration_h, Coupling(geometry.coupling),
    )  # fmt: skip
    return lifting_index(load_kg, rwl_kg)
