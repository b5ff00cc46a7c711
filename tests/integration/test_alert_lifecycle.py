"""The alert lifecycle on the real services: escalation, joint worker-robot incidents, audit, timings."""

from __future__ import annotations

import json
import queue
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import orjson
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from gateway.runtime.ports import free_port
from tests.gateway_harness import Publisher, RunningGateway, now_rfc3339, running_gateway
from tests.helpers import wait_until

pytestmark = pytest.mark.integration


class Subscriber:
    """A plain MQTT client listening where robots and notifiers listen."""

    def __init__(self, host: str, port: int, topic: str) -> None:
        self.messages: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        self.ready = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.on_message = lambda _c, _u, m: self.messages.put((m.topic, orjson.loads(m.payload)))
        self.client.on_subscribe = lambda *_: self.ready.set()
        self.client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
        self.client.connect(host, port)
        self.client.loop_start()
        assert self.ready.wait(5)

    def next(self, timeout_s: float = 5.0) -> tuple[str, dict[str, Any]]:
        return self.messages.get(timeout=timeout_s)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


class Hook(BaseHTTPRequestHandler):
    received: queue.Queue[dict[str, Any]] = queue.Queue()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        Hook.received.put(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


def sos(device: str, seq: int, **extra: Any) -> dict[str, Any]:
    return {"v": 1, "device_id": device, "seq": seq, "ts": now_rfc3339(), "sos": True, **extra}


def test_an_unacknowledged_alert_climbs_the_sites_escalation_chain(broker, database_url, publisher: Publisher):
    port = free_port()
    server = HTTPServer(("127.0.0.1", port), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    notified = Subscriber(broker.host, broker.port, "vigie/v1/alerts/+/escalation")
    with running_gateway(broker.url, database_url, housekeeping_interval_s=0.2) as gateway:
        levels = [{"level": 1, "after_s": 1, "target": "site manager"},
                  {"level": 2, "after_s": 2, "target": "safety officer",
                   "webhook_url": f"http://127.0.0.1:{port}/hook"}]  # fmt: skip
        assert gateway.http.put("/api/v1/sites/paris/escalation", json={"levels": levels}).status_code == 200
        gateway.assign("wear-e1", "agent-e1")
        publisher.frame(sos("wear-e1", 1))
        topic, first = notified.next()
        assert topic == "vigie/v1/alerts/paris/escalation" and (first["level"], first["target"]) == (1, "site manager")
        hook = Hook.received.get(timeout=5)
        assert (hook["level"], hook["target"], hook["rule"]) == (2, "safety officer", "sos")
        alert = wait_until(lambda: [a for a in gateway.get("/api/v1/alerts")["items"] if a["escalation_level"] == 2], 5)
        events = [e["action"] for e in gateway.get(f"/api/v1/alerts/{alert[0]['alert_id']}/events")["items"]]
        assert events == ["raised", "escalated", "escalated"]
        with __import__("psycopg").connect(database_url) as conn:
            sent = conn.execute("SELECT channel, status FROM notifications ORDER BY id").fetchall()
        assert sent == [("mqtt", "sent"), ("mqtt", "sent"), ("webhook", "sent")]
    notified.close()
    server.shutdown()


def test_an_acknowledged_alert_does_not_escalate(broker, database_url, publisher: Publisher):
    with running_gateway(broker.url, database_url, housekeeping_interval_s=0.2) as gateway:
        gateway.http.put("/api/v1/sites/paris/escalation", json={"levels": [
            {"level": 1, "after_s": 2, "target": "site manager"}]}).raise_for_status()  # fmt: skip
        gateway.assign("wear-e2", "agent-e2")
        publisher.frame(sos("wear-e2", 1))
        alert = wait_until(lambda: gateway.get("/api/v1/alerts")["items"], 5)[0]
        gateway.http.post(f"/api/v1/alerts/{alert['alert_id']}/ack", json={"by": "Marc"}).raise_for_status()
        gateway.http.post(f"/api/v1/alerts/{alert['alert_id']}/comments",
                          json={"by": "Marc", "text": "on my way"}).raise_for_status()  # fmt: skip
        threading.Event().wait(3)
        got = gateway.get(f"/api/v1/alerts/{alert['alert_id']}")
        assert got["escalation_level"] == 0
        actions = [e["action"] for e in gateway.get(f"/api/v1/alerts/{alert['alert_id']}/events")["items"]]
        assert actions == ["raised", "acknowledged", "comment"]
        gateway.http.post(f"/api/v1/alerts/{alert['alert_id']}/resolve",
                          json={"by": "Marc", "reason": "help_dispatched"}).raise_for_status()  # fmt: skip
        day = datetime.now(UTC)
        stats = gateway.get("/api/v1/alerts/stats", **{"from": (day - timedelta(hours=1)).isoformat(),
                                                       "to": (day + timedelta(hours=1)).isoformat()})  # fmt: skip
        (site,) = stats["items"]
        assert site["site_id"] == "paris" and site["acknowledged"] == 1 and site["tta_p50_s"] > 0
        assert site["ttr_p95_s"] >= site["tta_p95_s"]


def test_a_worker_down_near_a_robot_is_one_incident_and_the_robot_is_paused_until_resolved(
    gateway: RunningGateway, publisher: Publisher, broker
):
    commands = Subscriber(broker.host, broker.port, "vigie/v1/robots/+/command")
    gateway.assign("wear-j1", "agent-j1")
    publisher.robot({"v": 1, "robot_id": "robot-j1", "seq": 1, "ts": now_rfc3339(), "kind": "follower",
                     "pose": {"x_m": 1.0, "y_m": 2.0, "lat": 48.85001, "lon": 2.35001}, "payload_kg": 80.0,
                     "speed_ms": 1.2, "mode": "follow"})  # fmt: skip
    wait_until(lambda: gateway.get("/api/v1/robots")["items"], 5)
    publisher.frame(sos("wear-j1", 1, gps={"lat": 48.85, "lon": 2.35, "acc_m": 3.0}))
    topic, command = commands.next()
    alert = gateway.get("/api/v1/alerts")["items"][0]
    assert topic == "vigie/v1/robots/robot-j1/command"
    assert command == {"cmd": "pause", "reason": "sos", "alert_id": alert["alert_id"]}
    assert alert["robot_id"] == "robot-j1" and alert["robot_state"]["payload_kg"] == 80.0
    assert alert["details"]["robot_distance_m"] < 3
    gateway.http.post(f"/api/v1/alerts/{alert['alert_id']}/resolve",
                      json={"by": "Inès", "reason": "real_incident"}).raise_for_status()  # fmt: skip
    topic, command = commands.next()
    assert command["cmd"] == "resume" and command["alert_id"] == alert["alert_id"]
    commands.close()


def test_escalation_timing_follows_the_injected_clock(broker, database_url, publisher: Publisher):
    """The default chain (120 s site manager, 300 s safety officer), driven by a clock the test controls."""
    import psycopg

    from gateway.db import escalation_store

    with running_gateway(broker.url, database_url, housekeeping_interval_s=60) as gateway:
        gateway.assign("wear-e3", "agent-e3")
        publisher.frame(sos("wear-e3", 1))
        alert = wait_until(lambda: gateway.get("/api/v1/alerts")["items"], 5)[0]
    raised = datetime.fromisoformat(alert["raised_at"])
    with psycopg.connect(database_url) as conn:
        assert escalation_store.escalate_due(conn, raised + timedelta(seconds=119)) == 0
        assert escalation_store.escalate_due(conn, raised + timedelta(seconds=120)) == 1
        assert escalation_store.escalate_due(conn, raised + timedelta(seconds=200)) == 0
        assert escalation_store.escalate_due(conn, raised + timedelta(seconds=300)) == 1
        assert escalation_store.escalate_due(conn, raised + timedelta(hours=2)) == 0
        levels = conn.execute("SELECT level, target FROM notifications ORDER BY id").fetchall()
    assert levels == [(1, "vigie/v1/alerts/paris/escalation"), (2, "vigie/v1/alerts/paris/escalation")]
