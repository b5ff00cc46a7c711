"""One retention pass over the database: drop expired chunks, erase expired positions, delete expired rows.

TimescaleDB's Apache edition has ``drop_chunks`` but no retention policies, so Vigie runs this pass itself
(``gateway.housekeeping.RetentionKeeper``, or ``vigie retention run``). What goes when comes from a pure
``services.retention.RetentionPlan``; docs/privacy.md says why. Storage is tiered: per-second rows (frames,
raw IMU, robot states) for ``retention_raw_days``, per-minute roll-ups (``frame_minutes``) and the robots'
near misses per day (``robot_days``) for ``retention_minute_days``, the exposure ledger for good. Never
touched: the exposure ledger (``exposure_days``), alerts and their events, and the audit log, which are kept as records.

Every step commits on its own and updates at most one time slice or one batch per transaction, so a pass
never holds a long transaction or a large lock, and a pass interrupted halfway leaves consistent data that
the next one completes. An advisory lock lets only one pass run at a time when several ingest processes
share the stream.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from psycopg import errors, sql

from gateway.settings import Settings
from services.retention import RetentionPlan, plan_retention

log = logging.getLogger(__name__)
Conn = psycopg.Connection[Any]

_LOCK_ID = 0x76696772  # "vigr"; migrations use "vigi"
RAW_TABLES = ("frames", "imu_raw", "robot_states")
MINUTE_TABLE = "frame_minutes"
# One UPDATE per hour of frames: at a thousand worn devices, 3.6 million rows, not a day's 29 million.
SLICE = timedelta(hours=1)
BATCH_ROWS = 10_000
# A chunk being read (a long report) must not make the drop wait, nor queue every later reader behind it.
_LOCK_TIMEOUT = "10s"

_POSITION_SET = "lat IS NOT NULL OR lon IS NOT NULL OR gps_acc_m IS NOT NULL"
# Statements address one chunk table (a public name from timescaledb_information.chunks): the planner then
# skips the hypertable's chunk exclusion, which costs more than a slice with nothing left to erase.
_IN_SLICE = " WHERE ts >= %s AND ts < %s AND (" + _POSITION_SET + ")"
_ERASE = "UPDATE {chunk} SET lat = NULL, lon = NULL, gps_acc_m = NULL" + _IN_SLICE
_COUNT = "SELECT count(*) FROM {chunk}" + _IN_SLICE
_UNASSIGNED = " AND agent_id IS NULL"
_CHUNKS = """
SELECT chunk_schema, chunk_name, range_start, range_end FROM timescaledb_information.chunks
WHERE hypertable_schema = current_schema() AND hypertable_name = 'frames'
  AND range_end > %(raw_before)s AND range_start < %(hi)s AND (%(lo)s::timestamptz IS NULL OR range_end > %(lo)s)
