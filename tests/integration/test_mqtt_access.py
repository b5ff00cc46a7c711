"""MQTT access control on a real Mosquitto: per-account passwords and an ACL rendered from the accounts table."""

from __future__ import annotations

import os
import queue
import ssl
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import orjson
import paho.mqtt.client as mqtt
import psycopg
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from gateway.db import mqtt_accounts
from gateway.mqtt.accounts import AccountKind, BrokerAuthFiles
from gateway.runtime.mosquitto import MosquittoBroker
from gateway.runtime.ports import free_port
from gateway.runtime.tls import self_signed
from tests.gateway_harness import running_gateway
from tests.helpers import wait_until

pytestmark = pytest.mark.integration


class Client:
    """A paho client that records whether it connected and every message it received."""

    def __init__(self, broker: MosquittoBroker, username: str | None, password: str | None) -> None:
        self.messages: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.connack: queue.Queue[bool] = queue.Queue()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"t-{uuid.uuid4().hex[:8]}",
                                  protocol=mqtt.MQTTv5)  # fmt: skip
        if username is not None:
            self.client.username_pw_set(username, password)
        self.client.on_connect = lambda _c, _u, _f, reason, _p: self.connack.put(not reason.is_failure)
        self.client.on_message = lambda _c, _u, msg: self.messages.put((msg.topic, bytes(msg.payload)))
        self.pubacks: queue.Queue[str] = queue.Queue()
        self.client.on_publish = lambda _c, _u, _mid, reason, _p: self.pubacks.put(str(reason))
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        self.accepted = self.connack.get(timeout=5)

    def publish(self, topic: str, payload: bytes = b"{}") -> str:
        """Publish at QoS 1 and return the broker's PUBACK reason ("Success", "Not authorized", ...).

        Mosquitto 2.0 answers a publish its ACL denies with "Not authorized" and then closes the connection.
        """
        self.client.publish(topic, payload, qos=1)
        return self.pubacks.get(timeout=5)

    def subscribe(self, topic: str) -> None:
        result, _ = self.client.subscribe(topic, qos=1)
        assert result == mqtt.MQTT_ERR_SUCCESS

    def received(self, timeout_s: float = 1.0) -> list[str]:
        topics = []
        try:
            while True:
                topics.append(self.messages.get(timeout=timeout_s)[0])
                timeout_s = 0.2
        except queue.Empty:
            return topics

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def accounts(database_url: str) -> dict[str, str]:
    wanted = {"vigie-gateway": AccountKind.GATEWAY, "wear-a": AccountKind.WEARABLE, "wear-b": AccountKind.WEARABLE,
              "robot-a": AccountKind.ROBOT}  # fmt: skip
    with psycopg.connect(database_url) as conn:
        return {name: mqtt_accounts.issue_sync(conn, name, kind) for name, kind in wanted.items()}


@pytest.fixture
def secured_broker(tmp_path: Path, database_url: str, accounts: dict[str, str]) -> Iterator[MosquittoBroker]:
    auth = BrokerAuthFiles(tmp_path / "auth")
    with psycopg.connect(database_url) as conn:
        auth.write(mqtt_accounts.active_sync(conn))
    with MosquittoBroker(tmp_path / "mosquitto", free_port(), auth=auth) as broker:
        yield broker


@pytest.fixture
def clients(secured_broker: MosquittoBroker) -> Iterator[list[Client]]:
    opened: list[Client] = []
    yield opened
    for client in opened:
        client.close()


def connect(broker: MosquittoBroker, clients: list[Client], username: str | None, password: str | None) -> Client:
    client = Client(broker, username, password)
    clients.append(client)
    return client


def test_anonymous_and_wrong_password_clients_are_refused(secured_broker, accounts, clients):
    assert not connect(secured_broker, clients, None, None).accepted
    assert not connect(secured_broker, clients, "wear-a", accounts["wear-b"]).accepted
    assert connect(secured_broker, clients, "wear-a", accounts["wear-a"]).accepted


