"""The embedded simulator node with real rclpy, in lock-step: the test drives simulated time."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

pytestmark = pytest.mark.integration

rclpy = pytest.importorskip("rclpy")

from geometry_msgs.msg import PoseArray, Twist  # noqa: E402
from nav_msgs.msg import Odometry  # noqa: E402
from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from rclpy.node import Node  # noqa: E402
from rosgraph_msgs.msg import Clock  # noqa: E402
from sensor_msgs.msg import BatteryState, JointState, LaserScan  # noqa: E402

from robot_nodes import topics  # noqa: E402
from robot_nodes.qos import qos  # noqa: E402
from simulations.robot_world.node import EmbeddedSimulator  # noqa: E402
from simulations.robot_world.world import World  # noqa: E402


@pytest.fixture
def ros_context(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A private context on a random domain, discovery on loopback only (set before init)."""
    monkeypatch.setenv("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    monkeypatch.setenv("ROS_DOMAIN_ID", str(random.randint(1, 100)))
    context = rclpy.context.Context()
    rclpy.init(context=context)
    yield context
    rclpy.shutdown(context=context)


def wait_until(executor: SingleThreadedExecutor, predicate: Callable[[], bool], timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        executor.spin_once(timeout_sec=0.02)
    return predicate()


def test_lock_step_drives_the_robot_and_publishes_the_contract(ros_context: Any) -> None:
    world = World.named("street", seed=5, n_workers=2)
    sim = EmbeddedSimulator(world, context=ros_context)
    probe = Node("probe", context=ros_context)
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(sim)
    executor.add_node(probe)
    got: dict[str, list[Any]] = {}

    def keep(name: str) -> Callable[[Any], None]:
        return lambda msg: got.setdefault(name, []).append(msg)

    for spec, msg_type in ((topics.CLOCK, Clock), (topics.ODOM, Odometry), (topics.SCAN, LaserScan),
                           (topics.JOINT_STATES, JointState), (topics.BATTERY_STATE, BatteryState),
                           (topics.PEOPLE_GROUND_TRUTH, PoseArray), (topics.PEOPLE, PoseArray)):
        probe.create_subscription(msg_type, spec.name, keep(spec.name), qos(spec))
    cmd = probe.create_publisher(Twist, topics.CMD_VEL.name, qos(topics.CMD_VEL))
    try:
        twist = Twist()
        twist.linear.x = 0.5

        def commanded() -> bool:
            cmd.publish(twist)
            return sim.cmd_count > 0

        assert wait_until(executor, commanded), "the simulator never received /cmd_vel"
        assert sim.count_subscribers(topics.ODOM.name) >= 1
        assert wait_until(executor, lambda: sim.count_subscribers(topics.CLOCK.name) >= 1)
        for _ in range(20):
            sim.step(1)
            executor.spin_once(timeout_sec=0.0)

        def last_clock_s() -> float:
            clocks = got.get("/clock", [])
            return clocks[-1].clock.sec + clocks[-1].clock.nanosec * 1e-9 if clocks else 0.0

        def last_odom_x() -> float:
            odoms = got.get("/odom", [])
            return float(odoms[-1].pose.pose.position.x) if odoms else 0.0

        assert wait_until(executor, lambda: last_clock_s() >= 2.0 - 1e-6 and last_odom_x() >= 0.99)
        assert last_clock_s() == pytest.approx(2.0)
        assert last_odom_x() == pytest.approx(1.0)
        odom = got["/odom"][-1]
        assert odom.twist.twist.linear.x == pytest.approx(0.5)
        assert (odom.header.stamp.sec, odom.header.stamp.nanosec) == (2, 0)
        assert wait_until(executor, lambda: all(t in got for t in (
            "/scan", "/joint_states", "/battery_state", "/sim/people_ground_truth", "/people")))
        scan = got["/scan"][-1]
        assert len(scan.ranges) == world.lidar.samples
        assert min(r for r in scan.ranges if r > 0) < scan.range_max  # bins and workers are in view
        assert scan.angle_increment == pytest.approx(world.lidar.angle_increment_rad)
        assert got["/battery_state"][-1].percentage < 1.0
        assert list(got["/joint_states"][-1].name) == ["left_wheel_joint", "right_wheel_joint"]
        assert len(got["/sim/people_ground_truth"][-1].poses) == 2
    finally:
        executor.shutdown()
        probe.destroy_node()
        sim.destroy_node()


def test_simulated_workers_publish_wearable_frames_over_mqtt(broker: Any) -> None:
    import queue
    import threading

    import orjson
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from simulations.robot_world.wearables import WearableBridge

    received: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
    sub = mqtt.Client(CallbackAPIVersion.VERSION2)
    subscribed = threading.Event()
    sub.on_message = lambda _c, _u, m: received.put((m.topic, orjson.loads(m.payload)))
    sub.on_subscribe = lambda *_: subscribed.set()
    sub.connect(broker.host, broker.port)
    sub.subscribe("vigie/v1/wearables/+/frame", qos=1)
    sub.loop_start()
    world = World.named("street", seed=9, n_workers=2, falls={0: 0.5})
    bridge = WearableBridge.connect(world, broker.url)
    try:
        assert subscribed.wait(5), "no SUBACK"  # frames are not retained: subscribe first
        for _ in range(10):
            world.step(0.1)
        assert bridge.publish_second(world) == 2
        assert bridge.publish_second(world) == 0  # a second is published once
        bridge.close()
        frames = dict(received.get(timeout=5) for _ in range(2))
    finally:
        sub.loop_stop()
        sub.disconnect()
    assert set(frames) == {f"vigie/v1/wearables/{w.device_id}/frame" for w in world.workers}
    fallen = frames[f"vigie/v1/wearables/{world.workers[0].device_id}/frame"]
    assert max(sum(a * a for a in acc) ** 0.5 for acc in fallen["imu"]["acc_ms2"]) > 30
