"""Registering the simulated roster with the gateway, so frames resolve to agents and crews.

The gateway only attributes a frame to an agent through an assignment valid at the frame's ``ts``; without
this step every simulated frame would land as an unknown device. Crews are registered first, with their work
area for the supervisors' map. All calls are idempotent (PUT, and a 409 on an existing assignment counts as
done) so the demo can seed on every start.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import numpy as np

from services.geo import local_to_latlon
from simulations.roster import SITE_ID, Area, Crew, Roster
from simulations.timebase import rfc3339_ms

AREA_VERTICES = 24

log = logging.getLogger(__name__)


class SeedError(RuntimeError):
    """The gateway refused part of the roster; the message names the request and the gateway's answer."""


@dataclass(frozen=True, slots=True)
class SeedReport:
    agents: int
    assignments_created: int
    assignments_existing: int
    robots: int
    crews: int = 0


def area_polygon(area: Area, vertices: int = AREA_VERTICES) -> dict[str, Any]:
    """The area's circle as a closed GeoJSON Polygon ring of ``vertices`` points, counter-clockwise (RFC 7946)."""
    angles = np.linspace(0.0, 2.0 * np.pi, vertices, endpoint=False)
    lat, lon = local_to_latlon(area.lat, area.lon, area.radius_m * np.cos(angles), area.radius_m * np.sin(angles))
    ring = [[round(float(x), 7), round(float(y), 7)] for x, y in zip(lon, lat, strict=True)]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def crew_body(crew: Crew) -> dict[str, Any]:
    """The crew as ``PUT /api/v1/crews/{id}`` takes it: a readable name, the site, the work area."""
    return {"name": f"{crew.team.value.capitalize()} — {crew.area.area_id}", "site_id": SITE_ID,
            "area": area_polygon(crew.area)}  # fmt: skip


def _check(response: httpx.Response) -> None:
    if response.is_error:
        raise SeedError(f"{response.request.method} {response.request.url.path} -> "
                        f"{response.status_code}: {response.text[:300]}")


def seed_roster(api_url: str, roster: Roster, valid_from: datetime, *, token: str | None = None,
                client: httpx.Client | None = None, timeout_s: float = 10.0) -> SeedReport:
    """Register crews and their work areas (``PUT /api/v1/crews/{id}``), agents (``PUT /api/v1/agents/{id}``),
    their devices (``POST /api/v1/assignments``) and robots.

    ``valid_from`` should be no later than the first simulated frame's ``ts``. ``client`` lets tests pass an
    ``httpx.Client`` on a mock transport; otherwise one is opened on ``api_url`` and closed here.
    """
    if valid_from.tzinfo is None:
        raise ValueError("valid_from must be timezone-aware (UTC)")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    http = client or httpx.Client(base_url=api_url.rstrip("/"), timeout=timeout_s, headers=headers)
    created = existing = 0
    try:
        for crew in roster.crews:
            _check(http.put(f"/api/v1/crews/{crew.crew_id}", json=crew_body(crew)))
        for agent in roster.agents:
            _check(http.put(f"/api/v1/agents/{agent.agent_id}", json={
                "display_name": agent.display_name, "crew_id": agent.crew_id, "site_id": agent.site_id,
                "hearing_attenuation_db": agent.hearing_attenuation_db}))
        for agent in roster.agents:
            response = http.post("/api/v1/assignments", json={
                "device_id": agent.device_id, "agent_id": agent.agent_id,
                "valid_from": rfc3339_ms(valid_from), "valid_to": None})
            if response.status_code == httpx.codes.CONFLICT:
                existing += 1  # already worn by this agent from an earlier run
                continue
            _check(response)
            created += 1
        for robot in roster.robots:
            _check(http.put(f"/api/v1/robots/{robot.robot_id}",
                            json={"kind": robot.kind.value, "crew_id": robot.crew_id}))
    except httpx.HTTPError as exc:
        raise SeedError(f"gateway API at {api_url} unreachable: {exc}") from exc
    finally:
        if client is None:
            http.close()
    log.info("seeded %d crews, %d agents (%d new assignments, %d existing) and %d robots",
             len(roster.crews), len(roster.agents), created, existing, len(roster.robots))
    return SeedReport(len(roster.agents), created, existing, len(roster.robots), len(roster.crews))
