"""The daily inputs of the weak signals (services/signals), read set-based for a scope and a period.

One query per source table for the whole scope: the exposure ledger (``exposure_days``, with the day's
heart-rate features and minutes of high strain, computed from the minutes by the housekeeper's refresh:
``ledger_store.refresh_heat_strain``), the alerts (heat strain, falls cancelled by the wearer) and the robots'
stops and slow-downs for people per day (``robot_days``, rolled up from the robot states by the housekeeper:
``robot_days.refresh``). Days are local days in the site's time zone, as the ledger's are.
Agents and robots without a crew belong to no site or group and are left out. Also the signal readers of each
site (migration 0010).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from psycopg.rows import dict_row

from services.exposure import noise, vibration
from services.exposure.noise import NoiseDose
from services.exposure.vibration import HavDose
from services.ledger import profile
from services.signals.model import AgentDay, HeatEpisode, RobotDay

Conn = psycopg.AsyncConnection[Any]

_SCOPE = (
    " AND (%(site)s::text IS NULL OR c.site_id = %(site)s)"
    " AND (%(crew)s::text IS NULL OR c.crew_id = %(crew)s)"
    " AND (%(agent)s::text IS NULL OR a.agent_id = %(agent)s)"
)

_LEDGER = (
    "SELECT d.agent_id, d.day, d.worked_s, d.noise_s, d.noise_sum_t_10pow, d.lcpeak_max_db, d.peaks_over_135,"
    " d.hav_s, d.hav_sum_a2t, d.lifts_ge_25kg, d.tonnage_kg, d.night_s, d.psi_max, d.psi_high_min,"
    " d.hr_rest_bpm, d.hr_work_bpm, d.hr_recovery_bpm,"
    " a.display_name, a.crew_id, c.site_id, a.hearing_attenuation_db, a.task, a.acclimatised"
    " FROM exposure_days d JOIN agents a USING (agent_id) JOIN crews c ON c.crew_id = a.crew_id"
    " WHERE d.day BETWEEN %(start)s AND %(end)s" + _SCOPE + " ORDER BY d.agent_id, d.day"
)

_ALERTS = (
    "SELECT al.rule, al.agent_id, a.crew_id, c.site_id, al.raised_at,"
    " (al.rule = 'fall' AND al.resolution = 'false_alarm' AND al.resolved_by = 'wearer') AS cancelled_by_wearer"
    " FROM alerts al JOIN agents a ON a.agent_id = al.agent_id JOIN crews c ON c.crew_id = a.crew_id"
    " WHERE al.rule IN ('heat_strain', 'fall') AND al.raised_at >= %(t0)s AND al.raised_at < %(t1)s" + _SCOPE
)

# Per robot-day from the roll-up (migration 0012, ``gateway.db.robot_days``): the raw states it counts onsets
# from go after retention_raw_days, shorter than the baseline the trend needs, and are far too many to read here.
# Only computed rows: a robot-day still waiting for its first refresh is not known yet.
_ROBOTS = """
SELECT d.robot_id, r.crew_id, c.site_id, d.day, extract(epoch FROM d.last_ts - d.first_ts) / 3600.0 AS work_h,
       d.protective_stops, d.slowdowns
FROM robot_days d JOIN robots r USING (robot_id) JOIN crews c ON c.crew_id = r.crew_id
WHERE d.computed_at IS NOT NULL AND d.day BETWEEN %(start)s AND %(end)s
  AND (%(site)s::text IS NULL OR c.site_id = %(site)s) AND (%(crew)s::text IS NULL OR c.crew_id = %(crew)s)
ORDER BY d.robot_id, d.day
"""

_LABELS = (
    "SELECT 'crew' AS kind, c.crew_id AS id, c.name AS label, c.site_id, c.crew_id FROM crews c"
    " WHERE (%(site)s::text IS NULL OR c.site_id = %(site)s) AND (%(crew)s::text IS NULL OR c.crew_id = %(crew)s)"
    " UNION ALL SELECT 'site', s.site_id, s.name, s.site_id, NULL FROM sites s"
    " WHERE %(site)s::text IS NULL OR s.site_id = %(site)s"
    " UNION ALL SELECT 'robot', r.robot_id, r.kind || ' ' || r.robot_id, c.site_id, r.crew_id FROM robots r"
    " JOIN crews c ON c.crew_id = r.crew_id"
    " WHERE (%(site)s::text IS NULL OR c.site_id = %(site)s) AND (%(crew)s::text IS NULL OR c.crew_id = %(crew)s)"
)


@dataclass(frozen=True, slots=True)
class Scope:
    """Which agents and robots: a site, a crew, one agent (None: no restriction on that axis)."""

    site_id: str | None = None
    crew_id: str | None = None
    agent_id: str | None = None


@dataclass(frozen=True, slots=True)
class Subject:
    """Where a subject of a signal belongs, and how it is called (names of agents are shown per access)."""

    label: str
    site_id: str | None
    crew_id: str | None


@dataclass(frozen=True, slots=True)
class SignalInputs:
    agent_days: list[AgentDay]
    robot_days: list[RobotDay]
    heat_episodes: list[HeatEpisode]
    subjects: dict[tuple[str, str], Subject] = field(default_factory=dict)
    """(subject kind, id) → label, site and crew, for agents, crews, sites and robots in the scope."""


def utc_bounds(start: date, end: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start 00:00 local, (end + 1 day) 00:00 local): the instants of the local days ``start``..``end``."""
    first, after = datetime.combine(start, time(), tz), datetime.combine(end + timedelta(days=1), time(), tz)
    return first.astimezone(UTC), after.astimezone(UTC)


