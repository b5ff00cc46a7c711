"""Seeding the gateway with the simulated roster: idempotent, and loud when the gateway refuses."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from simulations.roster import make_roster
from simulations.seed import SeedError, seed_roster

VALID_FROM = datetime(2026, 6, 3, 7, 30, tzinfo=UTC)


Call = tuple[str, str, dict[str, Any]]


def _client(answer: Callable[[httpx.Request, dict[str, Any]], httpx.Response]) -> tuple[httpx.Client, list[Call]]:
    calls: list[Call] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body: dict[str, Any] = json.loads(request.content)
        calls.append((request.method, request.url.path, body))
        return answer(request, body)

    return httpx.Client(base_url="http://gateway.test", transport=httpx.MockTransport(handler)), calls


def test_seeding_registers_agents_then_assignments_then_robots():
    roster = make_roster(9, 2, seed=1)
    client, calls = _client(lambda request, body: httpx.Response(201 if request.method == "POST" else 200))
    report = seed_roster("http://gateway.test", roster, VALID_FROM, client=client)
    assert (report.agents, report.assignments_created, report.assignments_existing, report.robots) == (9, 9, 0, 2)
    assert calls[0] == ("PUT", "/api/v1/agents/agent-0001", {
        "display_name": roster.agents[0].display_name, "crew_id": "crew-01", "site_id": "paris"})
    assert calls[9] == ("POST", "/api/v1/assignments", {
        "device_id": "wear-0001", "agent_id": "agent-0001", "valid_from": "2026-06-03T07:30:00.000Z",
        "valid_to": None})
    assert calls[-1] == ("PUT", "/api/v1/robots/robot-02", {"kind": "mower", "crew_id": "crew-02"})


def test_an_assignment_that_already_exists_counts_as_seeded():
    roster = make_roster(3, 0, seed=1)
    client, _ = _client(lambda request, body: httpx.Response(409 if request.method == "POST" else 200))
    report = seed_roster("http://gateway.test", roster, VALID_FROM, client=client)
    assert (report.assignments_created, report.assignments_existing) == (0, 3)


def test_a_refused_agent_stops_seeding_with_the_gateway_answer():
    roster = make_roster(3, 0, seed=1)
    client, calls = _client(lambda request, body: httpx.Response(422, json={"detail": "unknown site"}))
    with pytest.raises(SeedError, match=r"PUT /api/v1/agents/agent-0001 -> 422.*unknown site"):
        seed_roster("http://gateway.test", roster, VALID_FROM, client=client)
    assert len(calls) == 1


def test_an_unreachable_gateway_is_a_seed_error():
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    client = httpx.Client(base_url="http://gateway.test", transport=httpx.MockTransport(refuse))
    with pytest.raises(SeedError, match="unreachable"):
        seed_roster("http://gateway.test", make_roster(1, 0, seed=1), VALID_FROM, client=client)
