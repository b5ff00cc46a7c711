"""Seeding the gateway with the simulated roster: idempotent, and loud when the gateway refuses."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from services.geo import haversine_m
from simulations.roster import Area, make_roster
from simulations.seed import SeedError, area_polygon, seed_roster

VALID_FROM = datetime(2026, 6, 3, 7, 30, tzinfo=UTC)


Call = tuple[str, str, dict[str, Any]]


def _client(answer: Callable[[httpx.Request, dict[str, Any]], httpx.Response]) -> tuple[httpx.Client, list[Call]]:
    calls: list[Call] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body: dict[str, Any] = json.loads(request.content)
        calls.append((request.method, request.url.path, body))
        return answer(request, body)

    return httpx.Client(base_url="http://gateway.test", transport=httpx.MockTransport(handler)), calls


def test_seeding_registers_crews_then_agents_then_assignments_then_robots():
    roster = make_roster(9, 2, seed=1)
    client, calls = _client(lambda request, body: httpx.Response(201 if request.method == "POST" else 200))
    report = seed_roster("http://gateway.test", roster, VALID_FROM, client=client)
    assert (report.agents, report.assignments_created, report.assignments_existing, report.robots) == (9, 9, 0, 2)
    assert report.crews == 2
    assert [(method, path) for method, path, _ in calls[:2]] == [
        ("PUT", "/api/v1/crews/crew-01"), ("PUT", "/api/v1/crews/crew-02")]
    assert calls[0][2] == {"name": "Collectors — paris-04", "site_id": "paris",
                           "area": area_polygon(roster.crews[0].area)}
    assert calls[2] == ("PUT", "/api/v1/agents/agent-0001", {
        "display_name": roster.agents[0].display_name, "crew_id": "crew-01", "site_id": "paris",
        "hearing_attenuation_db": 0.0})
    assert calls[11] == ("POST", "/api/v1/assignments", {
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

    def refuse_agents(request: httpx.Request, body: dict[str, Any]) -> httpx.Response:
        if request.url.path.startswith("/api/v1/agents/"):
            return httpx.Response(422, json={"detail": "unknown site"})
        return httpx.Response(200)

    client, calls = _client(refuse_agents)
    with pytest.raises(SeedError, match=r"PUT /api/v1/agents/agent-0001 -> 422.*unknown site"):
        seed_roster("http://gateway.test", roster, VALID_FROM, client=client)
    assert [path for _, path, _ in calls] == ["/api/v1/crews/crew-01", "/api/v1/agents/agent-0001"]


def test_a_refused_crew_area_stops_seeding_before_any_agent():
    client, calls = _client(lambda request, body: httpx.Response(422, json={"detail": "ring not closed"}))
    with pytest.raises(SeedError, match=r"PUT /api/v1/crews/crew-01 -> 422.*ring not closed"):
        seed_roster("http://gateway.test", make_roster(3, 0, seed=1), VALID_FROM, client=client)
    assert len(calls) == 1


def test_a_crews_work_area_is_its_circle_as_a_closed_24_vertex_ring():
    area = Area("paris-04", 48.8545, 2.3576, 600.0)
    polygon = area_polygon(area)
    (ring,) = polygon["coordinates"]
    assert polygon["type"] == "Polygon"
    assert len(ring) == 25 and ring[0] == ring[-1]
    assert len({tuple(p) for p in ring}) == 24
    for lon, lat in ring:  # GeoJSON order: longitude first
        assert haversine_m(area.lat, area.lon, lat, lon) == pytest.approx(600.0, rel=0.005)
    # Counter-clockwise (RFC 7946 right-hand rule): a positive signed area in (lon, lat).
    signed = sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in itertools.pairwise(ring))
    assert signed > 0


def test_an_unreachable_gateway_is_a_seed_error():
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    client = httpx.Client(base_url="http://gateway.test", transport=httpx.MockTransport(refuse))
    with pytest.raises(SeedError, match="unreachable"):
        seed_roster("http://gateway.test", make_roster(1, 0, seed=1), VALID_FROM, client=client)
