"""The ingest side of MQTT: a paho client that only enqueues, and acknowledges after storage.

Why manual acknowledgement: with QoS 1 the broker keeps a message until the client sends PUBACK
(MQTT 5 §4.3.2). Acknowledging only after the database commit means a crash at any point loses nothing:
the broker redelivers what was not acknowledged, and idempotent writes make the redelivery harmless.
The broker also stops sending once ``receive_maximum`` messages are unacknowledged (§4.9), which is the
back-pressure that keeps the in-memory queue bounded when the database is slow or down.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from gateway import metrics
from gateway.mqtt import topics
from gateway.settings import Settings

log = logging.getLogger(__name__)

SESSION_EXPIRY_S = 7 * 24 * 3600  # keep our queue at the broker through a week-end outage
RECEIVE_MAXIMUM = 10_000


@dataclass(frozen=True, slots=True)
class Incoming:
    """A message as received: enough to process it and, later, to acknowledge it on the same session."""

    topic: str
    payload: bytes
    mid: int
    qos: int
    generation: int
    received_at: datetime


class IngestClient:
    """Subscribes (in ``on_connect``, so every reconnect resubscribes) and enqueues; nothing else."""

    def __init__(self, settings: Settings, inbox: queue.Queue[Incoming]) -> None:
        self._settings = settings
        self._inbox = inbox
        self._generation = 0
        self._lock = threading.Lock()
        self.connected = threading.Event()
        self.backpressure = 0  # times a full inbox held the broker back (see _enqueue)
        # Forwarded messages awaiting the broker's PUBACK: our publish mid → (received mid, qos, generation).
        self._forwarding: dict[int, tuple[int, int, int]] = {}
        endpoint = settings.mqtt
        self._client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=settings.mqtt_client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        if endpoint.username:
            self._client.username_pw_set(endpoint.username, endpoint.password)
        if endpoint.tls:  # the broker's certificate is verified (hostname included) against this CA
            self._client.tls_set(ca_certs=str(settings.mqtt_ca_file) if settings.mqtt_ca_file else None)
        self._client.max_queued_messages_set(0)
        self._client.max_inflight_messages_set(1000)  # forwarding between partitions must not crawl at 20
        self._client.reconnect_delay_set(min_delay=1, max_delay=10)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.on_publish = self._on_publish

    @property
    def generation(self) -> int:
        """Increases at each new connection: message ids of an older connection must not be acked."""
        with self._lock:
            return self._generation

    def start(self) -> None:
        endpoint = self._settings.mqtt
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = SESSION_EXPIRY_S
        props.ReceiveMaximum = RECEIVE_MAXIMUM
        self._client.connect_async(endpoint.host, endpoint.port, keepalive=30, clean_start=False,
                                   properties=props)  # fmt: skip
        self._client.loop_start()

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def ack(self, message: Incoming) -> None:
        if message.qos == 0 or message.generation != self.generation:
            return  # an older session's message will be redelivered; its duplicate is ignored on write
        self._client.ack(message.mid, message.qos)

    def publish(self, topic: str, payload: bytes, timeout_s: float = 2.0) -> bool:
        """Publish at QoS 1 and wait for the broker's PUBACK: True once the broker has the message."""
        if not self.connected.is_set():
            return False
        info = self._client.publish(topic, payload, qos=1)
        try:
            info.wait_for_publish(timeout_s)
        except (RuntimeError, ValueError):
            return False
        return info.is_published()

    def _on_connect(self, client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any) -> None:
        if reason.is_failure:
            log.error("MQTT connection refused: %s", reason)
            return
        with self._lock:
            self._generation += 1
            self._forwarding.clear()  # their originals come back unacknowledged on this session
        client.subscribe([(f, SubscribeOptions(qos=1)) for f in self._filters()])
        self.connected.set()
        endpoint = self._settings.mqtt  # never log the URL itself: it may carry the password
        log.info("MQTT connected to %s:%d as %s (session generation %d)", endpoint.host, endpoint.port,
                 endpoint.username or "anonymous", self.generation)  # fmt: skip

    def _on_disconnect(self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any) -> None:
        self.connected.clear()
        log.warning("MQTT disconnected: %s", reason)

    def _filters(self) -> list[str]:
        settings = self._settings
        group = settings.share_group
        if settings.ingest_partitions == 1:
            return [topics.shared(f, group) for f in topics.SUBSCRIPTIONS]
        # Statuses are retained (a device's Last Will): a shared subscription gets no retained message (MQTT 5
        # §4.8.2), so every worker reads them all and keeps its own; frames and robot states are shared.
        return [topics.shared(topics.FRAME_FILTER, group), topics.shared(topics.ROBOT_STATE_FILTER, group),
                topics.STATUS_FILTER, topics.partition_filter(settings.ingest_partition)]  # fmt: skip

    def _on_message(self, client: mqtt.Client, _userdata: Any, msg: mqtt.MQTTMessage) -> None:
        inner = topics.from_partition(msg.topic)
        if inner is not None:  # handed over by another worker: ours
            self._enqueue(inner, msg)
            return
        partitions = self._settings.ingest_partitions
        parsed = topics.parse(msg.topic) if partitions > 1 else None
        if parsed is not None:
            owner = topics.owner(parsed.subject_id, partitions)
            if owner != self._settings.ingest_partition:
                if parsed.kind is topics.TopicKind.STATUS:
                    client.ack(msg.mid, msg.qos)  # not shared: the owner has its own copy
                else:
                    self._forward(client, owner, msg)
                return
        self._enqueue(msg.topic, msg)

    def _forward(self, client: mqtt.Client, owner: int, msg: mqtt.MQTTMessage) -> None:
        """Hands a message to its owner; the original is acknowledged only once the broker holds the copy.

        A crash in between leaves the original unacknowledged: the broker redelivers it and the owner stores
        the copy it may already have once (idempotent writes), so nothing is lost either way.
        """
        generation = self.generation
        info = client.publish(topics.to_partition(owner, msg.topic), msg.payload, qos=1)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            return  # left unacknowledged: back on the next session
        with self._lock:
            self._forwarding[info.mid] = (msg.mid, msg.qos, generation)
        metrics.FORWARDED.labels(str(owner)).inc()

    def _on_publish(self, client: mqtt.Client, _userdata: Any, mid: int, reason: Any, _props: Any) -> None:
        generation = self.generation
        with self._lock:
            original = self._forwarding.pop(mid, None)
        if original is None:
            return  # one of publish()'s messages: its caller waits on it
        if reason.is_failure:
            log.error("forwarding refused by the broker (%s): is the internal topic in the gateway's ACL?", reason)
            return  # unacknowledged: redelivered on the next session
        received_mid, qos, received_generation = original
        if received_generation == generation:
            client.ack(received_mid, qos)

    def _enqueue(self, topic: str, msg: mqtt.MQTTMessage) -> None:
        item = Incoming(topic, bytes(msg.payload), msg.mid, msg.qos, self.generation, datetime.now(UTC))
        # Our Receive Maximum should keep the broker from sending more than the queue holds, but Mosquitto 2.0.11
        # was measured sending past it (46,000 unacknowledged messages for a Receive Maximum of 10,000). A full
        # queue therefore blocks this network thread: the socket stops being read and TCP holds the broker back.
        # Dropping the message instead would strand it unacknowledged until the next session. No deadlock: the
        # worker drains the queue without this thread (its acknowledgements are only queued for it).
        if self._inbox.full():
            self.backpressure += 1
        self._inbox.put(item)