def noise_lex_at_ear_db(row: dict[str, Any]) -> float | None:
    """LEX,8h at the ear (ISO 9612; attenuation of the agent's protection), as gateway/exposure_view.py does."""
    dose = NoiseDose(row["noise_sum_t_10pow"], row["noise_s"], row["lcpeak_max_db"], row["peaks_over_135"])
    if dose.seconds <= 0:
        return None
    lex_db = noise.lex_8h_db(dose)
    if lex_db is None:
        return None
    attenuation_db = profile(row["hearing_attenuation_db"], row["task"], row["acclimatised"]).hearing_attenuation_db
    return noise.at_ear_db(lex_db, attenuation_db)


def hav_points(row: dict[str, Any]) -> float | None:
    """HSE exposure points of the day (ISO 5349-1 A(8)); None when no vibrating tool was used."""
    dose = HavDose(row["hav_sum_a2t"], row["hav_s"])
    return vibration.hav_points(dose) if dose.seconds > 0 else None


def agent_day(row: dict[str, Any], heat_episodes: int, stumbles: int) -> AgentDay:
    """One ledger row (with its heart-rate features) and that day's alert counts as the signals' AgentDay."""
    return AgentDay(
        agent_id=row["agent_id"], crew_id=row["crew_id"], site_id=row["site_id"], day=row["day"],
        worked_s=float(row["worked_s"]), resting_hr_bpm=optional_float(row["hr_rest_bpm"]),
        working_hr_bpm=optional_float(row["hr_work_bpm"]), hr_recovery_bpm=optional_float(row["hr_recovery_bpm"]),
        high_strain_min=float(row["psi_high_min"]), noise_lex_db=noise_lex_at_ear_db(row), hav_points=hav_points(row),
        heat_strain_episodes=heat_episodes, lifts_ge_25kg=int(row["lifts_ge_25kg"]),
        tonnage_kg=float(row["tonnage_kg"]), night_s=float(row["night_s"]), stumbles=stumbles,
    )  # fmt: skip


def optional_float(value: Any) -> float | None:
    """A nullable numeric column as a float (NULL stays None)."""
    return None if value is None else float(value)


async def _fetch(conn: Conn, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(sql, params)
        return await cur.fetchall()


async def inputs(conn: Conn, start: date, end: date, tz: ZoneInfo, scope: Scope) -> SignalInputs:
    """The agent-days, robot-days and heat episodes of the scope for the local days ``start``..``end``."""
    t0, t1 = utc_bounds(start, end, tz)
    params: dict[str, Any] = {"start": start, "end": end, "t0": t0, "t1": t1, "site": scope.site_id,
                              "crew": scope.crew_id, "agent": scope.agent_id}  # fmt: skip
    ledger = await _fetch(conn, _LEDGER, params)
    episodes: list[HeatEpisode] = []
    stumbles: Counter[tuple[str, date]] = Counter()
    for alert in await _fetch(conn, _ALERTS, params):
        local = alert["raised_at"].astimezone(tz)
        if alert["rule"] == "heat_strain":
            where = (alert["agent_id"], alert["crew_id"], alert["site_id"])
            episodes.append(HeatEpisode(*where, local.date(), local.hour))
        elif alert["cancelled_by_wearer"]:
            stumbles[(alert["agent_id"], local.date())] += 1
    heat_per_day = Counter((e.agent_id, e.day) for e in episodes)
    agent_days = [agent_day(r, heat_per_day[(r["agent_id"], r["day"])], stumbles[(r["agent_id"], r["day"])])
                  for r in ledger]  # fmt: skip
    robot_days: list[RobotDay] = []
    if scope.agent_id is None:  # robots belong to crews, not to one agent
        rows = await _fetch(conn, _ROBOTS, params)
        robot_days = [RobotDay(r["robot_id"], r["crew_id"], r["site_id"], r["day"], float(r["work_h"]),
                               r["protective_stops"], r["slowdowns"]) for r in rows]  # fmt: skip
    subjects = {("agent", r["agent_id"]): Subject(r["display_name"], r["site_id"], r["crew_id"]) for r in ledger}
    for r in await _fetch(conn, _LABELS, params):
        subjects[(r["kind"], r["id"])] = Subject(r["label"], r["site_id"], r["crew_id"])
    return SignalInputs(agent_days, robot_days, episodes, subjects)


async def reader_sites(conn: Conn, username: str) -> frozenset[str]:
    """The sites whose individual signals ``username`` was named to read."""
    async with conn.cursor() as cur:
        await cur.execute("SELECT site_id FROM signal_readers WHERE username = %s", (username,))
        return frozenset(r[0] for r in await cur.fetchall())


async def readers(conn: Conn, site_id: str) -> list[dict[str, Any]]:
    return await _fetch(conn, "SELECT username, added_at FROM signal_readers WHERE site_id = %(site)s"
                              " ORDER BY username", {"site": site_id})  # fmt: skip


async def add_reader(conn: Conn, site_id: str, username: str) -> bool:
    """Name ``username`` a signal reader of the site; False when the site or the user does not exist."""
    async with conn.cursor() as cur:
        await cur.execute(
            "INSERT INTO signal_readers (site_id, username) SELECT s.site_id, u.username FROM sites s, users u"
            " WHERE s.site_id = %s AND u.username = %s ON CONFLICT DO NOTHING RETURNING 1",
            (site_id, username),
        )
        added = cur.rowcount == 1
        if not added:
            await cur.execute("SELECT 1 FROM signal_readers WHERE site_id = %s AND username = %s", (site_id, username))
            added = await cur.fetchone() is not None
        return added


async def remove_reader(conn: Conn, site_id: str, username: str) -> bool:
    async with conn.cursor() as cur:
        await cur.execute("DELETE FROM signal_readers WHERE site_id = %s AND username = %s", (site_id, username))
        return cur.rowcount == 1
