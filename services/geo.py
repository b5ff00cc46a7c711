"""Positions: local map metres ↔ WGS-84, and distances between WGS-84 positions.

One home for these formulas, so the crew simulator, the robot bridge and the gateway's worker–robot linking
place the same map point at the same latitude and longitude.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG)
METRES_PER_DEG_LAT = 111_320.0
F64Array = npt.NDArray[np.float64]


def local_to_latlon(lat0: npt.ArrayLike, lon0: npt.ArrayLike, x_m: npt.ArrayLike,
                    y_m: npt.ArrayLike) -> tuple[F64Array, F64Array]:  # fmt: skip
    """WGS-84 (lat, lon) of points ``x_m`` east and ``y_m`` north of (``lat0``, ``lon0``), vectorised.

    Equirectangular projection: exact enough within a district (errors of centimetres over a kilometre).
    """
    lat0_deg = np.asarray(lat0, dtype=np.float64)
    lat = lat0_deg + np.asarray(y_m, dtype=np.float64) / METRES_PER_DEG_LAT
    scale = METRES_PER_DEG_LAT * np.cos(np.radians(lat0_deg))
    lon = np.asarray(lon0, dtype=np.float64) + np.asarray(x_m, dtype=np.float64) / scale
    return lat, lon


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two WGS-84 positions (haversine formula)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))
