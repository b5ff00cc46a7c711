"""The demo's weak-signal history: weeks of the simulated crew written into the *demo* database (``vigie up``).

Trend signals need thirty worked days of baseline; frames more than 30 days old are refused at the door
(``gateway/mqtt/codec.py``) and weeks of them could not be published at demo start anyway. So ``vigie up``
generates the roster's past days with the simulator's own models (``simulations.history``) and writes them here,
through the gateway's own writers where they exist: the ledger's upsert (``ledger_store.UPSERT_ROW`` of each
agent-day's ``DayDelta``), the heart-rate minutes (``ledger_store.add_hr_minutes``), the minute tier
(``frame_minutes``), then the housekeeper's refresh (``ledger_store.refresh_heat_strain``) derives each day's
resting, working and recovery heart rate and high-strain minutes exactly as it does for live frames. The
heat-strain alerts the rule would have raised are stored resolved, and each robot's state changes as states.

Refused unless the settings say ``mode == "demo"``: a production gateway never gets invented records. Loading
is idempotent: the roster's records on the history's days are replaced, not added to.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from psycopg.types.json import Jsonb

from gateway.db import ledger_store, robot_days, signals_queries
from gateway.db.rule_settings import RuleSettings
from gateway.settings import Settings
from services.exposure.handling import HandlingDay
from services.exposure.noise import NoiseDose
from services.exposure.vibration import HavDose
from services.ledger import DayDelta
from simulations.history import History

log = logging.getLogger(__name__)
Conn = psycopg.Connection[Any]

MINUTE_COLUMNS = ("worked_s", "hr_n", "hr_sum_bpm", "hr_max_bpm", "noise_s", "noise_sum_t_10pow", "lcpeak_max_db",
                  "peaks_over_135", "hav_s", "hav_sum_a2t", "lifts", "tonnage_kg")  # fmt: skip
_INTEGER = {"worked_s", "hr_n", "noise_s", "peaks_over_135", "lifts"}
HISTORY_ACTOR = "vigie-demo-history"  # who resolved the past heat-strain alerts (alerts.resolved_by)


class NotADemo(RuntimeError):
    """The settings are not the demo's: the history is never written into a production database."""


@dataclass(frozen=True, slots=True)
class LoadReport:
    agent_days: int
    minutes: int
    heat_alerts: int
    robot_states: int


def load(settings: Settings, history: History) -> LoadReport:
    """Write ``history`` into the demo database of ``settings``; raises ``NotADemo`` for any other mode.

    The agents, crews and robots must exist (``simulations.seed.seed_roster`` registers them).
    """
    if settings.mode != "demo":
        raise NotADemo("the simulated history is only ever loaded into the demo's database (`vigie up`)")
    if not history.agents:
        return LoadReport(0, 0, 0, 0)
    tz = ZoneInfo(settings.site_timezone)
    with psycopg.connect(settings.database_url) as conn:
        with conn.transaction():
            _forget(conn, history, tz)
            minutes = _minutes(conn, history)
            _ledger(conn, history)
            _heat_alerts(conn, history, settings.site_timezone)
            _robot_states(conn, history)
            # Copied, not ingested: their robot-days are marked here for the refresh below.
            t0, t1 = signals_queries.utc_bounds(history.days[0].date, history.days[-1].date, tz)
            robot_days.mark_stored(conn, tz, t0, t1, sorted({s.robot_id for s in history.robot_states}))
        while ledger_store.refresh_heat_strain(conn, tz):  # the housekeeper's pass, on these days now
            pass
        # The robots' near misses per day, as the housekeeper computes them from live states (the signals read these).
        rules = RuleSettings()
        rules.load(conn)
        robot_days.refresh_all(conn, tz, rules.config_for)
    report = LoadReport(len(history.agents), minutes, len(history.heat_alerts), len(history.robot_states))
    log.info("demo history: %d agent-days, %d minutes, %d heat-strain alerts, %d robot states",
             report.agent_days, report.minutes, report.heat_alerts, report.robot_states)  # fmt: skip
    return report


def _forget(conn: Conn, history: History, tz: ZoneInfo) -> None:
    """Remove what an earlier load (or an earlier run of the simulator) left on the history's days."""
    agents = sorted({a.agent_id for a in history.agents})
    robots = sorted({s.robot_id for s in history.robot_states})
    first, last = history.days[0].date, history.days[-1].date
    t0 = datetime.combine(first, time(), tz).astimezone(UTC)
    t1 = datetime.combine(last + timedelta(days=1), time(), tz).astimezone(UTC)
    conn.execute("DELETE FROM exposure_days WHERE agent_id = ANY(%s) AND day BETWEEN %s AND %s", (agents, first, last))
    for table in ("frame_minutes", "hr_minutes"):
        conn.execute(f"DELETE FROM {table} WHERE agent_id = ANY(%s) AND minute >= %s AND minute < %s",
                     (agents, t0, t1))  # fmt: skip
    conn.execute("DELETE FROM alerts WHERE rule = 'heat_strain' AND agent_id = ANY(%s) AND raised_at >= %s"
                 " AND raised_at < %s AND resolved_by = %s", (agents, t0, t1, HISTORY_ACTOR))  # fmt: skip
    conn.execute("DELETE FROM robot_states WHERE robot_id = ANY(%s) AND ts >= %s AND ts < %s", (robots, t0, t1))
    conn.execute("DELETE FROM robot_days WHERE robot_id = ANY(%s) AND day BETWEEN %s AND %s", (robots, first, last))


