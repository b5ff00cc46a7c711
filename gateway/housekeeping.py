"""The housekeeper: the time-driven duties of the process that holds the MQTT connection.

Every second: escalate unacknowledged alerts whose delay has passed, publish the outbox (robot commands,
escalation messages) at least once and in order, deliver webhooks. Every few seconds: refresh heat strain
in the exposure ledger, the robots' near misses per day (``robot_days``) and the time-to-acknowledge /
time-to-resolve percentiles on ``/metrics``.
Its own database connection, so a slow webhook never holds up ingest. Retention (``RetentionKeeper``) runs
in a thread of its own: a pass can take minutes and must never delay an escalation.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import httpx
import psycopg
from prometheus_client import Counter, Gauge

from gateway import metrics
from gateway.db import escalation_store, ledger_store, retention, robot_days
from gateway.db.rule_settings import RuleSettings
from gateway.settings import Settings
from services.retention import RetentionPlan

log = logging.getLogger(__name__)
Publish = Callable[[str, bytes], bool]
Connect = Callable[[], psycopg.Connection[tuple[object, ...]]]

RETENTION_CHUNKS = Counter("vigie_retention_chunks_dropped_total", "Expired chunks dropped", ["table"])
RETENTION_ROWS = Counter("vigie_retention_rows_total", "Rows whose position was erased or rows deleted", ["action"])
RETENTION_LAST_RUN = Gauge("vigie_retention_last_run_timestamp_seconds", "End of the last completed retention pass")
# The first pass waits a little after start (ingest catches up its backlog first); then every interval.
RETENTION_FIRST_DELAY_S = 60.0
# Held by the one housekeeper that publishes the outbox and webhooks (any 64-bit key unique to Vigie).
DELIVERY_LOCK_ID = 0x5669676965_0001
# Between full passes, positions are erased only in frames that expired since the previous pass; a daily
# full pass also catches frames that arrived already older than the location window.
RETENTION_FULL_PASS_S = 86_400.0

_TIMINGS = """
SELECT site_id,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM acknowledged_at - raised_at)),
       percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM acknowledged_at - raised_at)),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM resolved_at - raised_at)),
       percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM resolved_at - raised_at))
