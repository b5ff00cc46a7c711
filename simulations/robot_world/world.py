"""A kinematic 2-D world for the robot nodes: a street or a park lawn, one diff-drive robot, a 2-D lidar,
a battery, and simulated workers who walk, lift bins, come to the robot, and (when scripted) fall.

Why kinematic and not MuJoCo (or another physics engine): the nodes under test monitor *separation* between
a robot and people and command velocities; they never see forces, contacts or wheel slip. A unicycle
integrated at the simulation step gives exactly the poses, scans and odometry those nodes consume, is
deterministic bit for bit for a seed (no solver tolerances, no threading), needs nothing but numpy, and runs
thousands of steps per second, so a lock-step test covering minutes of simulated time finishes in
milliseconds. Dynamics would add parameters to tune and nothing to assert. Users who want physics run the
same nodes against Gazebo (``simulations/gazebo``): the topic contract is the same.

Frames: world x east, y north (metres), yaw counter-clockwise from x (REP 103). Odometry is perfect (the
odometry frame is the world frame). Lidar conventions follow what ros_gz_bridge gives for a ``gpu_lidar``
(REP 117): ``+inf`` for no return within ``range_max``, ``-inf`` for a return closer than ``range_min``,
``angle_increment = (angle_max - angle_min) / (samples - 1)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import numpy as np

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
WORKER_RADIUS_M = 0.25


@dataclass(frozen=True, slots=True)
class Box:
    """An axis-aligned box (a bin, a parked car) by its centre and half extents, metres."""

    cx_m: float
    cy_m: float
    half_x_m: float
    half_y_m: float


@dataclass(frozen=True, slots=True)
class Circle:
    cx_m: float
    cy_m: float
    radius_m: float


@dataclass(frozen=True, slots=True)
class Pose2D:
    x_m: float = 0.0
    y_m: float = 0.0
    yaw_rad: float = 0.0


@dataclass(frozen=True, slots=True)
class LidarSpec:
    """A planar lidar as an SDF ``gpu_lidar`` declares it (the Gazebo assets use the same numbers)."""

    angle_min_rad: float = -math.pi
    angle_max_rad: float = math.pi
    samples: int = 360
    range_min_m: float = 0.12
    range_max_m: float = 12.0
    update_rate_hz: float = 10.0

    @property
    def angle_increment_rad(self) -> float:
        return (self.angle_max_rad - self.angle_min_rad) / (self.samples - 1)

    def angles(self) -> FloatArray:
        return np.linspace(self.angle_min_rad, self.angle_max_rad, self.samples)


@dataclass(frozen=True, slots=True)
class DriveLimits:
    """Velocity limits and wheel geometry of the differential drive (the SDF's DiffDrive plugin)."""

    max_speed_ms: float = 1.5
    max_yaw_rate_rads: float = 1.5
    wheel_radius_m: float = 0.1
    wheel_separation_m: float = 0.45


@dataclass(frozen=True, slots=True)
class BatterySpec:
    """Drain model: ``idle_w + w_per_ms * |v|``; a 24 V pack (the SDF's LinearBatteryPlugin)."""

    voltage_v: float = 24.0
    capacity_ah: float = 20.0
    idle_w: float = 15.0
    w_per_ms: float = 60.0


def ray_cast(origin_x_m: float, origin_y_m: float, angles_rad: FloatArray, boxes: list[Box],
             circles: list[Circle]) -> FloatArray:
    """Distance along each ray to the first box or circle hit (``inf`` if none), vectorised over rays × shapes.

    Boxes by the slab method, circles by the ray-circle quadratic; a ray starting inside a shape reports 0.
    """
    dx = np.cos(angles_rad)[:, None]
    dy = np.sin(angles_rad)[:, None]
    best = np.full(angles_rad.shape, np.inf)
    if boxes:
        b = np.array([[bx.cx_m - bx.half_x_m, bx.cx_m + bx.half_x_m, bx.cy_m - bx.half_y_m, bx.cy_m + bx.half_y_m]
                      for bx in boxes])
        with np.errstate(divide="ignore", invalid="ignore"):
            tx1, tx2 = (b[None, :, 0] - origin_x_m) / dx, (b[None, :, 1] - origin_x_m) / dx
            ty1, ty2 = (b[None, :, 2] - origin_y_m) / dy, (b[None, :, 3] - origin_y_m) / dy
        # A ray parallel to a slab: inside it the slab never constrains t, outside it never hits.
        inside_x = (b[None, :, 0] <= origin_x_m) & (origin_x_m <= b[None, :, 1])
        inside_y = (b[None, :, 2] <= origin_y_m) & (origin_y_m <= b[None, :, 3])
        t_near_x = np.where(dx == 0, np.where(inside_x, -np.inf, np.inf), np.minimum(tx1, tx2))
        t_far_x = np.where(dx == 0, np.where(inside_x, np.inf, -np.inf), np.maximum(tx1, tx2))
        t_near_y = np.where(dy == 0, np.where(inside_y, -np.inf, np.inf), np.minimum(ty1, ty2))
        t_far_y = np.where(dy == 0, np.where(inside_y, np.inf, -np.inf), np.maximum(ty1, ty2))
        t_near = np.maximum(t_near_x, t_near_y)
        t_far = np.minimum(t_far_x, t_far_y)
        hit = (t_near <= t_far) & (t_far >= 0)
        best = np.minimum(best, np.where(hit, np.maximum(t_near, 0.0), np.inf).min(axis=1))
    if circles:
        c = np.array([[ci.cx_m, ci.cy_m, ci.radius_m] for ci in circles])
        ox, oy = origin_x_m - c[None, :, 0], origin_y_m - c[None, :, 1]
        half_b = ox * dx + oy * dy
        cc = ox**2 + oy**2 - c[None, :, 2] ** 2
        disc = half_b**2 - cc
        root = np.sqrt(np.maximum(disc, 0.0))
        t_enter, t_exit = -half_b - root, -half_b + root
        hit = (disc >= 0) & (t_exit >= 0)
        best = np.minimum(best, np.where(hit, np.maximum(t_enter, 0.0), np.inf).min(axis=1))
    return best


class DiffDriveRobot:
    """A kinematic unicycle: commanded (v, ω) clipped to the limits, pose integrated exactly per step."""

    def __init__(self, pose: Pose2D, limits: DriveLimits | None = None, battery: BatterySpec | None = None) -> None:
        self.limits = limits or DriveLimits()
        self.battery = battery or BatterySpec()
        self.pose = pose
        self.speed_ms = 0.0
        self.yaw_rate_rads = 0.0
        self.wheel_angles_rad = np.zeros(2)  # left, right
        self.charge_ah = self.battery.capacity_ah
        self.power_w = self.battery.idle_w
        self.odometer_m = 0.0
        self._cmd = (0.0, 0.0)

    def command(self, speed_ms: float, yaw_rate_rads: float) -> None:
        """Set the velocity command (as /cmd_vel does); it holds until the next command, like Gazebo's DiffDrive."""
        lim = self.limits
        self._cmd = (float(np.clip(speed_ms, -lim.max_speed_ms, lim.max_speed_ms)),
                     float(np.clip(yaw_rate_rads, -lim.max_yaw_rate_rads, lim.max_yaw_rate_rads)))

    @property
    def wheel_speeds_rads(self) -> tuple[float, float]:
        half = self.yaw_rate_rads * self.limits.wheel_separation_m / 2
        r = self.limits.wheel_radius_m
        return (self.speed_ms - half) / r, (self.speed_ms + half) / r

    @property
    def battery_fraction(self) -> float:
        return self.charge_ah / self.battery.capacity_ah

    def step(self, dt_s: float) -> None:
        v, w = self._cmd if self.charge_ah > 0 else (0.0, 0.0)
        self.speed_ms, self.yaw_rate_rads = v, w
        p = self.pose
        yaw = p.yaw_rad
        if abs(w) < 1e-9:
            x, y = p.x_m + v * dt_s * math.cos(yaw), p.y_m + v * dt_s * math.sin(yaw)
        else:  # exact arc of the unicycle at constant (v, ω)
            x = p.x_m + v / w * (math.sin(yaw + w * dt_s) - math.sin(yaw))
            y = p.y_m - v / w * (math.cos(yaw + w * dt_s) - math.cos(yaw))
        self.pose = Pose2D(x, y, math.atan2(math.sin(yaw + w * dt_s), math.cos(yaw + w * dt_s)))
        self.odometer_m += abs(v) * dt_s
        self.wheel_angles_rad += np.array(self.wheel_speeds_rads) * dt_s
        self.power_w = self.battery.idle_w + self.battery.w_per_ms * abs(v)
        self.charge_ah = max(0.0, self.charge_ah - self.power_w / self.battery.voltage_v * dt_s / 3600)


class WorkerState(IntEnum):
    WALKING = 0
    LIFTING = 1
    APPROACHING = 2
    FALLEN = 3


@dataclass(slots=True)
class Worker:
    """A worker as a 0.25 m circle cycling through ``waypoints``: walk there, lift a bin, sometimes come to
    the robot (to load it), and from ``fall_at_s`` on, lie where they fell."""

    device_id: str
    x_m: float
    y_m: float
    waypoints: list[tuple[float, float]]
    fall_at_s: float | None = None
    speed_ms: float = 1.2
    state: WorkerState = WorkerState.WALKING
    target: int = 0
    pause_until_s: float = 0.0
    heading_rad: float = 0.0
    moving_ms: float = 0.0
    fell_at_s: float | None = None

    def as_circle(self) -> Circle:
        return Circle(self.x_m, self.y_m, WORKER_RADIUS_M)


@dataclass(frozen=True, slots=True)
class WorldSpec:
    name: str
    boxes: list[Box]
    start: Pose2D
    waypoints: list[tuple[float, float]]
    extent_m: tuple[float, float, float, float]  # x_min, x_max, y_min, y_max
    circles: list[Circle] = field(default_factory=list)


def street_spec() -> WorldSpec:
    """A 60 m street segment: kerbside bins every 8 m on the north side, parked cars on the south side."""
    bins = [Box(4.0 + 8.0 * k, 3.2, 0.3, 0.3) for k in range(7)]
    cars = [Box(10.0 + 14.0 * k, -3.5, 2.2, 0.9) for k in range(4)]
    return WorldSpec("street", bins + cars, Pose2D(0.0, 0.0, 0.0),
                     [(b.cx_m, 2.4) for b in bins], (-5.0, 60.0, -6.0, 6.0))


def park_spec() -> WorldSpec:
    """A 40 m × 30 m lawn: two benches (boxes) and three trees (circles) for the mower to avoid."""
    benches = [Box(10.0, 8.0, 1.0, 0.3), Box(28.0, 20.0, 1.0, 0.3)]
    trees = [Circle(18.0, 12.0, 0.4), Circle(6.0, 22.0, 0.5), Circle(32.0, 6.0, 0.4)]
    return WorldSpec("park", benches, Pose2D(2.0, 2.0, 0.0),
                     [(8.0, 5.0), (20.0, 8.0), (30.0, 15.0), (15.0, 25.0), (4.0, 18.0)], (0.0, 40.0, 0.0, 30.0),
                     trees)


WORLDS = {"street": street_spec, "park": park_spec}


class World:
    """The whole simulation, advanced by ``step(dt_s)``; everything random is drawn from ``seed`` up front
    or from the world's own generator in step order, so a seed replays exactly."""

    def __init__(self, spec: WorldSpec, *, seed: int, n_workers: int = 2, falls: dict[int, float] | None = None,
                 lidar: LidarSpec | None = None, robot: DiffDriveRobot | None = None,
                 approach_probability: float = 0.3, lift_s: tuple[float, float] = (3.0, 6.0),
                 leader: int | None = None) -> None:
        """``leader``: index of the worker the robot follows (a follower behind its collector), or None."""
        self.spec = spec
        self.seed = seed
        self.lidar = lidar or LidarSpec()
        self.robot = robot or DiffDriveRobot(spec.start)
        self.t_s = 0.0
        self.approach_probability = approach_probability
        self.lift_s = lift_s
        self._rng = np.random.default_rng([seed, 0x5EED])
        falls = falls or {}
        if leader is not None and not 0 <= leader < n_workers:
            raise ValueError(f"leader must index one of the {n_workers} workers, got {leader}")
        self.leader = leader
        self.workers: list[Worker] = []
        for k in range(n_workers):
            wps = list(spec.waypoints[k % len(spec.waypoints):]) + list(spec.waypoints[:k % len(spec.waypoints)])
            x0, y0 = wps[0][0] - 2.0 - 1.5 * k, wps[0][1]
            self.workers.append(Worker(f"sim-worker-{seed}-{k}", x0, y0, wps, falls.get(k),
                                       speed_ms=float(self._rng.uniform(1.0, 1.4))))

    @classmethod
    def named(cls, name: str, **kwargs: Any) -> World:
        if name not in WORLDS:
            raise ValueError(f"unknown world {name!r}: choose one of {sorted(WORLDS)}")
        return cls(WORLDS[name](), **kwargs)

    def step(self, dt_s: float) -> None:
        self.robot.step(dt_s)
        for w in self.workers:
            self._step_worker(w, dt_s)
        self.t_s += dt_s

    def _step_worker(self, w: Worker, dt_s: float) -> None:
        t = self.t_s + dt_s
        w.moving_ms = 0.0
        if w.state is WorkerState.FALLEN:
            return
        if w.fall_at_s is not None and t >= w.fall_at_s:
            w.state, w.fell_at_s = WorkerState.FALLEN, t
            return
        if t < w.pause_until_s:
            return
        if w.state is WorkerState.LIFTING:
            w.state = WorkerState.APPROACHING if self._rng.random() < self.approach_probability else WorkerState.WALKING
            if w.state is WorkerState.WALKING:
                w.target = (w.target + 1) % len(w.waypoints)
        rp = self.robot.pose
        goal = (rp.x_m, rp.y_m) if w.state is WorkerState.APPROACHING else w.waypoints[w.target]
        gx, gy = goal[0] - w.x_m, goal[1] - w.y_m
        dist = math.hypot(gx, gy)
        stop_at = 1.0 if w.state is WorkerState.APPROACHING else 0.0  # arm's length from the robot
        if dist - stop_at <= w.speed_ms * dt_s:
            if w.state is WorkerState.APPROACHING:  # load the bin onto the robot, then carry on
                w.pause_until_s = t + float(self._rng.uniform(*self.lift_s)) / 2
                w.state = WorkerState.WALKING
                w.target = (w.target + 1) % len(w.waypoints)
            else:
                w.x_m, w.y_m = goal
                w.state = WorkerState.LIFTING
                w.pause_until_s = t + float(self._rng.uniform(*self.lift_s))
            return
        w.heading_rad = math.atan2(gy, gx)
        w.x_m += w.speed_ms * dt_s * gx / dist
        w.y_m += w.speed_ms * dt_s * gy / dist
        w.moving_ms = w.speed_ms

    def people_xy(self) -> FloatArray:
        """World positions of every worker, shape (n, 2)."""
        return np.array([[w.x_m, w.y_m] for w in self.workers]).reshape(-1, 2)

    def people_in_robot_frame(self, max_range_m: float | None = None) -> FloatArray:
        """Workers relative to the robot (x forward, y left), within ``max_range_m`` (default the lidar's)."""
        local = self._to_robot_frame(self.people_xy())
        limit = self.lidar.range_max_m if max_range_m is None else max_range_m
        return local[np.hypot(local[:, 0], local[:, 1]) <= limit]

    def leader_in_robot_frame(self) -> tuple[float, float] | None:
        """The followed worker relative to the robot, as a perfect person tracker gives it; None without a leader
        or beyond the lidar's range (a tracker loses a person it no longer senses)."""
        if self.leader is None:
            return None
        w = self.workers[self.leader]
        ((x, y),) = self._to_robot_frame(np.array([[w.x_m, w.y_m]])).tolist()
        return (x, y) if math.hypot(x, y) <= self.lidar.range_max_m else None

    def _to_robot_frame(self, xy: FloatArray) -> FloatArray:
        p = self.robot.pose
        rel = xy - [p.x_m, p.y_m]
        c, s = math.cos(p.yaw_rad), math.sin(p.yaw_rad)
        return np.column_stack([c * rel[:, 0] + s * rel[:, 1], -s * rel[:, 0] + c * rel[:, 1]])

    def scan(self, pose: Pose2D | None = None) -> FloatArray:
        """Lidar ranges from ``pose`` (default the robot's) against obstacles and workers, REP 117 conventions."""
        p = pose or self.robot.pose
        ranges = ray_cast(p.x_m, p.y_m, self.lidar.angles() + p.yaw_rad, self.spec.boxes,
                          self.spec.circles + [w.as_circle() for w in self.workers])
        ranges = np.where(ranges > self.lidar.range_max_m, np.inf, ranges)
        return np.where(ranges < self.lidar.range_min_m, -np.inf, ranges)
