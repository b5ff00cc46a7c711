"""The safety monitor node over real rclpy (Fast DDS on loopback, a random domain per module)."""

from __future__ import annotations

import itertools
import math
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from robot_nodes import topics
from services.separation import BladeGuardParams, SeparationParams, protective_distance_m
from tests.helpers import wait_until

rclpy = pytest.importorskip("rclpy")

from diagnostic_msgs.msg import DiagnosticArray  # noqa: E402
from geometry_msgs.msg import PointStamped, Pose, PoseArray, Twist  # noqa: E402
from rclpy.context import Context  # noqa: E402
from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from rclpy.node import Node  # noqa: E402
from rclpy.parameter import Parameter  # noqa: E402
from sensor_msgs.msg import Imu  # noqa: E402
from std_msgs.msg import Bool, Float32  # noqa: E402

from robot_nodes.qos import qos  # noqa: E402
from robot_nodes.safety_monitor import SafetyMonitor  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.timeout(20)]

PROFILES = Path(__file__).resolve().parents[2] / "robot_nodes" / "profiles"
HOLD_S = 0.5
PARAMS = SeparationParams()  # the node's defaults
STOP_AT_M = protective_distance_m(0.0, PARAMS)  # 0.99 m


@pytest.fixture(scope="module")
def context() -> Iterator[Context]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
        mp.setenv("ROS_DOMAIN_ID", str(random.randint(1, 100)))
        ctx = Context()
        rclpy.init(context=ctx)
        try:
            yield ctx
        finally:
            rclpy.try_shutdown(context=ctx)


@dataclass
class Probe:
    """The robot's surroundings as the node sees them: navigation, people detector, e-stop button."""

    node: Any
    cmd_vel: list[tuple[float, float]] = field(default_factory=list)  # (monotonic s, linear.x)
    protective_stop: list[bool] = field(default_factory=list)
    nearest: list[float] = field(default_factory=list)
    nearest_other: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        n = self.node
        self.nav = n.create_publisher(Twist, topics.CMD_VEL_NAV.name, qos(topics.CMD_VEL_NAV))
        self.people = n.create_publisher(PoseArray, topics.PEOPLE.name, qos(topics.PEOPLE))
        self.estop_pub = n.create_publisher(Bool, topics.ESTOP.name, qos(topics.ESTOP))
        self.leader = n.create_publisher(PointStamped, topics.LEADER.name, qos(topics.LEADER))
        n.create_subscription(Twist, topics.CMD_VEL.name, self._on_cmd, qos(topics.CMD_VEL))
        n.create_subscription(Bool, topics.PROTECTIVE_STOP.name, self._on_stop, qos(topics.PROTECTIVE_STOP))
        n.create_subscription(Float32, topics.NEAREST_HUMAN.name, self._on_nearest, qos(topics.NEAREST_HUMAN))
        n.create_subscription(Float32, topics.NEAREST_OTHER_HUMAN.name, self._on_nearest_other,
                              qos(topics.NEAREST_OTHER_HUMAN))  # fmt: skip

    def _on_cmd(self, msg: Twist) -> None:
        with self.lock:
            self.cmd_vel.append((time.monotonic(), msg.linear.x))

    def _on_stop(self, msg: Bool) -> None:
        with self.lock:
            self.protective_stop.append(msg.data)

    def _on_nearest(self, msg: Float32) -> None:
        with self.lock:
            self.nearest.append(msg.data)

    def _on_nearest_other(self, msg: Float32) -> None:
        with self.lock:
            self.nearest_other.append(msg.data)

    def people_at(self, *points_m: tuple[float, float]) -> None:
        msg = PoseArray()
        msg.header.frame_id = "base_link"
        for x, y in points_m:
            pose = Pose()
            pose.position.x, pose.position.y = x, y
            msg.poses.append(pose)
        self.people.publish(msg)

    def leader_at(self, x_m: float, y_m: float = 0.0) -> None:
        msg = PointStamped()
        msg.header.frame_id = "base_link"
        msg.point.x, msg.point.y = x_m, y_m
        self.leader.publish(msg)

    def others(self) -> list[float]:
        with self.lock:
            return list(self.nearest_other)

    def person_at(self, distance_m: float | None) -> None:
        msg = PoseArray()
        msg.header.frame_id = "base_link"
        if distance_m is not None:
            pose = Pose()
            pose.position.x = distance_m
            msg.poses = [pose]
        self.people.publish(msg)

    def drive(self, speed_ms: float = 1.0) -> float:
        """Send one navigation command and return the filtered speed the node publishes for it."""
        with self.lock:
            before = len(self.cmd_vel)
        msg = Twist()
        msg.linear.x = speed_ms
        self.nav.publish(msg)
        wait_until(lambda: len(self.cmd_vel) > before, timeout_s=2.0, message="no /cmd_vel")
        with self.lock:
            return self.cmd_vel[-1][1]

    def see_person_at(self, distance_m: float | None) -> None:
        """Publish a person and wait until the node has taken it in (its /safety/nearest_human echo)."""
        with self.lock:
            before = len(self.nearest)
        self.person_at(distance_m)

        def echoed() -> bool:
            with self.lock:
                news = self.nearest[before:]
            if distance_m is None:
                return any(math.isnan(v) for v in news)
            return any(abs(v - distance_m) < 1e-4 for v in news)

        wait_until(echoed, timeout_s=2.0, message=f"node did not see person at {distance_m}")

    def stops(self) -> list[bool]:
        with self.lock:
            return list(self.protective_stop)


