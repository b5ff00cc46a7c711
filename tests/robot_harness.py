"""One robot's whole stack over real rclpy, in lock-step: simulator, safety monitor, telemetry bridge, navigation.

The monitor and the bridge run on simulated time (``use_sim_time``), so nothing moves, times out or publishes
between ``step`` calls, however long the test waits for the gateway. Each step advances the world by one
``dt_s``, waits until every node has seen that ``/clock`` and the odometry, then sends one navigation command
and waits until the monitor's filtered command has reached the simulator: the next step uses it.
"""

from __future__ import annotations

import math
import random
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
import rclpy
from geometry_msgs.msg import Twist
from nav_msgs.msg import Odometry
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from std_msgs.msg import Bool

from robot_nodes import topics
from robot_nodes.qos import qos
from robot_nodes.safety_monitor import SafetyMonitor
from robot_nodes.telemetry_bridge import TelemetryBridge
from simulations.robot_world.node import EmbeddedSimulator
from simulations.robot_world.wearables import PARIS_LAT, PARIS_LON, worker_frames
from simulations.robot_world.world import WORKER_RADIUS_M, World
from tests.gateway_harness import Publisher
from tests.helpers import wait_until

T = TypeVar("T")
STEP_TIMEOUT_S = 2.0  # one lock-step round trip over loopback DDS takes a few ms
POLL_S = 0.0005


@dataclass(frozen=True, slots=True)
class Sample:
    """The world after one step: what /odom said and the true distance to the nearest worker's body."""

    t_s: float
    speed_ms: float  # from /odom
    nav_speed_ms: float  # what navigation asked for during the step
    nearest_surface_m: float  # robot centre to the nearest worker's circle (what the lidar measures)


@dataclass
class Navigation:
    """A stand-in for Nav2: sends /cmd_vel_nav, presses the e-stop, listens to /odom and /pause."""

    node: Node
    speed_ms: float = 0.0
    odom: tuple[int, float] = (-1, 0.0)  # (stamp ns, speed m/s)
    pauses: list[bool] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.cmd_pub = self.node.create_publisher(Twist, topics.CMD_VEL_NAV.name, qos(topics.CMD_VEL_NAV))
        self.estop_pub = self.node.create_publisher(Bool, topics.ESTOP.name, qos(topics.ESTOP))
        self.node.create_subscription(Odometry, topics.ODOM.name, self._on_odom, qos(topics.ODOM))
        self.node.create_subscription(Bool, topics.PAUSE.name, lambda m: self.pauses.append(bool(m.data)),
                                      qos(topics.PAUSE))  # fmt: skip

    def _on_odom(self, msg: Odometry) -> None:
        stamp = msg.header.stamp
        self.odom = (stamp.sec * 1_000_000_000 + stamp.nanosec, math.hypot(msg.twist.twist.linear.x,
                                                                           msg.twist.twist.linear.y))  # fmt: skip

    def press_estop(self) -> None:
        self.estop_pub.publish(Bool(data=True))

    def send(self) -> None:
        msg = Twist()
        msg.linear.x = self.speed_ms
        self.cmd_pub.publish(msg)


