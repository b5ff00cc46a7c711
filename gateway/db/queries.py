"""Read side of the API: agents, robots, assignments, devices, frames, dead letters (async psycopg)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import psycopg
from psycopg.rows import dict_row

from gateway.db.alerts_store import SELECT_ALERTS, row_json
from gateway.settings import DEFAULT_SHIFT_DURATION_S, DEFAULT_SITE_TIMEZONE
from gateway.timefmt import iso
from services.exposure.today import exposure_today
from services.privacy import Position, visible_position

Conn = psycopg.AsyncConnection[Any]

_AGENTS = """
SELECT a.agent_id, a.display_name, a.crew_id, c.site_id, cur.device_id, dl.ts AS last_seen, dl.received_at,
       dl.hr_bpm, dl.battery_pct, dl.lat, dl.lon, d.link_status,
       (SELECT count(*) FROM alerts al WHERE al.agent_id = a.agent_id AND al.status <> 'resolved')
         AS open_alerts,
       e.day, e.worked_s, e.noise_s, e.noise_sum_t_10pow, e.hav_s, e.hav_sum_a2t, e.psi_max, e.wbgt_max_c,
       e.lifts, e.tonnage_kg
FROM agents a
LEFT JOIN crews c ON c.crew_id = a.crew_id
LEFT JOIN LATERAL (
    SELECT s.device_id FROM assignments s
    WHERE s.agent_id = a.agent_id AND s.valid_from <= now() AND (s.valid_to IS NULL OR s.valid_to > now())
    ORDER BY s.valid_from DESC LIMIT 1) cur ON true
LEFT JOIN device_latest dl ON dl.device_id = cur.device_id AND dl.agent_id = a.agent_id
LEFT JOIN devices d ON d.device_id = cur.device_id
LEFT JOIN exposure_days e ON e.agent_id = a.agent_id AND e.day = %(today)s
WHERE (%(agent_id)s::text IS NULL OR a.agent_id = %(agent_id)s)
  AND (%(since)s::timestamptz IS NULL OR dl.received_at > %(since)s
       -- went stale since the last push: the board must grey the tile although nothing new arrived
       OR (dl.received_at <= %(stale_at)s AND dl.received_at > %(stale_since)s)
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
                 since: datetime | None = None, site_timezone: str = DEFAULT_SITE_TIMEZONE,
                 shift_duration_s: float = DEFAULT_SHIFT_DURATION_S) -> list[dict[str, Any]]:  # fmt: skip
    """The live board's agents: status, latest readings, today's exposure, and a position only when allowed.

    ``position`` goes through ``services.privacy.visible_position`` (CNIL: shown only while the agent has an
    open alert); ``exposure_today`` is the ledger row of the site's local day containing ``now``.
    """
    today = now.astimezone(ZoneInfo(site_timezone)).date()
    async with conn.cursor(row_factory=dict_row) as cur:
        stale = timedelta(seconds=stale_after_s)
        await cur.execute(_AGENTS, {"agent_id": agent_id, "since": since, "today": today, "stale_at": now - stale,
                                    "stale_since": None if since is None else since - stale})  # fmt: skip
        rows = await cur.fetchall()
    return [{
        "agent_id": r["agent_id"], "display_name": r["display_name"], "crew_id": r["crew_id"],
        "site_id": r["site_id"], "device_id": r["device_id"], "last_seen": iso(r["last_seen"]),
        "status": agent_status(r, now, stale_after_s), "hr_bpm": r["hr_bpm"], "battery_pct": r["battery_pct"],
        "open_alerts": r["open_alerts"],
        "position": _position_json(visible_position(r["open_alerts"], r["lat"], r["lon"], r["last_seen"])),
        "exposure_today": _exposure_json(r, shift_duration_s),
    } for r in rows]  # fmt: skip


def _position_json(position: Position | None) -> dict[str, Any] | None:
    if position is None:
        return None
    return {"lat": position.lat, "lon": position.lon, "at": iso(position.at)}


def _exposure_json(row: dict[str, Any], shift_duration_s: float) -> dict[str, Any] | None:
    if row["day"] is None:
        return None
    today = exposure_today(
        row["day"], worked_s=row["worked_s"], noise_s=row["noise_s"], noise_sum_t_10pow=row["noise_sum_t_10pow"],
        hav_s=row["hav_s"], hav_sum_a2t=row["hav_sum_a2t"], psi_max=row["psi_max"], wbgt_max_c=row["wbgt_max_c"],
        lifts=row["lifts"], tonnage_kg=row["tonnage_kg"], shift_s=shift_duration_s,
    )  # fmt: skip
    return {
        "day": today.day.isoformat(), "worked_s": today.worked_s, "noise_dose_pct": today.noise_dose_pct,
        "noise_dose_projected_pct": today.noise_dose_projected_pct, "hav_points": today.hav_points,
        "hav_points_projected": today.hav_points_projected, "psi_max": today.psi_max,
        "wbgt_max_c": today.wbgt_max_c, "lifts": today.lifts, "tonnage_kg": today.tonnage_kg,
    }  # fmt: skip


async def crews(conn: Conn, crew_id: str | None = None) -> list[dict[str, Any]]:
    """Crews with their work area, their number of agents and how many of those have an open alert."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT c.crew_id, c.name, c.site_id, c.area, count(a.agent_id) AS agents,"
            " count(o.agent_id) AS agents_in_alert"
            " FROM crews c LEFT JOIN agents a ON a.crew_id = c.crew_id"
            " LEFT JOIN (SELECT DISTINCT agent_id FROM alerts WHERE status <> 'resolved') o"
            "   ON o.agent_id = a.agent_id"
            " WHERE %(crew)s::text IS NULL OR c.crew_id = %(crew)s"
            " GROUP BY c.crew_id ORDER BY c.crew_id",
            {"crew": crew_id},
        )
        return await cur.fetchall()


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


async def alerts(conn: Conn, status: str | None, agent_id: str | None, limit: int,
                 crew_ids: frozenset[str] | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """Newest first; ``crew_ids`` (a supervisor's scope) keeps alerts about their crews' agents and robots."""
    statuses = {"open": ["raised", "acknowledged"], None: ["raised", "acknowledged", "resolved"]}.get(
        status, [status or ""]
    )
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            SELECT_ALERTS + " WHERE status = ANY(%(s)s) AND (%(a)s::text IS NULL OR agent_id = %(a)s)"
            " AND (%(c)s::text[] IS NULL OR coalesce((SELECT crew_id FROM agents g WHERE g.agent_id = alerts.agent_id),"
            " (SELECT crew_id FROM robots r WHERE r.robot_id = alerts.robot_id)) = ANY(%(c)s))"
            " ORDER BY raised_at DESC LIMIT %(n)s",
            {"s": statuses, "a": agent_id, "c": None if crew_ids is None else sorted(crew_ids), "n": limit},
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


async def add_comment(conn: Conn, alert_id: str, by: str, text: str, now: datetime,
                      account: str | None = None) -> dict[str, Any]:  # fmt: skip
    async with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "INSERT INTO alert_events (alert_id, at, actor, action, details)"
            " VALUES (%s, %s, %s, 'comment', jsonb_build_object('text', %s::text, 'account', %s::text))"
            " RETURNING id, at, actor, action, details",
            (alert_id, now, by, text, account),
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
