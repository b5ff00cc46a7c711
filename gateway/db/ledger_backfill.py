"""Frames stored before their device was assigned join the agent's ledger when the assignment arrives.

The ingest adds a frame to the ledger when it stores it; a frame stored unassigned had no agent then.
When an assignment later covers it, the frames are attached to the agent (``registry.create_assignment``)
and their increments are added here, in the same transaction, through the same pure ledger code.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from psycopg.rows import dict_row

from gateway.db import exposure_queries, rollups
from gateway.db.ledger_store import HR_MINUTE_UPSERT, UPSERT_ROW, day_row, hr_minute_sums
from services import ledger
from services.exposure.night import local_day
from services.model import Environment, Frame, HandArmVibration, Lift, Noise, Received, WholeBodyVibration

_COLUMNS = ("ts, device_id, seq, received_at, late, hr_bpm, laeq_db, lcpeak_db, temp_c, rh_pct, globe_temp_c,"
            " hav_tool_id, hav_ahv_ms2, hav_trigger_s, wbv_aw_ms2, wbv_duration_s, lift_count, lift_load_kg,"
            " battery_pct, sos")


def _frame(row: dict[str, Any]) -> Frame:
    """A stored per-second summary back as a domain frame (without the raw IMU, which the ledger and minutes ignore)."""
    wbv = row["wbv_aw_ms2"]
    return Frame(
        device_id=row["device_id"], seq=row["seq"], ts=row["ts"], hr_bpm=row["hr_bpm"],
        noise=Noise(row["laeq_db"], row["lcpeak_db"]) if row["laeq_db"] is not None else None,
        env=Environment(row["temp_c"], row["rh_pct"], row["globe_temp_c"]) if row["temp_c"] is not None else None,
        hav=HandArmVibration(row["hav_ahv_ms2"], row["hav_trigger_s"], row["hav_tool_id"])
        if row["hav_ahv_ms2"] is not None else None,
        wbv=WholeBodyVibration((wbv[0], wbv[1], wbv[2]), row["wbv_duration_s"]) if wbv else None,
        lift=Lift(row["lift_count"], row["lift_load_kg"]) if row["lift_count"] is not None else None,
        battery_pct=row["battery_pct"], sos=row["sos"],
    )  # fmt: skip


async def attach(conn: psycopg.AsyncConnection[Any], device_id: str, agent_id: str, valid_from: datetime,
                 valid_to: datetime | None, site_timezone: str) -> int:  # fmt: skip
    """Attach the device's unassigned frames in the interval to the agent and add them to the ledger."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            f"UPDATE frames SET agent_id = %s WHERE device_id = %s AND agent_id IS NULL AND ts >= %s"
            f" AND (%s::timestamptz IS NULL OR ts < %s) RETURNING {_COLUMNS}",
            (agent_id, device_id, valid_from, valid_to, valid_to),
        )
        rows = await cur.fetchall()
    if not rows:
        return 0
    agent = await exposure_queries.agent(conn, agent_id)
    profile = exposure_queries.profile_of(agent) if agent else ledger.DEFAULT_PROFILE
    tz = ZoneInfo(site_timezone)
    received = [Received(_frame(r), r["received_at"], agent_id, r["late"]) for r in rows]
    hr = hr_minute_sums(received)
    hr_days = {(a, local_day(m, tz)) for a, m in hr}
    async with conn.cursor() as cur:
        await cur.executemany(HR_MINUTE_UPSERT, [(a, m, total, n) for (a, m), (total, n) in hr.items()])
        deltas = ledger.day_deltas(received, {agent_id: profile}, tz)
        await cur.executemany(UPSERT_ROW, [day_row(d, hr_days) for d in deltas])
    await rollups.add_minutes_async(conn, received)
    return len(rows)
