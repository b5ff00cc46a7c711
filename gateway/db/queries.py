"""Read side of the API: agents, robots, assignments, devices, frames, dead letters (async psycopg)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
import psycopg
from psycopg.rows import dict_row

from gateway.db.alerts_store import SELECT_ALERTS, row_json
from gateway.timefmt import iso

Conn = psycopg.AsyncConnection[Any]

_AGENTS = """
SELECT a.agent_id, a.display_name, a.crew_id, cur.device_id, dl.ts AS last_seen, dl.received_at,
       dl.hr_bpm, dl.battery_pct, d.link_status,
       (SELECT count(*) FROM alerts al WHERE al.agent_id = a.agent_id AND al.status <> 'resolved')
         AS open_alerts
FROM agents a
LEFT JOIN LATERAL (
    SELECT s.device_id FROM assignments s
    WHERE s.agent_id = a.agent_id AND s.valid_from <= now() AND (s.valid_to IS NULL OR s.valid_to > now())
    ORDER BY s.valid_from DESC LIMIT 1) cur ON true
LEFT JOIN device_latest dl ON dl.device_id = cur.device_id AND dl.agent_id = a.agent_id
LEFT JOIN devices d ON d.device_id = cur.device_id
WHERE (%(agent_id)s::text IS NULL OR a.agent_id = %(agent_id)s)
  AND (%(since)s::timestamptz IS NULL OR dl.received_at > %(since)s
       OR EXISTS (SELECT 1 FROM alerts al WHERE al.agent_id = a.agent_id
                  AND (al.raised_at > %(since)s OR al.resolved_at > %(since)s OR al.acknowledged_at > %(since)s)))
ORDER BY a.crew_id NULLS LAST, a.display_name
"""



def agent_status(row: dict[str, Any], now: datetime, stale_after_s: float) -> str:
    """ok / alert / stale / offline, in that order of precedence: an open alert always shows."""
    if row["open_alerts"]:
        return "alert"
    if row["device_id"] is None or row["link_status"] == "offline" or row["received_at"] is None:
        return "offline"
    if (now - row["received_at"]).total_seconds() > stale_after_s:
        return "stale"
    return "ok"


async def agents(conn: Conn, now: datetime, stale_after_s: float, agent_id: str | None = None,
                 since: datetime | None = None) -> list[dict[str, Any]]:  # fmt: skip
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(_AGENTS, {"agent_id": agent_id, "since": since})
        rows = await cur.fetchall()
    return [{
        "agent_id": r["agent_id"], "display_name": r["display_name"], "crew_id": r["crew_id"],
        "device_id": r["device_id"], "last_seen": iso(r["last_seen"]),
        "status": agent_status(r, now, stale_after_s), "hr_bpm": r["hr_bpm"], "battery_pct": r["battery_pct"],
        "open_alerts": r["open_alerts"],
    } for r in rows]  # fmt: skip


async def robots(conn: Conn, since: datetime | None = None) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT r.robot_id, r.kind, r.crew_id, l.ts, l.battery_pct, l.mode, l.estop, l.protective_stop,"
            " l.nearest_human_m, l.payload_kg, l.speed_ms, l.x_m, l.y_m, l.yaw_rad, l.lat, l.lon, l.faults"
            " FROM robots r LEFT JOIN robot_latest l USING (robot_id)"
            " WHERE %(since)s::timestamptz IS NULL OR l.received_at > %(since)s ORDER BY r.robot_id",
            {"since": since},
        )
        rows = await cur.fetchall()
    return [{
        "robot_id": r["robot_id"], "kind": r["kind"], "crew_id": r["crew_id"], "last_seen": iso(r["ts"]),
        "battery_pct": r["battery_pct"], "mode": r["mode"], "estop": r["estop"],
        "protective_stop": r["protective_stop"], "nearest_human_m": r["nearest_human_m"],
        "payload_kg": r["payload_kg"], "speed_ms": r["speed_ms"], "faults": r["faults"] or [],
        "pose": None if r["x_m"] is None else {
            "x_m": r["x_m"], "y_m": r["y_m"], "yaw_rad": r["yaw_rad"], "lat": r["lat"], "lon": r["lon"]},
    } for r in rows]  # fmt: skip


async def alerts(conn: Conn, status: str | None, agent_id: str | None, limit: int) -> list[dict[str, Any]]:
    statuses = {"open": ["raised", "acknowledged"], None: ["raised", "acknowledged", "resolved"]}.get(
        status, [status or ""]
    )
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            SELECT_ALERTS + " WHERE status = ANY(%s) AND (%s::text IS NULL OR agent_id = %s)"
            " ORDER BY raised_at DESC LIMIT %s",
            (statuses, agent_id, agent_id, limit),
        )
        rows = await cur.fetchall()
    return [row_json(r) for r in rows]


async def alert(conn: Conn, alert_id: str) -> dict[str, Any] | None:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            SELECT_ALERTS + " WHERE alert_id = %s",
            (alert_id,),
        )
        row = await cur.fetchone()
    return None if row is None else row_json(row)


async def frames(conn: Conn, device_id: str | None, agent_id: str | None, start: datetime | None,
                 end: datetime | None, limit: int) -> list[dict[str, Any]]:  # fmt: skip
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT ts, device_id, seq, agent_id, received_at, late, hr_bpm, skin_temp_c, laeq_db, lcpeak_db,"
            " temp_c, rh_pct, globe_temp_c, hav_tool_id, hav_ahv_ms2, hav_trigger_s, lift_count, lift_load_kg,"
            " lat, lon, gps_acc_m, battery_pct, sos, cancel, imu_rate_hz, imu_n, acc_max_ms2, acc_min_ms2"
            " FROM frames WHERE (%(d)s::text IS NULL OR device_id = %(d)s)"
            " AND (%(a)s::text IS NULL OR agent_id = %(a)s)"
            " AND (%(s)s::timestamptz IS NULL OR ts >= %(s)s) AND (%(e)s::timestamptz IS NULL OR ts < %(e)s)"
            " ORDER BY ts DESC LIMIT %(n)s",
            {"d": device_id, "a": agent_id, "s": start, "e": end, "n": limit},
        )
        rows = await cur.fetchall()
    for row in rows:
        row["ts"], row["received_at"] = iso(row["ts"]), iso(row["received_at"])
    return rows


async def devices(conn: Conn) -> list[dict[str, Any]]:
    """Every device seen or assigned, its link status, current wearer, and frames stored unassigned."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT d.device_id, d.first_seen, d.link_status, d.link_at, dl.ts AS last_seen,"
            " (SELECT s.agent_id FROM assignments s WHERE s.device_id = d.device_id AND s.valid_from <= now()"
            "   AND (s.valid_to IS NULL OR s.valid_to > now()) LIMIT 1) AS agent_id,"
            " (SELECT count(*) FROM frames f WHERE f.device_id = d.device_id AND f.agent_id IS NULL)"
            "   AS unassigned_frames"
            " FROM devices d LEFT JOIN device_latest dl USING (device_id) ORDER BY d.device_id"
        )
        rows = await cur.fetchall()
    for row in rows:
        for key in ("first_seen", "link_at", "last_seen"):
            row[key] = iso(row[key])
    return rows


