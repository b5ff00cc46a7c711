"""Read side of the exposure ledger (async, for the API and reports)."""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg
from psycopg.rows import dict_row

from services.ledger import ExposureProfile, profile

Conn = psycopg.AsyncConnection[Any]


def profile_of(row: dict[str, Any]) -> ExposureProfile:
    return profile(row["hearing_attenuation_db"], row["task"], row["acclimatised"])


async def agent(conn: Conn, agent_id: str) -> dict[str, Any] | None:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT agent_id, display_name, crew_id, hearing_attenuation_db, task, acclimatised FROM agents"
            " WHERE agent_id = %s",
            (agent_id,),
        )
        return await cur.fetchone()


async def days(conn: Conn, start: date, end: date, agent_id: str | None = None,
               crew_id: str | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """Ledger rows with the agent's profile, for ``start`` ≤ day ≤ ``end``, by agent then day."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT d.*, a.display_name, a.crew_id, a.hearing_attenuation_db, a.task, a.acclimatised"
            " FROM exposure_days d JOIN agents a USING (agent_id)"
            " WHERE d.day BETWEEN %(start)s AND %(end)s"
            " AND (%(agent)s::text IS NULL OR d.agent_id = %(agent)s)"
            " AND (%(crew)s::text IS NULL OR a.crew_id = %(crew)s)"
            " ORDER BY a.crew_id, d.agent_id, d.day",
            {"start": start, "end": end, "agent": agent_id, "crew": crew_id},
        )
        return await cur.fetchall()
