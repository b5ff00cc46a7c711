"""The load generator's raw MQTT 5 publisher against the real Mosquitto, read back by a paho subscriber."""

from __future__ import annotations

import queue
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import orjson
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from benchmarks.load import payloads, rawmqtt
from gateway.mqtt.accounts import AccountKind, BrokerAuthFiles, MqttAccount, mosquitto_hash
from gateway.runtime.mosquitto import MosquittoBroker
from gateway.runtime.ports import free_port
from tests.helpers import wait_until

pytestmark = pytest.mark.integration
WEARABLE_PASSWORD = "pw-" + uuid.uuid4().hex


class Subscriber:
    """A paho MQTT 5 client that queues every message it receives on ``topic``."""

    def __init__(self, broker: MosquittoBroker, topic: str) -> None:
        self.messages: queue.Queue[tuple[str, bytes]] = queue.Queue()
        subscribed: queue.Queue[bool] = queue.Queue()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"sub-{uuid.uuid4().hex[:8]}",
                                  protocol=mqtt.MQTTv5)  # fmt: skip
        self.client.on_message = lambda _c, _u, msg: self.messages.put((msg.topic, bytes(msg.payload)))
        self.client.on_subscribe = lambda _c, _u, _mid, _codes, _p: subscribed.put(True)
        self.client.on_connect = lambda c, _u, _f, _r, _p: c.subscribe(topic, qos=1)
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        subscribed.get(timeout=5)

    def drain(self, until_topic: str, timeout_s: float = 30) -> list[tuple[str, bytes]]:
        """Every message up to and including the first on ``until_topic`` (MQTT keeps one publisher's order)."""
        got = []
        deadline = time.monotonic() + timeout_s
        while True:
            message = self.messages.get(timeout=max(0.1, deadline - time.monotonic()))
            got.append(message)
            if message[0] == until_topic:
                return got

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def subscriber(broker: MosquittoBroker) -> Iterator[Subscriber]:
    sub = Subscriber(broker, "bench/raw/#")
    yield sub
    sub.close()


@pytest.fixture
def secured_broker(tmp_path: Path) -> Iterator[MosquittoBroker]:
    auth = BrokerAuthFiles(tmp_path / "auth")
    auth.write([MqttAccount("wear-a", AccountKind.WEARABLE, mosquitto_hash(WEARABLE_PASSWORD))])
    with MosquittoBroker(tmp_path / "mosquitto", free_port(), auth=auth) as broker:
        yield broker


def test_more_qos1_messages_than_the_window_arrive_once_each_and_intact(broker, subscriber):
    publisher = rawmqtt.Publisher(broker.host, broker.port, f"raw-{uuid.uuid4().hex[:8]}")
    # Mosquitto's Receive Maximum (its max_inflight_messages, gateway/runtime/mosquitto.py), not 65,535: more
    # messages than that make the publisher reuse packet ids as PUBACKs free them.
    assert publisher.window == 10_000
    total = 12_000
    device = payloads.device_id(3)
    template = payloads.wearable_template(device, 3)
    packet = publisher.template("bench/raw/frames", template)
    ts = payloads.rfc3339_ms(1_800_000_000).encode()
    sent = {}
    for k in range(total):
        seq = payloads.wearable_seq(1_800_000_000 + k)
        if k % 1000 == 999:  # some through the generic encoder, as the probes go
            publisher.publish("bench/raw/frames", template.render(seq, ts))
        else:
            publisher.publish_template(packet, str(seq).encode(), ts)
        sent[seq] = template.render(seq, ts)
    publisher.publish("bench/raw/end", b"end")
    assert publisher.wait_acked(30)
    # 5,001 messages through 1,000 packet identifiers: each was reused once its PUBACK freed it (§2.2.1).
    assert publisher.sent == publisher.acked == total + 1 and publisher.failed == 0
    publisher.close()

    got = subscriber.drain("bench/raw/end")[:-1]
    assert len(got) == total
    by_seq = {orjson.loads(body)["seq"]: body for _, body in got}
    assert len(by_seq) == total, "a message arrived twice"
    assert by_seq == sent  # every byte of every payload, with its own seq
    assert {topic for topic, _ in got} == {"bench/raw/frames"}


def test_a_wrong_password_is_refused_with_the_reason_code(secured_broker):
    with pytest.raises(rawmqtt.ConnectRefused, match=r"CONNACK 0x8[67] (Not authorized|Bad User Name or Password)"):
        rawmqtt.Publisher(secured_broker.host, secured_broker.port, "wear-a", "wear-a", "not-" + WEARABLE_PASSWORD)
    publisher = rawmqtt.Publisher(secured_broker.host, secured_broker.port, "wear-a", "wear-a", WEARABLE_PASSWORD)
    publisher.close()


def test_a_publish_the_acl_forbids_is_counted_as_a_failure(secured_broker):
    publisher = rawmqtt.Publisher(secured_broker.host, secured_broker.port, "wear-a", "wear-a", WEARABLE_PASSWORD)
    publisher.publish("vigie/v1/wearables/wear-a/frame", b"{}")
    publisher.publish("vigie/v1/wearables/wear-b/frame", b"{}")  # someone else's topic
    assert publisher.wait_acked(10)
    assert (publisher.acked, publisher.failed, dict(publisher.failures)) == (2, 1, {0x87: 1})
    assert publisher.failure_summary() == "1 PUBACKs refused: 0x87 Not authorized ×1"
    # Mosquitto 2.0 then closes the connection: the next publish says so instead of vanishing.
    wait_until(lambda: publisher.flush() or publisher.closed, 5)
    with pytest.raises(rawmqtt.ConnectionLost, match="closed the connection"):
        publisher.publish("vigie/v1/wearables/wear-a/frame", b"{}")
    publisher.close()


def test_an_idle_connection_pings_at_half_its_keep_alive(broker):
    publisher = rawmqtt.Publisher(broker.host, broker.port, f"raw-{uuid.uuid4().hex[:8]}", keepalive_s=1)
    wait_until(lambda: publisher.flush() or publisher.pongs >= 2, 5)
    assert publisher.pings >= 2 and publisher.closed is None
    publisher.close()
