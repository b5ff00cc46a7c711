"""Bad input through the real broker into the real gateway: counted, explained, and harmless to good data.

The bad payloads are a fixed, derandomized sample of the unit fuzzer's strategies (tests/unit/test_codec_fuzz.py),
interleaved with good frames, plus oversize payloads and malformed topics.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from gateway.ingest import decode_batch
from gateway.mqtt.client import Incoming
from gateway.runtime.mosquitto import render_config
from gateway.settings import Settings
from tests.gateway_harness import Publisher, RunningGateway
from tests.helpers import wait_until
from tests.unit.test_codec_fuzz import mutated, valid_frame, valid_robot_state

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
GOOD_DEVICE = "good-fuzz-1"
BROKER_PACKET_LIMIT = 262_144
# Topics the gateway subscribes to (wearables/+/frame, .../+/status, robots/+/state) whose id is not a contract id:
# delivered, then dead-lettered as unknown_topic.
MALFORMED_TOPICS = [
    "vigie/v1/wearables//frame", "vigie/v1/wearables/w\u00e9ar/frame", "vigie/v1/wearables/-x/frame",
    f"vigie/v1/wearables/{'a' * 65}/frame", "vigie/v1/robots/robot 1/state", "vigie/v1/wearables/\u202ewear-1/status",
    "vigie/v1/wearables/wear\u200b-1/frame", "vigie/v1/robots/r\u043ebot-01/state",
]  # fmt: skip
# Topics outside the subscriptions never reach the gateway (the broker's ACL is their judge): nothing to count.
UNSUBSCRIBED_TOPICS = ["vigie/v1/wearables/a/b/frame", "vigie/v2/robots/r/state", "vigie/v1/robots/r/command", "x"]


def sample(strategy: st.SearchStrategy[Any], n: int) -> list[Any]:
    """n values of a strategy, the same ones at every run."""
    found: list[Any] = []

    @settings(max_examples=n, derandomize=True, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(strategy)
    def collect(value: Any) -> None:
        found.append(value)

    collect()
    return found


def expected_reason(topic: str, payload: bytes, settings_: Settings) -> str | None:
    """What the gateway should decide for this message (None: accepted), judged by its own decoder now."""
    now = datetime.now(UTC)
    dead = decode_batch([Incoming(topic, payload, 1, 1, 1, now)], settings_, now).dead
    return dead[0].reason if dead else None


def bad_messages(gateway_settings: Settings) -> list[tuple[str, bytes, str]]:
    now = datetime.now(UTC)
    frames = [(f"vigie/v1/wearables/{i}/frame", p) for p, i in sample(mutated(valid_frame(now), "device_id"), 400)]
    robots = [(f"vigie/v1/robots/{i}/state", p) for p, i in sample(mutated(valid_robot_state(now), "robot_id"), 300)]
    limit = gateway_settings.max_payload_bytes
    extra = [
        ("vigie/v1/wearables/big-1/frame", b'{"v":1,"device_id":"big-1","pad":"' + b"x" * limit + b'"}'),
        ("vigie/v1/robots/big-2/state", b"[" * (limit + 1)),
        ("vigie/v1/wearables/big-3/frame", b" " * (BROKER_PACKET_LIMIT - 1024)),
        ("vigie/v1/wearables/st-1/status", b"maybe"), ("vigie/v1/wearables/st-2/status", b"\xff\xfe"),
        *[(topic, orjson.dumps({"v": 1})) for topic in MALFORMED_TOPICS],
    ]  # fmt: skip
    # Mutations that happen to be valid are not bad input; payloads over the broker's packet limit never get
    # past the broker (tested below).
    candidates = [(t, p) for t, p in [*frames, *robots, *extra] if len(p) < BROKER_PACKET_LIMIT - 512]
    judged = [(t, p, expected_reason(t, p, gateway_settings)) for t, p in candidates]
    # id_mismatch is left out: test_ingest.py asserts the absolute value of its counter, and Prometheus counters
    # are global to the test process (the unit fuzzer and test_ingest.py cover that reason).
    return [(t, p, reason) for t, p, reason in judged if reason not in {None, "id_mismatch"}]


def dead_letter_metric(gateway: RunningGateway) -> Counter[str]:
    text = gateway.http.get("/metrics").text
    counts: Counter[str] = Counter()
    for family in text_string_to_metric_families(text):
        if family.name == "vigie_dead_letters":
            for s in family.samples:
                if s.name == "vigie_dead_letters_total":
                    counts[s.labels["reason"]] += int(s.value)
    return counts


def query(url: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


def good_frame(seq: int) -> dict[str, Any]:
    ts = (datetime.now(UTC) - timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
    return {"v": 1, "device_id": GOOD_DEVICE, "seq": seq, "ts": ts, "hr_bpm": 80 + seq % 40,
            "imu": {"rate_hz": 25, "acc_ms2": [[0.1, -9.8, 0.2]] * 25}}  # fmt: skip


def test_hundreds_of_bad_payloads_are_dead_lettered_and_the_good_frames_between_them_are_stored_once(
    gateway: RunningGateway, publisher: Publisher
):
    url = gateway.settings.database_url
    bad = bad_messages(gateway.settings)
    assert len(bad) >= 250, len(bad)
    assert {"bad_json", "schema", "too_large", "unknown_topic", "bad_status"} <= {r for *_, r in bad}
    before = dead_letter_metric(gateway)
    for seq, (topic, payload, _) in enumerate(bad):
        good = good_frame(seq)
        publisher.frame(good)
        if seq % 25 == 0:  # a device resending (the same bytes) after a lost PUBACK: stored once
            publisher.frame(good)
        publisher.raw(topic, payload)
    for topic in UNSUBSCRIBED_TOPICS:
        publisher.raw(topic, b"{nope")
    publisher.frame(good_frame(len(bad)))

    wait_until(lambda: query(url, "SELECT count(*) FROM dead_letters")[0][0] >= len(bad), 30)
    wait_until(lambda: query(url, f"SELECT count(*) FROM frames WHERE device_id = '{GOOD_DEVICE}'")[0][0]
               == len(bad) + 1, 30)  # fmt: skip
    time.sleep(0.5)  # anything extra (a duplicate, a stray dead letter) would have landed by now
    stored = query(url, f"SELECT seq, count(*) FROM frames WHERE device_id = '{GOOD_DEVICE}' GROUP BY seq")
    assert sorted(stored) == [(seq, 1) for seq in range(len(bad) + 1)]
    letters = query(url, "SELECT topic, reason, detail, payload_bytes FROM dead_letters")
    assert Counter(r for _, r, _, _ in letters) == Counter(r for *_, r in bad)
    assert all(detail for _, _, detail, _ in letters)
    assert not {t for t, *_ in letters} & set(UNSUBSCRIBED_TOPICS)
    after = dead_letter_metric(gateway)
    assert after - before == Counter(r for *_, r in bad)
    assert all(size > gateway.settings.max_payload_bytes for _, r, _, size in letters if r == "too_large")
    api = gateway.get("/api/v1/dead-letters", limit=1000)["items"]
    assert len(api) == len(bad) and all(len(d["payload_excerpt"]) <= 512 * 4 for d in api)
    health = gateway.http.get("/healthz")
    assert health.status_code == 200, health.text
    figures = {"bad_payloads": len(bad), "good_frames": len(bad) + 1, "good_resent": len(range(0, len(bad), 25)),
               "unsubscribed_topics": len(UNSUBSCRIBED_TOPICS), "dead_letters": dict(Counter(r for *_, r in bad))}
    (REPO / "test-artifacts").mkdir(exist_ok=True)
    (REPO / "test-artifacts/bad-input.json").write_text(json.dumps(figures, indent=2) + "\n")


def test_a_payload_over_the_broker_packet_limit_is_refused_by_the_broker_and_the_gateway_stays_healthy(
    gateway: RunningGateway, broker
):
    device = Publisher(broker.host, broker.port)
    try:
        info = device.client.publish("vigie/v1/wearables/huge-1/frame", b" " * (BROKER_PACKET_LIMIT + 1), qos=1)
        wait_until(lambda: "disconnected due to oversize packet" in broker.log_path.read_text(), 5)
        assert not info.is_published()
    finally:
        device.close()
    ok = Publisher(broker.host, broker.port)
    try:
        ok.frame(good_frame(0))
    finally:
        ok.close()
    url = gateway.settings.database_url
    wait_until(lambda: query(url, f"SELECT count(*) FROM frames WHERE device_id = '{GOOD_DEVICE}'")[0][0] == 1, 10)
    assert query(url, "SELECT count(*) FROM dead_letters")[0][0] == 0
    assert gateway.http.get("/healthz").status_code == 200


def test_the_broker_packet_limit_leaves_room_for_every_payload_the_gateway_must_judge(tmp_path):
    # Between max_payload_bytes and the broker's max_packet_size the gateway dead-letters (too_large, counted);
    # past it the broker disconnects the sender (MQTT 5 §3.14, reason 0x95). The packet limit must exceed the
    # largest payload the gateway accepts plus the PUBLISH header and the longest contract topic.
    config = render_config(host="127.0.0.1", port=1883, state_dir=tmp_path)
    match = re.search(r"^max_packet_size (\d+)$", config, re.MULTILINE)
    assert match is not None
    assert int(match.group(1)) == BROKER_PACKET_LIMIT
    longest_topic = len("vigie/v1/wearables//frame") + 64
    assert int(match.group(1)) > Settings(mode="demo").max_payload_bytes + longest_topic + 64