class RobotStack:
    def __init__(self, world: World, broker_url: str, robot_id: str, *, context: Context, bridge_rate_hz: float,
                 wearables: Publisher | None, wearables_start: datetime,
                 follows_leader: bool = False) -> None:  # fmt: skip
        sim_time = Parameter("use_sim_time", value=True)
        self.robot_id = robot_id
        self.sim = EmbeddedSimulator(world, context=context)
        self.monitor = SafetyMonitor(context=context, parameter_overrides=[
            sim_time, Parameter("robot_id", value=robot_id), Parameter("robot_kind", value="follower"),
            Parameter("follows_leader", value=follows_leader)])  # fmt: skip
        self.bridge = TelemetryBridge(context=context, parameter_overrides=[
            sim_time, Parameter("robot_id", value=robot_id), Parameter("kind", value="follower"),
            Parameter("mqtt_url", value=broker_url), Parameter("rate_hz", value=bridge_rate_hz),
            Parameter("origin_lat", value=PARIS_LAT), Parameter("origin_lon", value=PARIS_LON),
        ])  # fmt: skip
        self.nav = Navigation(Node(f"navigation_{uuid.uuid4().hex[:8]}", context=context))
        self.samples: list[Sample] = []
        self._wearables = wearables
        self._wearables_start = wearables_start
        self._last_second = 0

    @property
    def world(self) -> World:
        return self.sim.world

    def nodes(self) -> list[Node]:
        return [self.sim, self.monitor, self.bridge, self.nav.node]

    def wait_connected(self) -> None:
        sim, nav = self.sim, self.nav
        wait_until(lambda: sim.count_subscribers(topics.CLOCK.name) >= 2  # the monitor's and the bridge's clocks
                   and nav.cmd_pub.get_subscription_count() > 0 and sim.count_publishers(topics.CMD_VEL.name) > 0
                   and nav.node.count_publishers(topics.ODOM.name) > 0 and self.bridge.connected,
                   timeout_s=10, message="robot graph not matched")  # fmt: skip

    def step(self, n: int = 1) -> None:
        for _ in range(n):
            self._step_once()

    def _step_once(self) -> None:
        sim, nav = self.sim, self.nav
        sim.step(1)
        now_ns = round(sim.sim_time_s * 1e9)
        # The monitor must also have taken this step's /scan and /people into its decision: otherwise, on a loaded
        # machine, the navigation command below is answered on the previous step's readings, one step late.
        seen, step_s = self.monitor.sensor_stamps_s, now_ns * 1e-9 - 1e-6
        wait_until(lambda: self.monitor.get_clock().now().nanoseconds >= now_ns
                   and self.bridge.get_clock().now().nanoseconds >= now_ns and nav.odom[0] >= now_ns
                   and min(seen.get(topics.SCAN.name, -1.0), seen.get(topics.PEOPLE.name, -1.0)) >= step_s,
                   timeout_s=STEP_TIMEOUT_S, interval_s=POLL_S,
                   message=f"step to {sim.sim_time_s:.1f} s not seen")  # fmt: skip
        self.samples.append(Sample(sim.sim_time_s, nav.odom[1], nav.speed_ms, self.nearest_surface_m()))
        before = sim.cmd_count
        nav.send()
        wait_until(lambda: sim.cmd_count > before, timeout_s=STEP_TIMEOUT_S, interval_s=POLL_S,
                   message="no /cmd_vel from the monitor")  # fmt: skip
        second = math.floor(sim.sim_time_s + 1e-9)
        if self._wearables is not None and second > self._last_second:
            self._last_second = second
            for frame in worker_frames(self.world, self._wearables_start):
                self._wearables.frame(frame)

    def step_until(self, predicate: Callable[[], T], max_sim_s: float, message: str) -> T:
        """Step until ``predicate`` holds (checked after each step), within ``max_sim_s`` of simulated time."""
        for _ in range(math.ceil(max_sim_s / self.sim.dt_s)):
            value = predicate()
            if value:
                return value
            self._step_once()
        raise AssertionError(f"{message} within {max_sim_s} simulated s")

    def nearest_surface_m(self) -> float:
        people = self.world.people_xy()
        pose = self.world.robot.pose
        if not len(people):
            return math.inf
        return float(min(math.hypot(x - pose.x_m, y - pose.y_m) for x, y in people)) - WORKER_RADIUS_M


@contextmanager
def robot_stack(world: World, broker_url: str, *, bridge_rate_hz: float = 10.0, wearables: Publisher | None = None,
                wearables_start: datetime | None = None,
                follows_leader: bool = False) -> Iterator[RobotStack]:  # fmt: skip
    """Start every node on a private ROS domain in one executor thread; tear them down afterwards.

    ``follows_leader``: the monitor reports the nearest person other than the world's ``leader`` worker."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
        mp.setenv("ROS_DOMAIN_ID", str(random.randint(1, 100)))
        context = Context()
        rclpy.init(context=context)
        start = wearables_start or datetime.now(UTC) - timedelta(seconds=90)
        stack = RobotStack(world, broker_url, f"robot-{uuid.uuid4().hex[:8]}", context=context,
                           bridge_rate_hz=bridge_rate_hz, wearables=wearables, wearables_start=start,
                           follows_leader=follows_leader)  # fmt: skip
        executor = SingleThreadedExecutor(context=context)
        for node in stack.nodes():
            executor.add_node(node)
        spinner = threading.Thread(target=executor.spin, daemon=True)
        spinner.start()
        try:
            stack.wait_connected()
            yield stack
        finally:
            executor.shutdown()
            spinner.join(5)
            stack.bridge.close()
            for node in (stack.sim, stack.monitor, stack.nav.node):
                node.destroy_node()
            rclpy.try_shutdown(context=context)


def alerts(gateway: Any, rule: str) -> list[dict[str, Any]]:
    return [a for a in gateway.get("/api/v1/alerts")["items"] if a["rule"] == rule]