ORDER BY range_start
"""
_HR_MINUTES = (
    "DELETE FROM hr_minutes h USING (SELECT agent_id, minute FROM hr_minutes WHERE minute < %s LIMIT %s) o"
    " WHERE h.agent_id = o.agent_id AND h.minute = o.minute",
    "SELECT count(*) FROM hr_minutes WHERE minute < %s",
)
# robot_days holds the site's local days: those before the plan's first kept day (``robot_days_before``).
_ROBOT_DAYS = (
    "DELETE FROM robot_days r USING (SELECT robot_id, day FROM robot_days WHERE day < %s::date LIMIT %s) o"
    " WHERE r.robot_id = o.robot_id AND r.day = o.day",
    "SELECT count(*) FROM robot_days WHERE day < %s::date",
)
_DEAD_LETTERS = (
    "DELETE FROM dead_letters WHERE id IN"
    " (SELECT id FROM dead_letters WHERE received_at < %s ORDER BY received_at LIMIT %s)",
    "SELECT count(*) FROM dead_letters WHERE received_at < %s",
)
_LATEST_WHERE = ("(lat IS NOT NULL OR lon IS NOT NULL)"
                 " AND (ts < %(location)s OR (agent_id IS NULL AND ts < %(unassigned)s))")  # fmt: skip


@dataclass(frozen=True)
class RetentionReport:
    """What one pass did (or, dry, would do): chunks dropped per table and rows per action.

    ``skipped``: another pass held the lock. ``interrupted``: stopped before the end (the gateway stopping);
    the next pass finishes the work.
    """

    plan: RetentionPlan
    dry_run: bool = False
    skipped: bool = False
    interrupted: bool = False
    chunks_dropped: dict[str, int] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        cutoffs = {f.name: getattr(self.plan, f.name).isoformat() for f in fields(self.plan) if f.name != "at"}
        return {"at": self.plan.at.isoformat(), "dry_run": self.dry_run, "skipped": self.skipped,
                "interrupted": self.interrupted, "cutoffs": cutoffs, "chunks_dropped": self.chunks_dropped,
                "rows": self.rows}  # fmt: skip


def plan_for(settings: Settings, now: datetime) -> RetentionPlan:
    return plan_retention(now, raw_days=settings.retention_raw_days, location_days=settings.retention_location_days,
                          dead_letter_days=settings.retention_dead_letter_days,
                          minute_days=settings.retention_minute_days,
                          site_tz=ZoneInfo(settings.site_timezone))  # fmt: skip


def run_once(settings: Settings, *, dry_run: bool = False, now: datetime | None = None) -> RetentionReport:
    """One full pass on a connection of its own (``vigie retention run``)."""
    plan = plan_for(settings, now or datetime.now(UTC))
    with psycopg.connect(settings.database_url, connect_timeout=5) as conn:
        return run_retention(conn, plan, dry_run=dry_run)


def run_retention(conn: Conn, plan: RetentionPlan, *, since: RetentionPlan | None = None, dry_run: bool = False,
                  keep_going: Callable[[], bool] = lambda: True) -> RetentionReport:  # fmt: skip
    """Apply ``plan``; with ``dry_run``, count what would go and change nothing.

    ``since``: the plan of the previous completed pass. Positions are then erased only in the frames that
    expired since (their cut-offs moved), instead of re-reading every frame older than the cut-off; the
    caller runs a full pass (``since=None``) now and then to catch frames that arrived already expired.
    """
    conn.commit()
    if not conn.execute("SELECT pg_try_advisory_lock(%s)", (_LOCK_ID,)).fetchone()[0]:  # type: ignore[index]
        conn.commit()
        log.info("retention pass skipped: another pass is running")
        return RetentionReport(plan, dry_run, skipped=True)
    try:
        conn.execute(f"SET lock_timeout = '{_LOCK_TIMEOUT}'")
        conn.commit()
        report = _Pass(conn, plan, dry_run, keep_going).run(since)
    finally:
        if not (conn.closed or conn.broken):  # a lost session has released its lock already
            conn.rollback()
            conn.execute("RESET lock_timeout")
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_ID,))
            conn.commit()
    level = logging.INFO if any(report.chunks_dropped.values()) or any(report.rows.values()) else logging.DEBUG
    log.log(level, "retention pass%s: chunks dropped %s, rows %s%s", " (dry run)" if dry_run else "",
            report.chunks_dropped, report.rows, " (interrupted)" if report.interrupted else "")  # fmt: skip
    return report


class _Pass:
    def __init__(self, conn: Conn, plan: RetentionPlan, dry_run: bool, keep_going: Callable[[], bool]) -> None:
        self.conn, self.plan, self.dry_run, self.keep_going = conn, plan, dry_run, keep_going
        self.chunks: dict[str, int] = {}
        self.rows: dict[str, int] = {}
        self.interrupted = False

    def run(self, since: RetentionPlan | None) -> RetentionReport:
        plan = self.plan
        for table in RAW_TABLES:
            self.chunks[table] = self._drop_chunks(table, plan.raw_before)
        self.chunks[MINUTE_TABLE] = self._drop_chunks(MINUTE_TABLE, plan.minutes_before)
        self.rows["robot_days_deleted"] = self._delete_batches(_ROBOT_DAYS, plan.robot_days_before)
        # Every position older than the location cut-off, then those of unassigned frames younger than it.
        location_from = since.location_before if since else None
        self.rows["location_erased"] = self._erase_positions(location_from, plan.location_before, False)
        unassigned_from = plan.location_before
        if since is not None:
            unassigned_from = max(since.unassigned_location_before, plan.location_before)
        self.rows["unassigned_location_erased"] = self._erase_positions(
            unassigned_from, plan.unassigned_location_before, True
        )
        self.rows["latest_location_erased"] = self._erase_latest()
        self.rows["hr_minutes_deleted"] = self._delete_batches(_HR_MINUTES, plan.hr_minutes_before)
        self.rows["dead_letters_deleted"] = self._delete_batches(_DEAD_LETTERS, plan.dead_letters_before)
        return RetentionReport(plan, self.dry_run, False, self.interrupted, self.chunks, self.rows)

    def _drop_chunks(self, table: str, before: datetime) -> int:
        """Drop the chunks of ``table`` that end at or before ``before`` (one astride it waits for a later pass)."""
        function = "show_chunks" if self.dry_run else "drop_chunks"
        try:
            row = self.conn.execute(f"SELECT count(*) FROM {function}(%s::regclass, older_than => %s::timestamptz)",
                                    (table, before)).fetchone()  # fmt: skip
            self.conn.commit()
        except errors.LockNotAvailable:
            self.conn.rollback()
            log.warning("retention: chunks of %s are in use, dropping them is postponed to the next pass", table)
            return 0
        return int(row[0]) if row else 0

    def _erase_positions(self, lo: datetime | None, hi: datetime, unassigned_only: bool) -> int:
        """Null the position of frames in [lo, hi) (from the oldest kept chunk when ``lo`` is None).

        Sliced along the chunks that exist, so empty time costs nothing and each UPDATE touches one slice.
        """
        if lo is not None and lo >= hi:
            return 0
        chunks = self.conn.execute(_CHUNKS, {"raw_before": self.plan.raw_before, "lo": lo, "hi": hi}).fetchall()
        self.conn.commit()
        template = (_COUNT if self.dry_run else _ERASE) + (_UNASSIGNED if unassigned_only else "")
        total = 0
        for schema, name, range_start, range_end in chunks:
            query = sql.SQL(template).format(chunk=sql.Identifier(schema, name))
            start = max(range_start, lo) if lo is not None else range_start
            end = min(range_end, hi)
            while start < end:
                if not self.keep_going():
                    self.interrupted = True
                    return total
                stop = min(start + SLICE, end)
                cursor = self.conn.execute(query, (start, stop))
                total += int(cursor.fetchone()[0]) if self.dry_run else cursor.rowcount  # type: ignore[index]
                self.conn.commit()
                start = stop
        return total

    def _erase_latest(self) -> int:
        """Null the live board's last fix of devices silent for longer than their location window."""
        params = {"location": self.plan.location_before, "unassigned": self.plan.unassigned_location_before}
        if self.dry_run:
            row = self.conn.execute(f"SELECT count(*) FROM device_latest WHERE {_LATEST_WHERE}", params).fetchone()
            self.conn.commit()
            return int(row[0]) if row else 0
        count = self.conn.execute(f"UPDATE device_latest SET lat = NULL, lon = NULL WHERE {_LATEST_WHERE}",
                                  params).rowcount  # fmt: skip
        self.conn.commit()
        return count

    def _delete_batches(self, statements: tuple[str, str], before: date) -> int:
        """Delete the rows older than ``before`` (an instant, or a local day) in batches of ``BATCH_ROWS`` (one
        transaction each)."""
        delete, count = statements
        if self.dry_run:
            row = self.conn.execute(count, (before,)).fetchone()
            self.conn.commit()
            return int(row[0]) if row else 0
        total = 0
        while self.keep_going():
            deleted = self.conn.execute(delete, (before, BATCH_ROWS)).rowcount
            self.conn.commit()
            total += deleted
            if deleted < BATCH_ROWS:
                return total
        self.interrupted = True
        return total
