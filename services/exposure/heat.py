"""Heat: WBGT from what a wearable measures, ISO 7243 reference values, ISO 8996 metabolic rates, the day's tally.

The wearable measures air temperature, relative humidity and (on some models) a globe temperature; none has a
natural wet-bulb sensor, so every WBGT here is computed:

* globe present — ISO 7243:2017 outdoor formula WBGT = 0.7·t_nw + 0.2·t_g + 0.1·t_a, with t_nw taken as the
  psychrometric wet bulb of Stull (2011). Labelled ``measured`` because the radiant load (the globe) was
  measured; the wet bulb still is not, and Stull's t_w under-reads t_nw in strong sun and still air.
* no globe — the Australian Bureau of Meteorology approximation WBGT = 0.567·t_a + 0.393·e + 3.94, which
  assumes moderately high radiation and light wind. Labelled ``estimated``.

Core temperature and the physiological strain index live in ``heat_strain``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum, StrEnum

import numpy as np
import numpy.typing as npt

from services.exposure.merge import max_or_none

F64Array = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

HOT_TEMP_C = 30.0
COLD_TEMP_C = 5.0
"""D4163-2 "températures extrêmes": at most 5 °C or at least 30 °C (900 h a year)."""

BODY_SURFACE_M2 = 1.8
"""The standard worker of ISO 8996:2021 and ISO 7243:2017 annex A (1.8 m² body surface)."""


class Provenance(StrEnum):
    MEASURED = "measured"
    ESTIMATED = "estimated"
    MIXED = "mixed"


def wet_bulb_stull_c(temp_c: npt.ArrayLike, rh_pct: npt.ArrayLike) -> F64Array:
    """Psychrometric wet-bulb temperature from t_a and RH at sea-level pressure (Stull 2011, eq. 1).

    R. Stull, "Wet-bulb temperature from relative humidity and air temperature", J. Appl. Meteor. Climatol.
    50:2267-2269 (2011). Valid for RH 5-99 % and t_a −20 to 50 °C, error within about −1 to +0.65 °C.
    """
    t = np.asarray(temp_c, dtype=np.float64)
    rh = np.asarray(rh_pct, dtype=np.float64)
    tw: F64Array = (
        t * np.arctan(0.151977 * np.sqrt(rh + 8.313659))
        + np.arctan(t + rh)
        - np.arctan(rh - 1.676331)
        + 0.00391838 * rh**1.5 * np.arctan(0.023101 * rh)
        - 4.686035
    )
    return tw


def vapour_pressure_hpa(temp_c: npt.ArrayLike, rh_pct: npt.ArrayLike) -> F64Array:
    """Water vapour pressure e = (RH/100)·6.105·exp(17.27·t_a/(237.7 + t_a)) hPa, as used by the BoM WBGT."""
    t = np.asarray(temp_c, dtype=np.float64)
    e: F64Array = np.asarray(rh_pct, dtype=np.float64) / 100.0 * 6.105 * np.exp(17.27 * t / (237.7 + t))
    return e


def wbgt_bom_c(temp_c: npt.ArrayLike, rh_pct: npt.ArrayLike) -> F64Array:
    """WBGT ≈ 0.567·t_a + 0.393·e + 3.94 from shade air temperature and humidity only.

    Australian Bureau of Meteorology, "About the WBGT and Apparent Temperature indices"
    (bom.gov.au/info/thermal_stress): an approximation for average daytime summer conditions.
    """
    wbgt: F64Array = 0.567 * np.asarray(temp_c, dtype=np.float64) + 0.393 * vapour_pressure_hpa(temp_c, rh_pct) + 3.94
    return wbgt


def wbgt_c_array(
    temp_c: npt.ArrayLike, rh_pct: npt.ArrayLike, globe_temp_c: npt.ArrayLike | None = None
) -> tuple[F64Array, BoolArray]:
    """Vectorised WBGT (°C) and a ``measured`` mask (True where a finite globe temperature was used).

    Where the globe is finite: ISO 7243:2017 outdoor WBGT = 0.7·t_nw + 0.2·t_g + 0.1·t_a with t_nw from
    ``wet_bulb_stull_c``; elsewhere the BoM approximation. NaN where air temperature or RH is missing.
    """
    t = np.asarray(temp_c, dtype=np.float64)
    rh = np.asarray(rh_pct, dtype=np.float64)
    globe = np.full(np.broadcast(t, rh).shape, np.nan) if globe_temp_c is None else globe_temp_c
    tg = np.asarray(globe, dtype=np.float64)
    t, rh, tg = np.broadcast_arrays(t, rh, tg)
    measured: BoolArray = np.isfinite(tg) & np.isfinite(t) & np.isfinite(rh)
    outdoor = 0.7 * wet_bulb_stull_c(t, rh) + 0.2 * np.where(measured, tg, 0.0) + 0.1 * t
    wbgt: F64Array = np.where(measured, outdoor, wbgt_bom_c(t, rh))
    return wbgt, measured


def wbgt_c(temp_c: float, rh_pct: float | None, globe_temp_c: float | None = None) -> tuple[float, Provenance] | None:
    """One frame's WBGT (°C) and its provenance, or None without RH (see ``wbgt_c_array`` for the method)."""
    if rh_pct is None or not math.isfinite(rh_pct) or not math.isfinite(temp_c):
        return None
    # The same formulas as wbgt_c_array in scalar math: called for every frame by the heat rule, where numpy's
    # per-call overhead on one value cost more than the rest of the rule.
    t, rh = float(temp_c), float(rh_pct)
    if globe_temp_c is not None and math.isfinite(globe_temp_c):
        t_w = (t * math.atan(0.151977 * math.sqrt(rh + 8.313659)) + math.atan(t + rh) - math.atan(rh - 1.676331)
               + 0.00391838 * rh**1.5 * math.atan(0.023101 * rh) - 4.686035)  # fmt: skip
        return 0.7 * t_w + 0.2 * float(globe_temp_c) + 0.1 * t, Provenance.MEASURED
    e_hpa = rh / 100.0 * 6.105 * math.exp(17.27 * t / (237.7 + t))
    return 0.567 * t + 0.393 * e_hpa + 3.94, Provenance.ESTIMATED


