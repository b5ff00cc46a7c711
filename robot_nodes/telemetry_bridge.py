"""The robot bridge: ROS 2 robot state → MQTT ``vigie/v1/robots/{robot_id}/state``; gateway commands → ``/pause``.

Run: ``vigie-robot-bridge --ros-args -p robot_id:=robot-01 -p kind:=follower -p mqtt_url:=mqtt://127.0.0.1:1883
-p origin_lat:=48.8566 -p origin_lon:=2.3522`` (the map origin, so the state carries lat/lon).

Delivery (docs/contract.md, "Delivery guarantees"): QoS 1 on a persistent MQTT 5 session. Every state goes
through a bounded ``ReplayBuffer``; the buffer is flushed, oldest first, only while the link is up AND no
earlier state is still waiting for its PUBACK. After a reconnect paho first retransmits what it had in
flight (MQTT 5.0 §4.4), and only once those are acknowledged do the states buffered during the outage
follow, so the gateway receives states in ``seq`` order.

Nearest other person: a follower's monitor publishes ``/safety/nearest_other_human`` only while it tracks its
leader; the state carries ``nearest_other_human_m`` only while the last value is at most
``nearest_other_max_age_s`` (1 s) old on this node's clock, and leaves the key out otherwise (contract: absent
means the gateway counts every person, ``null`` means nobody but the leader).

Pause: a ``pause`` command on ``vigie/v1/robots/{robot_id}/command`` latches ``/pause`` (std_msgs/Bool,
reliable + transient local) to true until every pause has been resumed (``services.robot_telemetry.PauseLatch``).
The bridge never writes ``/cmd_vel``: the safety monitor owns it, and two publishers on one velocity
topic race (whichever wrote last wins, so a zero Twist from here would be overwritten by the monitor's
next command). The monitor must honour ``/pause`` like a protective stop, downstream of every other
velocity source.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import orjson
import paho.mqtt.client as mqtt
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from nav_msgs.msg import Odometry
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from sensor_msgs.msg import BatteryState
from std_msgs.msg import Bool, Float32

from robot_nodes import topics
from robot_nodes.qos import qos
from services.robot_telemetry import (
    NEAREST_OTHER_HUMAN_MAX_AGE_S,
    InvalidCommand,
    PauseLatch,
    ReplayBuffer,
    StateBuilder,
    faults_from_diagnostics,
    parse_command,
    yaw_from_quaternion,
)

logger = logging.getLogger(__name__)


SESSION_EXPIRY_S = 7 * 24 * 3600  # as the gateway's session: commands queued while the bridge is away survive
KEEPALIVE_S = 10


def state_topic(robot_id: str) -> str:
    return f"vigie/v1/robots/{robot_id}/state"


def command_topic(robot_id: str) -> str:
    return f"vigie/v1/robots/{robot_id}/command"


def parse_mqtt_url(url: str) -> tuple[str, int, str | None, str | None]:
    """Host, port, username and password of ``mqtt[s]://[robot_id:password@]host:port``."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise ValueError(f"mqtt_url must look like mqtt://host:port or mqtts://host:port, got {url!r}")
    return parts.hostname, parts.port or (8883 if parts.scheme == "mqtts" else 1883), parts.username, parts.password


