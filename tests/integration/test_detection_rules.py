"""Detection rules through the real gateway: thresholds per crew, robot rules, clears, man-down timers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.gateway_harness import Publisher, RunningGateway, now_rfc3339
from tests.helpers import wait_until

pytestmark = pytest.mark.integration


def frame(device: str, seq: int, ts: datetime | None = None, **extra: Any) -> dict[str, Any]:
    stamp = (ts or datetime.now(UTC)).isoformat().replace("+00:00", "Z")
    return {"v": 1, "device_id": device, "seq": seq, "ts": stamp, **extra}


def alerts(gateway: RunningGateway, **params: Any) -> list[dict[str, Any]]:
    return list(gateway.get("/api/v1/alerts", **params)["items"])


def test_a_crew_override_changes_a_threshold_and_bad_settings_are_refused(gateway: RunningGateway,
                                                                         publisher: Publisher):  # fmt: skip
    bad = gateway.http.put("/api/v1/rules/crew/crew-07", json={"wearable_battery_raise_pct": 50,
                                                               "wearable_battery_clear_pct": 40})  # fmt: skip
    assert bad.status_code == 422 and "clear" in bad.json()["detail"]
    unknown = gateway.http.put("/api/v1/rules/crew/crew-07", json={"battery_pct_min": 5})
    assert unknown.status_code == 422
    ok = gateway.http.put("/api/v1/rules/crew/crew-07", json={"wearable_battery_raise_pct": 40,
                                                              "wearable_battery_clear_pct": 50})  # fmt: skip
    assert ok.status_code == 200 and ok.json()["effective"]["wearable_battery_raise_pct"] == 40
    gateway.assign("wear-c7", "agent-c7", crew_id="crew-07")
    gateway.assign("wear-c1", "agent-c1", crew_id="crew-01")
    for device in ("wear-c7", "wear-c1"):
        publisher.frame(frame(device, 1, battery_pct=35.0))  # below crew-07's 40 %, above the default 15 %
    raised = wait_until(lambda: alerts(gateway, status="open"), 5)
    assert [(a["rule"], a["agent_id"]) for a in raised] == [("wearable_battery_low", "agent-c7")]


def test_robot_emergency_stop_raises_and_clears_without_flicker(gateway: RunningGateway, publisher: Publisher):
    gateway.http.put("/api/v1/robots/robot-m1", json={"kind": "mower", "crew_id": "crew-02"}).raise_for_status()
    start = datetime.now(UTC) - timedelta(seconds=20)
    pattern = [False, True, True, False, False]
    for seq, estop in enumerate(pattern):
        ts = (start + timedelta(seconds=seq)).isoformat().replace("+00:00", "Z")
        publisher.robot({"v": 1, "robot_id": "robot-m1", "seq": seq, "ts": ts, "kind": "mower", "estop": estop})
    alert = wait_until(lambda: [a for a in alerts(gateway) if a["cleared_at"]], 5)[0]
    assert (alert["rule"], alert["severity"], alert["subject_id"]) == ("robot_estop", "critical", "robot-m1")
    assert alert["repeat_count"] == 1 and len(alerts(gateway)) == 1


def test_a_protective_stop_with_a_worker_inside_the_distance_is_recorded_with_that_distance(
    gateway: RunningGateway, publisher: Publisher
):
    publisher.robot({"v": 1, "robot_id": "robot-f1", "seq": 1, "ts": now_rfc3339(), "kind": "follower",
                     "protective_stop": True, "nearest_human_m": 0.3, "speed_ms": 0.0})  # fmt: skip
    alert = wait_until(lambda: alerts(gateway), 5)[0]
    assert alert["rule"] == "robot_protective_stop" and alert["robot_id"] == "robot-f1"
    assert alert["details"]["nearest_human_m"] == 0.3


def test_a_silent_wearable_goes_offline_and_comes_back(broker, database_url, publisher: Publisher):
    from tests.gateway_harness import running_gateway

    with running_gateway(broker.url, database_url, tick_interval_s=0.2) as gateway:
        gateway.http.put("/api/v1/rules/site/paris", json={"offline_after_s": 2}).raise_for_status()
        gateway.assign("wear-s1", "agent-s1")
        publisher.frame(frame("wear-s1", 1))
        alert = wait_until(lambda: alerts(gateway, agent_id="agent-s1"), 45)[0]  # rules reload within 30 s
        assert alert["rule"] == "wearable_offline"
        publisher.frame(frame("wear-s1", 2))
        wait_until(lambda: alerts(gateway, agent_id="agent-s1")[0]["cleared_at"] is not None, 5)


def _fall_frames(device: str, t0: datetime) -> list[dict[str, Any]]:
    import numpy as np

    from tests.unit.test_falls_support import fall

    acc = fall(50).acc_ms2()[3 * 50 :]
    out = []
    for k in range(len(acc) // 50):
        chunk = np.round(acc[k * 50 : (k + 1) * 50], 3).tolist()
        out.append(frame(device, k, t0 + timedelta(seconds=k), imu={"rate_hz": 50, "acc_ms2": chunk}))
    return out


@pytest.mark.parametrize("cancelled", [True, False], ids=["cancelled", "not-cancelled"])
def test_a_suspected_fall_is_cancelled_by_the_wearer_or_becomes_a_man_down_alarm(
    broker, database_url, publisher: Publisher, cancelled
):
    from tests.gateway_harness import running_gateway

    # Frames are sent in a burst, so they may be up to 13 s old: not late for this test's gateway.
    with running_gateway(broker.url, database_url, tick_interval_s=0.2, late_after_s=60) as gateway:
        gateway.http.put("/api/v1/rules/crew/crew-05", json={"fall_cancel_window_s": 3}).raise_for_status()
        gateway.assign("wear-d1", "agent-d1", crew_id="crew-05")
        t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=13)
        for f in _fall_frames("wear-d1", t0):
            publisher.frame(f)
        alert = wait_until(lambda: alerts(gateway, agent_id="agent-d1"), 5)[0]
        assert (alert["rule"], alert["severity"], alert["status"]) == ("fall", "warning", "raised")
        assert "impact_ts" in alert["details"] and alert["details"]["peak_acc_ms2"] > 30
        if cancelled:
            publisher.frame(frame("wear-d1", 100, cancel=True))
            done = wait_until(lambda: alerts(gateway, agent_id="agent-d1")[0]["status"] == "resolved"
                              and alerts(gateway, agent_id="agent-d1")[0], 5)  # fmt: skip
            assert (done["resolution"], done["resolved_by"]) == ("false_alarm", "wearer")
        else:
            alarm = wait_until(lambda: alerts(gateway, agent_id="agent-d1")[0]["severity"] == "critical"
                               and alerts(gateway, agent_id="agent-d1")[0], 8)  # fmt: skip
            assert alarm["status"] == "raised" and "confirmed_at" in alarm["details"]
            events = [e["action"] for e in gateway.get(f"/api/v1/alerts/{alarm['alert_id']}/events")["items"]]
            assert events[:2] == ["raised", "confirmed"]
