"""Robot states (MQTT contract v1, ``robot_state.schema.json``) for followers, mowers and exoskeletons.

Each robot reacts to the humans around it, so the simulator keeps its own ``CrewModel`` (same roster, seed
and incidents as the wearables): a follower trails its collector and stops when he falls, a mower makes a
protective stop when a gardener comes within reach, an exoskeleton assists its wearer's lifts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from services.geo import local_to_latlon
from simulations.agents import Activity, CrewModel
from simulations.incidents import Incidents
from simulations.roster import RobotKind, RobotSpec, Roster
from simulations.timebase import at, rfc3339_ms, utc_second
from simulations.weather import Weather

RobotState = dict[str, Any]
FOLLOWER_MAX_SPEED_MS = 1.7
FOLLOW_GAP_M = 2.0
FOLLOWER_STOP_M = 0.5  # protective stop: someone closer than this to the follower's bumper
MOWER_SPEED_MS = 0.5
MOWER_STOP_M = 3.0
MOWER_LANE_M, MOWER_LANES, MOWER_LANE_LEN_M = 0.6, 60, 40.0
LOW_BATTERY_PCT = 15.0
DRAIN_PCT_S = {RobotKind.FOLLOWER: 0.004, RobotKind.MOWER: 0.006, RobotKind.EXOSKELETON: 0.003}
DOWN = (Activity.FALLING, Activity.LYING)


def _companion(spec: RobotSpec) -> int:
    if spec.companion_index is None:
        raise ValueError(f"{spec.robot_id}: a {spec.kind} needs a companion agent")
    return spec.companion_index


@dataclass(slots=True)
class _Robot:
    spec: RobotSpec
    members: np.ndarray[Any, np.dtype[np.int64]]
    lat0: float
    lon0: float
    x_m: float
    y_m: float
    battery_pct: float
    yaw_rad: float = 0.0
    speed_ms: float = 0.0
    mowed_m: float = 0.0
    payload_kg: float = 0.0
    mode: str = "idle"
    protective_stop: bool = False
    nearest_human_m: float | None = None
    faults: list[str] = field(default_factory=list)


class RobotSimulator:
    """States of every robot of ``roster`` at ``rate_hz`` (contract: 1-10 Hz) from ``start``."""

    def __init__(self, roster: Roster, *, seed: int, start: datetime, incidents: Incidents | None = None,
                 rate_hz: float = 2.0) -> None:
        if not 1 <= rate_hz <= 10:
            raise ValueError("rate_hz must be within the contract's 1-10 Hz")
        self.roster = roster
        self.seed = seed
        self.start = utc_second(start)
        self.rate_hz = rate_hz
        self.model = CrewModel(roster, seed, Weather.for_day(self.start, seed), incidents or Incidents())
        self._seq0 = int(self.start.timestamp() * rate_hz)
        self._reset()

    def _reset(self) -> None:
        rng = np.random.default_rng([self.seed, 0x20B0])
        self.model.reset()
        self.model.advance_to(0)
        self._k = -1
        self._robots = []
        for spec in self.roster.robots:
            crew = self.roster.crew(spec.crew_id)
            x, y = (self.model.pos_m[spec.companion_index] if spec.companion_index is not None
                    else self._mower_xy(0.0))
            self._robots.append(_Robot(spec, np.array(crew.agent_indices, dtype=np.int64), crew.area.lat,
                                       crew.area.lon, float(x) - 1.0, float(y), float(rng.uniform(60, 100))))

    @staticmethod
    def _mower_xy(mowed_m: float) -> tuple[float, float]:
        """Boustrophedon stripes over a 40 m x 36 m lawn south-west of the park centre."""
        lane = int(mowed_m // MOWER_LANE_LEN_M) % MOWER_LANES
        along = mowed_m % MOWER_LANE_LEN_M
        x = along if lane % 2 == 0 else MOWER_LANE_LEN_M - along
        return x - 50.0, lane * MOWER_LANE_M - 40.0

    def states_at(self, t_s: float) -> list[RobotState]:
        """State payloads of every robot at simulated time ``t_s`` (a multiple of ``1 / rate_hz``)."""
        k = round(t_s * self.rate_hz)
        if abs(k - t_s * self.rate_hz) > 1e-6 or k < 0:
            raise ValueError(f"t_s={t_s} is not a tick of a {self.rate_hz} Hz robot state stream")
        if k < self._k:
            self._reset()
        while self._k < k:
            self._k += 1
            self._step(self._k / self.rate_hz)
        return [self._payload(robot, k) for robot in self._robots]

    def _step(self, t_s: float) -> None:
        m = self.model
        second = math.floor(t_s)
        new_second = second > m.t_s
        m.advance_to(second)
        # Agents' positions at t_s: the model holds the end of `second`, reached at constant velocity.
        humans = m.pos_m - m.vel_ms * (1.0 - (t_s - second))
        dt = 1.0 / self.rate_hz
        for robot in self._robots:
            robot.battery_pct = max(0.0, robot.battery_pct - DRAIN_PCT_S[robot.spec.kind] * dt)
            dist = np.hypot(humans[robot.members, 0] - robot.x_m, humans[robot.members, 1] - robot.y_m)
            robot.nearest_human_m = float(dist.min()) if len(dist) else None
            robot.faults = ["battery_low"] if robot.battery_pct < LOW_BATTERY_PCT else []
            if robot.spec.kind is RobotKind.FOLLOWER:
                self._step_follower(robot, humans, dt, new_second)
            elif robot.spec.kind is RobotKind.MOWER:
                self._step_mower(robot, dt)
            else:
                self._step_exoskeleton(robot, humans)

    def _move_towards(self, robot: _Robot, x_m: float, y_m: float, speed_ms: float, dt: float) -> None:
        dx, dy = x_m - robot.x_m, y_m - robot.y_m
        dist = math.hypot(dx, dy)
        step = min(dist, speed_ms * dt)
        robot.speed_ms = step / dt
        if step > 1e-6:
            robot.x_m += dx / dist * step
            robot.y_m += dy / dist * step
            robot.yaw_rad = math.atan2(dy, dx)

    def _step_follower(self, robot: _Robot, humans: np.ndarray[Any, Any], dt: float, new_second: bool) -> None:
        """Trail the collector by 2 m; ride the truck with them; wait by them if they are down."""
        m, c = self.model, _companion(robot.spec)
        act = Activity(int(m.activity[c]))
        robot.protective_stop = robot.nearest_human_m is not None and robot.nearest_human_m < FOLLOWER_STOP_M
        if new_second and m.lift_count[c] > 0:
            robot.payload_kg = min(150.0, robot.payload_kg + float(m.lift_count[c] * m.lift_load_kg[c]))
        if act is Activity.RIDING or robot.payload_kg > 120.0:
            robot.payload_kg = 0.0  # emptied into the truck's hopper
        if act is Activity.RIDING:
            # Carried on the truck's lift: it moves with the truck but its own wheels are still.
            robot.x_m, robot.y_m = float(humans[c, 0]) - 1.5, float(humans[c, 1])
            robot.speed_ms, robot.mode = 0.0, "idle"
            return
        if act in DOWN or robot.protective_stop or robot.battery_pct <= 0:
            robot.speed_ms, robot.mode = 0.0, "paused"
            return
        heading = float(m.heading_rad[c])
        target_x = float(humans[c, 0]) - FOLLOW_GAP_M * math.cos(heading)
        target_y = float(humans[c, 1]) - FOLLOW_GAP_M * math.sin(heading)
        gap = math.hypot(target_x - robot.x_m, target_y - robot.y_m)
        self._move_towards(robot, target_x, target_y, min(FOLLOWER_MAX_SPEED_MS, 0.8 * gap), dt)
        robot.mode = "follow"

    def _step_mower(self, robot: _Robot, dt: float) -> None:
        robot.protective_stop = robot.nearest_human_m is not None and robot.nearest_human_m < MOWER_STOP_M
        if robot.protective_stop or robot.battery_pct < LOW_BATTERY_PCT:
            robot.speed_ms = 0.0
            robot.mode = "paused" if robot.protective_stop else "idle"
            return
        robot.mowed_m += MOWER_SPEED_MS * dt
        x, y = self._mower_xy(robot.mowed_m)
        self._move_towards(robot, x, y, 4 * MOWER_SPEED_MS, dt)  # catch up after a lane change
        robot.speed_ms = min(robot.speed_ms, MOWER_SPEED_MS)
        robot.mode = "mow"

    def _step_exoskeleton(self, robot: _Robot, humans: np.ndarray[Any, Any]) -> None:
        """Worn by its companion: their pose, their speed, assisting while they walk, lift or hold a tool."""
        m, c = self.model, _companion(robot.spec)
        act = Activity(int(m.activity[c]))
        robot.x_m, robot.y_m = float(humans[c, 0]), float(humans[c, 1])
        robot.yaw_rad, robot.speed_ms = float(m.heading_rad[c]), float(m.speed_ms()[c])
        robot.mode = ("paused" if act in DOWN else
                      "assist" if act in (Activity.WALKING, Activity.LIFTING, Activity.TOOL) else "idle")
        robot.payload_kg = float(m.lift_load_kg[c]) if act is Activity.LIFTING else 0.0
        robot.nearest_human_m = None  # the wearer is inside it: a separation distance means nothing
        robot.protective_stop = False

    def _payload(self, robot: _Robot, k: int) -> RobotState:
        lat, lon = local_to_latlon(robot.lat0, robot.lon0, robot.x_m, robot.y_m)
        yaw = math.atan2(math.sin(robot.yaw_rad), math.cos(robot.yaw_rad))
        nearest = None if robot.nearest_human_m is None else round(min(robot.nearest_human_m, 1000.0), 2)
        return {
            "v": 1, "robot_id": robot.spec.robot_id, "seq": self._seq0 + k,
            "ts": rfc3339_ms(at(self.start, k / self.rate_hz)), "kind": robot.spec.kind.value,
            "pose": {"x_m": round(robot.x_m, 3), "y_m": round(robot.y_m, 3), "yaw_rad": round(yaw, 4),
                     "lat": round(float(lat), 7), "lon": round(float(lon), 7)},
            "speed_ms": round(robot.speed_ms, 3), "battery_pct": round(robot.battery_pct, 2),
            "mode": robot.mode, "estop": False, "protective_stop": robot.protective_stop,
            "nearest_human_m": nearest,
            "payload_kg": None if robot.spec.kind is RobotKind.MOWER else round(robot.payload_kg, 1),
            "faults": list(robot.faults),
        }