def _minutes(conn: Conn, history: History) -> int:
    hr_sums: dict[tuple[str, datetime], tuple[float, int]] = {}
    rows = 0
    columns = ("agent_id", "minute", *MINUTE_COLUMNS)
    with conn.cursor() as cur, cur.copy(f"COPY frame_minutes ({', '.join(columns)}) FROM STDIN") as copy:
        for a in history.agents:
            values = {c: a.minutes[c].tolist() for c in MINUTE_COLUMNS}
            for k, worked in enumerate(values["worked_s"]):
                if worked <= 0:
                    continue
                minute = a.minute_at(k)
                copy.write_row((a.agent_id, minute, *(round(values[c][k]) if c in _INTEGER else values[c][k]
                                                     for c in MINUTE_COLUMNS)))  # fmt: skip
                hr_sums[(a.agent_id, minute)] = (values["hr_sum_bpm"][k], round(values["hr_n"][k]))
                rows += 1
    ledger_store.add_hr_minutes(conn, hr_sums)
    return rows


def _ledger(conn: Conn, history: History) -> None:
    """One ``DayDelta`` per agent-day, upserted as the ingest upserts a batch's increments (marked for refresh)."""
    rated = {(a.agent_id, a.day) for a in history.agents}
    with conn.cursor() as cur:
        for a in history.agents:
            worked = [k for k, s in enumerate(a.minutes["worked_s"].tolist()) if s > 0]
            if not worked:
                continue
            delta = DayDelta(
                agent_id=a.agent_id, day=a.day, worked_s=a.total("worked_s"), first_ts=a.minute_at(worked[0]),
                last_ts=a.minute_at(worked[-1] + 1) - timedelta(seconds=1),
                noise=NoiseDose(a.total("noise_sum_t_10pow"), a.total("noise_s"),
                                float(a.minutes["lcpeak_max_db"].max()), round(a.total("peaks_over_135"))),
                hav=HavDose(a.total("hav_sum_a2t"), a.total("hav_s")),
                handling=HandlingDay(round(a.total("lifts")), round(a.total("lifts_ge_15kg")),
                                     round(a.total("lifts_ge_25kg")), a.total("tonnage_kg")),
                device_ids=frozenset({a.device_id}),
                tool_ids=frozenset({a.tool_id}) if a.total("hav_s") > 0 else frozenset(),
            )  # fmt: skip
            cur.execute(ledger_store.UPSERT_ROW, ledger_store.day_row(delta, rated))


def _heat_alerts(conn: Conn, history: History, site_id_default: str) -> None:
    site = {a.agent_id: a.site_id for a in history.agents}
    columns = ("alert_id", "rule", "severity", "status", "subject_type", "subject_id", "agent_id", "device_id",
               "message", "raised_at", "source_ts", "last_seen_ts", "cleared_at", "resolved_at", "resolved_by",
               "resolution", "site_id", "details")  # fmt: skip
    with conn.cursor() as cur, cur.copy(f"COPY alerts ({', '.join(columns)}) FROM STDIN") as copy:
        for h in history.heat_alerts:
            message = (f"Heat strain: PSI {h.psi:.1f}, estimated core temperature {h.core_temp_c:.1f} °C"
                       " — stop, cool down, drink")  # fmt: skip
            copy.write_row((uuid.uuid4(), "heat_strain", "warning", "resolved", "agent", h.agent_id, h.agent_id,
                            h.device_id, message, h.raised_at, h.raised_at, h.cleared_at, h.cleared_at,
                            h.cleared_at, HISTORY_ACTOR, "real_incident", site.get(h.agent_id, "paris"),
                            Jsonb({"psi": round(h.psi, 2), "core_temp_c": round(h.core_temp_c, 2),
                                   "simulated_history": True})))  # fmt: skip


def _robot_states(conn: Conn, history: History, rate_hz: float = 2.0) -> None:
    columns = ("ts", "robot_id", "seq", "received_at", "kind", "protective_stop", "nearest_human_m", "mode",
               "speed_ms", "estop", "faults", "tracks_leader", "nearest_other_human_m")  # fmt: skip
    with conn.cursor() as cur, cur.copy(f"COPY robot_states ({', '.join(columns)}) FROM STDIN") as copy:
        for s in history.robot_states:
            # The live simulator's numbering (ts × rate): a history state never collides with a live one.
            seq = round(s.ts.timestamp() * rate_hz)
            copy.write_row((s.ts, s.robot_id, seq, s.ts, s.kind, s.protective_stop, s.nearest_human_m, s.mode,
                            s.speed_ms, False, [], s.tracks_leader, s.nearest_other_human_m))  # fmt: skip
