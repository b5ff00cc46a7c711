"""Robot states (MQTT contract v1, ``robot_state.schema.json``) for followers, mowers and exoskeletons.

Each robot reacts to the humans around it, so the simulator keeps its own ``CrewModel`` (same roster, seed
and incidents as the wearables): a follower trails its collector and stops when he falls, a mower makes a
protective stop when a gardener comes within reach, an exoskeleton assists its wearer's lifts.

A ``robot_near_misses`` drift (``drift_model``) adds close passes: each time someone naturally comes within the
robot's warning zone or protective distance, another pass follows a few seconds later with the drift's
probability, inside the protective distance — so stops and slow-downs for people become twice as frequent
once a doubling drift is full, whatever the robot's own rate. Like the crew model, the simulator can run
several simulated days side by side (``days``): robot ``slot * n_robots + r`` is robot ``r`` on ``days[slot]``.
Every robot's state is a row of arrays, stepped together: weeks of history for a few robots cost about what one
robot's day costs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from services.geo import local_to_latlon
from services.signals.robot_onsets import Episode, person_flags, slowdown_zone_m, step
from simulations.agents import Activity, CrewModel
from simulations.drift_model import NO_DRIFTS, Drifts
from simulations.incidents import Incidents
from simulations.roster import RobotKind, RobotSpec, Roster
from simulations.timebase import SITE_TZ, SimDay, at, rfc3339_ms, utc_second

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
STOP_M = {RobotKind.FOLLOWER: FOLLOWER_STOP_M, RobotKind.MOWER: MOWER_STOP_M}
CLOSE_PASS_SHARE = 0.8  # a drift's close pass comes to 80 % of the protective distance
CLOSE_PASS_DELAY_S = (5.0, 20.0)  # after the natural approach it follows
MODES = ("idle", "paused", "follow", "mow", "assist")
IDLE, PAUSED, FOLLOW, MOW, ASSIST = range(len(MODES))
F64 = np.ndarray[Any, np.dtype[np.float64]]


@dataclass(slots=True)
class _ClosePasses:
    """A drifted robot's extra close passes: how many per natural approach, and those still to come."""

    extra: float
    # The robot's stop and slow-down episodes as the gateway counts them (services/signals/robot_onsets.py).
    stop: Episode = field(default_factory=Episode)
    slow: Episode = field(default_factory=Episode)
    due_s: list[float] = field(default_factory=list)


