"""What the supervisors may see of a worker: the position only while someone may be in danger.

CNIL, « La géolocalisation des véhicules des salariés » and délibération n° 2015-165 du 4 juin 2015 (norme
simplifiée n° 51): geolocating employees is lawful for their safety, but not for continuous tracking of
their movements; Code du travail L1121-1 (a restriction of employees' freedoms must be justified by the task
and proportionate to its aim) and GDPR art. 5(1)(c) (data minimisation). Vigie's wearables are a protection
device for lone and exposed workers: their position serves to send help, so it is shown to supervisors only
while the worker has an open alert (raised or acknowledged), never otherwise. The rule is applied by the
server before anything leaves it; the dashboard never receives a position it must not show.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Position:
    """A WGS-84 fix of a worker's wearable, ``at`` the (UTC) start of the frame that carried it."""

    lat: float
    lon: float
    at: datetime


def visible_position(open_alerts: int, lat: float | None, lon: float | None, at: datetime | None) -> Position | None:
    """The position supervisors may see: the latest fix while the worker has an open alert, else None.

    ``open_alerts`` counts the worker's alerts that are raised or acknowledged (not resolved). None as well
    when the wearable sent no usable fix (missing or non-finite coordinates, or no time).
    """
    if open_alerts <= 0 or lat is None or lon is None or at is None:
        return None
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return None
    return Position(lat, lon, at)
