"""Every route of the OpenAPI, called with every role (and with no token): allowed or refused as specified.

The expected matrix below is written out by hand, independently of gateway/api/security.py's POLICY: a route
added without a decision here fails ``test_every_route_is_in_the_matrix``, and a policy change that was not
meant shows up as a mismatch. Scoping (which crews, which agent) is tested in test_access_scope.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from gateway.auth.tokens import issue_jwt
from gateway.runtime.mosquitto import MosquittoBroker
from services.access import Principal, Role
from tests.gateway_harness import RunningGateway, running_gateway

pytestmark = pytest.mark.integration

A, S, OFF, G, D, R = "admin", "supervisor", "safety_officer", "agent", "device", "robot"
PUBLIC = "public"
PEOPLE = {A, S, OFF, G}
STAFF = {A, S, OFF}

EXPECTED: dict[tuple[str, str], set[str]] = {
    ("GET", "/healthz"): {PUBLIC},
    ("POST", "/api/v1/auth/token"): {PUBLIC},
    ("GET", "/metrics"): {A},
    ("GET", "/api/v1/frames"): {A},
    ("GET", "/api/v1/dead-letters"): {A},
    ("GET", "/api/v1/alerts"): STAFF,
    ("GET", "/api/v1/alerts/stats"): STAFF,
    ("GET", "/api/v1/alerts/{alert_id}"): PEOPLE,
    ("GET", "/api/v1/alerts/{alert_id}/events"): STAFF,
    ("POST", "/api/v1/alerts/{alert_id}/comments"): {A, S},
    ("POST", "/api/v1/alerts/{alert_id}/ack"): {A, S},
    ("POST", "/api/v1/alerts/{alert_id}/resolve"): {A, S},
    ("GET", "/api/v1/agents"): PEOPLE,
    ("GET", "/api/v1/agents/{agent_id}"): PEOPLE,
    ("PUT", "/api/v1/agents/{agent_id}"): {A},
    ("GET", "/api/v1/agents/{agent_id}/exposure"): PEOPLE,
    ("GET", "/api/v1/agents/{agent_id}/exposure/today"): PEOPLE,
    ("GET", "/api/v1/crews"): STAFF,
    ("PUT", "/api/v1/crews/{crew_id}"): {A},
    ("GET", "/api/v1/basemap"): PEOPLE,
    ("GET", "/api/v1/robots"): STAFF,
    ("PUT", "/api/v1/robots/{robot_id}"): {A},
    ("GET", "/api/v1/devices"): {A},
    ("GET", "/api/v1/assignments"): {A, S},
    ("POST", "/api/v1/assignments"): {A},
    ("POST", "/api/v1/assignments/{assignment_id}/end"): {A},
    ("GET", "/api/v1/sites/{site_id}/escalation"): STAFF,
    ("PUT", "/api/v1/sites/{site_id}/escalation"): {A},
    ("GET", "/api/v1/reports/exposure"): PEOPLE,
    ("GET", "/api/v1/reports/annual"): {A, OFF, G},
    ("GET", "/api/v1/rules/defaults"): STAFF,
    ("GET", "/api/v1/rules/{scope}/{scope_id}"): STAFF,
    ("PUT", "/api/v1/rules/{scope}/{scope_id}"): {A, OFF},
    ("POST", "/api/v1/devices/{device_id}/mqtt-credentials"): {A},
    ("DELETE", "/api/v1/devices/{device_id}/mqtt-credentials"): {A},
    ("POST", "/api/v1/robots/{robot_id}/mqtt-credentials"): {A},
    ("DELETE", "/api/v1/robots/{robot_id}/mqtt-credentials"): {A},
    ("GET", "/api/v1/me"): {A, S, OFF, G, D, R},
    ("GET", "/api/v1/me/export"): {G},
    ("GET", "/api/v1/users"): {A},
    ("PUT", "/api/v1/users/{username}"): {A},
    ("POST", "/api/v1/api-keys"): {A},
    ("DELETE", "/api/v1/api-keys/{key_id}"): {A},
    ("GET", "/api/v1/audit"): {A},
    ("GET", "/api/v1/signals"): PEOPLE,
    ("GET", "/api/v1/reports/signals"): STAFF,
    ("PUT", "/api/v1/signals/{ref}/review"): STAFF,  # an agent reads their signal's follow-up, never writes it
    ("GET", "/api/v1/sites/{site_id}/signal-readers"): {A},
    ("PUT", "/api/v1/sites/{site_id}/signal-readers/{username}"): {A},
    ("DELETE", "/api/v1/sites/{site_id}/signal-readers/{username}"): {A},
}

# Path parameters that name things in every role's scope: the agent is the agent role's own record, in the
# supervisor's crew. Some calls then fail validation or find nothing (4xx): only 401/403 mean "refused".
PARAMS = {"agent_id": "agent-m", "crew_id": "crew-m", "alert_id": "00000000-0000-4000-8000-000000000000",
          "robot_id": "robot-m", "device_id": "wear-m", "site_id": "paris", "scope": "crew", "scope_id": "crew-m",
          "assignment_id": "1", "username": "nobody", "key_id": "nokey", "ref": "sig-00000000000000000000"}  # fmt: skip
QUERY = {"/api/v1/reports/exposure": {"agent_id": "agent-m", "from": "2026-01-01", "to": "2026-01-02"},
         "/api/v1/reports/annual": {"agent_id": "agent-m", "year": "2026"},
         "/api/v1/assignments": {"agent_id": "agent-m"},
         "/api/v1/alerts/stats": {"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z"},
         "/api/v1/agents/{agent_id}/exposure": {"from": "2026-01-01", "to": "2026-01-02"}}  # fmt: skip


@pytest.fixture
def gateway(broker: MosquittoBroker, database_url: str) -> Iterator[RunningGateway]:
    with running_gateway(broker.url, database_url, run_ingest=False) as g:
        g.assign("wear-m", "agent-m", display_name="Matrix Agent", crew_id="crew-m")
        yield g


def principals() -> dict[str, Principal]:
    return {A: Principal("t-admin", Role.ADMIN), S: Principal("t-sup", Role.SUPERVISOR, frozenset({"crew-m"})),
            OFF: Principal("t-officer", Role.SAFETY_OFFICER), G: Principal("t-agent", Role.AGENT, agent_id="agent-m"),
            D: Principal("t-device", Role.DEVICE), R: Principal("t-robot", Role.ROBOT)}  # fmt: skip


def operations(gateway: RunningGateway) -> list[tuple[str, str]]:
    spec = httpx.get(f"{gateway.http_url}/openapi.json").json()
    return sorted((method.upper(), path) for path, ops in spec["paths"].items() for method in ops)


def call(gateway: RunningGateway, method: str, template: str, token: str | None) -> int:
    path = re.sub(r"\{(\w+)\}", lambda m: PARAMS[m.group(1)], template)
    # gateway.http sends the admin token by default: replace it (or remove it for the anonymous call).
    headers = {"Authorization": f"Bearer {token}" if token else ""}
    # Bodies are left out on purpose: authorisation is decided before the body is validated (422 = allowed).
    response = gateway.http.request(method, path, params=QUERY.get(template), headers=headers)
    return response.status_code


def test_every_route_is_in_the_matrix(gateway: RunningGateway):
    assert set(operations(gateway)) == set(EXPECTED)


def test_every_route_allows_and_refuses_each_role_as_specified(gateway: RunningGateway):
    tokens = {role: gateway.token_for(principal) for role, principal in principals().items()}
    wrong = []
    for method, template in operations(gateway):
        allowed = EXPECTED[(method, template)]
        anonymous = call(gateway, method, template, None)
        if PUBLIC not in allowed and anonymous != 401:
            wrong.append(f"{method} {template} without a token: {anonymous}, expected 401")
        if PUBLIC in allowed:
            continue
        for role, token in tokens.items():
            status = call(gateway, method, template, token)
            if role in allowed and status in (401, 403):
                wrong.append(f"{method} {template} as {role}: {status}, expected allowed")
            if role not in allowed and status != 403:
                wrong.append(f"{method} {template} as {role}: {status}, expected 403")
    assert wrong == []


def test_a_forged_or_expired_token_is_refused(gateway: RunningGateway):
    assert call(gateway, "GET", "/api/v1/agents", "not-a-jwt") == 401
    assert call(gateway, "GET", "/api/v1/agents", "vk_nokey_secret") == 401
    expired = issue_jwt(Principal("t-admin", Role.ADMIN), gateway.settings.jwt_secret_value,
                        datetime.now(UTC) - timedelta(hours=2), 60)  # fmt: skip
    assert call(gateway, "GET", "/api/v1/agents", expired) == 401
    forged = issue_jwt(Principal("t-admin", Role.ADMIN), "another-deployment-secret-xxxxxxxxxxxxxxxxxxxx",
                       datetime.now(UTC), 3600)  # fmt: skip
    assert call(gateway, "GET", "/api/v1/agents", forged) == 401