def test_a_wearable_can_publish_only_under_its_own_id(secured_broker, accounts, clients):
    gateway = connect(secured_broker, clients, "vigie-gateway", accounts["vigie-gateway"])
    gateway.subscribe("vigie/v1/#")
    # Someone else's topic, and a robot's topic family even under its own id: refused by the broker.
    for denied in ("vigie/v1/wearables/wear-b/frame", "vigie/v1/robots/wear-a/state"):
        assert connect(secured_broker, clients, "wear-a", accounts["wear-a"]).publish(denied) == "Not authorized"
    wearable = connect(secured_broker, clients, "wear-a", accounts["wear-a"])
    assert wearable.publish("vigie/v1/wearables/wear-a/frame") != "Not authorized"
    assert wearable.publish("vigie/v1/wearables/wear-a/status") != "Not authorized"
    assert gateway.received() == ["vigie/v1/wearables/wear-a/frame", "vigie/v1/wearables/wear-a/status"]


def test_a_robot_reads_only_its_own_commands_and_cannot_send_frames(secured_broker, accounts, clients):
    gateway = connect(secured_broker, clients, "vigie-gateway", accounts["vigie-gateway"])
    gateway.subscribe("vigie/v1/#")
    assert connect(secured_broker, clients, "robot-a", accounts["robot-a"]).publish(
        "vigie/v1/wearables/robot-a/frame") == "Not authorized"  # fmt: skip
    robot = connect(secured_broker, clients, "robot-a", accounts["robot-a"])
    robot.subscribe("vigie/v1/robots/+/command")
    assert robot.publish("vigie/v1/robots/robot-a/state") != "Not authorized"
    assert gateway.received() == ["vigie/v1/robots/robot-a/state"]
    gateway.publish("vigie/v1/robots/robot-b/command", b'{"command": "pause"}')
    gateway.publish("vigie/v1/robots/robot-a/command", b'{"command": "pause"}')
    assert robot.received() == ["vigie/v1/robots/robot-a/command"]


def test_a_device_cannot_read_other_devices_frames(secured_broker, accounts, clients):
    spy = connect(secured_broker, clients, "wear-b", accounts["wear-b"])
    spy.subscribe("vigie/v1/#")
    connect(secured_broker, clients, "wear-a", accounts["wear-a"]).publish("vigie/v1/wearables/wear-a/frame")
    assert spy.received() == []


def test_credentials_issued_through_the_api_work_at_once_and_stop_working_when_revoked(
    secured_broker, accounts, clients, database_url
):
    gateway_url = f"mqtt://vigie-gateway:{accounts['vigie-gateway']}@{secured_broker.host}:{secured_broker.port}"
    assert secured_broker.auth is not None
    with running_gateway(gateway_url, database_url, mqtt_auth_dir=secured_broker.auth.directory,
                         mqtt_broker_pid_file=secured_broker.pid_file) as gateway:  # fmt: skip
        issued = gateway.http.post("/api/v1/devices/wear-new/mqtt-credentials")
        assert issued.status_code == 201, issued.text
        body = issued.json()
        assert body["username"] == "wear-new" and body["broker_reloaded"] is True
        password = body["password"]
        files = secured_broker.auth.password_file.read_text() + secured_broker.auth.acl_file.read_text()
        assert password not in files  # only its hash is kept

        # The broker re-reads its files on SIGHUP, asynchronously: the new device gets in shortly after.
        def connects() -> bool:
            client = Client(secured_broker, "wear-new", password)
            client.close()
            return client.accepted

        wait_until(connects, 5)
        device = connect(secured_broker, clients, "wear-new", password)
        frame = {"v": 1, "device_id": "wear-new", "seq": 1, "ts": "2026-11-26T10:00:00Z", "hr_bpm": 88}
        device.publish("vigie/v1/wearables/wear-new/frame", orjson.dumps(frame))
        wait_until(lambda: gateway.get("/api/v1/frames", device_id="wear-new")["items"], 5)

        assert gateway.http.post("/api/v1/robots/wear-new/mqtt-credentials").status_code == 409  # a wearable's name
        assert gateway.http.delete("/api/v1/devices/wear-new/mqtt-credentials").status_code == 204
        wait_until(lambda: not connects(), 5)
        assert gateway.http.delete("/api/v1/devices/wear-new/mqtt-credentials").status_code == 404


