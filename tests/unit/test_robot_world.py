"""The embedded robot world: kinematics, lidar, battery, workers, wearable frames."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import numpy as np
import pytest

from simulations.robot_world.wearables import worker_frames
from simulations.robot_world.world import (
    Box,
    Circle,
    DiffDriveRobot,
    LidarSpec,
    Pose2D,
    WorkerState,
    World,
    WorldSpec,
    ray_cast,
)

SCHEMA = json.loads((Path(__file__).parents[2] / "gateway/contract/frame.schema.json").read_text())


def empty_world(*boxes: Box, circles: tuple[Circle, ...] = (), n_workers: int = 0) -> World:
    spec = WorldSpec("test", list(boxes), Pose2D(), [(5.0, 0.0)], (-20, 20, -20, 20), list(circles))
    return World(spec, seed=1, n_workers=n_workers)


def drive(robot: DiffDriveRobot, speed_ms: float, yaw_rate_rads: float, duration_s: float, dt_s: float = 0.1) -> None:
    robot.command(speed_ms, yaw_rate_rads)
    for _ in range(round(duration_s / dt_s)):
        robot.step(dt_s)


def test_driving_straight_at_1_ms_for_2_s_covers_2_m() -> None:
    robot = DiffDriveRobot(Pose2D())
    drive(robot, 1.0, 0.0, 2.0)
    assert robot.pose.x_m == pytest.approx(2.0)
    assert robot.pose.y_m == pytest.approx(0.0)
    assert robot.odometer_m == pytest.approx(2.0)


def test_turning_on_the_spot_quarter_turn() -> None:
    robot = DiffDriveRobot(Pose2D())
    drive(robot, 0.0, math.pi / 4, 2.0)
    assert robot.pose.yaw_rad == pytest.approx(math.pi / 2)
    assert (robot.pose.x_m, robot.pose.y_m) == pytest.approx((0.0, 0.0))
    left, right = robot.wheel_speeds_rads
    assert left == pytest.approx(-right) and right > 0


def test_driving_an_arc_ends_on_the_circle() -> None:
    robot = DiffDriveRobot(Pose2D())
    drive(robot, 0.5, 0.5, math.pi, dt_s=math.pi / 100)  # a quarter of a circle of radius 1 m
    assert (robot.pose.x_m, robot.pose.y_m, robot.pose.yaw_rad) == pytest.approx((1.0, 1.0, math.pi / 2))


def test_commands_are_clipped_to_the_limits() -> None:
    robot = DiffDriveRobot(Pose2D())
    drive(robot, 10.0, 10.0, 0.1)
    assert robot.speed_ms == robot.limits.max_speed_ms
    assert robot.yaw_rate_rads == robot.limits.max_yaw_rate_rads


def test_lidar_hits_a_box_at_its_known_distance() -> None:
    world = empty_world(Box(5.0, 0.0, 0.5, 1.0))
    ranges = world.scan()
    ahead = int(np.argmin(np.abs(world.lidar.angles())))
    assert ranges[ahead] == pytest.approx(4.5, rel=1e-3)  # nearest ray is half an increment off 0
    behind = 0  # angle_min = -pi: straight back, nothing there
    assert ranges[behind] == np.inf


def test_lidar_sees_a_box_diagonally_and_after_the_robot_turns() -> None:
    world = empty_world(Box(0.0, 3.0, 1.0, 0.5))
    world.robot.pose = Pose2D(0.0, 0.0, math.pi / 2)  # facing the box
    ranges = world.scan()
    ahead = int(np.argmin(np.abs(world.lidar.angles())))
    assert ranges[ahead] == pytest.approx(2.5, rel=1e-3)


def test_lidar_hits_a_person_circle() -> None:
    world = empty_world(Box(30.0, 30.0, 0.1, 0.1), n_workers=1)
    worker = world.workers[0]
    worker.x_m, worker.y_m = 0.0, -3.0
    ranges = world.scan()
    right = int(np.argmin(np.abs(world.lidar.angles() + math.pi / 2)))
    assert ranges[right] == pytest.approx(3.0 - 0.25, abs=1e-3)
    people = world.people_in_robot_frame()
    assert people.shape == (1, 2)
    assert people[0].tolist() == pytest.approx([0.0, -3.0])


def test_ray_cast_against_circles_and_boxes_vectorised() -> None:
    angles = np.array([0.0, math.pi / 2, math.pi, -math.pi / 2])
    d = ray_cast(0.0, 0.0, angles, [Box(4.0, 0.0, 1.0, 1.0)], [Circle(0.0, 2.0, 0.5)])
    assert d.tolist() == pytest.approx([3.0, 1.5, math.inf, math.inf])


def test_lidar_reports_too_close_and_out_of_range_per_rep_117() -> None:
    world = World(WorldSpec("t", [Box(0.1, 0.0, 0.02, 5.0), Box(-20.0, 0.0, 0.1, 0.1)], Pose2D(), [(1.0, 1.0)],
                            (-30, 30, -30, 30)), seed=0, n_workers=0, lidar=LidarSpec(range_max_m=12.0))
    ranges = world.scan()
    ahead = int(np.argmin(np.abs(world.lidar.angles())))
    assert ranges[ahead] == -np.inf
    assert ranges[0] == np.inf  # the box behind is 19.9 m away: beyond range_max


def test_battery_drains_faster_when_driving() -> None:
    idle, moving = DiffDriveRobot(Pose2D()), DiffDriveRobot(Pose2D())
    drive(idle, 0.0, 0.0, 60.0)
    drive(moving, 1.0, 0.0, 60.0)
    assert moving.charge_ah < idle.charge_ah < idle.battery.capacity_ah
    used_wh = (idle.battery.capacity_ah - idle.charge_ah) * idle.battery.voltage_v
    assert used_wh == pytest.approx(idle.battery.idle_w / 60)  # 15 W for a minute


def test_an_empty_battery_stops_the_robot() -> None:
    robot = DiffDriveRobot(Pose2D())
    robot.charge_ah = 0.0
    drive(robot, 1.0, 0.0, 1.0)
    assert robot.pose.x_m == 0.0


def run(seed: int, steps: int = 600) -> list[tuple[float, float, int]]:
    world = World.named("street", seed=seed, n_workers=3, falls={1: 25.0})
    world.robot.command(0.6, 0.0)
    trace = []
    for _ in range(steps):
        world.step(0.1)
        trace += [(w.x_m, w.y_m, int(w.state)) for w in world.workers]
    return trace


def test_the_world_is_deterministic_for_a_seed() -> None:
    assert run(7) == run(7)
    assert run(7) != run(8)


def test_workers_walk_lift_bins_and_a_scripted_fall_leaves_one_lying_still() -> None:
    world = World.named("street", seed=3, n_workers=2, falls={0: 20.0})
    states: set[WorkerState] = set()
    for _ in range(400):
        world.step(0.1)
        states |= {w.state for w in world.workers}
        if world.t_s > 21.0:
            fallen = world.workers[0]
            assert fallen.state is WorkerState.FALLEN
    assert {WorkerState.WALKING, WorkerState.LIFTING, WorkerState.FALLEN} <= states
    fallen = world.workers[0]
    assert fallen.fell_at_s == pytest.approx(20.0)
    x, y = fallen.x_m, fallen.y_m
    world.step(5.0)
    assert (fallen.x_m, fallen.y_m) == (x, y)


def test_some_workers_come_to_the_robot() -> None:
    world = World.named("street", seed=2, n_workers=2, approach_probability=1.0)
    closest = math.inf
    for _ in range(600):
        world.step(0.1)
        p = world.robot.pose
        closest = min(closest, *(math.hypot(w.x_m - p.x_m, w.y_m - p.y_m) for w in world.workers))
    assert closest < 1.3


def test_worker_frames_are_valid_contract_frames_with_a_fall_signature() -> None:
    world = World.named("park", seed=4, n_workers=2, falls={1: 3.4})
    start = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    for _ in range(40):
        world.step(0.1)
    frames = worker_frames(world, start)
    for frame in frames:
        jsonschema.validate(frame, SCHEMA)
        assert 48.8 < frame["gps"]["lat"] < 48.9
    acc = np.array(frames[1]["imu"]["acc_ms2"])
    magnitude = np.linalg.norm(acc, axis=1)
    assert magnitude.min() < 3.0 and magnitude.max() > 30.0  # free fall, then impact
    upright = np.linalg.norm(np.array(frames[0]["imu"]["acc_ms2"]), axis=1)
    assert upright.max() < 20.0


def test_the_followed_worker_is_given_in_the_robot_frame_while_in_range() -> None:
    world = World(WorldSpec("t", [], Pose2D(), [(1.0, 1.0)], (-30, 30, -30, 30)), seed=0, n_workers=2, leader=1)
    world.robot.pose = Pose2D(1.0, 1.0, math.pi / 2)  # facing north
    leader = world.workers[1]
    leader.x_m, leader.y_m = 1.0, 3.0  # 2 m ahead of the robot
    assert world.leader_in_robot_frame() == pytest.approx((2.0, 0.0))
    leader.y_m = 1.0 + world.lidar.range_max_m + 0.1  # out of sensing range: the tracker lost them
    assert world.leader_in_robot_frame() is None
    assert empty_world(n_workers=1).leader_in_robot_frame() is None  # a robot that follows nobody
    with pytest.raises(ValueError, match="leader"):
        World(world.spec, seed=0, n_workers=1, leader=1)
