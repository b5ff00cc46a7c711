"""The supervisors' dashboard API on the real services: crews and their areas, positions only in alert (CNIL),
today's exposure, an agent's curves, the offline basemap."""

from __future__ import annotations

import math
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest
from websockets.sync.client import connect as ws_connect

from tests.gateway_harness import Publisher, RunningGateway, running_gateway
from tests.helpers import wait_until

pytestmark = pytest.mark.integration
PARIS = ZoneInfo("Europe/Paris")
SQUARE = {"type": "Polygon",
          "coordinates": [[[2.35, 48.85], [2.36, 48.85], [2.36, 48.86], [2.35, 48.86], [2.35, 48.85]]]}


def iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z")


def frame(device: str, seq: int, ts: datetime, **extra: Any) -> dict[str, Any]:
    return {"v": 1, "device_id": device, "seq": seq, "ts": iso(ts), **extra}


def agent(gateway: RunningGateway, agent_id: str) -> dict[str, Any]:
    found: dict[str, Any] = gateway.get(f"/api/v1/agents/{agent_id}")
    return found


def crew(gateway: RunningGateway, crew_id: str) -> dict[str, Any]:
    (found,) = [c for c in gateway.get("/api/v1/crews")["items"] if c["crew_id"] == crew_id]
    return found


def register(gateway: RunningGateway, device: str, agent_id: str, crew_id: str, **profile: Any) -> None:
    body = {"display_name": "Fatou K.", "crew_id": crew_id, **profile}
    gateway.http.put(f"/api/v1/agents/{agent_id}", json=body).raise_for_status()
    response = gateway.http.post("/api/v1/assignments", json={"device_id": device, "agent_id": agent_id,
                                                               "valid_from": "2026-01-01T00:00:00Z"})  # fmt: skip
    assert response.status_code == 201, response.text


def test_a_crew_is_registered_with_its_work_area_and_its_agents_counted(gateway: RunningGateway, publisher: Publisher):
    put = gateway.http.put("/api/v1/crews/crew-d2", json={"name": "Collecteurs Paris 4e", "area": SQUARE})
    assert put.status_code == 200, put.text
    assert put.json() == {"crew_id": "crew-d2", "name": "Collecteurs Paris 4e", "site_id": "paris", "area": SQUARE,
                          "agents": 0, "agents_in_alert": 0}  # fmt: skip
    gateway.http.put("/api/v1/crews/crew-d1", json={"site_id": "lyon"}).raise_for_status()
    register(gateway, "wear-d1", "agent-d1", "crew-d2")
    register(gateway, "wear-d2", "agent-d2", "crew-d2")
    listed = gateway.get("/api/v1/crews")["items"]
    assert [c["crew_id"] for c in listed] == ["crew-d1", "crew-d2"]
    assert listed[0] == {"crew_id": "crew-d1", "name": "crew-d1", "site_id": "lyon", "area": None, "agents": 0,
                         "agents_in_alert": 0}  # fmt: skip
    assert (listed[1]["agents"], listed[1]["agents_in_alert"]) == (2, 0)

    publisher.frame(frame("wear-d1", 1, datetime.now(UTC), sos=True))
    publisher.frame(frame("wear-d1", 2, datetime.now(UTC), sos=True, battery_pct=3))  # two alerts, one agent
    wait_until(lambda: crew(gateway, "crew-d2")["agents_in_alert"] == 1, 5)
    assert agent(gateway, "agent-d1")["site_id"] == "paris"

    again = gateway.http.put("/api/v1/crews/crew-d2", json={"name": "Collecteurs Paris 4e", "area": SQUARE})
    assert again.json()["area"] == SQUARE  # idempotent
    cleared = gateway.http.put("/api/v1/crews/crew-d2", json={"name": "Collecteurs Paris 4e", "area": None})
    assert cleared.json()["area"] is None and cleared.json()["agents"] == 2