def test_the_sync_command_writes_files_a_deployment_broker_accepts(tmp_path, database_url, clients):
    # What docker-compose's mqtt-init job runs: service passwords from the environment, files from the table.
    env = {**os.environ, "VIGIE_MQTT_GATEWAY_PASSWORD": "gw-" + uuid.uuid4().hex,
           "VIGIE_MQTT_MONITOR_PASSWORD": "mon-" + uuid.uuid4().hex}  # fmt: skip
    argv = [sys.executable, "-m", "gateway.cli", "mqtt-accounts", "sync", "--dir", str(tmp_path / "auth"),
            "--database-url", database_url]  # fmt: skip
    done = subprocess.run(argv, env=env, capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr.decode()
    with MosquittoBroker(tmp_path / "broker", free_port(), auth=BrokerAuthFiles(tmp_path / "auth")) as broker:
        monitor = connect(broker, clients, "vigie-monitor", env["VIGIE_MQTT_MONITOR_PASSWORD"])
        assert monitor.accepted
        monitor.subscribe("vigie/v1/#")
        gateway = connect(broker, clients, "vigie-gateway", env["VIGIE_MQTT_GATEWAY_PASSWORD"])
        assert gateway.publish("vigie/v1/robots/r1/command") != "Not authorized"
        assert monitor.received() == ["vigie/v1/robots/r1/command"]
        assert monitor.publish("vigie/v1/robots/r1/command") == "Not authorized"  # read-only


def test_devices_and_the_gateway_can_use_mqtt_over_tls_verified_against_the_ca(tmp_path, database_url, accounts):
    tls = self_signed(tmp_path / "tls")
    auth = BrokerAuthFiles(tmp_path / "auth")
    with psycopg.connect(database_url) as conn:
        auth.write(mqtt_accounts.active_sync(conn))
    broker = MosquittoBroker(tmp_path / "mosquitto", free_port(), auth=auth, tls=tls, tls_port=free_port())
    with broker:
        gateway_url = f"mqtts://vigie-gateway:{accounts['vigie-gateway']}@localhost:{broker.tls_port}"
        with running_gateway(gateway_url, database_url, mqtt_ca_file=tls.ca_file) as gateway:
            device = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="tls-device", protocol=mqtt.MQTTv5)
            device.username_pw_set("wear-a", accounts["wear-a"])
            device.tls_set(ca_certs=str(tls.ca_file))
            device.connect("localhost", broker.tls_port)
            device.loop_start()
            frame = {"v": 1, "device_id": "wear-a", "seq": 1, "ts": "2026-11-26T10:00:00Z", "hr_bpm": 77}
            device.publish("vigie/v1/wearables/wear-a/frame", orjson.dumps(frame), qos=1).wait_for_publish(5)
            device.disconnect()
            device.loop_stop()
            items = wait_until(lambda: gateway.get("/api/v1/frames", device_id="wear-a")["items"], 10)
            assert items[0]["hr_bpm"] == 77

        # A client that does not trust this CA gets no session (the certificate is verified).
        stranger = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="tls-stranger", protocol=mqtt.MQTTv5)
        stranger.username_pw_set("wear-a", accounts["wear-a"])
        stranger.tls_set(ca_certs=certifi_like_empty_ca(tmp_path))
        with pytest.raises(ssl.SSLError):
            stranger.connect("localhost", broker.tls_port)


def certifi_like_empty_ca(tmp_path: Path) -> str:
    """A CA file holding another, unrelated CA: what a client trusting only public CAs amounts to here."""
    other = self_signed(tmp_path / "other-ca")
    return str(other.ca_file)
