"""Agents, robots, devices and assignments."""

from __future__ import annotations

import itertools
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path

from gateway.api.deps import ConnDep, NowDep, SettingsDep
from gateway.api.schemas import AgentIn, AssignmentEndIn, AssignmentIn, EscalationIn, RobotIn
from gateway.db import queries, registry

router = APIRouter(prefix="/api/v1", tags=["registry"])
IdPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]


@router.get("/agents")
async def list_agents(conn: ConnDep, settings: SettingsDep, now: NowDep) -> dict[str, Any]:
    """Agents with their current device, live status (ok/alert/stale/offline) and latest readings."""
    return {"items": await queries.agents(conn, now, settings.stale_after_s)}


@router.get("/agents/{agent_id}")
async def get_agent(conn: ConnDep, settings: SettingsDep, now: NowDep, agent_id: IdPath) -> dict[str, Any]:
    found = await queries.agents(conn, now, settings.stale_after_s, agent_id=agent_id)
    if not found:
        raise HTTPException(404, f"no agent {agent_id}")
    return found[0]


@router.put("/agents/{agent_id}")
async def put_agent(body: AgentIn, conn: ConnDep, agent_id: IdPath) -> dict[str, Any]:
    """Register or update an agent (idempotent); the crew is created on first use."""
    profile = body.model_dump(include={"hearing_attenuation_db", "task", "acclimatised", "resting_hr_bpm"})
    profile["task"] = body.task.value
    return await registry.upsert_agent(conn, agent_id, body.display_name, body.crew_id, body.site_id, profile)


@router.get("/robots")
async def list_robots(conn: ConnDep) -> dict[str, Any]:
    return {"items": await queries.robots(conn)}


@router.put("/robots/{robot_id}")
async def put_robot(body: RobotIn, conn: ConnDep, robot_id: IdPath) -> dict[str, Any]:
    return await registry.upsert_robot(conn, robot_id, body.kind, body.crew_id, body.site_id)


@router.get("/devices")
async def list_devices(conn: ConnDep) -> dict[str, Any]:
    """Devices seen or assigned, with the count of frames stored while nobody was assigned."""
    return {"items": await queries.devices(conn)}


@router.get("/assignments")
async def list_assignments(conn: ConnDep, device_id: str | None = None, agent_id: str | None = None
                           ) -> dict[str, Any]:  # fmt: skip
    return {"items": await registry.assignments(conn, device_id, agent_id)}


@router.post("/assignments", status_code=201)
async def create_assignment(body: AssignmentIn, conn: ConnDep, settings: SettingsDep) -> dict[str, Any]:
    """Assign a device to an agent over [valid_from, valid_to). 409 if it overlaps another assignment."""
    if body.valid_to is not None and body.valid_to <= body.valid_from:
        raise HTTPException(422, "valid_to must be after valid_from")
    try:
        return await registry.create_assignment(conn, body.device_id, body.agent_id, body.valid_from,
                                                body.valid_to, settings.site_timezone)  # fmt: skip
    except registry.AssignmentConflictError as exc:
        raise HTTPException(409, str(exc)) from exc
    except registry.UnknownAgentError as exc:
        raise HTTPException(422, str(exc)) from exc


@router.post("/assignments/{assignment_id}/end")
async def end_assignment(assignment_id: int, body: AssignmentEndIn, conn: ConnDep) -> dict[str, Any]:
    """End a shift: the device is no longer worn by the agent from ``valid_to`` on."""
    ended = await registry.end_assignment(conn, assignment_id, body.valid_to)
    if ended is None:
        raise HTTPException(404, f"no assignment {assignment_id} starting before {body.valid_to}")
    return ended


@router.get("/sites/{site_id}/escalation")
async def get_escalation(site_id: IdPath, conn: ConnDep) -> dict[str, Any]:
    """The site's escalation chain: who is notified when an alert stays unacknowledged, and when."""
    return {"site_id": site_id, "levels": await registry.escalation(conn, site_id)}


@router.put("/sites/{site_id}/escalation")
async def put_escalation(site_id: IdPath, body: EscalationIn, conn: ConnDep) -> dict[str, Any]:
    levels = [lvl.model_dump() for lvl in body.levels]
    if len({lvl["level"] for lvl in levels}) != len(levels):
        raise HTTPException(422, "levels must be distinct")
    ordered = sorted(levels, key=lambda lvl: lvl["level"])
    if any(a["after_s"] >= b["after_s"] for a, b in itertools.pairwise(ordered)):
        raise HTTPException(422, "a higher level must come later (after_s increasing with level)")
    await registry.set_escalation(conn, site_id, ordered)
    return {"site_id": site_id, "levels": ordered}