@pytest.mark.parametrize(("area", "message"), [
    ({"type": "Polygon", "coordinates": [[[2.35, 48.85], [2.36, 48.85], [2.36, 48.86], [2.35, 48.861]]]}, "closed"),
    ({"type": "Polygon", "coordinates": [[[2.35, 48.85], [2.36, 48.85], [2.35, 48.85]]]}, "at least 4"),
    ({"type": "Polygon", "coordinates": [[[2.35, 95.0], [2.36, 48.85], [2.36, 48.86], [2.35, 95.0]]]}, "90"),
    ({"type": "Polygon", "coordinates": [[[190.0, 48.85], [2.36, 48.85], [2.36, 48.86], [190.0, 48.85]]]}, "180"),
    ({"type": "Polygon", "coordinates": []}, "at least 1"),
    ({"type": "Point", "coordinates": [2.35, 48.85]}, "Polygon"),
    ({"type": "Polygon", "coordinates": [[["2.35", 48.85], [2.36, 48.85], [2.36, 48.86], ["2.35", 48.85]]]}, "number"),
])  # fmt: skip
def test_a_crew_area_that_is_not_a_valid_polygon_is_refused(gateway: RunningGateway, area: dict[str, Any],
                                                            message: str):  # fmt: skip
    response = gateway.http.put("/api/v1/crews/crew-x", json={"area": area})
    assert response.status_code == 422
    assert message in str(response.json()["detail"])
    assert [c["crew_id"] for c in gateway.get("/api/v1/crews")["items"]] == []


def test_position_is_hidden_without_open_alert_and_shown_while_one_is_open(gateway: RunningGateway,
                                                                          publisher: Publisher):  # fmt: skip
    register(gateway, "wear-g1", "agent-g1", "crew-g")
    now = datetime.now(UTC).replace(microsecond=0)
    gps = {"lat": 48.8530, "lon": 2.3499, "acc_m": 4.0}
    publisher.frame(frame("wear-g1", 1, now - timedelta(seconds=2), gps=gps, hr_bpm=92))
    seen = wait_until(lambda: agent(gateway, "agent-g1")["last_seen"], 5)
    assert seen == iso(now - timedelta(seconds=2))
    assert agent(gateway, "agent-g1")["position"] is None
    assert [a["position"] for a in gateway.get("/api/v1/agents")["items"]] == [None]

    publisher.frame(frame("wear-g1", 2, now - timedelta(seconds=1), gps=gps, sos=True))
    shown = wait_until(lambda: agent(gateway, "agent-g1")["position"], 5)
    assert shown == {"lat": 48.8530, "lon": 2.3499, "at": iso(now - timedelta(seconds=1))}
    assert gateway.get("/api/v1/agents")["items"][0]["position"] == shown

    publisher.frame(frame("wear-g1", 3, now, sos=False))  # still in alert, but no fix in the latest frame
    wait_until(lambda: agent(gateway, "agent-g1")["last_seen"] == iso(now), 5)
    assert agent(gateway, "agent-g1")["position"] is None
    publisher.frame(frame("wear-g1", 4, now + timedelta(seconds=1), gps=gps))
    wait_until(lambda: agent(gateway, "agent-g1")["position"], 5)

    alert = gateway.get("/api/v1/alerts", agent_id="agent-g1")["items"][0]
    gateway.http.post(f"/api/v1/alerts/{alert['alert_id']}/ack", json={"by": "Marc"}).raise_for_status()
    assert agent(gateway, "agent-g1")["position"] is not None  # acknowledged is still open
    gateway.http.post(f"/api/v1/alerts/{alert['alert_id']}/resolve",
                      json={"by": "Marc", "reason": "help_dispatched"}).raise_for_status()  # fmt: skip
    assert agent(gateway, "agent-g1")["position"] is None
    assert gateway.get("/api/v1/agents")["items"][0]["position"] is None


def test_exposure_today_matches_the_hand_computed_doses(gateway: RunningGateway, publisher: Publisher):
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(seconds=1100)
    if start.astimezone(PARIS).date() != now.astimezone(PARIS).date():
        pytest.skip("the frames would straddle local midnight; today's exposure starts empty")
    register(gateway, "wear-t1", "agent-t1", "crew-t")
    assert agent(gateway, "agent-t1")["exposure_today"] is None
    for i in range(1000):
        extra: dict[str, Any] = {"noise": {"laeq_db": 88.0}, "env": {"temp_c": 30.0, "rh_pct": 50.0}}
        if i < 300:
            extra["hav"] = {"tool_id": "ht-1", "ahv_ms2": 4.0, "trigger_s": 1.0}
        if i % 100 == 0:
            extra["lift"] = {"count": 1, "load_kg": 20.0}
        publisher.frame(frame("wear-t1", i, start + timedelta(seconds=i), **extra))
    today = wait_until(lambda: (agent(gateway, "agent-t1")["exposure_today"] or {}).get("worked_s") == 1000.0
                       and agent(gateway, "agent-t1")["exposure_today"], 15)  # fmt: skip

    # Noise: 100·1000·10^8.8 / (28800·10^8.5) = 3.4722·10^0.3 = 6.928 %; over 8 h: ×28.8 = 199.5 %.
    assert today["day"] == now.astimezone(PARIS).date().isoformat()
    assert today["noise_dose_pct"] == pytest.approx(6.928, abs=1e-3)
    assert today["noise_dose_projected_pct"] == pytest.approx(199.53, abs=0.01)
    # HAV: 100·(16 m²/s⁴ × 300 s) / (28800 s × 6.25 m²/s⁴) = 2.667 points; over 8 h: 76.8.
    assert today["hav_points"] == pytest.approx(2.6667, abs=1e-4)
    assert today["hav_points_projected"] == pytest.approx(76.8, abs=1e-3)
    # WBGT (BoM, no globe) at 30 °C, 50 %: 0.567·30 + 0.393·21.145 + 3.94 = 29.26 °C.
    assert today["wbgt_max_c"] == pytest.approx(29.26, abs=0.01)
    assert (today["lifts"], today["tonnage_kg"], today["psi_max"]) == (10, 200.0, None)


