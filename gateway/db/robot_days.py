"""The per-robot-day roll-up of near misses (``robot_days``, migration 0012) that the weak signals read.

Writers of robot states mark the local days they touch (``MARK_NEW_STATES`` in the ingest's transaction,
``mark_stored`` for states copied in by other means); the housekeeper's ``refresh`` computes the marked days:
on from the last counted state when the new states all come after it, the whole day again when one does not
(late, out of order, or a duplicate). Counting is ``services.signals.robot_onsets``. The roll-up outlives the raw
states (``retention_minute_days`` against ``retention_raw_days``), so the signal's 30 worked days of baseline
survive the raw retention.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from gateway.db.signals_queries import optional_float
from services.detection import RuleConfig
from services.exposure.today import local_day_bounds
from services.signals.robot_onsets import (
    Episode,
    Onsets,
    PersonFlags,
    continue_onsets,
    count_onsets,
    person_flags,
    slowdown_zone_m,
)

Conn = psycopg.Connection[Any]
# The rules in force for a crew (``gateway.db.rule_settings.RuleSettings.config_for``): a robot's near misses are
# judged at its crew's separation distance, the one its protective-stop alerts are judged at.
ConfigFor = Callable[[str | None], RuleConfig]

# The states of the hour before midnight decide whether the day's first state is an onset (an episode under way
# or cleared too recently); a robot silent for longer than this before midnight starts its day afresh (a stop
# after an hour of silence is a new near miss).
LOOKBACK = timedelta(hours=1)

_ON_CONFLICT = (
    " ON CONFLICT (robot_id, day) DO UPDATE SET dirty = true,"
    " dirty_from = least(robot_days.dirty_from, EXCLUDED.dirty_from)"
)
# A data-modifying CTE over the states the ingest stored for the first time (``new``: robot_id, ts): a redelivered
# duplicate marks nothing. Rows in key order, so two ingest workers lock shared robot-days in the same order.
MARK_NEW_STATES = (
    "INSERT INTO robot_days (robot_id, day, dirty, dirty_from)"
    " SELECT robot_id, (ts AT TIME ZONE %(site_tz)s)::date, true, min(ts) FROM new GROUP BY 1, 2 ORDER BY 1, 2"
    + _ON_CONFLICT
)
_MARK_STORED = (
    "INSERT INTO robot_days (robot_id, day, dirty, dirty_from)"
    " SELECT robot_id, (ts AT TIME ZONE %(tz)s)::date, true, min(ts) FROM robot_states"
    " WHERE ts >= %(t0)s AND ts < %(t1)s AND (%(robots)s::text[] IS NULL OR robot_id = ANY(%(robots)s))"
    " GROUP BY 1, 2 ORDER BY 1, 2" + _ON_CONFLICT
)
_DIRTY = (
    "SELECT d.robot_id, d.day, d.first_ts, d.last_ts, d.protective_stops, d.slowdowns, d.last_stop, d.last_slow,"
    " d.stop_clear_since, d.slow_clear_since, d.dirty_from, d.computed_at, r.kind, r.crew_id"
    " FROM robot_days d LEFT JOIN robots r USING (robot_id)"
    " WHERE d.dirty ORDER BY d.day, d.robot_id LIMIT %s FOR UPDATE OF d SKIP LOCKED"
)
_STATES = (
    "SELECT ts, protective_stop, nearest_human_m, tracks_leader, nearest_other_human_m FROM robot_states"
    " WHERE robot_id = %s AND ts >= %s AND ts < %s ORDER BY ts, seq"
)
_STATES_AFTER = (
    "SELECT ts, protective_stop, nearest_human_m, tracks_leader, nearest_other_human_m FROM robot_states"
    " WHERE robot_id = %s AND ts > %s AND ts < %s ORDER BY ts, seq"
)
_SAVE = (
    "UPDATE robot_days SET first_ts = %s, last_ts = %s, protective_stops = %s, slowdowns = %s, last_stop = %s,"
    " last_slow = %s, stop_clear_since = %s, slow_clear_since = %s, dirty = false, dirty_from = NULL,"
    " computed_at = now() WHERE robot_id = %s AND day = %s"
)


def mark_stored(conn: Conn, tz: ZoneInfo, t0: datetime, t1: datetime, robot_ids: Sequence[str] | None = None) -> int:
    """Mark the robot-days of the states stored in [t0, t1) to be computed (states copied in without the ingest:
    the demo's history, tests). Returns the number of robot-days marked."""
    params = {"tz": tz.key, "t0": t0, "t1": t1, "robots": None if robot_ids is None else list(robot_ids)}
    return conn.execute(_MARK_STORED, params).rowcount


def refresh(conn: Conn, tz: tzinfo, config_for: ConfigFor, limit: int = 500) -> int:
    """Compute up to ``limit`` marked robot-days in one transaction; returns how many were taken.

    A robot counts as slowed for a person inside the slow-down zone (``robot_onsets.slowdown_zone_m``) of the
    separation distance its kind has under its crew's rules (``config_for``). Rows locked by an ingest batch
    marking them are skipped: that batch's states are not committed yet, and the row stays marked for the next
    pass. A change of the rules applies to the days computed after it; days already counted keep their count.
    """
    with conn.transaction():
        dirty = conn.execute(_DIRTY, (limit,)).fetchall()
        for row in dirty:
            robot_id, day, kind, crew_id = row[0], row[1], row[-2], row[-1]
            slowdown_m = slowdown_zone_m(config_for(crew_id).separation_m(kind or "robot"))
            computed = _compute(conn, row, local_day_bounds(day, tz), slowdown_m)
            if computed is None:  # a day the backfill guessed, or whose states were deleted: nothing to count
                conn.execute("DELETE FROM robot_days WHERE robot_id = %s AND day = %s", (robot_id, day))
                continue
            first_ts, last_ts, onsets = computed
            conn.execute(_SAVE, (first_ts, last_ts, onsets.protective_stops, onsets.slowdowns, onsets.stop.active,
                                 onsets.slow.active, onsets.stop.clear_since, onsets.slow.clear_since,
                                 robot_id, day))  # fmt: skip
    return len(dirty)


def _compute(conn: Conn, row: tuple[Any, ...], bounds: tuple[datetime, datetime],
             slowdown_m: float) -> tuple[datetime, datetime, Onsets] | None:  # fmt: skip
    """(first state, last state, onsets) of one marked robot-day; None when the day holds no state."""
    robot_id, _, first_ts, last_ts, stops, slows, stop_on, slow_on, stop_clear, slow_clear = row[:10]
    dirty_from, computed_at = row[10:12]
    start, end = bounds
    if computed_at is None or last_ts is None or dirty_from is None or dirty_from <= last_ts:
        # Never computed, or a state at or before the last one counted: the order changed, count the day again.
        states = conn.execute(_STATES, (robot_id, start - LOOKBACK, end)).fetchall()
        before = [s for s in states if s[0] < start]
        in_day = [s for s in states if s[0] >= start]
        if not in_day:
            return None
        prior = count_onsets(_flags(s, slowdown_m) for s in before)
        return in_day[0][0], in_day[-1][0], count_onsets((_flags(s, slowdown_m) for s in in_day), prior)
    later = conn.execute(_STATES_AFTER, (robot_id, last_ts, end)).fetchall()
    done = Onsets(stops, slows, Episode(bool(stop_on), stop_clear), Episode(bool(slow_on), slow_clear))
    onsets = continue_onsets(done, (_flags(s, slowdown_m) for s in later))
    return first_ts, later[-1][0] if later else last_ts, onsets


def refresh_all(conn: Conn, tz: tzinfo, config_for: ConfigFor, limit: int = 500) -> int:
    """``refresh`` until a pass takes fewer than ``limit`` rows; returns the robot-days computed."""
    total = 0
    while (taken := refresh(conn, tz, config_for, limit)) > 0:
        total += taken
        if taken < limit:
            break
    return total


def _flags(state: tuple[Any, ...], slowdown_m: float) -> tuple[datetime, PersonFlags]:
    ts, protective_stop, nearest_human_m, tracks_leader, nearest_other_human_m = state
    return ts, person_flags(protective_stop, optional_float(nearest_human_m), slowdown_m,
                            tracks_leader=bool(tracks_leader),
                            nearest_other_human_m=optional_float(nearest_other_human_m))  # fmt: skip