def wbgt_ref_c(metabolic_w: float, acclimatised: bool = True) -> float:
    """ISO 7243:2017 annex A reference WBGT: 56.7 − 11.5·lg M (acclimatised), 59.9 − 14.1·lg M (not), M in W.

    M is the metabolic rate of the 1.8 m² standard worker; above the reference value heat stress must be reduced
    or assessed with ISO 7933. No clothing adjustment value is applied (ordinary work clothes: CAV = 0).
    """
    if not metabolic_w > 0.0:
        raise ValueError(f"metabolic_w must be > 0, got {metabolic_w}")
    if acclimatised:
        return 56.7 - 11.5 * math.log10(metabolic_w)
    return 59.9 - 14.1 * math.log10(metabolic_w)


class MetabolicClass(IntEnum):
    """ISO 8996:2021 level-1 classes by kind of activity; values are the class mean in W/m²."""

    RESTING = 65
    LOW = 100
    MODERATE = 165
    HIGH = 230
    VERY_HIGH = 290

    @property
    def metabolic_w(self) -> float:
        return float(self.value) * BODY_SURFACE_M2


class Task(StrEnum):
    """Typical tasks of collectors and gardeners, each placed in an ISO 8996 class by its examples."""

    RESTING = "resting"
    DRIVING_TRUCK = "driving_truck"
    COLLECTOR_WALKING = "collector_walking"
    COLLECTOR_HANDLING_BINS = "collector_handling_bins"
    STREET_SWEEPING = "street_sweeping"
    GARDENER_POWERED_TOOLS = "gardener_powered_tools"
    GARDENER_WEEDING_HOEING = "gardener_weeding_hoeing"
    GARDENER_DIGGING = "gardener_digging"
    CLIMBING_RUNNING = "climbing_running"


TASK_METABOLIC_CLASS: dict[Task, MetabolicClass] = {
    Task.RESTING: MetabolicClass.RESTING,
    # "driving a vehicle in normal traffic" is an ISO 8996 low-rate example.
    Task.DRIVING_TRUCK: MetabolicClass.LOW,
    # Walking 2.5-5.5 km/h, pushing light carts: moderate.
    Task.COLLECTOR_WALKING: MetabolicClass.MODERATE,
    # Pushing/pulling heavily loaded carts, carrying heavy material, walking 5.5-7 km/h: high (≈ 415 W).
    Task.COLLECTOR_HANDLING_BINS: MetabolicClass.HIGH,
    Task.STREET_SWEEPING: MetabolicClass.MODERATE,
    # Sustained hand-arm work with hedge trimmers, brush cutters, walk-behind mowers: moderate.
    Task.GARDENER_POWERED_TOOLS: MetabolicClass.MODERATE,
    # Weeding and hoeing are listed as moderate.
    Task.GARDENER_WEEDING_HOEING: MetabolicClass.MODERATE,
    # Digging, shovelling, hand mowing: high.
    Task.GARDENER_DIGGING: MetabolicClass.HIGH,
    # Climbing stairs or ladders, running: very high.
    Task.CLIMBING_RUNNING: MetabolicClass.VERY_HIGH,
}