def test_the_agent_curves_are_cumulative_per_minute_with_their_lines(gateway: RunningGateway, publisher: Publisher):
    register(gateway, "wear-c1", "agent-c1", "crew-c", task="collector_handling_bins", hearing_attenuation_db=5.0)
    day = (datetime.now(PARIS) - timedelta(days=1)).date()
    m0 = datetime.combine(day, time(10, 0), tzinfo=PARIS).astimezone(UTC)
    frames = [frame("wear-c1", i, m0 + timedelta(seconds=i), noise={"laeq_db": 85.0}, hr_bpm=100) for i in range(60)]
    m2 = m0 + timedelta(minutes=2)  # nothing at all during the minute in between
    for i in range(30):
        extra: dict[str, Any] = {"noise": {"laeq_db": 95.0}, "hav": {"ahv_ms2": 5.0, "trigger_s": 1.0}, "hr_bpm": 120}
        if i == 10:
            extra["lift"] = {"count": 1, "load_kg": 20.0}
        if i < 5:
            extra["env"] = {"temp_c": 30.0 - i, "rh_pct": 50.0}  # the highest WBGT is the first frame's
        frames.append(frame("wear-c1", 100 + i, m2 + timedelta(seconds=i), **extra))
    for f in reversed(frames):  # order of arrival does not matter
        publisher.frame(f)
    # Acknowledged by the broker is not yet stored: wait for every frame before reading the curves.
    wait_until(lambda: len(gateway.get("/api/v1/frames", device_id="wear-c1", limit=500)["items"]) == len(frames), 10)

    def curves() -> dict[str, Any]:
        got: dict[str, Any] = gateway.get("/api/v1/agents/agent-c1/exposure/today", day=day.isoformat())
        return got

    got = wait_until(lambda: len(curves()["series"]["t"]) == 2 and curves()["series"]["lifts"] == [0, 1]
                     and curves(), 10)  # fmt: skip
    assert (got["agent_id"], got["display_name"], got["day"], got["timezone"]) == (
        "agent-c1", "Fatou K.", day.isoformat(), "Europe/Paris")
    series = got["series"]
    assert series["t"] == [iso(m0), iso(m2)]
    # 60 s at 85 dB(A) = 100·60/28800 = 0.2083 %; then 30 s at 95 dB(A) = 100·30·10/28800 = 1.0417 % more.
    assert series["noise_dose_pct"] == pytest.approx([0.20833, 1.25], abs=1e-5)
    # 30 s at 5 m/s²: 100·25·30 / (28800·6.25) = 0.4167 points.
    assert series["hav_points"] == pytest.approx([0.0, 0.41667], abs=1e-5)
    assert series["hr_bpm"] == pytest.approx([100.0, 120.0])
    assert (series["lifts"], series["tonnage_kg"]) == ([0, 1], [0.0, 20.0])
    assert series["wbgt_c"][0] is None and series["wbgt_c"][1] == pytest.approx(29.26, abs=0.01)

    lines = got["lines"]
    assert [line["key"] for line in lines["noise_dose_pct"]] == ["lower_action", "upper_action", "limit"]
    # 80 and 85 dB(A) unprotected; the 87 dB(A) limit at the ear behind 5 dB of protection: 92 dB(A).
    assert [line["value"] for line in lines["noise_dose_pct"]] == pytest.approx([31.62, 100.0, 501.19], abs=0.01)
    assert lines["hav_points"] == [{"key": "action", "value": 100.0}, {"key": "limit", "value": 400.0}]
    # ISO 7243 acclimatised: 56.7 − 11.5·lg(230 W/m² × 1.8 m²) = 26.60 °C for handling bins (ISO 8996 high).
    (reference,) = lines["wbgt_c"]
    assert reference["key"] == "reference" and reference["value"] == pytest.approx(
        56.7 - 11.5 * math.log10(414.0), abs=1e-6)
    assert lines["hr_bpm"] == [{"key": "psi_hr_max", "value": 180.0}]
    assert lines["lifts"] == [] and lines["tonnage_kg"] == [{"key": "recommended", "value": 7500.0}]

    ledger = gateway.get("/api/v1/agents/agent-c1/exposure", **{"from": day.isoformat(), "to": day.isoformat()})
    assert ledger["items"][0]["noise"]["dose_pct"] == pytest.approx(series["noise_dose_pct"][-1], abs=0.01)