async def dead_letters(conn: Conn, limit: int) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT id, received_at, topic, reason, detail, payload_excerpt, payload_bytes FROM dead_letters"
            " ORDER BY id DESC LIMIT %s",
            (limit,),
        )
        rows = await cur.fetchall()
    for row in rows:
        row["received_at"] = iso(row["received_at"])
    return rows


async def alert_events(conn: Conn, alert_id: str) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute("SELECT id, at, actor, action, details FROM alert_events WHERE alert_id = %s"
                          " ORDER BY at, id", (alert_id,))  # fmt: skip
        rows = await cur.fetchall()
    for row in rows:
        row["at"] = iso(row["at"])
    return rows


async def add_comment(conn: Conn, alert_id: str, by: str, text: str, now: datetime) -> dict[str, Any]:
    async with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "INSERT INTO alert_events (alert_id, at, actor, action, details)"
            " VALUES (%s, %s, %s, 'comment', jsonb_build_object('text', %s::text))"
            " RETURNING id, at, actor, action, details",
            (alert_id, now, by, text),
        )
        row = await cur.fetchone()
        event = {"type": "alert.comment", "alert_id": alert_id, "by": by, "text": text, "at": iso(now)}
        await cur.execute("SELECT pg_notify('vigie_live', %s)", (orjson.dumps(event).decode(),))
    assert row is not None
    row["at"] = iso(row["at"])
    return row


_P50, _P95 = "percentile_cont(0.5) WITHIN GROUP", "percentile_cont(0.95) WITHIN GROUP"
_TTA = "extract(epoch FROM acknowledged_at - raised_at)"
_TTR = "extract(epoch FROM resolved_at - raised_at)"


async def alert_timings(conn: Conn, start: datetime, end: datetime, site_id: str | None) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT site_id, count(*) AS alerts, count(acknowledged_at) AS acknowledged,"
            " count(resolved_at) AS resolved,"
            f" {_P50} (ORDER BY {_TTA}) AS tta_p50_s, {_P95} (ORDER BY {_TTA}) AS tta_p95_s,"
            f" {_P50} (ORDER BY {_TTR}) AS ttr_p50_s, {_P95} (ORDER BY {_TTR}) AS ttr_p95_s"
            " FROM alerts WHERE raised_at >= %s AND raised_at < %s AND NOT late"
            " AND (%s::text IS NULL OR site_id = %s) GROUP BY site_id ORDER BY site_id",
            (start, end, site_id, site_id),
        )
        return await cur.fetchall()
