"""Agents, crews, robots, devices and assignments, and the offline basemap of the supervisors' map."""

from __future__ import annotations

import functools
import itertools
import logging
from pathlib import Path as FilePath
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, HTTPException, Path
from fastapi.responses import Response

from dashboards import basemap_file
from gateway.api import scoping
from gateway.api.deps import ConnDep, NowDep, SettingsDep
from gateway.api.schemas import AgentIn, AssignmentEndIn, AssignmentIn, CrewIn, EscalationIn, RobotIn
from gateway.api.security import PrincipalDep
from gateway.db import queries, registry

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1", tags=["registry"])
IdPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
BASEMAP_MAX_AGE_S = 3600


@router.get("/agents")
async def list_agents(conn: ConnDep, settings: SettingsDep, now: NowDep, principal: PrincipalDep) -> dict[str, Any]:
    """Agents with their current device, live status (ok/alert/stale/offline), latest readings, today's
    exposure, and their position only while they have an open alert (CNIL, ``services.privacy``).
    A supervisor gets their crews, an agent themself, a safety officer pseudonyms unless allowed names."""
    items = await queries.agents(conn, now, settings.stale_after_s, agent_id=principal.agent_id,
                                 site_timezone=settings.site_timezone, shift_duration_s=settings.shift_duration_s)
    return {"items": scoping.agents(items, principal, settings.pseudonym_key)}


@router.get("/agents/{agent_id}")
async def get_agent(conn: ConnDep, settings: SettingsDep, now: NowDep, agent_id: IdPath,
                    principal: PrincipalDep) -> dict[str, Any]:  # fmt: skip
    found = await queries.agents(conn, now, settings.stale_after_s, agent_id=agent_id,
                                 site_timezone=settings.site_timezone, shift_duration_s=settings.shift_duration_s)
    if not found:
        raise HTTPException(404, f"no agent {agent_id}")
    return scoping.pseudonymise(found[0], principal, settings.pseudonym_key, "display_name")


@router.put("/agents/{agent_id}")
async def put_agent(body: AgentIn, conn: ConnDep, agent_id: IdPath) -> dict[str, Any]:
    """Register or update an agent (idempotent); the crew is created on first use."""
    profile = body.model_dump(include={"hearing_attenuation_db", "task", "acclimatised", "resting_hr_bpm"})
    profile["task"] = body.task.value
    return await registry.upsert_agent(conn, agent_id, body.display_name, body.crew_id, body.site_id, profile)


@router.get("/crews")
async def list_crews(conn: ConnDep, principal: PrincipalDep) -> dict[str, Any]:
    """Crews with their work area (GeoJSON Polygon or null), agents, and agents with an open alert."""
    return {"items": scoping.by_crew(await queries.crews(conn), principal)}


@router.put("/crews/{crew_id}")
async def put_crew(body: CrewIn, conn: ConnDep, crew_id: IdPath) -> dict[str, Any]:
    """Register or update a crew (idempotent): name (default: its id), site, work area."""
    area = None if body.area is None else body.area.model_dump(mode="json")
    await registry.upsert_crew(conn, crew_id, body.name or crew_id, body.site_id, area)
    (crew,) = await queries.crews(conn, crew_id)
    return crew


@functools.lru_cache(maxsize=4)
def _basemap_bytes(path: FilePath) -> bytes:
    """The basemap file's bytes, read once per path; a failure is not cached (the next request retries)."""
    try:
        data = path.read_bytes()
        document = orjson.loads(data)
    except OSError as exc:
        raise HTTPException(503, f"basemap unavailable: cannot read {path} ({exc.strerror})") from exc
    except orjson.JSONDecodeError as exc:
        raise HTTPException(503, f"basemap unavailable: {path} is not valid JSON ({exc})") from exc
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise HTTPException(503, f"basemap unavailable: {path} is not a GeoJSON FeatureCollection")
    log.info("basemap loaded from %s (%d bytes)", path, len(data))
    return data


@router.get("/basemap", response_class=Response, responses={200: {"content": {"application/geo+json": {}}}})
async def basemap(settings: SettingsDep) -> Response:
    """The offline basemap (GeoJSON FeatureCollection): the map needs no tile server nor any third party."""
    data = _basemap_bytes(settings.basemap_path or basemap_file())
    return Response(data, media_type="application/geo+json",
                    headers={"Cache-Control": f"max-age={BASEMAP_MAX_AGE_S}"})  # fmt: skip


@router.get("/robots")
async def list_robots(conn: ConnDep, principal: PrincipalDep) -> dict[str, Any]:
    return {"items": scoping.by_crew(await queries.robots(conn), principal)}


@router.put("/robots/{robot_id}")
async def put_robot(body: RobotIn, conn: ConnDep, robot_id: IdPath) -> dict[str, Any]:
    return await registry.upsert_robot(conn, robot_id, body.kind, body.crew_id, body.site_id)


@router.get("/devices")
async def list_devices(conn: ConnDep) -> dict[str, Any]:
    """Devices seen or assigned, with the count of frames stored while nobody was assigned."""
    return {"items": await queries.devices(conn)}


@router.get("/assignments")
async def list_assignments(conn: ConnDep, principal: PrincipalDep, device_id: str | None = None,
                           agent_id: str | None = None) -> dict[str, Any]:  # fmt: skip
    """Who wore which device when. A supervisor asks about one agent of their crews (``agent_id``)."""
    if not principal.sees_all_crews and agent_id is None:
        raise HTTPException(403, "give agent_id: supervisors see the assignments of their crews' agents")
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