@contextmanager
def monitor_and_probe(context: Context, *overrides: Parameter[Any]) -> Iterator[tuple[SafetyMonitor, Probe]]:
    monitor = SafetyMonitor(
        context=context,
        parameter_overrides=[
            Parameter("robot_id", value="follower-test"),
            Parameter("resume_hold_s", value=HOLD_S),
            Parameter("v_max_ms", value=1.7),
            *overrides,
        ],
    )
    probe = Probe(Node(f"probe_{random.randrange(1 << 30)}", context=context))
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(monitor)
    executor.add_node(probe.node)
    thread = threading.Thread(target=executor.spin, daemon=True)
    thread.start()
    try:
        # Discovery: the node answers a command once the graph is matched both ways.
        wait_until(lambda: probe.nav.get_subscription_count() > 0 and probe.people.get_subscription_count() > 0)
        wait_until(lambda: monitor.count_publishers(topics.CMD_VEL.name) > 0 and probe.stops())
        probe.see_person_at(None)
        yield monitor, probe
    finally:
        executor.shutdown(timeout_sec=2.0)
        thread.join(timeout=2.0)
        probe.node.destroy_node()
        monitor.destroy_node()


@pytest.fixture
def running(context: Context) -> Iterator[tuple[SafetyMonitor, Probe]]:
    with monitor_and_probe(context) as started:
        yield started


def approach(probe: Probe, start_m: float, end_m: float, step_m: float = 0.05) -> list[tuple[float, float]]:
    """A person walks toward the robot; returns (distance m, filtered speed m/s) at each step."""
    samples = []
    distance_m = start_m
    while distance_m >= end_m:
        probe.see_person_at(distance_m)
        samples.append((distance_m, probe.drive(1.0)))
        distance_m -= step_m
    return samples


def drive_with_nobody_near(probe: Probe) -> float:
    probe.see_person_at(None)
    return probe.drive(1.0)


def clear_after_startup(probe: Probe) -> int:
    """The node starts stopped (no sensor yet): keep a clear view until the hold has passed.

    Returns how many /safety/protective_stop messages came before, so a test counts only its own.
    """
    wait_until(lambda: drive_with_nobody_near(probe) == 1.0, timeout_s=3.0)
    wait_until(lambda: probe.stops()[-1] is False, timeout_s=1.0)
    return len(probe.stops())


def test_robot_slows_monotonically_and_stops_before_protective_distance(running):
    _, probe = running
    seen = clear_after_startup(probe)
    samples = approach(probe, 6.0, 0.3, step_m=0.1)
    speeds = [v for _, v in samples]
    assert speeds[0] == pytest.approx(1.0)
    assert all(b <= a + 1e-9 for a, b in itertools.pairwise(speeds)), "speed must never rise"
    for distance_m, speed_ms in samples:
        if speed_ms > 0:  # never moving inside the protective distance for its own speed
            assert protective_distance_m(speed_ms, PARAMS) <= distance_m + 1e-6
        if distance_m <= STOP_AT_M:
            assert speed_ms == 0.0
    slowed = [d for d, v in samples if 0 < v < 1.0]
    assert slowed and max(slowed) <= protective_distance_m(1.0, PARAMS)  # slowing starts at S_p(1 m/s)
    wait_until(lambda: probe.stops()[-1] is True, timeout_s=2.0)
    assert probe.stops()[seen:] == [True], "one protective stop, no flicker"


