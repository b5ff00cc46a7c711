"""Frames through the real Mosquitto into the real TimescaleDB, through the real gateway."""

from __future__ import annotations

import subprocess
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import psycopg
import pytest
from websockets.sync.client import connect as ws_connect

from gateway.ingest import IngestPipeline
from gateway.mqtt.client import Incoming
from tests.gateway_harness import Publisher, RunningGateway, now_rfc3339, running_gateway
from tests.helpers import wait_until

pytestmark = pytest.mark.integration


def frame(device: str, seq: int, ts: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"v": 1, "device_id": device, "seq": seq, "ts": ts or now_rfc3339(), **extra}


def count(url: str, sql: str, *params: object) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(sql, params).fetchone()
    assert row is not None
    return int(row[0])


def test_frames_are_stored_exactly_once_per_sequence_number(gateway: RunningGateway, publisher: Publisher):
    url = gateway.settings.database_url
    gateway.assign("wear-1", "agent-1")
    base = datetime.now(UTC) - timedelta(seconds=60)
    for seq in range(50):
        ts = (base + timedelta(seconds=seq)).isoformat().replace("+00:00", "Z")
        publisher.frame(frame("wear-1", seq, ts, hr_bpm=90 + seq % 5))
        if seq % 10 == 0:  # a device resending after a lost PUBACK
            publisher.frame(frame("wear-1", seq, ts, hr_bpm=90 + seq % 5))
    wait_until(lambda: count(url, "SELECT count(*) FROM frames WHERE device_id = 'wear-1'") == 50, 5)
    time.sleep(0.3)  # duplicates, had they been stored, would have arrived by now
    assert count(url, "SELECT count(*) FROM frames WHERE device_id = 'wear-1'") == 50
    assert count(url, "SELECT count(DISTINCT agent_id) FROM frames WHERE agent_id = 'agent-1'") == 1


def test_a_frame_sent_with_the_stock_mosquitto_pub_client_is_stored(gateway: RunningGateway, broker):
    payload = orjson.dumps(frame("wear-cli", 1, hr_bpm=101, battery_pct=64)).decode()
    subprocess.run(["mosquitto_pub", "-h", broker.host, "-p", str(broker.port), "-q", "1",
                    "-t", "vigie/v1/wearables/wear-cli/frame", "-m", payload], check=True, timeout=10)  # fmt: skip
    items = wait_until(lambda: gateway.get("/api/v1/frames", device_id="wear-cli")["items"], 5)
    assert items[0]["hr_bpm"] == 101 and items[0]["battery_pct"] == 64
    assert items[0]["agent_id"] is None  # nobody was assigned this device: stored, not lost


def test_malformed_payloads_land_in_dead_letter_while_good_frames_around_them_are_stored(
    gateway: RunningGateway, publisher: Publisher
):
    url = gateway.settings.database_url
    ts = now_rfc3339()
    bad: list[tuple[str, bytes, str]] = [
        ("vigie/v1/wearables/wear-2/frame", b"{nope", "bad_json"),
        ("vigie/v1/wearables/wear-2/frame", orjson.dumps(frame("wear-2", "7")), "schema"),
        ("vigie/v1/wearables/wear-2/frame", b'{"v":1,"device_id":"wear-2","seq":9,"ts":"' + ts.encode()
         + b'","hr_bpm":NaN}', "schema"),
        ("vigie/v1/wearables/wear-2/frame", b"[" * 100_000, "too_large"),
        ("vigie/v1/wearables/wear-2/frame", orjson.dumps(frame("wear-3", 10)), "id_mismatch"),
        ("vigie/v1/wearables/wear-2/status", b"sleepy", "bad_status"),
        ("vigie/v1/robots/robot-9/state", orjson.dumps({"v": 1, "robot_id": "robot-9"}), "schema"),
    ]  # fmt: skip
    publisher.frame(frame("wear-2", 1, ts))
    for i, (topic, payload, _) in enumerate(bad):
        publisher.raw(topic, payload)
        publisher.frame(frame("wear-2", 100 + i, ts))
    wait_until(lambda: count(url, "SELECT count(*) FROM dead_letters") == len(bad), 5)
    assert count(url, "SELECT count(*) FROM frames WHERE device_id = 'wear-2'") == 1 + len(bad)
    letters = gateway.get("/api/v1/dead-letters")["items"]
    assert sorted(d["reason"] for d in letters) == sorted(reason for _, _, reason in bad)
    huge = next(d for d in letters if d["reason"] == "too_large")
    assert huge["payload_bytes"] == 100_000 and len(huge["payload_excerpt"]) <= 512
    metrics = gateway.http.get("/metrics").text
    assert 'vigie_dead_letters_total{reason="id_mismatch"} 1.0' in metrics


