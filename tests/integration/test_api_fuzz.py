"""Schemathesis against a real gateway (TimescaleDB, Mosquitto, ingest running): no request gets a 5xx.

Every operation of the published OpenAPI document is exercised, none excluded, with the admin bearer token
so that requests reach the handlers rather than stop at a 401. Valid and invalid inputs (schemathesis's
positive and negative generation, and its coverage phase's boundary values) are sent; the only check is
``not_a_server_error``: a bad request deserves a 4xx with a message, never a 500. The figures per operation
go to test-artifacts/api-fuzz.json (quoted in docs/reliability.md).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from gateway.api.app import MAX_BODY_BYTES
from tests.gateway_harness import RunningGateway

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
EXAMPLES_PER_OPERATION = 30
STATUSES: defaultdict[str, Counter[int]] = defaultdict(Counter)


@pytest.fixture
def api_schema(gateway: RunningGateway, request: pytest.FixtureRequest) -> Iterator[Any]:
    yield schemathesis.openapi.from_url(f"{gateway.http_url}/openapi.json", headers=_auth(gateway))
    # After every operation has been fuzzed: the gateway still answers, and the figures are kept.
    health = gateway.http.get("/healthz")
    _report(request, health.status_code)
    assert health.status_code == 200, health.text


def _auth(gateway: RunningGateway) -> dict[str, str]:
    return {"Authorization": f"Bearer {gateway.token}"}


def _report(request: pytest.FixtureRequest, health_status: int) -> None:
    server_errors = {op: sum(n for s, n in codes.items() if s >= 500) for op, codes in STATUSES.items()}
    summary = {
        "operations": len(STATUSES),
        "requests": sum(sum(codes.values()) for codes in STATUSES.values()),
        "server_errors": sum(server_errors.values()),
        "healthz_after": health_status,
        "per_operation": {op: dict(sorted(codes.items())) for op, codes in sorted(STATUSES.items())},
    }
    out = REPO / "test-artifacts"
    out.mkdir(exist_ok=True)
    (out / "api-fuzz.json").write_text(json.dumps(summary, indent=2) + "\n")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"\napi fuzz: {summary['operations']} operations, {summary['requests']} requests, "
                            f"{summary['server_errors']} server errors")  # fmt: skip


schema = schemathesis.pytest.from_fixture("api_schema")


@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))  # fmt: skip
@schema.parametrize()
def test_no_request_gets_a_server_error(case: Any, gateway: RunningGateway) -> None:
    response = case.call(base_url=gateway.http_url, headers=_auth(gateway), timeout=10)
    STATUSES[case.operation.label][response.status_code] += 1
    case.validate_response(response, checks=[not_a_server_error])


def _chunks(body: bytes, size: int = 65_536) -> Iterator[bytes]:
    # An iterator has no length: httpx sends it with Transfer-Encoding: chunked and no Content-Length.
    for start in range(0, len(body), size):
        yield body[start:start + size]


def test_a_body_over_the_limit_is_refused_with_413_whether_announced_or_chunked(gateway: RunningGateway):
    huge = b'{"display_name": "' + b"x" * MAX_BODY_BYTES + b'"}'
    announced = gateway.http.put("/api/v1/agents/agent-big", content=huge, headers={"Content-Type": "application/json"})
    assert announced.status_code == 413, announced.text
    chunked = gateway.http.put("/api/v1/agents/agent-big", content=_chunks(huge),
                               headers={"Content-Type": "application/json"})  # fmt: skip
    assert chunked.status_code == 413, chunked.text
    assert gateway.http.get("/api/v1/agents/agent-big").status_code == 404


def test_a_chunked_body_within_the_limit_reaches_the_route(gateway: RunningGateway):
    body = json.dumps({"display_name": "Ada " + "y" * 100, "crew_id": "crew-01"}).encode()
    response = gateway.http.put("/api/v1/agents/agent-chunked", content=_chunks(body, 16),
                                headers={"Content-Type": "application/json"})  # fmt: skip
    assert response.status_code == 200, response.text
    assert gateway.get("/api/v1/agents/agent-chunked")["display_name"].startswith("Ada ")


def test_a_value_the_database_cannot_store_is_a_422_not_a_500(gateway: RunningGateway):
    # Found by schemathesis: a NUL character in an escalation target reached PostgreSQL.
    levels = [{"level": 1, "after_s": 60, "target": "k\u0000"}]
    response = gateway.http.put("/api/v1/sites/paris/escalation", json={"levels": levels})
    assert response.status_code == 422, response.text
    # Refused by the request model, which names the field (the database is never reached).
    assert [e["loc"] for e in response.json()["detail"]] == [["body", "levels", 0, "target"]]
