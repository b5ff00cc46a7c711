"""Who is who: agents, crews, robots and device assignments (write side of the API)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from gateway.db import ledger_backfill
from gateway.timefmt import iso

Conn = psycopg.AsyncConnection[Any]


class AssignmentConflictError(ValueError):
    """The device is already worn by someone over part of the requested interval."""


class UnknownAgentError(LookupError):
    pass


async def ensure_crew(conn: Conn, crew_id: str, site_id: str = "paris") -> None:
    """Crews and sites are created on first use; their names can be edited later."""
    await conn.execute(
        "INSERT INTO sites (site_id, name) VALUES (%s, %s) ON CONFLICT (site_id) DO NOTHING", (site_id, site_id)
    )
    await conn.execute(
        "INSERT INTO crews (crew_id, site_id, name) VALUES (%s, %s, %s) ON CONFLICT (crew_id) DO NOTHING",
        (crew_id, site_id, crew_id),
    )


async def upsert_crew(conn: Conn, crew_id: str, name: str, site_id: str, area: dict[str, Any] | None) -> None:
    """Register or update a crew: its name, its site (created on first use) and its work area (GeoJSON)."""
    async with conn.transaction():
        await conn.execute("INSERT INTO sites (site_id, name) VALUES (%s, %s) ON CONFLICT (site_id) DO NOTHING",
                           (site_id, site_id))  # fmt: skip
        await conn.execute(
            "INSERT INTO crews (crew_id, site_id, name, area) VALUES (%s, %s, %s, %s) ON CONFLICT (crew_id)"
            " DO UPDATE SET site_id = EXCLUDED.site_id, name = EXCLUDED.name, area = EXCLUDED.area",
            (crew_id, site_id, name, None if area is None else Jsonb(area)),
        )


_PROFILE = ("hearing_attenuation_db", "task", "acclimatised", "resting_hr_bpm")


async def upsert_agent(conn: Conn, agent_id: str, display_name: str, crew_id: str | None, site_id: str,
                       profile: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    """Register or update an agent with their exposure profile (hearing protection, task, acclimatisation)."""
    values = [profile[k] for k in _PROFILE]
    async with conn.transaction():
        if crew_id is not None:
            await ensure_crew(conn, crew_id, site_id)
        await conn.execute(
            f"INSERT INTO agents (agent_id, display_name, crew_id, {', '.join(_PROFILE)})"
            " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (agent_id) DO UPDATE SET"
            " display_name = EXCLUDED.display_name, crew_id = EXCLUDED.crew_id, "
            + ", ".join(f"{k} = EXCLUDED.{k}" for k in _PROFILE),
            (agent_id, display_name, crew_id, *values),
        )
    return {"agent_id": agent_id, "display_name": display_name, "crew_id": crew_id,
            **{k: profile[k] for k in _PROFILE}}  # fmt: skip


async def upsert_robot(conn: Conn, robot_id: str, kind: str, crew_id: str | None, site_id: str) -> dict[str, Any]:
    async with conn.transaction():
        if crew_id is not None:
            await ensure_crew(conn, crew_id, site_id)
        await conn.execute(
            "INSERT INTO robots (robot_id, kind, crew_id) VALUES (%s, %s, %s)"
            " ON CONFLICT (robot_id) DO UPDATE SET kind = EXCLUDED.kind, crew_id = EXCLUDED.crew_id",
            (robot_id, kind, crew_id),
        )
    return {"robot_id": robot_id, "kind": kind, "crew_id": crew_id}


def _assignment_json(row: dict[str, Any]) -> dict[str, Any]:
    return {"assignment_id": row["assignment_id"], "device_id": row["device_id"], "agent_id": row["agent_id"],
            "valid_from": iso(row["valid_from"]), "valid_to": iso(row["valid_to"])}  # fmt: skip


async def create_assignment(conn: Conn, device_id: str, agent_id: str, valid_from: datetime,
                            valid_to: datetime | None, site_timezone: str) -> dict[str, Any]:  # fmt: skip
    """Assign a device to an agent; frames already stored in the interval unassigned are attached too."""
    try:
        async with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                "INSERT INTO devices (device_id) VALUES (%s) ON CONFLICT DO NOTHING", (device_id,)
            )
            await cur.execute(
                "INSERT INTO assignments (device_id, agent_id, valid_from, valid_to) VALUES (%s, %s, %s, %s)"
                " RETURNING assignment_id, device_id, agent_id, valid_from, valid_to",
                (device_id, agent_id, valid_from, valid_to),
            )
            row = await cur.fetchone()
            # Frames that arrived before the assignment was registered are not lost: they follow the agent.
            await ledger_backfill.attach(conn, device_id, agent_id, valid_from, valid_to, site_timezone)
    except psycopg.errors.ExclusionViolation as exc:
        raise AssignmentConflictError(f"device {device_id} is already assigned over that interval") from exc
    except psycopg.errors.ForeignKeyViolation as exc:
        raise UnknownAgentError(f"unknown agent {agent_id}") from exc
    assert row is not None
    return _assignment_json(row)


async def end_assignment(conn: Conn, assignment_id: int, valid_to: datetime) -> dict[str, Any] | None:
    async with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "UPDATE assignments SET valid_to = %s WHERE assignment_id = %s AND valid_from < %s"
            " RETURNING assignment_id, device_id, agent_id, valid_from, valid_to",
            (valid_to, assignment_id, valid_to),
        )
        row = await cur.fetchone()
    return None if row is None else _assignment_json(row)


async def assignments(conn: Conn, device_id: str | None, agent_id: str | None) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT assignment_id, device_id, agent_id, valid_from, valid_to FROM assignments"
            " WHERE (%(d)s::text IS NULL OR device_id = %(d)s) AND (%(a)s::text IS NULL OR agent_id = %(a)s)"
            " ORDER BY valid_from DESC",
            {"d": device_id, "a": agent_id},
        )
        return [_assignment_json(r) for r in await cur.fetchall()]


async def escalation(conn: Conn, site_id: str) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute("SELECT level, after_s, target, webhook_url FROM escalation_levels WHERE site_id = %s"
                          " ORDER BY level", (site_id,))  # fmt: skip
        return await cur.fetchall()


async def set_escalation(conn: Conn, site_id: str, levels: list[dict[str, Any]]) -> None:
    async with conn.transaction():
        await conn.execute("INSERT INTO sites (site_id, name) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                           (site_id, site_id))  # fmt: skip
        await conn.execute("DELETE FROM escalation_levels WHERE site_id = %s", (site_id,))
        async with conn.cursor() as cur:
            await cur.executemany(
                "INSERT INTO escalation_levels (site_id, level, after_s, target, webhook_url)"
                " VALUES (%s, %s, %s, %s, %s)",
                [(site_id, lvl["level"], lvl["after_s"], lvl["target"], lvl["webhook_url"]) for lvl in levels],
            )
