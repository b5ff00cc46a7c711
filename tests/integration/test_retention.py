"""Retention on the real TimescaleDB: expired chunks dropped, expired positions erased, records kept."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest

from gateway.cli import main as vigie
from gateway.db import retention
from gateway.runtime.mosquitto import MosquittoBroker
from services.retention import RetentionPlan, plan_retention
from tests.gateway_harness import running_gateway
from tests.helpers import wait_until

RAW_DAYS, LOCATION_DAYS, DEAD_LETTER_DAYS, MINUTE_DAYS = 30, 7, 30, 400
KEPT_TABLES = ("exposure_days", "alerts", "alert_events", "audit_log")


def plan_at(now: datetime) -> RetentionPlan:
    return plan_retention(now, raw_days=RAW_DAYS, location_days=LOCATION_DAYS, dead_letter_days=DEAD_LETTER_DAYS,
                          minute_days=MINUTE_DAYS, site_tz=ZoneInfo("Europe/Paris"))  # fmt: skip


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(database_url) as c:
        yield c


def seed(conn: psycopg.Connection[Any], now: datetime) -> None:
    """A hundred days of history: a worn device, a device nobody wears, a robot, and the records kept."""
    p = {"now": now}
    conn.execute("INSERT INTO agents (agent_id, display_name) VALUES ('agent-1', 'Agent One')")
    # Every three hours, offset by 7 minutes so no frame sits exactly on a cut-off.
    conn.execute(
        "INSERT INTO frames (ts, device_id, seq, agent_id, received_at, hr_bpm, laeq_db, lat, lon, gps_acc_m)"
        " SELECT t, d.device_id, extract(epoch FROM t)::bigint, d.agent_id, t, 82, 71.5, 48.85, 2.35, 4"
        " FROM generate_series(%(now)s - interval '100 days' + interval '7 minutes', %(now)s, interval '3 hours') t,"
        " (VALUES ('dev-worn', 'agent-1'), ('dev-loose', NULL)) d (device_id, agent_id)", p)  # fmt: skip
    conn.execute(
        "INSERT INTO imu_raw (ts, device_id, seq, rate_hz, acc_ms2) SELECT t, 'dev-worn', extract(epoch FROM t),"
        " 50, '{0,0,9.81}' FROM generate_series(%(now)s - interval '100 days', %(now)s, interval '6 hours') t",
        p,
    )
    conn.execute(
        "INSERT INTO robot_states (ts, robot_id, seq, received_at, kind, lat, lon) SELECT t, 'robot-1',"
        " extract(epoch FROM t), t, 'amr', 48.85, 2.35"
        " FROM generate_series(%(now)s - interval '100 days', %(now)s, interval '6 hours') t", p)  # fmt: skip
    conn.execute(
        "INSERT INTO device_latest (device_id, agent_id, ts, seq, received_at, lat, lon) VALUES"
        " ('dev-worn', 'agent-1', %(now)s - interval '1 hour', 1, %(now)s, 48.85, 2.35),"
        " ('dev-week', 'agent-1', %(now)s - interval '3 days', 1, %(now)s, 48.85, 2.35),"
        " ('dev-gone', 'agent-1', %(now)s - interval '70 days', 1, %(now)s, 48.85, 2.35),"
        " ('dev-loose', NULL, %(now)s - interval '2 days', 1, %(now)s, 48.85, 2.35),"
        " ('dev-new', NULL, %(now)s - interval '1 hour', 1, %(now)s, 48.85, 2.35)", p)  # fmt: skip
    conn.execute(
        "INSERT INTO hr_minutes (agent_id, minute, sum_hr, n) SELECT 'agent-1', date_trunc('minute', t), 4920, 60"
        " FROM generate_series(%(now)s - interval '100 days', %(now)s, interval '6 hours') t",
        p,
    )
    conn.execute(
        "INSERT INTO frame_minutes (agent_id, minute, worked_s, noise_s, noise_sum_t_10pow)"
        " SELECT 'agent-1', date_trunc('minute', t), 60, 60, 60 * 10 ^ 8.2"
        " FROM generate_series(%(now)s - interval '500 days', %(now)s, interval '6 hours') t",
        p,
    )
    conn.execute(
        "INSERT INTO dead_letters (received_at, topic, reason, payload_excerpt, payload_bytes) VALUES"
        " (%(now)s - interval '40 days', 'vigie/v1/wearables/x/frame', 'invalid', '{', 1),"
        " (%(now)s - interval '1 day', 'vigie/v1/wearables/x/frame', 'invalid', '{', 1)", p)  # fmt: skip
    conn.execute(
        "INSERT INTO exposure_days (agent_id, day, worked_s, noise_s) SELECT 'agent-1', d::date, 28800, 28800"
        " FROM generate_series(%(now)s - interval '400 days', %(now)s - interval '200 days', interval '1 day') d",
        p)  # fmt: skip
    conn.execute(
        "INSERT INTO alerts (alert_id, rule, severity, status, subject_type, subject_id, agent_id, message,"
        " raised_at, source_ts, last_seen_ts) VALUES ('00000000-0000-0000-0000-000000000001', 'sos', 'critical',"
        " 'resolved', 'agent', 'agent-1', 'agent-1', 'SOS', %(old)s, %(old)s, %(old)s)",
        {"old": now - timedelta(days=200)})  # fmt: skip
    conn.execute(
        "INSERT INTO alert_events (alert_id, at, actor, action) VALUES"
        " ('00000000-0000-0000-0000-000000000001', %s, 'system', 'raised')",
        (now - timedelta(days=200),),
    )
    conn.execute("INSERT INTO audit_log (at, actor, role, action) VALUES (%s, 'sv', 'supervisor', 'GET /x')",
                 (now - timedelta(days=200),))  # fmt: skip
    conn.commit()


def scalar(conn: psycopg.Connection[Any], query: str, *params: object) -> Any:
    row = conn.execute(query, params).fetchone()
    conn.commit()
    assert row is not None
    return row[0]


def expired_chunks(conn: psycopg.Connection[Any], table: str, before: datetime) -> int:
    return int(scalar(conn, "SELECT count(*) FROM timescaledb_information.chunks"
                            " WHERE hypertable_name = %s AND range_end <= %s", table, before))  # fmt: skip


def snapshot(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    """Everything retention may change or must keep, as comparable values."""
    tables = ("frames", "imu_raw", "robot_states", "hr_minutes", "frame_minutes", "dead_letters", *KEPT_TABLES)
    out: dict[str, Any] = {t: scalar(conn, f"SELECT count(*) FROM {t}") for t in tables}
    out["frame_positions"] = scalar(conn, "SELECT count(*) FROM frames WHERE lat IS NOT NULL")
    out["latest_positions"] = scalar(conn, "SELECT count(*) FROM device_latest WHERE lat IS NOT NULL")
    out["ledger"] = scalar(conn, "SELECT sum(worked_s) FROM exposure_days")
    return out


def test_expired_chunks_go_and_expired_positions_are_erased_while_the_rows_stay(
    conn: psycopg.Connection[Any],
) -> None:
    now = datetime.now(UTC)
    seed(conn, now)
    plan = plan_at(now)
    expired = {t: expired_chunks(conn, t, plan.raw_before) for t in retention.RAW_TABLES}
    kept_before = {t: scalar(conn, f"SELECT count(*) FROM {t}") for t in KEPT_TABLES}
    assert all(n >= 60 for n in expired.values())
    expired[retention.MINUTE_TABLE] = expired_chunks(conn, retention.MINUTE_TABLE, plan.minutes_before)

    report = retention.run_retention(conn, plan)

    assert not report.skipped and not report.interrupted
    assert report.chunks_dropped == expired
    assert all(expired_chunks(conn, t, plan.raw_before) == 0 for t in retention.RAW_TABLES)
    # drop_chunks leaves the chunk astride the cut-off: nothing older than a chunk before it survives.
    assert scalar(conn, "SELECT min(ts) FROM frames") >= plan.raw_before - timedelta(days=1)
    # Beyond the location window the frames are kept (heart rate, noise) without their position.
    assert scalar(conn, "SELECT count(*) FROM frames WHERE ts < %s AND (lat IS NOT NULL OR lon IS NOT NULL"
                        " OR gps_acc_m IS NOT NULL)", plan.location_before) == 0  # fmt: skip
    stripped = scalar(conn, "SELECT count(*) FROM frames WHERE ts < %s AND hr_bpm = 82 AND laeq_db = 71.5",
                      plan.location_before)  # fmt: skip
    assert stripped >= 2 * 8 * (RAW_DAYS - LOCATION_DAYS - 1)
    assert report.rows["location_erased"] == stripped
    # Within the window, a worn device's positions are kept; a device worn by nobody keeps only the last day.
    worn = "SELECT count(*) FROM frames WHERE device_id = 'dev-worn' AND ts >= %s AND lat IS NULL"
    assert scalar(conn, worn, plan.location_before) == 0
    loose = "SELECT count(*) FROM frames WHERE device_id = 'dev-loose' AND ts >= %s AND ts < %s AND lat IS NOT NULL"
    assert scalar(conn, loose, plan.location_before, plan.unassigned_location_before) == 0
    assert scalar(conn, "SELECT count(*) FROM frames WHERE device_id = 'dev-loose' AND lat IS NOT NULL") == 8
    assert report.rows["unassigned_location_erased"] == 8 * (LOCATION_DAYS - 1)
    # Robots are not people: their positions stay as long as their states.
    assert scalar(conn, "SELECT count(*) FROM robot_states WHERE lat IS NULL") == 0
    latest = dict(conn.execute("SELECT device_id, lat IS NOT NULL FROM device_latest").fetchall())
    assert latest == {"dev-worn": True, "dev-week": True, "dev-gone": False, "dev-loose": False, "dev-new": True}
    assert report.rows["latest_location_erased"] == 2
    assert scalar(conn, "SELECT count(*) FROM hr_minutes WHERE minute < %s", plan.hr_minutes_before) == 0
    assert scalar(conn, "SELECT count(*) FROM hr_minutes WHERE minute >= %s", plan.raw_before - timedelta(days=1)) > 0
    assert scalar(conn, "SELECT count(*) FROM dead_letters") == 1
    assert report.rows["dead_letters_deleted"] == 1
    assert {t: scalar(conn, f"SELECT count(*) FROM {t}") for t in KEPT_TABLES} == kept_before


def test_minute_rollups_outlive_the_frames_and_go_after_their_own_window(conn: psycopg.Connection[Any]) -> None:
    now = datetime.now(UTC)
    seed(conn, now)
    plan = plan_at(now)
    assert plan.minutes_before == now - timedelta(days=MINUTE_DAYS)
    expired = expired_chunks(conn, "frame_minutes", plan.minutes_before)
    assert expired >= 10  # 500 days of weekly chunks, 400 kept

    report = retention.run_retention(conn, plan)

    assert report.chunks_dropped["frame_minutes"] == expired
    assert expired_chunks(conn, "frame_minutes", plan.minutes_before) == 0
    # The chunk astride the cut-off waits for a later pass: nothing older than a week before it survives.
    oldest = scalar(conn, "SELECT min(minute) FROM frame_minutes")
    assert plan.minutes_before - timedelta(days=7) <= oldest < plan.raw_before
    # Every minute between the two cut-offs is still there, long after its frames went.
    assert scalar(conn, "SELECT min(ts) FROM frames") >= plan.raw_before - timedelta(days=1)
    between = "SELECT count(*) FROM frame_minutes WHERE minute >= %s AND minute < %s"
    assert scalar(conn, between, plan.minutes_before, plan.raw_before) >= 4 * (MINUTE_DAYS - RAW_DAYS) - 1
    assert scalar(conn, "SELECT count(*) FROM frame_minutes WHERE minute >= %s", plan.raw_before) >= 4 * RAW_DAYS

    # A year and a half later still: the roll-ups of today go too, after their own window, not the frames'.
    later = plan_at(now + timedelta(days=MINUTE_DAYS + 10))
    retention.run_retention(conn, later)
    assert scalar(conn, "SELECT count(*) FROM frame_minutes WHERE minute < %s", now - timedelta(days=7)) == 0


def test_a_second_pass_changes_nothing(conn: psycopg.Connection[Any]) -> None:
    now = datetime.now(UTC)
    seed(conn, now)
    retention.run_retention(conn, plan_at(now))
    after_first = snapshot(conn)

    again = retention.run_retention(conn, plan_at(now + timedelta(seconds=1)))

    assert set(again.chunks_dropped.values()) == {0} and set(again.rows.values()) == {0}
    assert snapshot(conn) == after_first


def test_an_incremental_pass_erases_what_expired_since_the_previous_one(conn: psycopg.Connection[Any]) -> None:
    now = datetime.now(UTC)
    first = plan_at(now)
    retention.run_retention(conn, first)
    later = plan_at(now + timedelta(hours=2))
    insert = ("INSERT INTO frames (ts, device_id, seq, agent_id, received_at, lat, lon)"
              " VALUES (%s, %s, 1, %s, %s, 48.85, 2.35)")  # fmt: skip
    just_expired = [("dev-a", "agent-1", first.location_before + timedelta(minutes=30)),
                    ("dev-b", None, first.unassigned_location_before + timedelta(minutes=90))]  # fmt: skip
    arrived_expired = ("dev-c", "agent-1", first.location_before - timedelta(days=3))
    for device_id, agent_id, ts in [*just_expired, arrived_expired]:
        conn.execute(insert, (ts, device_id, agent_id, now))
    conn.commit()

    report = retention.run_retention(conn, later, since=first)

    assert report.rows["location_erased"] == 1 and report.rows["unassigned_location_erased"] == 1
    positions = dict(conn.execute("SELECT device_id, lat IS NOT NULL FROM frames"
                                  " WHERE device_id IN ('dev-a', 'dev-b', 'dev-c')").fetchall())  # fmt: skip
    assert positions == {"dev-a": False, "dev-b": False, "dev-c": True}
    # A full pass also reaches frames that arrived already older than the window.
    assert retention.run_retention(conn, later).rows["location_erased"] == 1
    assert scalar(conn, "SELECT lat FROM frames WHERE device_id = 'dev-c'") is None


def test_only_one_pass_runs_at_a_time(conn: psycopg.Connection[Any], database_url: str) -> None:
    now = datetime.now(UTC)
    conn.execute(
        "INSERT INTO dead_letters (received_at, topic, reason, payload_excerpt, payload_bytes)"
        " VALUES (%s, 'vigie/v1/wearables/x/frame', 'invalid', '{', 1)",
        (now - timedelta(days=90),),
    )
    conn.commit()
    before = snapshot(conn)
    with psycopg.connect(database_url, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", (retention._LOCK_ID,))
        report = retention.run_retention(conn, plan_at(now))
    assert report.skipped and not report.rows
    assert snapshot(conn) == before
    assert retention.run_retention(conn, plan_at(now)).rows["dead_letters_deleted"] == 1


def test_a_pass_stopped_halfway_leaves_the_rest_to_the_next(conn: psycopg.Connection[Any]) -> None:
    now = datetime.now(UTC)
    seed(conn, now)
    # One check for the robot-day roll-up's single delete batch, then six one-hour slices of positions: two
    # frames of each device whatever the hour (one every three hours), far fewer than the pass would erase.
    slices = iter(range(1 + 6))
    partial = retention.run_retention(conn, plan_at(now), keep_going=lambda: next(slices, None) is not None)
    assert partial.interrupted
    assert 0 < partial.rows["location_erased"] < 2 * 8 * (RAW_DAYS - LOCATION_DAYS - 1)

    rest = retention.run_retention(conn, plan_at(now))

    assert not rest.interrupted and rest.rows["location_erased"] > 0
    expired = plan_at(now).location_before
    assert scalar(conn, "SELECT count(*) FROM frames WHERE ts < %s AND lat IS NOT NULL", expired) == 0


def test_vigie_retention_run_dry_counts_then_does_the_same(
    conn: psycopg.Connection[Any], database_url: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    seed(conn, datetime.now(UTC))
    monkeypatch.setenv("VIGIE_RETENTION_LOCATION_DAYS", str(LOCATION_DAYS))
    before = snapshot(conn)

    assert vigie(["retention", "run", "--dry-run", "--database-url", database_url]) == 0
    dry = json.loads(capsys.readouterr().out)
    assert snapshot(conn) == before, "a dry run changed the data"
    assert vigie(["retention", "run", "--database-url", database_url]) == 0
    done = json.loads(capsys.readouterr().out)

    assert dry["dry_run"] and not done["dry_run"]
    assert done["chunks_dropped"]["frames"] >= 60 and done["rows"]["location_erased"] > 0
    assert (dry["chunks_dropped"], dry["rows"]) == (done["chunks_dropped"], done["rows"])
    assert set(done["cutoffs"]) >= {"raw_before", "location_before", "unassigned_location_before"}


def test_the_gateway_runs_retention_on_its_own(conn: psycopg.Connection[Any], database_url: str,
                                              broker: MosquittoBroker) -> None:  # fmt: skip
    now = datetime.now(UTC)
    seed(conn, now)
    started_s = time.time()
    plan = plan_at(now)
    with running_gateway(broker.url, database_url, retention_interval_s=1.0,
                         retention_location_days=LOCATION_DAYS) as gateway:  # fmt: skip
        wait_until(lambda: expired_chunks(conn, "frames", plan.raw_before) == 0, timeout_s=20,
                   message="expired frame chunks were not dropped")  # fmt: skip
        wait_until(lambda: scalar(conn, "SELECT count(*) FROM frames WHERE ts < %s AND lat IS NOT NULL",
                                  plan.location_before) == 0, timeout_s=20)  # fmt: skip

        def last_run_s() -> float:
            text = gateway.http.get("/metrics").text
            found = re.search(r"^vigie_retention_last_run_timestamp_seconds (\S+)$", text, re.MULTILINE)
            return float(found.group(1)) if found else 0.0

        assert wait_until(lambda: last_run_s() >= started_s, timeout_s=10)
        assert re.search(r'^vigie_retention_chunks_dropped_total\{table="frames"\} [1-9]',
                         gateway.http.get("/metrics").text, re.MULTILINE)  # fmt: skip
    assert scalar(conn, "SELECT count(*) FROM exposure_days") > 0