def test_robot_resumes_only_after_the_hold_time_without_flicker(running):
    _, probe = running
    seen = clear_after_startup(probe)
    approach(probe, 1.5, 0.5)
    for i in range(20):  # hovering around the stop threshold: stays stopped, no stop/creep flicker
        probe.see_person_at(STOP_AT_M + (0.1 if i % 2 else -0.1))
        assert probe.drive(1.0) == 0.0
    probe.see_person_at(5.0)
    walked_away_s = time.monotonic()
    moving: list[float] = []

    def resumed() -> bool:
        probe.person_at(5.0)
        if probe.drive(1.0) > 0:
            moving.append(time.monotonic())
            return True
        return False

    wait_until(resumed, timeout_s=3.0, message="robot never resumed")
    assert moving[0] - walked_away_s >= HOLD_S - 0.05
    wait_until(lambda: probe.stops()[seen:] == [True, False], timeout_s=1.0, message="stop flickered")


def test_estop_latches_until_reset_parameter(running):
    monitor, probe = running
    clear_after_startup(probe)
    probe.estop_pub.publish(Bool(data=True))
    wait_until(lambda: drive_with_nobody_near(probe) == 0.0, timeout_s=2.0)
    probe.estop_pub.publish(Bool(data=False))
    deadline = time.monotonic() + HOLD_S + 0.3
    while time.monotonic() < deadline:  # released, nobody near, but still latched
        probe.see_person_at(None)
        assert probe.drive(1.0) == 0.0
    monitor.set_parameters([Parameter("estop_reset", value=True)])
    clear_after_startup(probe)


def test_estop_reset_is_refused_while_pressed(running):
    monitor, probe = running
    clear_after_startup(probe)
    probe.estop_pub.publish(Bool(data=True))
    wait_until(lambda: drive_with_nobody_near(probe) == 0.0, timeout_s=2.0)
    monitor.set_parameters([Parameter("estop_reset", value=True)])
    deadline = time.monotonic() + HOLD_S + 0.3
    while time.monotonic() < deadline:
        probe.see_person_at(None)
        assert probe.drive(1.0) == 0.0
    probe.estop_pub.publish(Bool(data=False))  # leave the latched topic released for later tests


def test_a_gateway_pause_holds_the_robot_until_it_is_lifted(running):
    _, probe = running
    clear_after_startup(probe)
    pause = probe.node.create_publisher(Bool, topics.PAUSE.name, qos(topics.PAUSE))
    pause.publish(Bool(data=True))
    wait_until(lambda: drive_with_nobody_near(probe) == 0.0, timeout_s=2.0, message="pause not obeyed")
    for _ in range(5):  # nobody near, navigation asks for speed: still held
        assert drive_with_nobody_near(probe) == 0.0
    pause.publish(Bool(data=False))
    wait_until(lambda: drive_with_nobody_near(probe) > 0.0, timeout_s=2.0, message="pause not lifted")
    probe.node.destroy_publisher(pause)


def test_silent_sensors_stop_the_robot(running):
    _, probe = running
    clear_after_startup(probe)
    silent_since_s = time.monotonic()
    wait_until(lambda: probe.drive(1.0) == 0.0, timeout_s=2.0, message="robot kept moving without sensors")
    assert time.monotonic() - silent_since_s >= 0.4  # after the 0.5 s timeout, not before
    wait_until(lambda: probe.stops()[-1] is True, timeout_s=1.0)
    wait_until(lambda: math.isnan(probe.nearest[-1]), timeout_s=1.0)


@pytest.mark.parametrize("profile", sorted(PROFILES.glob("*.yaml")), ids=lambda p: p.stem)
def test_profile_keys_are_declared_parameters_of_the_node(context, profile):
    params = yaml.safe_load(profile.read_text())["safety_monitor"]["ros__parameters"]
    monitor = SafetyMonitor(context=context, parameter_overrides=[Parameter(k, value=v) for k, v in params.items()])
    try:
        for name, value in params.items():
            assert monitor.has_parameter(name), f"{profile.name}: {name} is not declared"
            assert monitor.get_parameter(name).value == value
    finally:
        monitor.destroy_node()


