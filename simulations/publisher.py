"""Publishing the simulation over MQTT contract v1: topics, the publish schedule, pacing and paho.

One paho client serves the whole simulated fleet (a thousand TCP connections would measure the simulator,
not the gateway). The broker keeps one Will per client (MQTT 5.0 §3.1.2.5), so the client's Will marks only
the first wearable ``offline``; every other wearable's Will is emulated: on a clean shutdown (end of run,
SIGINT, SIGTERM) ``offline`` is published, retained, for each of them. After a crash the others keep a
stale ``online`` until the simulator next runs: consumers must also judge liveness from frame arrival.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from simulations.crew import CrewSimulator
from simulations.robots import RobotSimulator

log = logging.getLogger(__name__)
QOS = 1
ONLINE, OFFLINE = b"online", b"offline"


def frame_topic(device_id: str) -> str:
    return f"vigie/v1/wearables/{device_id}/frame"


def status_topic(device_id: str) -> str:
    return f"vigie/v1/wearables/{device_id}/status"


def robot_state_topic(robot_id: str) -> str:
    return f"vigie/v1/robots/{robot_id}/state"


@dataclass(frozen=True, slots=True)
class Message:
    topic: str
    payload: bytes
    retain: bool = False


@dataclass(frozen=True, slots=True)
class Batch:
    """Messages due at simulated time ``at_s`` (seconds after the run's start)."""

    at_s: float
    messages: list[Message]
    frames: int = 0
    robot_states: int = 0


def status_messages(device_ids: Iterable[str], status: bytes) -> list[Message]:
    return [Message(status_topic(d), status, retain=True) for d in device_ids]


def schedule(crew: CrewSimulator, robots: RobotSimulator | None, duration_s: int | None) -> Iterator[Batch]:
    """The run as timed batches: robot states at their instants, frame ``t`` at ``t + 1``.

    A wearable can only send a second's frame once the second is over; ``duration_s`` None runs forever.
    """
    rate = robots.rate_hz if robots else 0.0
    k = 0
    t = 0
    while duration_s is None or t < duration_s:
        while robots and robots.roster.robots and k / rate < t + 1 - 1e-9:
            states = robots.states_at(k / rate)
            yield Batch(k / rate, [Message(robot_state_topic(s["robot_id"]), orjson.dumps(s)) for s in states],
                        robot_states=len(states))
            k += 1
        frames = crew.encoded_frames_at(t)
        yield Batch(t + 1, [Message(frame_topic(a.device_id), f) for a, f in zip(crew.roster.agents, frames,
                                                                                  strict=True)],
                    frames=len(frames))
        t += 1


def schedule_days(days: Iterable[tuple[CrewSimulator, RobotSimulator | None]], shift_s: int) -> Iterator[Batch]:
    """Several simulated shifts back to back: each day's ``schedule``, its batches due ``shift_s`` after the
    previous day's. Nights are skipped, not waited through: ``at_s`` counts published seconds, and the frames
    carry each day's own instants."""
    for n, (crew, robots) in enumerate(days):
        for batch in schedule(crew, robots, shift_s):
            yield replace(batch, at_s=batch.at_s + n * shift_s)


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    tls: bool = False
    ca_file: str | None = None  # mqtts: the CA of the broker's certificate (None: the system's)

    @classmethod
    def from_url(cls, url: str, ca_file: str | None = None) -> BrokerAddress:
        """``mqtt://[user:pass@]host[:1883]`` or ``mqtts://host[:8883]`` (verified against ``ca_file``)."""
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts", "tcp") or not parts.hostname:
            raise ValueError(f"expected mqtt://host:port, got {url!r}")
        tls = parts.scheme == "mqtts"
        return cls(parts.hostname, parts.port or (8883 if tls else 1883), parts.username, parts.password, tls,
                   ca_file)  # fmt: skip


@dataclass(slots=True)
class PublishStats:
    frames: int = 0
    robot_states: int = 0
    payload_bytes: int = 0
    wall_s: float = 0.0
    max_lag_s: float = 0.0  # how far behind schedule the slowest batch went out


def _properties(packet_type: int) -> Properties:
    return Properties(packet_type)  # type: ignore[no-untyped-call]  # paho leaves __init__ unannotated


class MqttPublisher:
    """A paho 2.x client (MQTT 5, QoS 1) that publishes pre-serialised messages with bounded backlog."""

    def __init__(self, broker: BrokerAddress, *, will_device_id: str | None, announce: Iterable[Message] = (),
                 max_inflight: int = 1000, backlog: int = 20_000) -> None:
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"vigie-sim-{uuid.uuid4().hex[:12]}",
                                   protocol=mqtt.MQTTv5)
        # Unacknowledged QoS 1 messages on the wire (MQTT 5.0 §4.9 flow control); the default 20 throttles.
        self._client.max_inflight_messages_set(max_inflight)
        self._client.max_queued_messages_set(0)
        if broker.username:
            self._client.username_pw_set(broker.username, broker.password)
        if broker.tls:
            self._client.tls_set(ca_certs=broker.ca_file)
        if will_device_id is not None:
            self._client.will_set(status_topic(will_device_id), OFFLINE, qos=QOS, retain=True)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._broker = broker
        self._announce = list(announce)
        self._connected = threading.Event()
        self._pending: deque[mqtt.MQTTMessageInfo] = deque()
        self._backlog = backlog
        self._json = _properties(PacketTypes.PUBLISH)
        self._json.PayloadFormatIndicator = 1  # UTF-8 (MQTT 5.0 §3.3.2.3.2)
        self._json.ContentType = "application/json"

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: mqtt.ConnectFlags,
                    reason_code: ReasonCode, properties: Properties | None) -> None:
        if reason_code.is_failure:
            log.error("broker %s:%s refused the simulator: %s", self._broker.host, self._broker.port, reason_code)
            return
        log.info("connected to %s:%s", self._broker.host, self._broker.port)
        # Re-announce on every (re)connection: after a dropped link the broker has published our Will.
        for message in self._announce:
            client.publish(message.topic, message.payload, qos=QOS, retain=message.retain)
        self._connected.set()

    def _on_disconnect(self, client: mqtt.Client, userdata: object, flags: mqtt.DisconnectFlags,
                       reason_code: ReasonCode, properties: Properties | None) -> None:
        self._connected.clear()
        if reason_code.is_failure:
            log.warning("disconnected from broker: %s (paho reconnects)", reason_code)

    def connect(self, timeout_s: float = 10.0) -> None:
        props = _properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 300  # keep QoS 1 messages in flight across a short reconnect (§3.1.2.11.2)
        self._client.connect_async(self._broker.host, self._broker.port, keepalive=30, properties=props)
        self._client.loop_start()
        if not self._connected.wait(timeout_s):
            self._client.loop_stop()
            raise ConnectionError(f"no MQTT connection to {self._broker.host}:{self._broker.port} "
                                  f"within {timeout_s:.0f} s")

    def publish(self, message: Message, timeout_s: float = 30.0) -> None:
        if not self._connected.wait(timeout_s):
            raise ConnectionError("MQTT connection lost and not re-established")
        props = None if message.retain else self._json
        self._pending.append(self._client.publish(message.topic, message.payload, qos=QOS,
                                                  retain=message.retain, properties=props))
        while len(self._pending) > self._backlog:
            self._await(self._pending.popleft(), timeout_s)

    def flush(self, timeout_s: float = 30.0) -> None:
        """Block until the broker acknowledged (PUBACK) every message published so far."""
        deadline = time.monotonic() + timeout_s
        while self._pending:
            self._await(self._pending.popleft(), max(0.1, deadline - time.monotonic()))

    def _await(self, info: mqtt.MQTTMessageInfo, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        if info.rc == mqtt.MQTT_ERR_SUCCESS:
            info.wait_for_publish(timeout_s)
        # Published while the link was down: paho resends on reconnect but never clears that rc.
        while not info.is_published():
            if time.monotonic() > deadline:
                raise TimeoutError(f"no PUBACK for message {info.mid} within {timeout_s:.0f} s")
            self._connected.wait(0.05)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


def run_schedule(batches: Iterable[Batch], publisher: MqttPublisher, *, speedup: float,
                 stop: threading.Event) -> PublishStats:
    """Publish ``batches`` in time: batch at ``at_s`` goes out ``at_s / speedup`` wall seconds after start.

    ``speedup`` 0 means as fast as the broker acknowledges; ``stop`` ends the run early (signals).
    """
    stats = PublishStats()
    began = time.monotonic()
    for batch in batches:
        if speedup > 0:
            due = began + batch.at_s / speedup
            if stop.wait(max(0.0, due - time.monotonic())):
                break
            stats.max_lag_s = max(stats.max_lag_s, time.monotonic() - due)
        elif stop.is_set():
            break
        for message in batch.messages:
            publisher.publish(message)
            stats.payload_bytes += len(message.payload)
        stats.frames += batch.frames
        stats.robot_states += batch.robot_states
    stats.wall_s = time.monotonic() - began
    return stats
