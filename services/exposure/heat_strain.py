"""Heat strain: core temperature estimated from heart rate, and the physiological strain index.

Core temperature: M. J. Buller et al., "Estimation of human core temperature from sequential heart rate
observations", Physiol. Meas. 34:781-798 (2013). A one-state extended Kalman filter:

* time update     CT⁻ = a·CT,  v⁻ = a²·v + γ                      (a = 1, γ = 0.022² °C² per minute)
* observation     HR = b₂·CT² + b₁·CT + b₀ + ε,  ε ~ N(0, σ²)    (b₀ = −7887.1, b₁ = 384.4286,
                                                                  b₂ = −4.5714, σ = 18.88 bpm)
* measurement     c = 2·b₂·CT⁻ + b₁,  k = v⁻·c / (c²·v⁻ + σ²),
                  CT = CT⁻ + k·(HR − h(CT⁻)),  v = (1 − k·c)·v⁻    (CT₀ = 37.1 °C, v₀ = 0)

The model was fitted on **one-minute mean heart rates**: feed it one value per minute, in time order. Unlike
the other exposure accumulators it is a sequential filter, not an additive sum: a ledger keeps the last
``CoreTempFilter`` per agent and replays minutes in order (a day is at most 1 440 steps).

PSI: D. S. Moran, A. Shitzer, K. B. Pandolf, "A physiological strain index to evaluate heat stress",
Am. J. Physiol. 275:R129-R134 (1998).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

F64Array = npt.NDArray[np.float64]

BULLER_A = 1.0
BULLER_GAMMA_C2 = 0.022**2
BULLER_B0_BPM = -7887.1
BULLER_B1_BPM_PER_C = 384.4286
BULLER_B2_BPM_PER_C2 = -4.5714
BULLER_SIGMA2_BPM2 = 18.88**2
BULLER_CT0_C = 37.1
STEP = timedelta(minutes=1)

PSI_CORE_TEMP_0_C = 37.1
PSI_HR_0_BPM = 70.0
PSI_CORE_TEMP_MAX_C = 39.5
PSI_HR_MAX_BPM = 180.0
PSI_HIGH = 7.0
"""Moran et al. (1998) grade strain from 0 to 10: 7–8 is "high" and 9–10 "very high" strain."""


def hr_from_core_temp_bpm(ct_c: float) -> float:
    """Buller et al. (2013) observation model h(CT) = b₂·CT² + b₁·CT + b₀, in bpm."""
    return BULLER_B2_BPM_PER_C2 * ct_c * ct_c + BULLER_B1_BPM_PER_C * ct_c + BULLER_B0_BPM


@dataclass(frozen=True, slots=True)
class CoreTempFilter:
    """The filter's state after the minute at ``last_ts``: estimate ``ct_c`` (°C) and its variance (°C²)."""

    ct_c: float = BULLER_CT0_C
    variance_c2: float = 0.0
    last_ts: datetime | None = None

    def step(self, hr_bpm: float | None, ts: datetime | None = None) -> CoreTempFilter:
        """Advance by one minute with that minute's mean heart rate (see the module docstring).

        With ``ts`` and a previous ``last_ts``, the time update covers every elapsed minute (a gap of n minutes
        adds n·γ to the variance); a missing or NaN ``hr_bpm`` applies the time update only. Minutes must come
        in order: a ``ts`` not after ``last_ts`` raises ValueError.
        """
        minutes = 1
        if ts is not None and self.last_ts is not None:
            elapsed = ts - self.last_ts
            if elapsed <= timedelta(0):
                raise ValueError(f"minutes must be fed in order: {ts.isoformat()} after {self.last_ts.isoformat()}")
            minutes = max(1, round(elapsed / STEP))
        next_ts = ts if ts is not None else (None if self.last_ts is None else self.last_ts + STEP)
        ct_prior = BULLER_A**minutes * self.ct_c
        variance_prior = BULLER_A ** (2 * minutes) * self.variance_c2 + minutes * BULLER_GAMMA_C2
        if hr_bpm is None or not math.isfinite(hr_bpm):
            return CoreTempFilter(ct_prior, variance_prior, next_ts)
        c = 2.0 * BULLER_B2_BPM_PER_C2 * ct_prior + BULLER_B1_BPM_PER_C
        gain = variance_prior * c / (c * c * variance_prior + BULLER_SIGMA2_BPM2)
        ct = ct_prior + gain * (hr_bpm - hr_from_core_temp_bpm(ct_prior))
        return CoreTempFilter(ct, (1.0 - gain * c) * variance_prior, next_ts)


def core_temp_series_c(hr_bpm_per_min: npt.ArrayLike, start: CoreTempFilter | None = None) -> F64Array:
    """Estimated core temperature (°C) after each minute of a series of one-minute mean heart rates.

    NaN entries are minutes without heart rate (time update only). ``start`` resumes a previous state.
    """
    state = CoreTempFilter() if start is None else replace(start, last_ts=None)
    hr = np.asarray(hr_bpm_per_min, dtype=np.float64).ravel()
    out = np.empty_like(hr)
    for i, value in enumerate(hr):
        state = state.step(float(value))
        out[i] = state.ct_c
    return out


def physiological_strain_index(
    core_temp_c: float,
    hr_bpm: float,
    core_temp_0_c: float = PSI_CORE_TEMP_0_C,
    hr_0_bpm: float = PSI_HR_0_BPM,
) -> float:
    """PSI = 5·(Tc_t − Tc_0)/(39.5 − Tc_0) + 5·(HR_t − HR_0)/(180 − HR_0), clipped to 0..10 (Moran et al. 1998).

    Tc_0 and HR_0 are the agent's baseline (defaults: Buller's initial 37.1 °C and a resting 70 bpm).
    """
    if core_temp_0_c >= PSI_CORE_TEMP_MAX_C or hr_0_bpm >= PSI_HR_MAX_BPM:
        raise ValueError("baseline must be below 39.5 °C and 180 bpm")
    thermal = 5.0 * (core_temp_c - core_temp_0_c) / (PSI_CORE_TEMP_MAX_C - core_temp_0_c)
    cardiac = 5.0 * (hr_bpm - hr_0_bpm) / (PSI_HR_MAX_BPM - hr_0_bpm)
    return min(max(thermal + cardiac, 0.0), 10.0)
