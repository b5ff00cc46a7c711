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
        self.dropped = 0
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
        self._client.reconnect_delay_set(min_delay=1, max_delay=10)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message

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
        group = self._settings.mqtt_share_group
        client.subscribe([(topics.shared(f, group), SubscribeOptions(qos=1)) for f in topics.SUBSCRIPTIONS])
        self.connected.set()
        endpoint = self._settings.mqtt  # never log the URL itself: it may carry the password
        log.info("MQTT connected to %s:%d as %s (session generation %d)", endpoint.host, endpoint.port,
                 endpoint.username or "anonymous", self.generation)  # fmt: skip

    def _on_disconnect(self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any) -> None:
        self.connected.clear()
        log.warning("MQTT disconnected: %s", reason)

    def _on_message(self, _client: mqtt.Client, _userdata: Any, msg: mqtt.MQTTMessage) -> None:
        item = Incoming(msg.topic, bytes(msg.payload), msg.mid, msg.qos, self.generation, datetime.now(UTC))
        try:
            self._inbox.put_nowait(item)
        except queue.Full:
            # Cannot happen while the queue is larger than RECEIVE_MAXIMUM; if it does, the message stays
            # unacknowledged at the broker and comes back on the next session.
            self.dropped += 1
