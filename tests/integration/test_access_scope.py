"""Who sees what: a supervisor their crews, an agent themself, a safety officer pseudonyms; logins; the audit log;
the live WebSocket filtered the same way. Real gateway, database and broker."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as ws_connect

from services.access import Principal, Role
from tests.gateway_harness import Publisher, RunningGateway, now_rfc3339
from tests.helpers import wait_until

pytestmark = pytest.mark.integration

SUPERVISOR = Principal("sup-a", Role.SUPERVISOR, frozenset({"crew-a"}))
OFFICER = Principal("officer", Role.SAFETY_OFFICER)
NAMED_OFFICER = Principal("officer-named", Role.SAFETY_OFFICER, names_allowed=True)
AGENT_A = Principal("agent-a1-login", Role.AGENT, agent_id="agent-a1")


@pytest.fixture
def crews(gateway: RunningGateway, publisher: Publisher) -> RunningGateway:
    """Two crews of one agent each, both with an open SOS alert."""
    gateway.assign("wear-a1", "agent-a1", display_name="Ana A", crew_id="crew-a")
    gateway.assign("wear-b1", "agent-b1", display_name="Bruno B", crew_id="crew-b")
    for device in ("wear-a1", "wear-b1"):
        publisher.frame({"v": 1, "device_id": device, "seq": 1, "ts": now_rfc3339(), "sos": True})
    wait_until(lambda: len(gateway.get("/api/v1/alerts", status="open")["items"]) == 2, 10)
    return gateway


def as_(gateway: RunningGateway, principal: Principal) -> httpx.Client:
    return httpx.Client(base_url=gateway.http_url, timeout=10,
                        headers={"Authorization": f"Bearer {gateway.token_for(principal)}"})  # fmt: skip


def ids(response: httpx.Response, key: str = "agent_id") -> set[str]:
    assert response.status_code == 200, response.text
    return {item[key] for item in response.json()["items"]}


def alert_of(gateway: RunningGateway, agent_id: str) -> dict[str, Any]:
    items = gateway.get("/api/v1/alerts", status="open", agent_id=agent_id)["items"]
    found: dict[str, Any] = items[0]
    return found


def test_a_supervisor_sees_and_acts_only_on_their_crews(crews: RunningGateway):
    with as_(crews, SUPERVISOR) as http:
        assert ids(http.get("/api/v1/agents")) == {"agent-a1"}
        assert ids(http.get("/api/v1/alerts", params={"status": "open"})) == {"agent-a1"}
        assert ids(http.get("/api/v1/crews"), "crew_id") == {"crew-a"}
        assert http.get("/api/v1/agents/agent-b1").status_code == 403
        assert http.get("/api/v1/agents/agent-b1/exposure/today").status_code == 403
        report = {"crew_id": "crew-b", "from": "2026-01-01", "to": "2026-01-02"}
        assert http.get("/api/v1/reports/exposure", params=report).status_code == 403
        other = alert_of(crews, "agent-b1")["alert_id"]
        assert http.post(f"/api/v1/alerts/{other}/ack", json={}).status_code == 403
        own = alert_of(crews, "agent-a1")["alert_id"]
        acked = http.post(f"/api/v1/alerts/{own}/ack", json={})
        assert acked.status_code == 200 and acked.json()["acknowledged_by"] == "sup-a"
    events = crews.get(f"/api/v1/alerts/{own}/events")["items"]
    assert events[-1]["details"]["account"] == "sup-a"


def test_an_agent_sees_only_their_own_data(crews: RunningGateway):
    with as_(crews, AGENT_A) as http:
        assert ids(http.get("/api/v1/agents")) == {"agent-a1"}
        assert http.get("/api/v1/agents/agent-b1").status_code == 403
        assert http.get("/api/v1/alerts").status_code == 403
        own = {"agent_id": "agent-a1", "from": "2026-01-01", "to": "2026-01-02"}
        assert http.get("/api/v1/reports/exposure", params=own).status_code == 200
        other = {"agent_id": "agent-b1", "from": "2026-01-01", "to": "2026-01-02"}
        assert http.get("/api/v1/reports/exposure", params=other).status_code == 403
        crew = {"crew_id": "crew-a", "from": "2026-01-01", "to": "2026-01-02"}
        assert http.get("/api/v1/reports/exposure", params=crew).status_code == 403


def test_a_safety_officer_gets_pseudonyms_unless_authorised_for_names(crews: RunningGateway):
    with as_(crews, OFFICER) as http:
        agents = http.get("/api/v1/agents").json()["items"]
        alerts = http.get("/api/v1/alerts", params={"status": "open"}).json()["items"]
    names = {a["display_name"] for a in agents}
    assert names.isdisjoint({"Ana A", "Bruno B"}) and all(n.startswith("agent-") for n in names)
    assert {a["agent_id"] for a in agents}.isdisjoint({"agent-a1", "agent-b1"})
    assert {a["agent_name"] for a in alerts}.isdisjoint({"Ana A", "Bruno B"})
    with as_(crews, OFFICER) as http:  # the same agent keeps the same pseudonym
        assert {a["display_name"] for a in http.get("/api/v1/agents").json()["items"]} == names
    with as_(crews, NAMED_OFFICER) as http:
        assert {a["display_name"] for a in http.get("/api/v1/agents").json()["items"]} == {"Ana A", "Bruno B"}


def test_reads_of_health_data_are_in_the_audit_log(crews: RunningGateway):
    with as_(crews, SUPERVISOR) as http:
        http.get("/api/v1/agents/agent-a1/exposure/today").raise_for_status()
    entries = crews.get("/api/v1/audit", target="agent-a1")["items"]
    assert any(e["actor"] == "sup-a" and e["action"] == "GET /api/v1/agents/{agent_id}/exposure/today"
               for e in entries)  # fmt: skip


def test_people_log_in_with_a_password_and_machines_cannot_get_a_user(crews: RunningGateway):
    created = crews.http.put("/api/v1/users/ana", json={"password": "correct horse battery", "role": "agent",
                                                        "agent_id": "agent-a1"})  # fmt: skip
    assert created.status_code == 200, created.text
    refused = crews.http.put("/api/v1/users/bot", json={"password": "correct horse battery", "role": "robot"})
    assert refused.status_code == 422
    anonymous = httpx.Client(base_url=crews.http_url, timeout=10)
    bad = anonymous.post("/api/v1/auth/token", data={"username": "ana", "password": "wrong password!"})
    assert bad.status_code == 401
    login = anonymous.post("/api/v1/auth/token", data={"username": "ana", "password": "correct horse battery"})
    assert login.status_code == 200 and login.json()["role"] == "agent"
    token = login.json()["access_token"]
    me = anonymous.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert (me["subject"], me["agent_id"]) == ("ana", "agent-a1")
    export = anonymous.get("/api/v1/me/export", headers={"Authorization": f"Bearer {token}"})
    assert export.status_code == 200
    body = export.json()
    assert body["agent_id"] == "agent-a1" and body["profile"]["display_name"] == "Ana A"
    assert [a["agent_id"] for a in body["alerts"]] == ["agent-a1"]
    assert len(body["frames"]["items"]) == 1 and body["assignments"][0]["device_id"] == "wear-a1"
    anonymous.close()


def test_api_keys_work_until_revoked(crews: RunningGateway):
    key = crews.http.post("/api/v1/api-keys", json={"role": "safety_officer", "label": "BI export"}).json()
    headers = {"Authorization": f"Bearer {key['api_key']}"}
    assert httpx.get(f"{crews.http_url}/api/v1/crews", headers=headers).status_code == 200
    assert crews.http.delete(f"/api/v1/api-keys/{key['key_id']}").status_code == 204
    assert httpx.get(f"{crews.http_url}/api/v1/crews", headers=headers).status_code == 401


def live_messages(gateway: RunningGateway, principal: Principal | None, token: str | None = None
                  ) -> Iterator[dict[str, Any]]:  # fmt: skip
    with ws_connect(gateway.ws_url, open_timeout=5) as ws:
        ws.send(orjson.dumps({"type": "auth", "token": token or gateway.token_for(principal)}).decode())
        while True:
            try:
                yield orjson.loads(ws.recv(timeout=5))
            except (TimeoutError, ConnectionClosed):
                return


def test_the_live_feed_needs_a_token_and_filters_by_scope(crews: RunningGateway, publisher: Publisher):
    with ws_connect(crews.ws_url, open_timeout=5) as ws:
        ws.send(orjson.dumps({"type": "auth", "token": "forged"}).decode())
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401

    supervisor = live_messages(crews, SUPERVISOR)
    officer = live_messages(crews, OFFICER)
    assert next(supervisor)["type"] == "hello" and next(officer)["type"] == "hello"
    # A fall-free second alert each: an SOS from another device of each crew.
    crews.assign("wear-a2", "agent-a2", display_name="Alix A", crew_id="crew-a")
    crews.assign("wear-b2", "agent-b2", display_name="Basile B", crew_id="crew-b")
    for device in ("wear-b2", "wear-a2"):
        publisher.frame({"v": 1, "device_id": device, "seq": 1, "ts": now_rfc3339(), "sos": True})

    def raised(messages: Iterator[dict[str, Any]], count: int) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for message in messages:
            if message["type"] == "alert.raised":
                out.append(message["alert"])
            if len(out) == count:
                break
        return out

    officer_alerts = raised(officer, 2)
    assert {a["agent_name"] for a in officer_alerts}.isdisjoint({"Alix A", "Basile B"})
    supervisor_alerts = raised(supervisor, 2)  # gives up after 5 s of silence: only one ever comes
    assert [a["agent_id"] for a in supervisor_alerts] == ["agent-a2"]
    subscriptions = [e for e in crews.get("/api/v1/audit")["items"] if e["action"] == "WS /api/v1/live"]
    assert {e["actor"] for e in subscriptions} >= {"sup-a", "officer"}
