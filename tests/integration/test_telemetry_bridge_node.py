"""The robot bridge with real rclpy (Fast DDS on loopback) and a real private Mosquitto broker."""

from __future__ import annotations

import json
import math
import random
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import paho.mqtt.client as mqtt
import pytest
import rclpy
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from nav_msgs.msg import Odometry
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from sensor_msgs.msg import BatteryState
from std_msgs.msg import Bool, Float32

from gateway.mqtt.codec import decode_robot_state
from gateway.runtime.mosquitto import MosquittoBroker
from gateway.runtime.ports import free_port
from robot_nodes import topics
from robot_nodes.qos import qos
from robot_nodes.telemetry_bridge import TelemetryBridge, command_topic, state_topic
from robot_nodes.topics import PAUSE
from tests.helpers import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(30)]

SCHEMA = json.loads(Path("gateway/contract/robot_state.schema.json").read_text(encoding="utf-8"))


@dataclass
class Received:
    states: list[bytes] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def decoded(self) -> list[dict[str, Any]]:
        with self.lock:
            return [json.loads(p) for p in self.states]


class GatewaySide:
    """Stands in for the gateway: a persistent QoS 1 subscriber to one robot's states, and a commander."""

    def __init__(self, broker: MosquittoBroker, robot_id: str) -> None:
        self.robot_id = robot_id
        self.received = Received()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"gw-{uuid.uuid4().hex[:8]}",
                                  protocol=mqtt.MQTTv5)  # fmt: skip
        self.client.reconnect_delay_set(min_delay=1, max_delay=1)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.subscribed = threading.Event()
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = 3600
        self.client.connect_async(broker.host, broker.port, keepalive=5, clean_start=False, properties=props)
        self.client.loop_start()
        assert self.subscribed.wait(5), "gateway side did not connect"

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, rc: Any, _p: Any) -> None:
        if not rc.is_failure:
            client.subscribe(state_topic(self.robot_id), qos=1)
            self.subscribed.set()

    def _on_message(self, _c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        with self.received.lock:
            self.received.states.append(bytes(message.payload))

    def command(self, cmd: str, alert_id: str) -> None:
        payload = json.dumps({"cmd": cmd, "reason": "worker too close", "alert_id": alert_id})
        self.client.publish(command_topic(self.robot_id), payload, qos=1).wait_for_publish(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@dataclass
class Rig:
    broker: MosquittoBroker
    bridge: TelemetryBridge
    robot: Node  # publishes what the robot's drivers and safety monitor would
    gateway: GatewaySide
    pauses: list[bool]


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[MosquittoBroker]:
    with MosquittoBroker(tmp_path / "mosquitto", free_port()) as b:
        yield b


@pytest.fixture
def rig(request: pytest.FixtureRequest, broker: MosquittoBroker, monkeypatch: pytest.MonkeyPatch) -> Iterator[Rig]:
    rate_hz = getattr(request, "param", 10.0)
    monkeypatch.setenv("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    monkeypatch.setenv("ROS_DOMAIN_ID", str(random.randint(1, 100)))
    robot_id = f"robot-{uuid.uuid4().hex[:8]}"
    gateway = GatewaySide(broker, robot_id)
    rclpy.init()
    bridge = TelemetryBridge(parameter_overrides=[
        Parameter("robot_id", value=robot_id), Parameter("kind", value="follower"),
        Parameter("mqtt_url", value=broker.url), Parameter("rate_hz", value=rate_hz),
    ])  # fmt: skip
    robot = Node(f"robot_{uuid.uuid4().hex[:8]}")
    pauses: list[bool] = []
    robot.create_subscription(Bool, PAUSE.name, lambda m: pauses.append(bool(m.data)), qos(PAUSE))
    executor = SingleThreadedExecutor()
    executor.add_node(bridge)
    executor.add_node(robot)
    spinner = threading.Thread(target=executor.spin, daemon=True)
    spinner.start()
    try:
        yield Rig(broker, bridge, robot, gateway, pauses)
    finally:
        executor.shutdown()
        spinner.join(5)
        bridge.close()
        robot.destroy_node()
        rclpy.shutdown()
        gateway.close()


def test_robot_topics_arrive_on_mqtt_as_contract_v1_states(rig: Rig) -> None:
    r = rig.robot
    odom_pub = r.create_publisher(Odometry, topics.ODOM.name, qos(topics.ODOM))
    battery_pub = r.create_publisher(BatteryState, topics.BATTERY_STATE.name, qos(topics.BATTERY_STATE))
    estop_pub = r.create_publisher(Bool, topics.ESTOP.name, qos(topics.ESTOP))
    pstop_pub = r.create_publisher(Bool, topics.PROTECTIVE_STOP.name, qos(topics.PROTECTIVE_STOP))
    human_pub = r.create_publisher(Float32, topics.NEAREST_HUMAN.name, qos(topics.NEAREST_HUMAN))
    payload_pub = r.create_publisher(Float32, topics.PAYLOAD.name, qos(topics.PAYLOAD))
    faults_pub = r.create_publisher(DiagnosticArray, topics.FAULTS.name, qos(topics.FAULTS))
    odom = Odometry()
    odom.pose.pose.position.x, odom.pose.pose.position.y = 12.5, -3.0
    odom.pose.pose.orientation.z, odom.pose.pose.orientation.w = 0.7071068, 0.7071068  # yaw π/2
    odom.twist.twist.linear.x, odom.twist.twist.linear.y = 0.6, 0.8
    faults = DiagnosticArray(status=[
        DiagnosticStatus(level=DiagnosticStatus.ERROR, name="lidar", message="timeout"),
        DiagnosticStatus(level=DiagnosticStatus.OK, name="imu", message="ok"),
    ])  # fmt: skip

    def publish_all() -> None:  # again on each poll: discovery takes a few hundred ms
        odom_pub.publish(odom)
        battery_pub.publish(BatteryState(percentage=0.77))
        estop_pub.publish(Bool(data=True))
        pstop_pub.publish(Bool(data=True))
        human_pub.publish(Float32(data=1.5))
        payload_pub.publish(Float32(data=30.0))
        faults_pub.publish(faults)

    def complete_state() -> dict[str, Any] | None:
        publish_all()
        states = rig.gateway.received.decoded()
        last = states[-1] if states else None
        return last if last and last.get("faults") and "pose" in last and "battery_pct" in last else None

    state = wait_until(complete_state, timeout_s=8, interval_s=0.1, message="no complete robot state on MQTT")
    assert state is not None
    jsonschema.validate(state, SCHEMA)
    assert state["robot_id"] == rig.bridge.robot_id and state["kind"] == "follower" and state["v"] == 1
    assert state["pose"]["x_m"] == 12.5 and state["pose"]["y_m"] == -3.0
    assert state["pose"]["yaw_rad"] == pytest.approx(1.5708, abs=1e-3)
    assert state["speed_ms"] == pytest.approx(1.0)
    assert state["battery_pct"] == pytest.approx(77.0)
    assert state["estop"] is True and state["protective_stop"] is True and state["mode"] == "auto"
    assert state["nearest_human_m"] == 1.5 and state["payload_kg"] == 30.0
    assert state["faults"] == ["lidar: timeout"]
    assert state["ts"].endswith("Z")

    with rig.gateway.received.lock:
        payloads = list(rig.gateway.received.states)
    decoded = [decode_robot_state(p, rig.bridge.robot_id, datetime.now(UTC)) for p in payloads]
    seqs = [d.seq for d in decoded]
    assert seqs == sorted(set(seqs)), "seq must strictly increase"
    assert decoded[-1].estop is True and decoded[-1].faults == ("lidar: timeout",)


@pytest.mark.parametrize("rig", [20.0], indirect=True)
def test_states_produced_while_the_broker_is_down_arrive_in_order_without_loss(rig: Rig) -> None:
    received = rig.gateway.received
    wait_until(lambda: len(received.decoded()) >= 5, timeout_s=5, message="no states before the cut")

    rig.broker.stop()
    cut_at = datetime.now(UTC)
    wait_until(lambda: not rig.bridge.connected, timeout_s=5, message="bridge did not notice the cut")
    # 20 Hz: 60 states and more pile up in the replay buffer.
    wait_until(lambda: len(rig.bridge.buffer) >= 60, timeout_s=6, message="states not buffered during the cut")
    rig.broker.start()
    restored_at = datetime.now(UTC)

    def caught_up() -> bool:
        states = received.decoded()
        return bool(states) and states[-1]["ts"] > _ts(restored_at, 1.0)

    wait_until(caught_up, timeout_s=10, interval_s=0.05, message="states did not resume after the restart")
    states = received.decoded()
    # QoS 1 is at-least-once (MQTT 5.0 §4.3.2): the one or two states in flight when the broker stops are
    # redelivered with DUP. They are byte-identical and the gateway's writes are idempotent on
    # (robot_id, seq, ts), so each state is stored exactly once; count and bound them here.
    first_seen: dict[int, dict[str, Any]] = {}
    for s in states:
        assert first_seen.setdefault(s["seq"], s) == s, "same seq, different state"
    seqs = list(first_seen)  # arrival order of each state's first copy
    assert len(states) - len(seqs) <= 2, f"{len(states) - len(seqs)} redeliveries: more than those in flight"
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "a state was lost or reordered"
    states = list(first_seen.values())
    during_cut = [s for s in states if _ts(cut_at) <= s["ts"] <= _ts(restored_at)]
    assert len(during_cut) >= 60
    assert rig.bridge.buffer.dropped == 0
    for payload in states[-5:]:
        jsonschema.validate(payload, SCHEMA)


def test_pause_command_latches_pause_topic_and_mode_until_resumed(rig: Rig) -> None:
    received = rig.gateway.received
    wait_until(lambda: rig.bridge.connected and received.decoded(), timeout_s=5, message="bridge not up")
    wait_until(lambda: rig.pauses == [False], timeout_s=5, message="/pause not latched false at start")

    rig.gateway.command("pause", "alert-1")
    wait_until(lambda: rig.pauses[-1] is True, timeout_s=5, message="/pause not true after pause")
    wait_until(lambda: received.decoded()[-1]["mode"] == "paused", timeout_s=5, message="mode not paused")

    rig.gateway.command("resume", "alert-1")
    wait_until(lambda: rig.pauses[-1] is False, timeout_s=5, message="/pause not false after resume")
    wait_until(lambda: received.decoded()[-1]["mode"] == "auto", timeout_s=5, message="mode still paused")
    assert rig.pauses == [False, True, False]


def test_a_followers_nearest_other_person_is_sent_only_while_fresh(rig: Rig) -> None:
    other_pub = rig.robot.create_publisher(Float32, topics.NEAREST_OTHER_HUMAN.name, qos(topics.NEAREST_OTHER_HUMAN))
    received = rig.gateway.received

    def last_with(value: float | None) -> dict[str, Any] | None:
        other_pub.publish(Float32(data=math.nan if value is None else value))
        states = received.decoded()
        last = states[-1] if states else None
        return last if last is not None and last.get("nearest_other_human_m", "absent") == value else None

    assert all("nearest_other_human_m" not in s for s in received.decoded()), "sent before any value"
    state = wait_until(lambda: last_with(2.5), timeout_s=8, message="nearest_other_human_m not sent")
    jsonschema.validate(state, SCHEMA)
    wait_until(lambda: last_with(None), timeout_s=5, message="NaN not sent as null")
    silent_at = datetime.now(UTC)  # the monitor lost its leader: it publishes no more

    def left_out() -> bool:
        states = received.decoded()
        return bool(states) and states[-1]["ts"] > _ts(silent_at) and "nearest_other_human_m" not in states[-1]

    wait_until(left_out, timeout_s=5, message="a stale nearest_other_human_m kept being sent")
    late = wait_until(lambda: [s for s in received.decoded() if s["ts"] > _ts(silent_at, 1.5)], timeout_s=5)
    assert all("nearest_other_human_m" not in s for s in late)


def _ts(at: datetime, plus_s: float = 0.0) -> str:
    """The bridge's ts format (fixed width, so string order is time order)."""
    moved = datetime.fromtimestamp(at.timestamp() + plus_s, UTC)
    return moved.isoformat(timespec="milliseconds").replace("+00:00", "Z")