FROM alerts WHERE raised_at > now() - interval '30 days' AND NOT late AND acknowledged_at IS NOT NULL
GROUP BY site_id
"""


class Housekeeper(threading.Thread):
    def __init__(self, settings: Settings, connect: Connect, publish: Publish,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:  # fmt: skip
        super().__init__(name="vigie-housekeeper", daemon=True)
        self.settings = settings
        self.connect = connect
        self.publish = publish
        self.clock = clock
        self.stopping = threading.Event()
        self.tz = ZoneInfo(settings.site_timezone)
        self._rules = RuleSettings()  # the sites' and crews' separation distances, for the near-miss roll-up
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None
        self._delivering = False

    def run(self) -> None:
        next_slow = 0.0
        while not self.stopping.wait(self.settings.housekeeping_interval_s):
            try:
                conn = self._conn or self._open()
                self.every_second(conn)
                if time.monotonic() >= next_slow:
                    ledger_store.refresh_heat_strain(conn, self.tz)
                    self._rules.load(conn)  # as the live rules read them: overrides edited since apply from now on
                    conn.commit()
                    robot_days.refresh_all(conn, self.tz, self._rules.config_for)  # near misses
                    self._timings(conn)
                    next_slow = time.monotonic() + self.settings.heat_strain_interval_s
            except psycopg.OperationalError as exc:
                log.warning("housekeeping postponed, database unavailable: %s", exc)
                self._close()
            except Exception:  # a loop boundary: log, keep the duties running
                log.exception("housekeeping step failed")
                self._close()
        self._close()

    def every_second(self, conn: psycopg.Connection[tuple[object, ...]]) -> None:
        escalation_store.escalate_due(conn, self.clock())  # row locks (SKIP LOCKED): safe in every worker
        if not self._delivers(conn):
            return
        for outbox_id, topic, payload, notification_id in escalation_store.pending_outbox(conn):
            if not self.publish(topic, payload):
                break  # broker away: keep order, retry next round
            escalation_store.mark_sent(conn, outbox_id, notification_id, self.clock())
        for notification_id, url, body in escalation_store.pending_webhooks(conn):
            try:
                response = httpx.post(url, content=body, headers={"content-type": "application/json"}, timeout=3)
                ok, text = response.is_success, f"{response.status_code} {response.text[:200]}"
            except httpx.HTTPError as exc:
                ok, text = False, f"{type(exc).__name__}: {exc}"
            escalation_store.record_webhook(conn, notification_id, ok, text, self.clock())

    def _timings(self, conn: psycopg.Connection[tuple[object, ...]]) -> None:
        rows = conn.execute(_TIMINGS).fetchall()
        conn.commit()
        for site_id, tta50, tta95, ttr50, ttr95 in rows:
            for gauge, quantile, value in ((metrics.TIME_TO_ACK, "0.5", tta50), (metrics.TIME_TO_ACK, "0.95", tta95),
                                           (metrics.TIME_TO_RESOLVE, "0.5", ttr50),
                                           (metrics.TIME_TO_RESOLVE, "0.95", ttr95)):  # fmt: skip
                if value is not None:
                    gauge.labels(str(site_id), quantile).set(float(value))  # type: ignore[arg-type]

    def _delivers(self, conn: psycopg.Connection[tuple[object, ...]]) -> bool:
        """Whether this process publishes the outbox and webhooks: one ingest worker at a time does.

        Robot commands and escalation messages go out in order and once (ordered at-least-once): with several
        workers, the one holding a session-level advisory lock delivers. The lock goes with its connection,
        so when that worker stops or dies, another takes over within a second.
        """
        if not self._delivering:
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", (DELIVERY_LOCK_ID,)).fetchone()
            conn.commit()
            self._delivering = bool(row and row[0])
        return self._delivering

    def _open(self) -> psycopg.Connection[tuple[object, ...]]:
        self._conn = self.connect()
        return self._conn

    def _close(self) -> None:
        self._delivering = False  # the lock is released with the connection
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None


class RetentionKeeper(threading.Thread):
    """Runs a retention pass (``gateway.db.retention``) every ``retention_interval_s``, one connection each."""

    def __init__(self, settings: Settings, connect: Connect,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:  # fmt: skip
        super().__init__(name="vigie-retention", daemon=True)
        self.settings = settings
        self.connect = connect
        self.clock = clock
        self.stopping = threading.Event()
        self.previous: RetentionPlan | None = None
        self._next_full = 0.0

    def run(self) -> None:
        delay = min(RETENTION_FIRST_DELAY_S, self.settings.retention_interval_s)
        while not self.stopping.wait(delay):
            delay = self.settings.retention_interval_s
            try:
                self.run_pass()
            except psycopg.OperationalError as exc:
                log.warning("retention pass postponed, database unavailable: %s", exc)
            except Exception:  # a loop boundary: log, try again next interval
                log.exception("retention pass failed")

    def run_pass(self) -> retention.RetentionReport:
        full = self.previous is None or time.monotonic() >= self._next_full
        plan = retention.plan_for(self.settings, self.clock())
        with self.connect() as conn:
            report = retention.run_retention(conn, plan, since=None if full else self.previous,
                                             keep_going=lambda: not self.stopping.is_set())  # fmt: skip
        if report.skipped:
            return report
        for table, count in report.chunks_dropped.items():
            RETENTION_CHUNKS.labels(table).inc(count)
        for action, count in report.rows.items():
            RETENTION_ROWS.labels(action).inc(count)
        if not report.interrupted:
            self.previous = plan
            if full:
                self._next_full = time.monotonic() + RETENTION_FULL_PASS_S
            RETENTION_LAST_RUN.set(self.clock().timestamp())
        return report
