"""The exposure ledger, fed through the real Mosquitto and gateway, checked against the cited formulas."""

from __future__ import annotations

import math
import random
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest

from gateway import cli
from gateway.db import ledger_store
from services import ledger
from tests.gateway_harness import Publisher, RunningGateway, running_gateway
from tests.helpers import wait_until

pytestmark = pytest.mark.integration
PARIS = ZoneInfo("Europe/Paris")


def iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z")


def frame(device: str, seq: int, ts: datetime, **extra: Any) -> dict[str, Any]:
    return {"v": 1, "device_id": device, "seq": seq, "ts": iso(ts), **extra}


def stored(url: str, device: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM frames WHERE device_id = %s", (device,)).fetchone()
    return int(row[0]) if row else 0


def register(gateway: RunningGateway, device: str, agent: str, **profile: Any) -> None:
    body = {"display_name": "Karim D.", "crew_id": "crew-02", **profile}
    gateway.http.put(f"/api/v1/agents/{agent}", json=body).raise_for_status()
    response = gateway.http.post("/api/v1/assignments", json={"device_id": device, "agent_id": agent,
                                                               "valid_from": "2026-01-01T00:00:00Z"})  # fmt: skip
    assert response.status_code == 201, response.text


def exposure(gateway: RunningGateway, agent: str, day: date) -> dict[str, Any]:
    items = gateway.get(f"/api/v1/agents/{agent}/exposure", **{"from": day.isoformat(), "to": day.isoformat()})
    assert len(items["items"]) == 1, items
    return items["items"][0]


def test_ledger_matches_the_formulas_with_late_duplicate_and_reordered_frames(broker, database_url):
    """ISO 9612 LEX,8h, ISO 5349-1 A(8) and points, NF X35-109 lifts — against a worked example."""
    start = (datetime.now(UTC) - timedelta(hours=3)).replace(microsecond=0)  # late: a backfill
    day = start.astimezone(PARIS).date()
    frames = []
    for i in range(600):
        ts = start + timedelta(seconds=i)
        noise = {"laeq_db": 90.0 if i < 300 else 80.0, "lcpeak_db": 140.0 if i == 5 else 120.0}
        extra: dict[str, Any] = {"noise": noise}
        if 100 <= i < 400:
            extra["hav"] = {"tool_id": "trimmer-3", "ahv_ms2": 5.0, "trigger_s": 1.0}
        if i % 50 == 0:
            extra["lift"] = {"count": 1, "load_kg": 30.0 if i % 100 == 0 else 12.0}
        frames.append(frame("wear-l1", i, ts, **extra))
    random.Random(4).shuffle(frames)  # out of order
    client_id = "vigie-ledger-test"
    pub = Publisher(broker.host, broker.port)
    with running_gateway(broker.url, database_url, mqtt_client_id=client_id) as gateway:
        register(gateway, "wear-l1", "agent-l1", hearing_attenuation_db=20.0)
        for f in frames[:300]:
            pub.frame(f)
        wait_until(lambda: stored(database_url, "wear-l1") == 300, 10)
    for f in frames[250:]:  # while the gateway is down; 50 duplicates of frames already stored
        pub.frame(f)
    with running_gateway(broker.url, database_url, mqtt_client_id=client_id) as gateway:
        wait_until(lambda: stored(database_url, "wear-l1") == 600, 10)
        for f in frames[:20]:  # and duplicates again, live
            pub.frame(f)
        wait_until(lambda: exposure(gateway, "agent-l1", day)["worked_h"] == round(600 / 3600, 2), 5)
        got = exposure(gateway, "agent-l1", day)
    pub.close()

    energy = 300 * 10 ** 9.0 + 300 * 10 ** 8.0
    lex = 10 * math.log10(energy / 28800)
    assert got["noise"]["lex_8h_dba"] == pytest.approx(lex, abs=0.01)
    assert got["noise"]["lex_8h_at_ear_dba"] == pytest.approx(lex - 20.0, abs=0.01)
    assert got["noise"]["dose_pct"] == pytest.approx(100 * 10 ** ((lex - 85) / 10), abs=0.01)
    assert got["noise"]["lcpeak_max_dbc"] == 140.0
    assert got["noise"]["peaks_over_135"] == 1 and got["noise"]["peaks_over_135_at_ear"] == 0
    a8 = math.sqrt(5.0**2 * 300 / 28800)
    assert got["hav"]["a8_ms2"] == pytest.approx(a8, abs=0.01)
    assert got["hav"]["points"] == pytest.approx(2 * 25 * 300 / 3600, abs=0.1)
    assert got["hav"]["tools"] == ["trimmer-3"]
    assert (got["lifting"]["count"], got["lifting"]["over_15kg"], got["lifting"]["over_25kg"]) == (12, 6, 6)
    assert got["lifting"]["tonnage_kg"] == pytest.approx(6 * 30 + 6 * 12)
    assert got["noise"]["provenance"] == {"method": "sensed", "devices": ["wear-l1"]}


def test_heat_strain_and_night_work_are_recorded(broker, database_url):
    tonight = datetime.now(PARIS).replace(hour=1, minute=0, second=0, microsecond=0) - timedelta(days=1)
    pub = Publisher(broker.host, broker.port)
    with running_gateway(broker.url, database_url, heat_strain_interval_s=0.3) as gateway:
        register(gateway, "wear-n1", "agent-n1")
        for i in range(3700):  # 01:00 → 02:01:40 local: more than an hour between 00:00 and 05:00
            pub.frame(frame("wear-n1", i, tonight + timedelta(seconds=i), hr_bpm=150.0,
                            env={"temp_c": 31.0, "rh_pct": 60.0}))  # fmt: skip
        day = tonight.date()
        wait_until(lambda: stored(database_url, "wear-n1") == 3700, 15)
        # Every frame stored, then a refresh after the last of them: one that ran while the hour was still
        # arriving computed a partial day, and the last batches marked it to be computed again.
        wait_until(lambda: not physiology_row(database_url, "agent-n1", day)["psi_dirty"], 15)
        wait_until(lambda: exposure(gateway, "agent-n1", day)["heat"]["psi_max"] is not None, 15)
        got = exposure(gateway, "agent-n1", day)
        annual = gateway.get("/api/v1/reports/annual", agent_id="agent-n1", year=day.year)
    pub.close()
    assert got["night"] == {"worked": True, "night_h": round(3700 / 3600, 2)}
    assert got["heat"]["hours_over_30c"] == round(3700 / 3600, 2)
    assert got["heat"]["wbgt_provenance"] == "estimated" and got["heat"]["wbgt_max_c"] is not None
    assert got["heat"]["psi_max"] > 5  # an hour at 150 bpm: strain well above baseline
    assert got["heat"]["core_temp_max_c"] > 37.5
    assert annual["factors"]["nights"]["amount"] == 1
    assert annual["factors"]["extreme_temp_hours"]["amount"] == pytest.approx(3700 / 3600, abs=0.01)


def physiology_row(url: str, agent: str, day: date) -> dict[str, Any]:
    with psycopg.connect(url) as conn:
        cur = conn.execute("SELECT psi_dirty, hr_rest_bpm, hr_work_bpm, hr_recovery_bpm, psi_high_min, psi_max"
                           " FROM exposure_days WHERE agent_id = %s AND day = %s", (agent, day))  # fmt: skip
        row = cur.fetchone()
        assert row is not None
        return dict(zip([c.name for c in cur.description or []], row, strict=True))


def test_the_heat_strain_refresh_records_the_days_heart_rate_features_and_minutes_of_high_strain(
        broker, database_url):  # fmt: skip
    """Resting (lowest 10-min mean), working (mean), recovery (drop 2 min after a lifting burst), PSI ≥ 7 minutes."""
    start = datetime.now(PARIS).replace(hour=10, minute=0, second=0, microsecond=0) - timedelta(days=1)
    hr = {m: 60.0 if m < 10 else 175.0 if m < 70 else 100.0 for m in range(90)}  # rest, a hot effort, light work
    hr.update({75: 125.0, 76: 130.0, 77: 120.0, 78: 110.0})  # a lifting burst at minutes 75-76: 130 → 110
    frames = []
    for m, bpm in hr.items():
        for k in range(6):  # one frame every 10 s: the minute's mean is its heart rate
            extra: dict[str, Any] = {"hr_bpm": bpm}
            if 10 <= m < 70:
                extra["env"] = {"temp_c": 35.0, "rh_pct": 60.0}
            if m in (75, 76) and k == 0:
                extra["lift"] = {"count": 1, "load_kg": 20.0}
            frames.append(frame("wear-h1", 6 * m + k, start + timedelta(minutes=m, seconds=10 * k), **extra))
    pub = Publisher(broker.host, broker.port)
    day = start.date()
    # The housekeeper stays out of this test (its first pass after 60 s): a refresh of its own could clear the
    # day's mark between the lift frame below and the check that the frame set it.
    with running_gateway(broker.url, database_url, heat_strain_interval_s=3600.0,
                         housekeeping_interval_s=60.0) as gateway:  # fmt: skip
        register(gateway, "wear-h1", "agent-h1")
        for f in frames:
            pub.frame(f)
        wait_until(lambda: stored(database_url, "wear-h1") == len(frames), 15)
        with psycopg.connect(database_url) as conn:  # the housekeeper's refresh, now rather than in an hour
            while ledger_store.refresh_heat_strain(conn, PARIS):
                pass

        def refreshed() -> dict[str, Any] | None:
            row = physiology_row(database_url, "agent-h1", day)
            return None if row["psi_dirty"] else row

        got = wait_until(refreshed, 5)
        # A frame with a lift and no heart rate changes the minute tier too: the day is to be refreshed again.
        pub.frame(frame("wear-h1", 10_000, start + timedelta(minutes=85), lift={"count": 1, "load_kg": 20.0}))
        wait_until(lambda: stored(database_url, "wear-h1") == len(frames) + 1, 15, message="the lift frame stored")
        # Stored in the same transaction as its ledger increment: the mark is there as soon as the frame is.
        assert physiology_row(database_url, "agent-h1", day)["psi_dirty"]
    pub.close()
    strain = ledger.heat_strain_for_day([(start + timedelta(minutes=m), bpm) for m, bpm in hr.items()])
    assert got["hr_rest_bpm"] == pytest.approx(60.0)
    assert got["hr_work_bpm"] == pytest.approx(sum(hr.values()) / len(hr), abs=1e-3)
    assert got["hr_recovery_bpm"] == pytest.approx(20.0)
    assert got["psi_high_min"] == strain.psi_high_min and strain.psi_high_min >= 20  # an hour at 175 bpm
    assert got["psi_max"] == pytest.approx(strain.psi_max, abs=1e-4)


def test_a_supervisor_is_warned_before_the_noise_dose_is_reached(gateway: RunningGateway, publisher: Publisher):
    register(gateway, "wear-p1", "agent-p1")
    now = datetime.now(UTC).replace(microsecond=0)
    for i in range(60):
        publisher.frame(frame("wear-p1", i, now - timedelta(seconds=60 - i), noise={"laeq_db": 100.0}))
    alert = wait_until(lambda: gateway.get("/api/v1/alerts", agent_id="agent-p1")["items"], 5)[0]
    assert alert["rule"] == "noise_projected" and alert["severity"] == "warning"
    assert alert["message"].startswith("reaches 85 dB(A) LEX,8h by ")
    # At 100 dB(A), 85 dB(A) LEX,8h is reached after 28800·10^(-1.5) ≈ 911 s.
    hhmm = alert["message"].split(" by ")[1][:5]
    expected = (now + timedelta(seconds=911)).astimezone(PARIS)
    hour, minute = (int(part) for part in hhmm.split(":"))
    got = expected.replace(hour=hour, minute=minute, second=0, microsecond=0)
    assert abs((got - expected).total_seconds()) <= 120


def test_frames_stored_before_the_assignment_join_the_agents_ledger(gateway: RunningGateway, publisher: Publisher):
    start = (datetime.now(UTC) - timedelta(minutes=20)).replace(microsecond=0)
    for i in range(120):
        publisher.frame(frame("wear-b1", i, start + timedelta(seconds=i), noise={"laeq_db": 88.0},
                              lift={"count": 1, "load_kg": 20.0}))  # fmt: skip
    wait_until(lambda: stored(gateway.settings.database_url, "wear-b1") == 120, 5)
    gateway.http.put("/api/v1/agents/agent-b1", json={"display_name": "Inès R.", "crew_id": "crew-03"})
    response = gateway.http.post("/api/v1/assignments", json={
        "device_id": "wear-b1", "agent_id": "agent-b1", "valid_from": iso(start - timedelta(minutes=1))})  # fmt: skip
    assert response.status_code == 201
    got = exposure(gateway, "agent-b1", start.astimezone(PARIS).date())
    assert got["worked_h"] == round(120 / 3600, 2)
    assert got["lifting"]["count"] == 120
    assert got["noise"]["lex_8h_dba"] == pytest.approx(88 + 10 * math.log10(120 / 28800), abs=0.01)


def test_crew_reports_come_as_json_csv_and_pdf(gateway: RunningGateway, publisher: Publisher, tmp_path):
    register(gateway, "wear-r1", "agent-r1")
    start = (datetime.now(UTC) - timedelta(minutes=30)).replace(microsecond=0)
    for i in range(60):
        publisher.frame(frame("wear-r1", i, start + timedelta(seconds=i), noise={"laeq_db": 84.0}))
    day = start.astimezone(PARIS).date().isoformat()
    wait_until(lambda: stored(gateway.settings.database_url, "wear-r1") == 60, 5)
    params = {"crew_id": "crew-02", "from": day, "to": day}
    as_json = gateway.get("/api/v1/reports/exposure", **params)
    assert [d["agent_id"] for d in as_json["items"]] == ["agent-r1"]
    as_csv = gateway.http.get("/api/v1/reports/exposure", params={**params, "format": "csv"})
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert len(as_csv.content.decode("utf-8-sig").strip().splitlines()) == 2  # header + one agent-day
    as_pdf = gateway.http.get("/api/v1/reports/exposure", params={**params, "format": "pdf"})
    assert as_pdf.status_code == 200 and as_pdf.content.startswith(b"%PDF")
    annual_pdf = gateway.http.get("/api/v1/reports/annual", params={"agent_id": "agent-r1", "year": 2026,
                                                                    "format": "pdf"})  # fmt: skip
    assert annual_pdf.status_code == 200 and annual_pdf.content.startswith(b"%PDF")
    bad = gateway.http.get("/api/v1/reports/exposure", params={"from": day, "to": day})
    assert bad.status_code == 422 and "crew_id" in bad.json()["detail"]
    out = tmp_path / "agent.pdf"
    argv = ["report", "exposure", "--agent", "agent-r1", "--from", day, "--to", day, "--format", "pdf",
            "-o", str(out), "--api-url", gateway.http_url, "--token", gateway.token]  # fmt: skip
    assert cli.main(argv) == 0 and out.read_bytes().startswith(b"%PDF")


def test_load_put_on_the_agents_follower_robot_is_recorded_as_avoided(gateway: RunningGateway, publisher: Publisher):
    register(gateway, "wear-f1", "agent-f1")
    response = gateway.http.post("/api/v1/assignments", json={  # the follower walks behind this collector
        "device_id": "robot-07", "agent_id": "agent-f1", "valid_from": "2026-01-01T00:00:00Z"})  # fmt: skip
    assert response.status_code == 201
    now = datetime.now(UTC).replace(microsecond=0)
    publisher.frame(frame("wear-f1", 1, now - timedelta(seconds=30)))
    for seq, payload_kg in enumerate([0.0, 40.0, 40.0, 10.0, 70.0]):  # two bins on, one off, three on
        publisher.robot({"v": 1, "robot_id": "robot-07", "seq": seq, "ts": iso(now - timedelta(seconds=20 - seq)),
                         "kind": "follower", "payload_kg": payload_kg})  # fmt: skip
    day = (now - timedelta(seconds=30)).astimezone(PARIS).date()

    def avoided() -> float | None:
        items = gateway.get("/api/v1/agents/agent-f1/exposure", **{"from": day.isoformat(), "to": day.isoformat()})
        return items["items"][0]["lifting"]["avoided_kg"] if items["items"] else None

    wait_until(lambda: avoided() == 100.0, 5)
    assert exposure(gateway, "agent-f1", day)["lifting"]["tonnage_kg"] == 0.0