def metabolic_rate_w(task: Task) -> float:
    """Typical metabolic rate of ``task`` in W (ISO 8996:2021 class mean × 1.8 m²)."""
    return TASK_METABOLIC_CLASS[task].metabolic_w


@dataclass(frozen=True, slots=True)
class HeatDay:
    """Additive one-day heat tally; ``HeatDay()`` is the identity of ``merge``.

    ``seconds_over_ref`` counts seconds whose WBGT exceeded the ISO 7243 reference for the work done;
    ``seconds_temp_ge_30`` / ``seconds_temp_le_5`` count air-temperature seconds for D4163-2; provenance is
    kept as seconds per label so merging stays order independent.
    """

    wbgt_max_c: float | None = None
    seconds_over_ref: float = 0.0
    seconds_temp_ge_30: float = 0.0
    seconds_temp_le_5: float = 0.0
    psi_max: float | None = None
    seconds_wbgt_measured: float = 0.0
    seconds_wbgt_estimated: float = 0.0

    def merge(self, other: HeatDay) -> HeatDay:
        """Combine two disjoint sets of seconds (commutative and associative)."""
        return HeatDay(
            wbgt_max_c=max_or_none(self.wbgt_max_c, other.wbgt_max_c),
            seconds_over_ref=self.seconds_over_ref + other.seconds_over_ref,
            seconds_temp_ge_30=self.seconds_temp_ge_30 + other.seconds_temp_ge_30,
            seconds_temp_le_5=self.seconds_temp_le_5 + other.seconds_temp_le_5,
            psi_max=max_or_none(self.psi_max, other.psi_max),
            seconds_wbgt_measured=self.seconds_wbgt_measured + other.seconds_wbgt_measured,
            seconds_wbgt_estimated=self.seconds_wbgt_estimated + other.seconds_wbgt_estimated,
        )

    def add(
        self,
        temp_c: float | None,
        duration_s: float = 1.0,
        *,
        wbgt: tuple[float, Provenance] | None = None,
        wbgt_ref_c: float | None = None,
        psi: float | None = None,
    ) -> HeatDay:
        """Fold in one record: air temperature, the ``wbgt_c`` result, the reference for the task, the PSI."""
        if not duration_s >= 0.0:
            raise ValueError(f"duration_s must be >= 0, got {duration_s}")
        hot = temp_c is not None and temp_c >= HOT_TEMP_C
        cold = temp_c is not None and temp_c <= COLD_TEMP_C
        wbgt_c_value, provenance = wbgt if wbgt is not None else (None, None)
        over = wbgt_c_value is not None and wbgt_ref_c is not None and wbgt_c_value > wbgt_ref_c
        return self.merge(
            HeatDay(
                wbgt_max_c=wbgt_c_value,
                seconds_over_ref=duration_s if over else 0.0,
                seconds_temp_ge_30=duration_s if hot else 0.0,
                seconds_temp_le_5=duration_s if cold else 0.0,
                psi_max=psi,
                seconds_wbgt_measured=duration_s if provenance is Provenance.MEASURED else 0.0,
                seconds_wbgt_estimated=duration_s if provenance is Provenance.ESTIMATED else 0.0,
            )
        )

    @property
    def seconds_temp_extreme(self) -> float:
        """Seconds at ≤ 5 °C or ≥ 30 °C, the D4163-2 "températures extrêmes" quantity."""
        return self.seconds_temp_ge_30 + self.seconds_temp_le_5

    @property
    def provenance(self) -> Provenance | None:
        """How the day's WBGT values were obtained; None when the day has none."""
        if self.seconds_wbgt_measured > 0.0 and self.seconds_wbgt_estimated > 0.0:
            return Provenance.MIXED
        if self.seconds_wbgt_measured > 0.0:
            return Provenance.MEASURED
        if self.seconds_wbgt_estimated > 0.0:
            return Provenance.ESTIMATED
        return None
