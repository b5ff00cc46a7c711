"""Weather over the simulated day: air temperature, humidity and sunshine, as a pure function of time.

Heat strain matters for both teams (WBGT-style alerts use the globe temperature), so the temperature
follows Paris climatology for the start month plus a diurnal cycle, shifted by a seeded daily anomaly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import numpy as np

# Mean daily air temperature in Paris per month (°C), January first (Météo-France normals, rounded).
PARIS_MEAN_TEMP_C = (5.0, 5.8, 9.0, 11.8, 15.5, 18.7, 20.8, 20.6, 17.2, 13.3, 8.7, 5.7)
DIURNAL_AMPLITUDE_C = 4.5
WARMEST_HOUR_UTC = 14.0


@dataclass(frozen=True, slots=True)
class Weather:
    """The day's weather: ``mean_temp_c`` at ``start`` month plus anomaly, ``cloud`` in [0, 1]."""

    start: datetime
    mean_temp_c: float
    cloud: float

    @classmethod
    def for_day(cls, start: datetime, seed: int) -> Weather:
        rng = np.random.default_rng([seed, 0x5EA])
        anomaly_c = float(rng.normal(0.0, 3.0))
        return cls(start, PARIS_MEAN_TEMP_C[start.month - 1] + anomaly_c, float(rng.uniform(0.0, 0.9)))

    def _hour_utc(self, t_s: float) -> float:
        return (self.start.hour + self.start.minute / 60 + self.start.second / 3600 + t_s / 3600) % 24

    def temp_c(self, t_s: float) -> float:
        phase = 2 * math.pi * (self._hour_utc(t_s) - WARMEST_HOUR_UTC) / 24
        return self.mean_temp_c + DIURNAL_AMPLITUDE_C * math.cos(phase)

    def rh_pct(self, t_s: float) -> float:
        """Relative humidity falls as the air warms over the day (constant dew point, roughly)."""
        return min(95.0, max(25.0, 70.0 - 3.5 * (self.temp_c(t_s) - self.mean_temp_c) + 15 * self.cloud))

    def radiant_c(self, t_s: float) -> float:
        """Extra globe-thermometer temperature from sunshine: zero at night, up to ~10 °C at clear noon."""
        sun = math.cos(2 * math.pi * (self._hour_utc(t_s) - 12.0) / 24)
        return max(0.0, sun) * 10.0 * (1.0 - self.cloud)