def test_console_entry_point_takes_params_file_and_overrides(context, tmp_path):
    """`main()` as a process: --params-file plus -p, checked through its /diagnostics."""
    robot_id = f"proc-{random.randrange(1 << 30)}"
    probe = Node(f"diag_probe_{random.randrange(1 << 30)}", context=context)
    statuses: list[Any] = []
    probe.create_subscription(
        DiagnosticArray, topics.DIAGNOSTICS.name, lambda m: statuses.extend(m.status), qos(topics.DIAGNOSTICS)
    )
    args = ["--ros-args", "--params-file", str(PROFILES / "mower.yaml"), "-p", f"robot_id:={robot_id}"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "robot_nodes.safety_monitor", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        executor = SingleThreadedExecutor(context=context)
        executor.add_node(probe)
        deadline = time.monotonic() + 8.0
        mine: list[Any] = []
        while not mine and time.monotonic() < deadline:
            executor.spin_once(timeout_sec=0.1)
            mine = [s for s in statuses if s.hardware_id == robot_id]
        assert mine, "no /diagnostics from the process"
        values = {kv.key: kv.value for kv in mine[0].values}
        assert values["v_max_ms"] == "0.80"  # from mower.yaml
        assert values["state"] == "PROTECTIVE_STOP"  # no sensor yet: fail safe
        executor.shutdown()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=5.0)
        probe.destroy_node()
    assert proc.returncode == 0


def test_profiles_exist_for_every_robot():
    assert {p.stem for p in PROFILES.glob("*.yaml")} == {"follower", "mower", "exoskeleton"}


@pytest.fixture
def mower(context: Context) -> Iterator[tuple[SafetyMonitor, Probe]]:
    """The monitor with the mower profile's blade flags (blade engaged, stop on lift and tilt)."""
    profile = yaml.safe_load((PROFILES / "mower.yaml").read_text())["safety_monitor"]["ros__parameters"]
    blade_keys = ("robot_kind", "blade_on", "blade_stop_on_lift", "blade_stop_on_tilt", "tilt_stop_deg")
    assert profile["blade_on"] is True
    with monitor_and_probe(context, *(Parameter(k, value=profile[k]) for k in blade_keys)) as started:
        yield started


def test_mower_stops_drive_and_blade_when_tilted_and_resumes_after_the_hold(mower):
    _, probe = mower
    imu = probe.node.create_publisher(Imu, topics.IMU.name, qos(topics.IMU))
    blade: list[bool] = []
    probe.node.create_subscription(Bool, topics.BLADE.name, lambda m: blade.append(m.data), qos(topics.BLADE))
    wait_until(lambda: imu.get_subscription_count() > 0 and blade, message="no /imu subscriber or /blade")
    assert blade[-1] is False, "blade off until the IMU says upright"
    clear_hold_s = BladeGuardParams().clear_hold_s

    def drive_at(tilt_deg: float) -> float:
        msg = Imu()
        a = math.radians(tilt_deg)
        msg.linear_acceleration.x, msg.linear_acceleration.z = 9.81 * math.sin(a), 9.81 * math.cos(a)
        imu.publish(msg)
        return drive_with_nobody_near(probe)

    wait_until(lambda: drive_at(0.0) == 1.0, timeout_s=clear_hold_s + 3.0, message="upright mower never moved")
    wait_until(lambda: blade[-1] is True and probe.stops()[-1] is False, timeout_s=1.0, message="blade not on")
    seen = len(probe.stops())

    wait_until(lambda: drive_at(40.0) == 0.0, timeout_s=2.0, message="tilted mower kept moving")
    wait_until(lambda: blade[-1] is False and probe.stops()[seen:] == [True], timeout_s=1.0, message="blade not off")

    upright_since_s = time.monotonic()
    wait_until(lambda: drive_at(0.0) == 1.0, timeout_s=clear_hold_s + 3.0, message="mower never resumed")
    assert time.monotonic() - upright_since_s >= clear_hold_s - 0.05
    wait_until(lambda: blade[-1] is True and probe.stops()[seen:] == [True, False], timeout_s=1.0)

    silent_since_s = time.monotonic()  # the IMU goes quiet: fail safe
    wait_until(lambda: drive_with_nobody_near(probe) == 0.0 and blade[-1] is False, timeout_s=2.0,
               message="blade stayed on with a silent IMU")  # fmt: skip
    assert time.monotonic() - silent_since_s >= 0.4
    probe.node.destroy_publisher(imu)


