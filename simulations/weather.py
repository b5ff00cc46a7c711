"""Weather over the simulated day: air temperature, humidity and sunshine, as a pure function of time.

Heat strain matters for both teams (WBGT-style alerts use the globe temperature), so the temperature
follows Paris climatology for the start month plus a diurnal cycle, shifted by a seeded daily anomaly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

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
        """The weather of ``start``'s day: the same day and seed always get the same weather, other days other."""
        rng = np.random.default_rng([seed, 0x5EA, start.astimezone(UTC).date().toordinal()])
        anomaly_c = float(rng.normal(0.0, 3.0))
        return cls(start, PARIS_MEAN_TEMP_C[start.month - 1] + anomaly_c, float(rng.uniform(0.0, 0.9)))

    def _hour_utc(self, t_s: float) -> float:
        return (self.start.hour + self.start.minute / 60 + self.start.second / 3600 + t_s / 3600) % 24


class WeatherDays:
    """Several days' weather at once (one value per day for second ``t_s`` of each day's shift), as arrays."""

    def __init__(self, days: tuple[Weather, ...]) -> None:
        self.mean_temp_c = np.array([w.mean_temp_c for w in days])
        self.cloud = np.array([w.cloud for w in days])
        self.hour0_utc = np.array([w._hour_utc(0.0) for w in days])

    def _hour_utc(self, t_s: float) -> np.ndarray[tuple[int], np.dtype[np.float64]]:
        return np.asarray((self.hour0_utc + t_s / 3600) % 24, dtype=np.float64)

    def temp_c(self, t_s: float) -> np.ndarray[tuple[int], np.dtype[np.float64]]:
        phase = 2 * math.pi * (self._hour_utc(t_s) - WARMEST_HOUR_UTC) / 24
        return np.asarray(self.mean_temp_c + DIURNAL_AMPLITUDE_C * np.cos(phase), dtype=np.float64)

    def rh_pct(self, t_s: float) -> np.ndarray[tuple[int], np.dtype[np.float64]]:
        """Relative humidity falls as the air warms over the day (constant dew point, roughly)."""
        rh = 70.0 - 3.5 * (self.temp_c(t_s) - self.mean_temp_c) + 15 * self.cloud
        return np.asarray(np.clip(rh, 25.0, 95.0), dtype=np.float64)

    def radiant_c(self, t_s: float) -> np.ndarray[tuple[int], np.dtype[np.float64]]:
        """Extra globe-thermometer temperature from sunshine: zero at night, up to ~10 °C at clear noon."""
        sun = np.cos(2 * math.pi * (self._hour_utc(t_s) - 12.0) / 24)
        return np.asarray(np.maximum(0.0, sun) * 10.0 * (1.0 - self.cloud), dtype=np.float64)


HOT_ROUND_HOURS = (12.0, 14.0, 16.0, 18.0)
"""Local hours of a hot round's extra heat: rising from 12:00, full from 14:00 to 16:00, gone by 18:00 (the
afternoon sun on asphalt and walls; drifts.py puts its heat-strain episodes at 14:00-16:00 too)."""


def hot_round_share(local_hour: np.ndarray[tuple[int], np.dtype[np.float64]]
                    ) -> np.ndarray[tuple[int], np.dtype[np.float64]]:  # fmt: skip
    """Share (0-1) of a hot round's extra heat felt at each ``local_hour`` (see ``HOT_ROUND_HOURS``)."""
    rise, full, fade, gone = HOT_ROUND_HOURS
    up = np.clip((local_hour - rise) / (full - rise), 0.0, 1.0)
    down = np.clip((gone - local_hour) / (gone - fade), 0.0, 1.0)
    return np.asarray(np.minimum(up, down), dtype=np.float64)