def test_an_sos_is_visible_over_rest_and_websocket_within_one_second(gateway: RunningGateway, publisher: Publisher):
    gateway.assign("wear-4", "agent-4", display_name="Samia K.")
    with ws_connect(gateway.ws_url, open_timeout=5) as ws:
        ws.send(orjson.dumps({"type": "auth", "token": gateway.token}).decode())
        assert orjson.loads(ws.recv(timeout=5))["type"] == "hello"
        published = time.monotonic()
        publisher.frame(frame("wear-4", 1, sos=True, hr_bpm=140))
        while True:
            message = orjson.loads(ws.recv(timeout=1.0))
            if message["type"] == "alert.raised":
                break
        ws_latency_s = time.monotonic() - published
    alert = message["alert"]
    assert (alert["rule"], alert["severity"], alert["agent_id"], alert["agent_name"]) == (
        "sos", "critical", "agent-4", "Samia K.")
    assert ws_latency_s < 1.0
    rest = gateway.get("/api/v1/alerts", status="open")["items"]
    assert [a["alert_id"] for a in rest] == [alert["alert_id"]]
    assert gateway.get("/api/v1/agents/agent-4")["status"] == "alert"


def test_repeated_sos_presses_are_counted_on_the_open_alert_and_a_new_one_after_resolution(
    gateway: RunningGateway, publisher: Publisher
):
    gateway.assign("wear-5", "agent-5")
    start = datetime.now(UTC) - timedelta(seconds=8)
    for seq in range(5):  # pressed, released, pressed, released, pressed: three presses
        ts = (start + timedelta(seconds=seq)).isoformat().replace("+00:00", "Z")
        publisher.frame(frame("wear-5", seq, ts, sos=(seq % 2 == 0)))
    alert = wait_until(lambda: [a for a in gateway.get("/api/v1/alerts")["items"] if a["repeat_count"] == 3], 5)[0]
    acked = gateway.http.post(f"/api/v1/alerts/{alert['alert_id']}/ack", json={"by": "Marc"}).json()
    assert acked["status"] == "acknowledged" and acked["acknowledged_by"] == "Marc"
    again = gateway.http.post(f"/api/v1/alerts/{alert['alert_id']}/ack", json={"by": "Marc"})
    assert again.status_code == 409
    done = gateway.http.post(f"/api/v1/alerts/{alert['alert_id']}/resolve",
                             json={"by": "Marc", "reason": "false_alarm", "comment": "pressed by mistake"})
    assert done.json()["status"] == "resolved" and done.json()["resolution"] == "false_alarm"
    bad_reason = gateway.http.post(f"/api/v1/alerts/{alert['alert_id']}/resolve", json={"reason": "bored"})
    assert bad_reason.status_code == 422
    publisher.frame(frame("wear-5", 9))  # released…
    publisher.frame(frame("wear-5", 10, sos=True))  # …and pressed again
    alerts = wait_until(lambda: len(gateway.get("/api/v1/alerts")["items"]) == 2 and gateway.get("/api/v1/alerts")
                        ["items"], 5)  # fmt: skip
    assert {a["status"] for a in alerts} == {"raised", "resolved"}
    events = count(gateway.settings.database_url, "SELECT count(*) FROM alert_events WHERE alert_id = %s",
                   alert["alert_id"])  # fmt: skip
    assert events == 3  # raised, acknowledged, resolved


def test_backfilled_frames_are_stored_flagged_late_and_their_alert_is_marked_late(
    gateway: RunningGateway, publisher: Publisher
):
    gateway.assign("wear-6", "agent-6")
    start = datetime.now(UTC) - timedelta(minutes=10)
    for seq in range(5):
        ts = (start + timedelta(seconds=seq)).isoformat().replace("+00:00", "Z")
        publisher.frame(frame("wear-6", seq, ts, sos=(seq == 2)))
    alert = wait_until(lambda: gateway.get("/api/v1/alerts", agent_id="agent-6")["items"], 5)[0]
    assert alert["late"] is True
    frames = wait_until(lambda: len(gateway.get("/api/v1/frames", device_id="wear-6")["items"]) == 5
                        and gateway.get("/api/v1/frames", device_id="wear-6")["items"], 5)  # fmt: skip
    assert all(f["late"] for f in frames)


def test_frames_of_an_unassigned_device_follow_the_agent_once_assigned(gateway: RunningGateway, publisher: Publisher):
    start = datetime.now(UTC) - timedelta(seconds=30)
    for seq in range(3):
        ts = (start + timedelta(seconds=seq)).isoformat().replace("+00:00", "Z")
        publisher.frame(frame("wear-7", seq, ts))
    device = wait_until(lambda: [d for d in gateway.get("/api/v1/devices")["items"]
                                 if d["device_id"] == "wear-7" and d["unassigned_frames"] == 3], 5)  # fmt: skip
    assert device[0]["agent_id"] is None
    gateway.assign("wear-7", "agent-7", valid_from=(start - timedelta(minutes=1)).isoformat())
    assert len(gateway.get("/api/v1/frames", agent_id="agent-7")["items"]) == 3
    overlap = gateway.http.post("/api/v1/assignments", json={"device_id": "wear-7", "agent_id": "agent-7",
                                                             "valid_from": start.isoformat()})  # fmt: skip
    assert overlap.status_code == 409