def test_a_follower_ignores_the_imu(running):
    monitor, probe = running
    assert topics.IMU.name not in {sub.topic_name for sub in monitor.subscriptions}
    assert topics.BLADE.name not in {pub.topic_name for pub in monitor.publishers}
    clear_after_startup(probe)


@pytest.fixture
def follower(context: Context) -> Iterator[tuple[SafetyMonitor, Probe]]:
    """The monitor with the follower profile's follows_leader (its collector arrives on /leader)."""
    profile = yaml.safe_load((PROFILES / "follower.yaml").read_text())["safety_monitor"]["ros__parameters"]
    assert profile["follows_leader"] is True
    with monitor_and_probe(context, Parameter("follows_leader", value=True)) as started:
        monitor, probe = started
        wait_until(lambda: probe.leader.get_subscription_count() > 0, message="no /leader subscriber")
        yield monitor, probe


def test_a_follower_still_slows_and_stops_for_its_own_leader(follower):
    """ISO/TS 15066 §5.5.4 protects every person: the collector it follows gets no exemption from the speed."""
    _, probe = follower
    seen = clear_after_startup(probe)
    samples = []
    distance_m = 3.0
    while distance_m >= 0.5:  # the collector stops and the follower closes in on them
        probe.leader_at(distance_m)
        probe.see_person_at(distance_m)
        samples.append((distance_m, probe.drive(1.0)))
        distance_m -= 0.1
    speeds = [v for _, v in samples]
    assert speeds[0] == pytest.approx(1.0)
    assert all(b <= a + 1e-9 for a, b in itertools.pairwise(speeds)), "speed must never rise"
    for d, v in samples:
        if v > 0:
            assert protective_distance_m(v, PARAMS) <= d + 1e-6
        if d <= STOP_AT_M:
            assert v == 0.0
    assert [d for d, v in samples if 0 < v < 1.0], "did not slow for its leader"
    wait_until(lambda: probe.stops()[-1] is True, timeout_s=2.0)
    assert probe.stops()[seen:] == [True]
    # ...and the leader alone is nobody else: the statistics see no other person in the way.
    wait_until(lambda: probe.others() and math.isnan(probe.others()[-1]), message="no NaN nearest other person")


def test_a_follower_reports_the_nearest_person_other_than_its_leader(follower):
    _, probe = follower
    clear_after_startup(probe)

    def reported(*people: tuple[float, float]) -> float:
        probe.leader_at(1.5)
        probe.people_at(*people)
        others = probe.others()
        return others[-1] if others else -1.0

    # The detector's leader is 0.1 m off the tracker's point; a co-worker is 3 m to the right.
    wait_until(lambda: abs(reported((1.5, 0.1), (0.0, -3.0)) - 3.0) < 1e-4, message="other person not reported")
    wait_until(lambda: math.isnan(reported((1.5, 0.1))), message="leader alone not NaN")


def test_a_lost_leader_stops_the_nearest_other_person(follower):
    _, probe = follower
    clear_after_startup(probe)

    def tracked() -> bool:
        probe.leader_at(1.5)
        probe.people_at((1.5, 0.0))
        return bool(probe.others())

    wait_until(tracked, message="no nearest other person while the leader is tracked")
    lost_at_s = time.monotonic()
    while time.monotonic() - lost_at_s < 0.8:  # the tracker goes quiet; people are still detected
        probe.people_at((1.5, 0.0))
        time.sleep(0.02)
    count = len(probe.others())
    while time.monotonic() - lost_at_s < 1.5:
        probe.people_at((1.5, 0.0))
        time.sleep(0.02)
    assert len(probe.others()) == count, "published without a fresh leader"


def test_a_robot_that_does_not_follow_publishes_no_nearest_other_person(running):
    monitor, probe = running
    assert topics.LEADER.name not in {sub.topic_name for sub in monitor.subscriptions}
    assert topics.NEAREST_OTHER_HUMAN.name not in {pub.topic_name for pub in monitor.publishers}
    for _ in range(10):
        probe.leader_at(1.5)
        probe.people_at((1.5, 0.0), (0.0, 3.0))
        time.sleep(0.02)
    assert probe.others() == []
