"""Registering the simulated roster with the gateway, so frames resolve to agents and crews.

The gateway only attributes a frame to an agent through an assignment valid at the frame's ``ts``; without
this step every simulated frame would land as an unknown device. All calls are idempotent (PUT, and a 409
on an existing assignment counts as done) so the demo can seed on every start.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import httpx

from simulations.roster import Roster
from simulations.timebase import rfc3339_ms

log = logging.getLogger(__name__)


class SeedError(RuntimeError):
    """The gateway refused part of the roster; the message names the request and the gateway's answer."""


@dataclass(frozen=True, slots=True)
class SeedReport:
    agents: int
    assignments_created: int
    assignments_existing: int
    robots: int


def _check(response: httpx.Response) -> None:
    if response.is_error:
        raise SeedError(f"{response.request.method} {response.request.url.path} -> "
                        f"{response.status_code}: {response.text[:300]}")


def seed_roster(api_url: str, roster: Roster, valid_from: datetime, *,
                client: httpx.Client | None = None, timeout_s: float = 10.0) -> SeedReport:
    """Register agents (``PUT /api/v1/agents/{id}``), their devices (``POST /api/v1/assignments``) and robots.

    ``valid_from`` should be no later than the first simulated frame's ``ts``. ``client`` lets tests pass an
    ``httpx.Client`` on a mock transport; otherwise one is opened on ``api_url`` and closed here.
    """
    if valid_from.tzinfo is None:
        raise ValueError("valid_from must be timezone-aware (UTC)")
    http = client or httpx.Client(base_url=api_url.rstrip("/"), timeout=timeout_s)
    created = existing = 0
    try:
        for agent in roster.agents:
            _check(http.put(f"/api/v1/agents/{agent.agent_id}", json={
                "display_name": agent.display_name, "crew_id": agent.crew_id, "site_id": agent.site_id}))
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
    log.info("seeded %d agents (%d new assignments, %d existing) and %d robots",
             len(roster.agents), created, existing, len(roster.robots))
    return SeedReport(len(roster.agents), created, existing, len(roster.robots))