def test_the_curves_of_an_unknown_agent_or_a_bad_day_are_refused(gateway: RunningGateway):
    assert gateway.http.get("/api/v1/agents/agent-zz/exposure/today").status_code == 404
    register(gateway, "wear-e1", "agent-e1", "crew-e")
    assert gateway.http.get("/api/v1/agents/agent-e1/exposure/today", params={"day": "2026-13-45"}).status_code == 422
    empty = gateway.get("/api/v1/agents/agent-e1/exposure/today")
    assert empty["day"] == datetime.now(PARIS).date().isoformat()
    assert empty["series"] == {"t": [], "noise_dose_pct": [], "hav_points": [], "wbgt_c": [], "hr_bpm": [],
                               "lifts": [], "tonnage_kg": []}  # fmt: skip
    assert empty["lines"]["hav_points"][1] == {"key": "limit", "value": 400.0}


def test_the_basemap_is_served_from_the_configured_file_and_read_once(broker, database_url, tmp_path: Path):
    basemap = tmp_path / "basemap.geojson"
    document = b'{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"kind": "park"},' \
               b' "geometry": {"type": "Point", "coordinates": [2.35, 48.85]}}]}'  # fmt: skip
    with running_gateway(broker.url, database_url, basemap_path=basemap) as gateway:
        missing = gateway.http.get("/api/v1/basemap")
        assert missing.status_code == 503 and "basemap unavailable" in missing.json()["detail"]
        basemap.write_text("{not json")
        broken = gateway.http.get("/api/v1/basemap")
        assert broken.status_code == 503 and "not valid JSON" in broken.json()["detail"]
        basemap.write_bytes(document)
        served = gateway.http.get("/api/v1/basemap")
        assert served.status_code == 200 and served.content == document
        assert served.headers["content-type"] == "application/geo+json"
        assert served.headers["cache-control"] == "max-age=3600"
        basemap.unlink()  # read once: the bytes stay served
        assert gateway.http.get("/api/v1/basemap").content == document


def test_the_shipped_paris_basemap_is_served_by_default(gateway: RunningGateway):
    served = gateway.http.get("/api/v1/basemap")
    assert served.status_code == 200, served.text
    assert served.json()["type"] == "FeatureCollection" and served.json()["features"]


def test_an_agent_whose_wearable_goes_silent_is_pushed_as_stale_without_any_new_frame(broker, database_url,
                                                                                      publisher: Publisher):
    with running_gateway(broker.url, database_url, stale_after_s=2.0) as gateway:
        gateway.assign("wear-quiet", "agent-quiet", display_name="Quentin Q")
        with ws_connect(gateway.ws_url, open_timeout=5) as ws:
            ws.send(orjson.dumps({"type": "auth", "token": gateway.token}).decode())
            assert orjson.loads(ws.recv(timeout=5))["type"] == "hello"
            publisher.frame(frame("wear-quiet", 1, datetime.now(UTC), hr_bpm=80))
            statuses: list[str] = []
            deadline = datetime.now(UTC) + timedelta(seconds=15)
            while "stale" not in statuses and datetime.now(UTC) < deadline:
                try:
                    message = orjson.loads(ws.recv(timeout=1))
                except TimeoutError:
                    continue
                if message["type"] == "agents.changed":
                    statuses += [a["status"] for a in message["items"] if a["agent_id"] == "agent-quiet"]
    assert statuses[0] == "ok" and statuses[-1] == "stale"