class TelemetryBridge(Node):
    """Folds the robot's topics into contract v1 states, publishes them at ``rate_hz``, latches ``/pause``."""

    def __init__(self, **node_kwargs: Any) -> None:
        super().__init__("telemetry_bridge", **node_kwargs)
        robot_id = self._param("robot_id", "robot-01", "id in the MQTT topic and payload")
        kind = self._param("kind", "follower", "contract kind: follower, mower, exoskeleton, ...")
        mode = self._param("mode", "auto", "mode reported while not paused")
        mqtt_url = self._param("mqtt_url", "mqtt://127.0.0.1:1883",
                               "broker, mqtt://[robot_id:password@]host:port (the robot's own MQTT account)")
        rate_hz = float(self._param("rate_hz", 2.0, "state publication rate (contract: 1-10 Hz)"))
        buffer_max = int(self._param("buffer_max", 7200, "states kept while the link is down (oldest dropped)"))
        origin_lat = float(self._param("origin_lat", math.nan, "latitude of the map origin (NaN: no lat/lon sent)"))
        origin_lon = float(self._param("origin_lon", math.nan, "longitude of the map origin (NaN: no lat/lon sent)"))
        other_max_age_s = float(self._param("nearest_other_max_age_s", NEAREST_OTHER_HUMAN_MAX_AGE_S,
                                            "follower: nearest_other_human_m left out when older than this (s)"))
        self.robot_id = str(robot_id)
        self._host, self._port, self._username, self._password = parse_mqtt_url(str(mqtt_url))
        self._tls = str(mqtt_url).startswith("mqtts://")
        self._ca_file = str(self._param("mqtt_ca_file", "", "mqtts: CA of the broker's certificate (empty: system)"))

        # Seeded from the clock so that a restarted bridge keeps seq increasing (below 1 kHz).
        self._builder = StateBuilder(self.robot_id, str(kind), mode=str(mode), first_seq=time.time_ns() // 1_000_000,
                                     origin_deg=(origin_lat, origin_lon),
                                     nearest_other_max_age_s=other_max_age_s)  # fmt: skip
        self.buffer: ReplayBuffer[bytes] = ReplayBuffer(buffer_max)
        self.latch = PauseLatch()
        self._lock = threading.Lock()  # builder, buffer and latch (executor callbacks)

        # Shared with paho's network thread, which never takes self._lock (no lock-order inversion).
        self._link_lock = threading.Lock()
        self._connected = False
        self._unacked: set[int] = set()
        self._early_acks: set[int] = set()
        self._commands: queue.SimpleQueue[bytes] = queue.SimpleQueue()
        self.commands_rejected = 0

        self.create_subscription(Odometry, topics.ODOM.name, self._on_odom, qos(topics.ODOM))
        self.create_subscription(BatteryState, topics.BATTERY_STATE.name, self._on_battery, qos(topics.BATTERY_STATE))
        self.create_subscription(Bool, topics.ESTOP.name, self._on_estop, qos(topics.ESTOP))
        self.create_subscription(Bool, topics.PROTECTIVE_STOP.name, self._on_protective_stop,
                                 qos(topics.PROTECTIVE_STOP))  # fmt: skip
        self.create_subscription(Float32, topics.NEAREST_HUMAN.name, self._on_nearest_human,
                                 qos(topics.NEAREST_HUMAN))  # fmt: skip
        # Published only by a follower while it tracks its leader; its age is measured on this node's clock
        # (simulated time under use_sim_time), as the monitor measures its leader's.
        self.create_subscription(Float32, topics.NEAREST_OTHER_HUMAN.name, self._on_nearest_other_human,
                                 qos(topics.NEAREST_OTHER_HUMAN))  # fmt: skip
        self.create_subscription(Float32, topics.PAYLOAD.name, self._on_payload, qos(topics.PAYLOAD))
        self.create_subscription(DiagnosticArray, topics.FAULTS.name, self._on_faults, qos(topics.FAULTS))
        self._pause_pub = self.create_publisher(Bool, topics.PAUSE.name, qos(topics.PAUSE))
        self._pause_pub.publish(Bool(data=False))

        # Guard conditions bring work from paho's thread onto the executor.
        self._command_guard = self.create_guard_condition(self._drain_commands)
        self._flush_guard = self.create_guard_condition(self._flush_under_lock)
        self._timer = self.create_timer(1.0 / rate_hz, self._tick)
        self._client = self._make_client()
        self._client.connect_async(self._host, self._port, keepalive=KEEPALIVE_S, clean_start=False,
                                   properties=self._connect_properties())  # fmt: skip
        self._client.loop_start()

    def _param(self, name: str, default: Any, description: str) -> Any:
        return self.declare_parameter(name, default, ParameterDescriptor(description=description)).value

    @property
    def connected(self) -> bool:
        return self._connected

    def close(self) -> None:
        """Disconnect cleanly and release the node (what the lifecycle's cleanup would do)."""
        self._client.disconnect()
        self._client.loop_stop()
        self.destroy_node()

    def _make_client(self) -> mqtt.Client:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"vigie-bridge-{self.robot_id}",
                             protocol=mqtt.MQTTv5)  # fmt: skip
        client.reconnect_delay_set(min_delay=1, max_delay=5)
        if self._username:
            client.username_pw_set(self._username, self._password)
        if self._tls:
            client.tls_set(ca_certs=self._ca_file or None)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_message = self._on_message
        return client

    @staticmethod
    def _connect_properties() -> Properties:
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = SESSION_EXPIRY_S  # MQTT 5.0 §3.1.2.11.2: keep the session
        return props

    # ROS callbacks (executor thread): convert, then fold into the pure builder.
    def _on_odom(self, msg: Odometry) -> None:
        q = msg.pose.pose.orientation
        lin = msg.twist.twist.linear
        with self._lock:
            self._builder.set_odometry(msg.pose.pose.position.x, msg.pose.pose.position.y,
                                       yaw_from_quaternion(q.x, q.y, q.z, q.w), math.hypot(lin.x, lin.y))  # fmt: skip

    def _on_battery(self, msg: BatteryState) -> None:
        with self._lock:  # BatteryState.percentage is 0-1 (NaN when unmeasured)
            self._builder.set_battery_pct(msg.percentage * 100.0)

    def _on_estop(self, msg: Bool) -> None:
        with self._lock:
            self._builder.set_estop(bool(msg.data))

    def _on_protective_stop(self, msg: Bool) -> None:
        with self._lock:
            self._builder.set_protective_stop(bool(msg.data))

    def _on_nearest_human(self, msg: Float32) -> None:
        with self._lock:
            self._builder.set_nearest_human_m(msg.data)

    def _on_nearest_other_human(self, msg: Float32) -> None:
        with self._lock:
            self._builder.set_nearest_other_human_m(msg.data, self._clock_s())

    def _clock_s(self) -> float:
        return float(self.get_clock().now().nanoseconds) / 1e9

    def _on_payload(self, msg: Float32) -> None:
        with self._lock:
            self._builder.set_payload_kg(msg.data)

    def _on_faults(self, msg: DiagnosticArray) -> None:
        statuses = [(_level(s.level), s.name, s.message) for s in msg.status]
        with self._lock:
            self._builder.set_faults(faults_from_diagnostics(statuses))

    def _tick(self) -> None:
        with self._lock:
            state = self._builder.build(datetime.now(UTC), paused=self.latch.paused, clock_s=self._clock_s())
            dropped = self.buffer.dropped
            self.buffer.append(orjson.dumps(state))
            if self.buffer.dropped != dropped:
                logger.warning("robot %s: link down, replay buffer full: oldest state dropped (%d so far)",
                               self.robot_id, self.buffer.dropped)  # fmt: skip
            self._flush()

    def _flush_under_lock(self) -> None:
        with self._lock:
            self._flush()

    def _flush(self) -> None:
        """Hand buffered states to paho, oldest first, once nothing older awaits its PUBACK."""
        with self._link_lock:
            if not self._connected or self._unacked:
                return
        topic = state_topic(self.robot_id)
        for payload in self.buffer.drain():
            info = self._client.publish(topic, payload, qos=1)
            with self._link_lock:
                if info.mid in self._early_acks:
                    self._early_acks.discard(info.mid)
                else:
                    self._unacked.add(info.mid)
            # Even with MQTT_ERR_NO_CONN paho keeps a QoS 1 message and retransmits it on reconnect.

    def _drain_commands(self) -> None:
        while True:
            try:
                payload = self._commands.get_nowait()
            except queue.Empty:
                return
            try:
                command = parse_command(payload)
            except InvalidCommand as exc:
                self.commands_rejected += 1
                logger.warning("robot %s: command refused (%s): %r", self.robot_id, exc, payload[:128])
                continue
            with self._lock:
                changed = self.latch.apply(command)
                paused = self.latch.paused
            logger.info("robot %s: %s for alert %s (%s): paused=%s", self.robot_id, command.cmd.value,
                        command.alert_id, command.reason, paused)  # fmt: skip
            if changed:
                self._pause_pub.publish(Bool(data=paused))

    # paho callbacks (network thread): bookkeeping and enqueueing only.
    def _on_connect(self, client: mqtt.Client, _userdata: Any, _flags: Any, reason_code: Any, _props: Any) -> None:
        if reason_code.is_failure:
            logger.warning("robot %s: broker refused the connection: %s", self.robot_id, reason_code)
            return
        client.subscribe(command_topic(self.robot_id), qos=1)  # here, so a reconnect resubscribes
        with self._link_lock:
            self._connected = True
        logger.info("robot %s: connected to %s:%s", self.robot_id, self._host, self._port)
        self._flush_guard.trigger()

    def _on_disconnect(self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason_code: Any,
                       _props: Any) -> None:  # fmt: skip
        with self._link_lock:
            self._connected = False
        logger.warning("robot %s: MQTT link down (%s): buffering states", self.robot_id, reason_code)

    def _on_publish(self, _client: mqtt.Client, _userdata: Any, mid: int, _reason_code: Any, _props: Any) -> None:
        with self._link_lock:
            if mid in self._unacked:
                self._unacked.discard(mid)
            else:  # PUBACK before publish() returned the mid to _flush
                self._early_acks.add(mid)
            drained = not self._unacked
        if drained and len(self.buffer):
            self._flush_guard.trigger()

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        self._commands.put(bytes(message.payload))
        self._command_guard.trigger()


def _level(level: bytes | int) -> int:
    """DiagnosticStatus.level is a ROS ``byte``: rclpy gives a one-byte ``bytes``."""
    return level[0] if isinstance(level, bytes) else int(level)


def main(args: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    rclpy.init(args=args)
    node = TelemetryBridge()
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.close()
        rclpy.try_shutdown()


if __name__ == "__main__":
    main()