def test_robot_states_and_device_links_are_tracked(gateway: RunningGateway, publisher: Publisher):
    gateway.assign("wear-8", "agent-8")
    publisher.frame(frame("wear-8", 1))
    publisher.robot({"v": 1, "robot_id": "robot-01", "seq": 1, "ts": now_rfc3339(), "kind": "follower",
                     "pose": {"x_m": 3.0, "y_m": 4.0}, "battery_pct": 76, "protective_stop": True,
                     "nearest_human_m": 0.9, "payload_kg": 60})  # fmt: skip
    robot = wait_until(lambda: gateway.get("/api/v1/robots")["items"], 5)[0]
    assert (robot["robot_id"], robot["protective_stop"], robot["nearest_human_m"]) == ("robot-01", True, 0.9)
    wait_until(lambda: gateway.get("/api/v1/agents/agent-8")["status"] == "ok", 5)
    publisher.raw("vigie/v1/wearables/wear-8/status", b"offline", retain=True)  # the device's Last Will
    alert = wait_until(lambda: gateway.get("/api/v1/alerts", agent_id="agent-8")["items"], 5)[0]
    assert (alert["rule"], alert["subject_id"]) == ("wearable_offline", "agent-8")
    device = next(d for d in gateway.get("/api/v1/devices")["items"] if d["device_id"] == "wear-8")
    assert device["link_status"] == "offline"
    assert gateway.get("/api/v1/agents/agent-8")["status"] == "alert"


def test_raw_imu_is_kept_only_around_an_event(gateway: RunningGateway, publisher: Publisher):
    url = gateway.settings.database_url
    start = datetime.now(UTC) - timedelta(seconds=90)
    imu = {"rate_hz": 50, "acc_ms2": [[0.0, -9.81, 0.0]] * 50}
    for seq in range(60):
        ts = (start + timedelta(seconds=seq)).isoformat().replace("+00:00", "Z")
        publisher.frame(frame("wear-9", seq, ts, imu=imu, sos=(seq == 30)))
    wait_until(lambda: count(url, "SELECT count(*) FROM frames WHERE device_id = 'wear-9'") == 60, 5)
    kept = count(url, "SELECT count(*) FROM imu_raw WHERE device_id = 'wear-9'")
    # default window: 10 s before the event, the event second, 30 s after
    assert kept == 10 + 1 + 29 or kept == 10 + 1 + 30
    assert count(url, "SELECT min(seq) FROM imu_raw WHERE device_id = 'wear-9'") == 20


def test_messages_published_while_the_gateway_is_down_are_stored_after_restart(broker, database_url, publisher):
    client_id = "vigie-restart-test"
    with running_gateway(broker.url, database_url, mqtt_client_id=client_id) as g:
        publisher.frame(frame("wear-10", 0))
        wait_until(lambda: count(database_url, "SELECT count(*) FROM frames") == 1, 5)
    for seq in range(1, 101):  # the gateway is down: the broker queues for its persistent session
        publisher.frame(frame("wear-10", seq))
    with running_gateway(broker.url, database_url, mqtt_client_id=client_id):
        wait_until(lambda: count(database_url, "SELECT count(*) FROM frames") == 101, 10)
    assert g is not None


def test_a_message_that_breaks_processing_is_dead_lettered_and_ingest_carries_on(
    broker, database_url, publisher: Publisher, monkeypatch: pytest.MonkeyPatch
):
    # Fault injection: processing raises on one device's frames, as a bug triggered by one payload would.
    original = IngestPipeline.process

    def process(self: IngestPipeline, batch: list[Incoming], now: datetime) -> Any:
        if any("wear-boom" in message.topic for message in batch):
            raise RuntimeError("injected processing failure")
        return original(self, batch, now)

    monkeypatch.setattr(IngestPipeline, "process", process)
    with running_gateway(broker.url, database_url, ingest_batch_wait_s=0.2) as gateway:
        for seq in range(1, 41):
            publisher.frame(frame("wear-ok", seq))
            if seq == 20:
                publisher.frame(frame("wear-boom", 1))
        url = gateway.settings.database_url
        wait_until(lambda: count(url, "SELECT count(*) FROM frames WHERE device_id = 'wear-ok'") == 40, 10)
        letters = wait_until(lambda: gateway.get("/api/v1/dead-letters")["items"], 5)
        assert [(d["topic"], d["reason"]) for d in letters] == [("vigie/v1/wearables/wear-boom/frame",
                                                                 "processing_error")]  # fmt: skip
        publisher.frame(frame("wear-ok", 41))  # the worker is still alive and storing
        wait_until(lambda: count(url, "SELECT count(*) FROM frames WHERE device_id = 'wear-ok'") == 41, 10)
        assert gateway.http.get("/healthz").status_code == 200
