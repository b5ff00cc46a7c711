"""The ingest entrypoint: drain the MQTT inbox in batches, store, raise, then acknowledge.

One frame's path: ``mqtt.topics.parse`` → ``mqtt.codec.decode_frame`` → ``services.ingest`` (agent,
lateness, rules) → ``db.ingest_store.IngestStore`` (COPY + idempotent insert, alerts, notifications) →
``IngestClient.ack``. A payload that cannot be decoded becomes a dead letter in the same transaction;
it never blocks the good frames around it.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import psycopg

from gateway import metrics
from gateway.alerting import Alerting
from gateway.db.ingest_store import DeadLetter, ImuRow, IngestStore, RobotReceived, StatusChange
from gateway.ledgering import LedgerUpdater
from gateway.mqtt import codec, topics
from gateway.mqtt.client import Incoming
from gateway.settings import Settings
from services import assignments, ingest
from services.alerts import Alert
from services.errors import InvalidFrame
from services.imu_retention import ImuRetention
from services.model import Assignment, Frame, Received

log = logging.getLogger(__name__)


@dataclass
class Decoded:
    frames: list[Frame] = field(default_factory=list)
    robots: list[RobotReceived] = field(default_factory=list)
    statuses: list[StatusChange] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)


def decode_batch(batch: list[Incoming], settings: Settings, now: datetime) -> Decoded:
    """Sort a batch into valid records and dead letters (never raises on bad input)."""
    out = Decoded()
    for msg in batch:
        topic = topics.parse(msg.topic)
        try:
            if topic is None:
                raise InvalidFrame("unknown_topic", msg.topic[:200])
            if topic.kind is topics.TopicKind.FRAME:
                out.frames.append(codec.decode_frame(msg.payload, topic.subject_id, now, settings.max_payload_bytes))
            elif topic.kind is topics.TopicKind.ROBOT_STATE:
                state = codec.decode_robot_state(msg.payload, topic.subject_id, now, settings.max_payload_bytes)
                late = ingest.is_late(state.ts, msg.received_at, settings.late_after_s)
                out.robots.append(RobotReceived(state, msg.received_at, late))
            elif msg.payload:  # an empty retained payload only clears the status topic
                out.statuses.append(StatusChange(topic.subject_id, codec.decode_status(msg.payload), now))
        except InvalidFrame as exc:
            out.dead.append(DeadLetter(msg.topic, exc.reason, exc.detail, msg.payload, msg.received_at))
    return out


def _unique(received: list[Received]) -> list[Received]:
    seen: dict[tuple[str, int], Received] = {}
    for r in received:
        seen.setdefault((r.frame.device_id, r.frame.seq), r)
    return list(seen.values())


class IngestPipeline:
    """Stores one batch in one transaction. Raises ``psycopg.OperationalError`` when the DB is away."""

    def __init__(self, store: IngestStore, settings: Settings, imu: ImuRetention[ImuRow],
                 alerting: Alerting) -> None:  # fmt: skip
        self.store = store
        self.settings = settings
        self.policy = ingest.IngestPolicy(late_after_s=settings.late_after_s)
        self.imu = imu
        self.ledger = LedgerUpdater(store, settings)
        self.alerting = alerting

    def use(self, store: IngestStore) -> None:
        """A new connection after a database outage: keep the detection and projection state."""
        self.store = self.ledger.store = store
        self.alerting.use(store.conn)

    def process(self, batch: list[Incoming], now: datetime) -> Decoded:
        decoded = decode_batch(batch, self.settings, now)
        received_at = max((m.received_at for m in batch), default=now)
        worn = self._assignments(decoded.frames)
        by_device = assignments.by_device(worn)
        received = _unique(ingest.receive(
            decoded.frames, received_at, lambda d, ts: assignments.agent_at(by_device.get(d, ()), d, ts), self.policy
        ))  # fmt: skip
        try:
            new_keys = self.store.insert_frames(received)
            new = [r for r in received if (r.frame.device_id, r.frame.seq) in new_keys]
            totals = self.ledger.update(new, decoded.robots)
            self.store.add_frame_minutes(new)
            statuses = self._with_agents(decoded.statuses)
            outcomes = self.alerting.judge(new, decoded.robots, statuses,
                                           self.ledger.context(new, decoded.robots, totals))  # fmt: skip
            raised = self.alerting.apply(outcomes, self.ledger.projected(new, totals, worn, now), new, now)
            events = {(a.draft.device_id, a.draft.source_ts) for a, inserted in raised if inserted}
            self.store.insert_imu(self._imu_rows(new, events))
            robots_new = self.store.insert_robot_states(decoded.robots)
            self.store.insert_dead_letters(decoded.dead)
            self.store.record_status(statuses)
            if received or decoded.robots:
                self.store.notify("vigie_state", {"at": now.isoformat()})
            self.store.commit()
        except BaseException:
            self.store.rollback()
            raise
        self._count(decoded, new, raised, robots_new, now)
        return decoded

    def tick(self, now: datetime) -> None:
        """Time-driven rules (cancel windows, silence, missed check-ins), in their own transaction."""
        outcomes = self.alerting.tick(now)
        if not outcomes:
            return
        try:
            self.alerting.apply(outcomes, [], [], now)
            self.store.commit()
        except BaseException:
            self.store.rollback()
            raise

    def _with_agents(self, statuses: list[StatusChange]) -> list[StatusChange]:
        if not statuses:
            return []
        worn = self.store.assignments_for(sorted({s.device_id for s in statuses}), min(s.at for s in statuses),
                                          max(s.at for s in statuses))  # fmt: skip
        return [replace(s, agent_id=assignments.agent_at(worn, s.device_id, s.at)) for s in statuses]

    def _assignments(self, frames: list[Frame]) -> list[Assignment]:
        if not frames:
            return []
        return list(self.store.assignments_for(
            sorted({f.device_id for f in frames}), min(f.ts for f in frames), max(f.ts for f in frames)
        ))  # fmt: skip

    def _imu_rows(self, new: list[Received], events: set[tuple[str | None, datetime]]) -> list[ImuRow]:
        rows: list[ImuRow] = []
        for r in sorted(new, key=lambda r: r.frame.ts):
            f = r.frame
            if f.imu is None:
                continue
            row = ImuRow(f.ts, f.device_id, f.seq, f.imu.rate_hz, f.imu.acc_ms2, f.imu.gyr_rads)
            rows.extend(self.imu.offer(f.device_id, f.ts, row, (f.device_id, f.ts) in events))
        return rows

    @staticmethod
    def _count(decoded: Decoded, new: list[Received], raised: list[tuple[Alert, bool]], robots_new: int,
               now: datetime) -> None:  # fmt: skip
        metrics.FRAMES_RECEIVED.inc(len(decoded.frames))
        metrics.FRAMES_STORED.inc(len(new))
        metrics.FRAMES_DUPLICATE.inc(len(decoded.frames) - len(new))
        metrics.FRAMES_LATE.inc(sum(r.late for r in new))
        metrics.FRAMES_UNASSIGNED.inc(sum(r.agent_id is None for r in new))
        metrics.ROBOT_STATES_STORED.inc(robots_new)
        for letter in decoded.dead:
            metrics.DEAD_LETTERS.labels(letter.reason).inc()
        for alert, inserted in raised:
            draft = alert.draft
            if inserted:
                metrics.ALERTS_RAISED.labels(draft.rule, draft.severity.value).inc()
            else:
                metrics.ALERT_REPEATS.labels(draft.rule).inc()
        if new:
            metrics.INGEST_LAG.set((now - max(r.frame.ts for r in new)).total_seconds())


Connect = Callable[[], psycopg.Connection[tuple[object, ...]]]


class IngestWorker(threading.Thread):
    """Drains the inbox in batches; retries a batch until it is stored; then acknowledges it."""

    def __init__(self, settings: Settings, inbox: queue.Queue[Incoming], ack: Callable[[Incoming], None],
                 connect: Connect) -> None:  # fmt: skip
        super().__init__(name="vigie-ingest", daemon=True)
        self.settings = settings
        self.inbox = inbox
        self.ack = ack
        self.connect = connect
        self.stopping = threading.Event()
        self.db_ok = threading.Event()
        # Kept across reconnections (only the connection is replaced): the rules' state, the projections'
        # recent rates and the look-back buffer of raw IMU around events.
        self._pipeline: IngestPipeline | None = None
        self._connected = False
        self._imu = ImuRetention[ImuRow](settings.imu_keep, settings.imu_pre_s, settings.imu_post_s)

    def run(self) -> None:
        next_tick = time.monotonic()
        while not self.stopping.is_set():
            batch = self._drain()
            if batch:
                self._store(batch)
                for message in batch:
                    self.ack(message)
            metrics.QUEUE_DEPTH.set(self.inbox.qsize())
            if time.monotonic() >= next_tick:
                self._tick()
                next_tick = time.monotonic() + self.settings.tick_interval_s
        self._close()

    def tracked(self) -> tuple[frozenset[str], frozenset[str]]:
        """The devices and robots whose detection state this worker holds."""
        if self._pipeline is None:
            return frozenset(), frozenset()
        return self._pipeline.alerting.engine.tracked()

    def _tick(self) -> None:
        try:
            self._open().tick(datetime.now(UTC))
        except psycopg.OperationalError as exc:
            log.warning("time-driven rules postponed, database unavailable: %s", exc)
            self._close()
        except Exception:  # a failing rule must not kill ingest: log it, try again at the next tick
            log.exception("time-driven rules failed")
            self._close()

    def _drain(self) -> list[Incoming]:
        try:
            batch = [self.inbox.get(timeout=0.25)]
        except queue.Empty:
            return []
        deadline = time.monotonic() + self.settings.ingest_batch_wait_s
        while len(batch) < self.settings.ingest_batch_max:
            remaining = deadline - time.monotonic()
            try:
                batch.append(self.inbox.get(timeout=remaining) if remaining > 0 else self.inbox.get_nowait())
            except queue.Empty:
                break
        return batch

    def _store(self, batch: list[Incoming]) -> None:
        delay_s = 0.2
        while not self.stopping.is_set():
            started = time.perf_counter()
            try:
                pipeline = self._open()
                pipeline.process(batch, datetime.now(UTC))
                self.db_ok.set()
                metrics.BATCH_SECONDS.observe(time.perf_counter() - started)
                metrics.BATCH_SIZE.observe(len(batch))
                return
            except psycopg.OperationalError as exc:
                # The database is unreachable: keep the batch (unacknowledged), reconnect, retry.
                metrics.QUEUE_DEPTH.set(self.inbox.qsize() + len(batch))
                delay_s = self._wait_for_database(exc, len(batch), delay_s)
            except Exception as exc:  # one bad message must stop neither the stream nor this thread
                # The database refused valid-looking data, or processing failed on some payload: isolate the
                # culprit by halving, dead-letter it with the reason, keep everything else.
                reason = "db_rejected" if isinstance(exc, psycopg.Error) else "processing_error"
                log.exception("batch of %d failed (%s); storing one by one", len(batch), reason)
                metrics.DB_WRITE_FAILURES.inc()
                if len(batch) > 1:
                    half = len(batch) // 2
                    self._store(batch[:half])
                    self._store(batch[half:])
                    return
                try:
                    self._dead_letter(batch[0], reason)
                    return
                except psycopg.OperationalError as lost:  # the database went away meanwhile: retry the message
                    delay_s = self._wait_for_database(lost, 1, delay_s)

    def _wait_for_database(self, exc: Exception, pending: int, delay_s: float) -> float:
        """Mark the database down, drop the connection, wait; returns the next (doubled, capped) delay."""
        self.db_ok.clear()
        metrics.DB_WRITE_FAILURES.inc()
        log.warning("database unavailable (%s); retrying %d messages in %.1fs", exc, pending, delay_s)
        self._close()
        self.stopping.wait(delay_s)
        return min(delay_s * 2, 5.0)

    def _dead_letter(self, message: Incoming, reason: str) -> None:
        assert self._pipeline is not None
        letter = DeadLetter(message.topic, reason, "see gateway log", message.payload, message.received_at)
        self._pipeline.store.rollback()
        self._pipeline.store.insert_dead_letters([letter])
        self._pipeline.store.commit()
        metrics.DEAD_LETTERS.labels(reason).inc()

    def _open(self) -> IngestPipeline:
        if self._pipeline is not None and self._connected:
            return self._pipeline
        store = IngestStore(self.connect(), site_tz=self.settings.site_timezone)
        if self._pipeline is None:
            self._pipeline = IngestPipeline(store, self.settings, self._imu, Alerting(store.conn, self.settings))
        else:
            self._pipeline.use(store)
        self._connected = True
        return self._pipeline

    def _close(self) -> None:
        if self._pipeline is not None and self._connected:
            self._connected = False
            self._pipeline.store.conn.close()
