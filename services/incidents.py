"""One incident for a worker and a robot: which robot to link to an agent's alert, and to pause.

When an agent falls or calls for help near a robot, the supervisor must see both in one incident, and the
robot must stop moving around the person on the ground until the alert is resolved.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from services.geo import haversine_m

PAUSE_RULES = frozenset({"sos", "fall", "man_down"})


@dataclass(frozen=True, slots=True)
class RobotPosition:
    robot_id: str
    lat: float
    lon: float


def nearest_robot(lat: float, lon: float, robots: Iterable[RobotPosition],
                  max_distance_m: float) -> tuple[str, float] | None:  # fmt: skip
    """The closest robot within ``max_distance_m`` of the agent, with its distance, or None."""
    best: tuple[str, float] | None = None
    for robot in robots:
        distance_m = haversine_m(lat, lon, robot.lat, robot.lon)
        if distance_m <= max_distance_m and (best is None or distance_m < best[1]):
            best = (robot.robot_id, distance_m)
    return best