class RobotSimulator:
    """States of every robot of ``roster`` at ``rate_hz`` (contract: 1-10 Hz) from ``start``."""

    def __init__(self, roster: Roster, *, seed: int, start: datetime, incidents: Incidents | None = None,
                 rate_hz: float = 2.0, drifts: Drifts = NO_DRIFTS, day_index: int = 0,
                 days: Sequence[SimDay] | None = None) -> None:  # fmt: skip
        if not 1 <= rate_hz <= 10:
            raise ValueError("rate_hz must be within the contract's 1-10 Hz")
        self.roster = roster
        self.seed = seed
        self.start = utc_second(start)
        self.rate_hz = rate_hz
        self.drifts = drifts.for_roster(roster)
        self.days = tuple(days or [SimDay(day_index, self.start.astimezone(SITE_TZ).date(), self.start)])
        self.model = CrewModel(roster, seed, self.days, incidents or Incidents(), drifts)
        self._seq0 = int(self.start.timestamp() * rate_hz)
        specs = roster.robots * len(self.days)
        self.specs: tuple[RobotSpec, ...] = specs
        n_agents, n_robots = len(roster.agents), len(roster.robots)
        slot = np.repeat(np.arange(len(self.days)), n_robots)
        self.slot = slot
        self._follower = np.array([s.kind is RobotKind.FOLLOWER for s in specs], dtype=bool)
        self._mower = np.array([s.kind is RobotKind.MOWER for s in specs], dtype=bool)
        self._exo = np.array([s.kind is RobotKind.EXOSKELETON for s in specs], dtype=bool)
        self._drain = np.array([DRAIN_PCT_S[s.kind] for s in specs])
        self._stop_m = np.array([STOP_M.get(s.kind, 0.0) for s in specs])
        self._companion = np.array([-1 if s.companion_index is None else s.companion_index for s in specs]) + \
            np.where([s.companion_index is None for s in specs], 0, slot * n_agents)
        crews = [roster.crew(s.crew_id) for s in specs]
        width = max((len(c.agent_indices) for c in crews), default=1)
        self._members = np.zeros((len(specs), max(width, 1)), dtype=np.int64)
        self._has_member = np.zeros_like(self._members, dtype=bool)
        for i, crew in enumerate(crews):
            self._members[i, :len(crew.agent_indices)] = np.array(crew.agent_indices) + slot[i] * n_agents
            self._has_member[i, :len(crew.agent_indices)] = True
        # A follower tells the collector it follows apart from the rest of the crew (contract field
        # nearest_other_human_m): that member's column is left out of its "nearest other person".
        self.tracks_leader = self._follower & (self._companion >= 0)
        self._leader = (self._members == self._companion[:, None]) & self.tracks_leader[:, None]
        self._lat0 = np.array([c.area.lat for c in crews])
        self._lon0 = np.array([c.area.lon for c in crews])
        self._reset()

    def _reset(self) -> None:
        rng = np.random.default_rng([self.seed, 0x20B0])
        self._passes_rng = np.random.default_rng([self.seed, 0xC105E, *(d.date.toordinal() for d in self.days)])
        self.model.reset()
        self.model.advance_to(0)
        self._k = -1
        n = len(self.specs)
        start_xy = np.array([self.model.pos_m[c] if c >= 0 else self._mower_xy(np.zeros(1))[:, 0]
                             for c in self._companion]).reshape(n, 2)  # fmt: skip
        self.x_m: F64 = start_xy[:, 0] - 1.0
        self.y_m: F64 = start_xy[:, 1].copy()
        self.battery_pct: F64 = rng.uniform(60, 100, n)
        self.yaw_rad: F64 = np.zeros(n)
        self.speed_ms: F64 = np.zeros(n)
        self.mowed_m: F64 = np.zeros(n)
        self.payload_kg: F64 = np.zeros(n)
        self.mode = np.full(n, IDLE, dtype=np.int64)
        self.protective_stop = np.zeros(n, dtype=bool)
        self.nearest_human_m: F64 = np.full(n, np.nan)  # NaN: nobody to measure (an exoskeleton's wearer is inside)
        self.nearest_other_human_m: F64 = np.full(n, np.nan)  # a follower's nearest person but its collector
        n_robots = len(self.roster.robots)
        self._close: dict[int, _ClosePasses] = {}
        for slot, day in enumerate(self.days):
            for r, extra in enumerate(self.drifts.extra_near_misses(day.index).tolist()):
                if extra > 0 and not self._exo[slot * n_robots + r]:
                    self._close[slot * n_robots + r] = _ClosePasses(extra)

    @staticmethod
    def _mower_xy(mowed_m: F64) -> F64:
        """Boustrophedon stripes over a 40 m x 36 m lawn south-west of the park centre: (2, n) x and y."""
        lane = (mowed_m // MOWER_LANE_LEN_M) % MOWER_LANES
        along = mowed_m % MOWER_LANE_LEN_M
        x = np.where(lane % 2 == 0, along, MOWER_LANE_LEN_M - along)
        return np.stack([x - 50.0, lane * MOWER_LANE_M - 40.0])

    def states_at(self, t_s: float) -> list[RobotState]:
        """State payloads of every robot at simulated time ``t_s`` (a multiple of ``1 / rate_hz``)."""
        k = round(t_s * self.rate_hz)
        if abs(k - t_s * self.rate_hz) > 1e-6 or k < 0:
            raise ValueError(f"t_s={t_s} is not a tick of a {self.rate_hz} Hz robot state stream")
        if len(self.days) > 1:
            raise ValueError("states are published for one simulated day at a time")
        self.tick_to(k)
        return [self._payload(i, k) for i in range(len(self.specs))]

    def tick_to(self, k: int) -> None:
        """Advance to tick ``k`` (time ``k / rate_hz``); going back replays from the start."""
        if k < self._k:
            self._reset()
        while self._k < k:
            self._k += 1
            self._step(self._k / self.rate_hz)

    def _step(self, t_s: float) -> None:
        m = self.model
        second = math.floor(t_s)
        new_second = second > m.t_s
        m.advance_to(second)
        # Agents' positions at t_s: the model holds the end of `second`, reached at constant velocity.
        humans = m.pos_m - m.vel_ms * (1.0 - (t_s - second))
        dt = 1.0 / self.rate_hz
        self.battery_pct = np.maximum(0.0, self.battery_pct - self._drain * dt)
        dist = np.hypot(humans[self._members, 0] - self.x_m[:, None], humans[self._members, 1] - self.y_m[:, None])
        dist = np.where(self._has_member, dist, np.inf)
        nearest = dist.min(axis=1)
        self.nearest_human_m = np.where(np.isfinite(nearest), nearest, np.nan)
        other = np.where(self._leader, np.inf, dist).min(axis=1)
        self.nearest_other_human_m = np.where(np.isfinite(other), other, np.nan)
        for i, passes in self._close.items():
            self._close_pass(i, passes, t_s)
        self._step_followers(humans, dt, new_second)
        self._step_mowers(dt)
        self._step_exoskeletons(humans)

    def _close_pass(self, i: int, passes: _ClosePasses, t_s: float) -> None:
        """The drift's extra close passes. Each stop or slow-down for a person the gateway counts (an onset,
        ``services/signals/robot_onsets.py``, hysteresis included) brings, with the drift's probability, another
        pass inside the protective distance 5-20 s later, once both episodes are over (so that the pass is a near
        miss of its own, not part of another); a pass brings no pass."""
        nearest, stop_m = float(self.nearest_human_m[i]), float(self._stop_m[i])
        if not math.isfinite(nearest):
            return
        other = float(self.nearest_other_human_m[i])
        # As the gateway counts them: a stop for anyone near, a slow-down for a person in the way (a follower's own
        # collector is not). The protective stop is decided from ``nearest`` right after, as here.
        flags = person_flags(nearest < stop_m, nearest, slowdown_zone_m(stop_m), tracks_leader=bool(
            self.tracks_leader[i]), nearest_other_human_m=other if math.isfinite(other) else None)  # fmt: skip
        stop, slow = flags.stop, flags.slow
        over = not (stop or slow or passes.stop.active or passes.slow.active)
        is_pass = bool(passes.due_s) and over and t_s >= min(passes.due_s)
        if is_pass:  # someone else than a follower's collector, inside the protective distance
            passes.due_s.remove(min(passes.due_s))
            self.nearest_human_m[i] = CLOSE_PASS_SHARE * stop_m
            if self.tracks_leader[i]:
                self.nearest_other_human_m[i] = CLOSE_PASS_SHARE * stop_m
            stop, slow = True, False
        now = self.start + timedelta(seconds=t_s)
        passes.stop, began_stop = step(passes.stop, stop, now)
        passes.slow, began_slow = step(passes.slow, slow, now)
        for _ in range(0 if is_pass else int(began_stop) + int(began_slow)):
            whole, part = divmod(passes.extra, 1.0)
            for _ in range(int(whole) + int(self._passes_rng.random() < part)):
                passes.due_s.append(t_s + float(self._passes_rng.uniform(*CLOSE_PASS_DELAY_S)))

    def _move_towards(self, which: np.ndarray[Any, np.dtype[np.bool_]], x_m: F64, y_m: F64, speed_ms: F64,
                      dt: float) -> None:  # fmt: skip
        dx, dy = x_m - self.x_m, y_m - self.y_m
        dist = np.hypot(dx, dy)
        step = np.minimum(dist, speed_ms * dt)
        self.speed_ms = np.where(which, step / dt, self.speed_ms)
        moves = which & (step > 1e-6)
        safe = np.maximum(dist, 1e-12)
        self.x_m = np.where(moves, self.x_m + dx / safe * step, self.x_m)
        self.y_m = np.where(moves, self.y_m + dy / safe * step, self.y_m)
        self.yaw_rad = np.where(moves, np.arctan2(dy, dx), self.yaw_rad)

    def _step_followers(self, humans: F64, dt: float, new_second: bool) -> None:
        """Trail the collector by 2 m; ride the truck with them; wait by them if they are down."""
        f = self._follower
        if not f.any():
            return
        m, c = self.model, np.where(f, self._companion, 0)
        act = m.activity[c]
        near = self.nearest_human_m
        self.protective_stop = np.where(f, np.nan_to_num(near, nan=np.inf) < FOLLOWER_STOP_M, self.protective_stop)
        if new_second:
            loaded = f & (m.lift_count[c] > 0)
            self.payload_kg = np.where(loaded, np.minimum(150.0, self.payload_kg + m.lift_count[c] * m.lift_load_kg[c]),
                                       self.payload_kg)  # fmt: skip
        riding = f & (act == Activity.RIDING)
        self.payload_kg = np.where(riding | (f & (self.payload_kg > 120.0)), 0.0, self.payload_kg)  # into the hopper
        # Carried on the truck's lift: it moves with the truck but its own wheels are still.
        self.x_m = np.where(riding, humans[c, 0] - 1.5, self.x_m)
        self.y_m = np.where(riding, humans[c, 1], self.y_m)
        down = (act == Activity.FALLING) | (act == Activity.LYING)
        paused = f & ~riding & (down | self.protective_stop | (self.battery_pct <= 0))
        following = f & ~riding & ~paused
        heading = m.heading_rad[c]
        target_x = humans[c, 0] - FOLLOW_GAP_M * np.cos(heading)
        target_y = humans[c, 1] - FOLLOW_GAP_M * np.sin(heading)
        gap = np.hypot(target_x - self.x_m, target_y - self.y_m)
        self._move_towards(following, target_x, target_y, np.minimum(FOLLOWER_MAX_SPEED_MS, 0.8 * gap), dt)
        self.speed_ms = np.where(riding | paused, 0.0, self.speed_ms)
        self.mode = np.where(riding, IDLE, np.where(paused, PAUSED, np.where(following, FOLLOW, self.mode)))

    def _step_mowers(self, dt: float) -> None:
        w = self._mower
        if not w.any():
            return
        stop = np.nan_to_num(self.nearest_human_m, nan=np.inf) < MOWER_STOP_M
        self.protective_stop = np.where(w, stop, self.protective_stop)
        held = w & (stop | (self.battery_pct < LOW_BATTERY_PCT))
        mowing = w & ~held
        self.mowed_m = np.where(mowing, self.mowed_m + MOWER_SPEED_MS * dt, self.mowed_m)
        x, y = self._mower_xy(self.mowed_m)
        self._move_towards(mowing, x, y, np.full(len(self.x_m), 4 * MOWER_SPEED_MS), dt)  # catch up after a turn
        self.speed_ms = np.where(mowing, np.minimum(self.speed_ms, MOWER_SPEED_MS), np.where(held, 0.0, self.speed_ms))
        self.mode = np.where(held, np.where(stop, PAUSED, IDLE), np.where(mowing, MOW, self.mode))

    def _step_exoskeletons(self, humans: F64) -> None:
        """Worn by its companion: their pose, their speed, assisting while they walk, lift or hold a tool."""
        e = self._exo
        if not e.any():
            return
        m, c = self.model, np.where(e, self._companion, 0)
        act = m.activity[c]
        self.x_m = np.where(e, humans[c, 0], self.x_m)
        self.y_m = np.where(e, humans[c, 1], self.y_m)
        self.yaw_rad = np.where(e, m.heading_rad[c], self.yaw_rad)
        self.speed_ms = np.where(e, m.speed_ms()[c], self.speed_ms)
        down = (act == Activity.FALLING) | (act == Activity.LYING)
        assist = (act == Activity.WALKING) | (act == Activity.LIFTING) | (act == Activity.TOOL)
        self.mode = np.where(e, np.where(down, PAUSED, np.where(assist, ASSIST, IDLE)), self.mode)
        self.payload_kg = np.where(e, np.where(act == Activity.LIFTING, m.lift_load_kg[c], 0.0), self.payload_kg)
        self.nearest_human_m = np.where(e, np.nan, self.nearest_human_m)  # the wearer is inside: no separation
        self.protective_stop = np.where(e, False, self.protective_stop)

    def _payload(self, i: int, k: int) -> RobotState:
        spec = self.specs[i]
        x, y = float(self.x_m[i]), float(self.y_m[i])
        lat, lon = local_to_latlon(float(self._lat0[i]), float(self._lon0[i]), x, y)
        yaw = math.atan2(math.sin(self.yaw_rad[i]), math.cos(self.yaw_rad[i]))
        near = float(self.nearest_human_m[i])
        battery = float(self.battery_pct[i])
        state: RobotState = {
            "v": 1, "robot_id": spec.robot_id, "seq": self._seq0 + k,
            "ts": rfc3339_ms(at(self.start, k / self.rate_hz)), "kind": spec.kind.value,
            "pose": {"x_m": round(x, 3), "y_m": round(y, 3), "yaw_rad": round(yaw, 4),
                     "lat": round(float(lat), 7), "lon": round(float(lon), 7)},
            "speed_ms": round(float(self.speed_ms[i]), 3), "battery_pct": round(battery, 2),
            "mode": MODES[int(self.mode[i])], "estop": False, "protective_stop": bool(self.protective_stop[i]),
            "nearest_human_m": None if math.isnan(near) else round(min(near, 1000.0), 2),
            "payload_kg": None if spec.kind is RobotKind.MOWER else round(float(self.payload_kg[i]), 1),
            "faults": ["battery_low"] if battery < LOW_BATTERY_PCT else [],
        }  # fmt: skip
        if self.tracks_leader[i]:
            other = float(self.nearest_other_human_m[i])
            state["nearest_other_human_m"] = None if math.isnan(other) else round(min(other, 1000.0), 2)
        return state
