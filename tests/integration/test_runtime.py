"""The private services start for real, keep QoS 1 messages, and fail with actionable errors."""

from __future__ import annotations

import queue
import shutil
import tempfile
import threading
import uuid
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import psycopg
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from gateway.runtime.errors import ServiceStartError
from gateway.runtime.mosquitto import MosquittoBroker
from gateway.runtime.ports import free_port, port_accepts
from gateway.runtime.postgres import PostgresCluster

pytestmark = pytest.mark.integration

WAIT_S = 5.0


class Subscriber:
    """A paho v5 client whose callbacks only hand over to the test thread (events and a queue)."""

    def __init__(self, broker: MosquittoBroker, client_id: str) -> None:
        self.broker = broker
        self.received: queue.Queue[bytes] = queue.Queue()
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self.session_present: bool | None = None
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=MQTTProtocolVersion.MQTTv5)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *_args: self.subscribed.set()
        self.client.on_message = lambda _c, _u, msg: self.received.put(bytes(msg.payload))

    def _on_connect(
        self,
        _client: mqtt.Client,
        _userdata: Any,
        flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        assert not reason_code.is_failure, reason_code
        self.session_present = flags.session_present
        self.connected.set()

    def connect(self, *, clean_start: bool = True, session_expiry_s: int = 0) -> None:
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        # MQTT 5.0 §3.1.2.11.2: the broker keeps the session (subscriptions, queued QoS 1
        # messages) this long after the network connection closes.
        properties.SessionExpiryInterval = session_expiry_s
        self.connected.clear()
        self.client.connect(self.broker.host, self.broker.port, clean_start=clean_start, properties=properties)
        self.client.loop_start()
        assert self.connected.wait(WAIT_S), "no CONNACK"

    def subscribe(self, topic: str) -> None:
        self.client.subscribe(topic, qos=1)
        assert self.subscribed.wait(WAIT_S), "no SUBACK"

    def disconnect(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def take(self, count: int) -> list[bytes]:
        return [self.received.get(timeout=WAIT_S) for _ in range(count)]


def publish_qos1(broker: MosquittoBroker, topic: str, payloads: list[bytes]) -> None:
    """Publish and wait for every PUBACK, so the broker has taken responsibility for each message."""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:8]}", protocol=MQTTProtocolVersion.MQTTv5
    )
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        for info in [client.publish(topic, payload, qos=1) for payload in payloads]:
            info.wait_for_publish(timeout=WAIT_S)
            assert info.is_published()
    finally:
        client.disconnect()
        client.loop_stop()


def test_broker_delivers_a_qos1_message_from_one_client_to_another(mqtt_broker: MosquittoBroker) -> None:
    topic = f"vigie-test/{uuid.uuid4().hex}/frames"
    subscriber = Subscriber(mqtt_broker, f"sub-{uuid.uuid4().hex[:8]}")
    subscriber.connect()
    subscriber.subscribe(topic)
    try:
        publish_qos1(mqtt_broker, topic, [b'{"seq": 1}'])
        assert subscriber.take(1) == [b'{"seq": 1}']
    finally:
        subscriber.disconnect()


def test_offline_persistent_session_gets_every_message_after_a_broker_restart(tmp_path: Path) -> None:
    topic = f"vigie-test/{uuid.uuid4().hex}/frames"
    payloads = [f'{{"seq": {n}}}'.encode() for n in range(50)]
    with MosquittoBroker(tmp_path / "mosquitto", free_port()) as broker:
        subscriber = Subscriber(broker, f"gateway-{uuid.uuid4().hex[:8]}")
        subscriber.connect(clean_start=False, session_expiry_s=600)
        subscriber.subscribe(topic)
        subscriber.disconnect()

        publish_qos1(broker, topic, payloads)
        broker.restart()

        subscriber.connect(clean_start=False, session_expiry_s=600)
        try:
            assert subscriber.session_present is True
            assert sorted(subscriber.take(len(payloads))) == sorted(payloads)
        finally:
            subscriber.disconnect()


def test_killed_broker_can_be_started_again(tmp_path: Path) -> None:
    broker = MosquittoBroker(tmp_path / "mosquitto", free_port())
    broker.start()
    broker.kill()
    assert not broker.is_running
    assert not port_accepts(broker.host, broker.port)
    with broker:
        assert port_accepts(broker.host, broker.port)


def test_cluster_runs_timescaledb_hypertables(pg_cluster: PostgresCluster) -> None:
    name = f"test_{uuid.uuid4().hex}"
    assert pg_cluster.ensure_database(name) is True
    assert pg_cluster.ensure_database(name) is False
    with psycopg.connect(pg_cluster.url(name), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
        conn.execute("CREATE TABLE readings (ts timestamptz NOT NULL, laeq_db double precision)")
        conn.execute("SELECT create_hypertable('readings', 'ts')")
        conn.execute("INSERT INTO readings VALUES ('2026-11-26T08:00:00Z', 80), ('2026-11-26T08:00:30Z', 90)")
        row = conn.execute("SELECT time_bucket('1 minute', ts), count(*) FROM readings GROUP BY 1").fetchone()
        assert row is not None and row[1] == 2
        conn.execute("DROP TABLE readings")  # leaves the database free to drop below
    with psycopg.connect(pg_cluster.url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def test_each_test_gets_a_fresh_migrated_database(database_url: str, template_database: str) -> None:
    assert not database_url.endswith(f"/{template_database}")
    with psycopg.connect(database_url) as conn:
        versions = [row[0] for row in conn.execute("SELECT version FROM schema_migrations")]
        assert versions, "the clone should carry the template's migrations"
        extension = conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'").fetchone()
        assert extension is not None


def test_killed_cluster_starts_again_over_its_stale_lock_files() -> None:
    # In /tmp, not tmp_path: as root the server runs as `postgres`, which cannot enter 0700 dirs.
    base = Path(tempfile.mkdtemp(prefix="vigie-test-pg-"))
    base.chmod(0o711)
    cluster = PostgresCluster(base / "data", free_port(), fast_unsafe=True)
    try:
        cluster.start()
        cluster.kill()
        assert not cluster.is_running
        assert cluster.pid_file.exists()
        with cluster, psycopg.connect(cluster.url("postgres")) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        cluster.kill()
        shutil.rmtree(base, ignore_errors=True)


def test_starting_on_a_port_in_use_names_the_port(
    tmp_path: Path, mqtt_broker: MosquittoBroker, pg_cluster: PostgresCluster
) -> None:
    with pytest.raises(ServiceStartError, match=f"port {mqtt_broker.port} is already in use"):
        MosquittoBroker(tmp_path / "second-broker", mqtt_broker.port).start()
    with pytest.raises(ServiceStartError, match=f"port {pg_cluster.port} is already in use"):
        PostgresCluster(tmp_path / "second-cluster" / "data", pg_cluster.port).start()
