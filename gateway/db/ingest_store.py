"""Writes of the ingest path: binary COPY into staging tables, then idempotent inserts.

A batch is written in one transaction: frames, robot states, raw IMU, dead letters, latest states,
alerts and their live notifications commit together or not at all, so acknowledging the MQTT messages
after the commit can never acknowledge something that was not stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt
import orjson
import psycopg

from gateway.db import robot_days, rollups
from gateway.db.arrays import text_array
from services.model import Assignment, DeviceLink, Received, RobotState

_FRAME_COLUMNS = (
    "ts", "device_id", "seq", "agent_id", "received_at", "late", "hr_bpm", "skin_temp_c", "laeq_db",
    "lcpeak_db", "temp_c", "rh_pct", "globe_temp_c", "hav_tool_id", "hav_ahv_ms2", "hav_trigger_s",
    "wbv_aw_ms2", "wbv_duration_s", "lift_count", "lift_load_kg", "lat", "lon", "gps_acc_m",
    "battery_pct", "sos", "cancel", "imu_rate_hz", "imu_n", "acc_max_ms2", "acc_min_ms2",
)  # fmt: skip
_FRAME_TYPES = (
    "timestamptz", "text", "int8", "text", "timestamptz", "bool", "float4", "float4", "float4",
    "float4", "float4", "float4", "float4", "text", "float4", "float4",
    "float4[]", "float4", "int2", "float4", "float8", "float8", "float4",
    "float4", "bool", "bool", "float4", "int2", "float4", "float4",
)  # fmt: skip
_ROBOT_COLUMNS = (
    "ts", "robot_id", "seq", "received_at", "late", "kind", "x_m", "y_m", "yaw_rad", "lat", "lon",
    "speed_ms", "battery_pct", "mode", "estop", "protective_stop", "nearest_human_m", "payload_kg", "faults",
    "tracks_leader", "nearest_other_human_m",
)  # fmt: skip
_ROBOT_TYPES = (
    "timestamptz", "text", "int8", "timestamptz", "bool", "text", "float8", "float8", "float4", "float8",
    "float8", "float4", "float4", "text", "bool", "bool", "float4", "float4", "text[]", "bool", "float4",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class DeadLetter:
    topic: str
    reason: str
    detail: str
    payload: bytes
    received_at: datetime

    def excerpt(self, limit: int = 512) -> str:
        # Never store a whole hostile payload: a bounded, printable excerpt is enough to debug a device.
        return self.payload[:limit].decode("utf-8", errors="backslashreplace").replace("\x00", "\\x00")


@dataclass(frozen=True, slots=True)
class RobotReceived:
    state: RobotState
    received_at: datetime
    late: bool


@dataclass(frozen=True, slots=True)
class StatusChange:
    device_id: str
    link: DeviceLink
    at: datetime
    agent_id: str | None = None


@dataclass(frozen=True, slots=True)
class ImuRow:
    ts: datetime
    device_id: str
    seq: int
    rate_hz: float
    acc_ms2: npt.NDArray[np.float32]  # n×3; flattened only when written (most rows are never written)
    gyr_rads: npt.NDArray[np.float32] | None


def _frame_row(r: Received) -> tuple[object, ...]:
    f = r.frame
    imu_max = imu_min = None
    if f.imu is not None:
        norm = f.imu.acc_norm_ms2()
        imu_max, imu_min = float(norm.max()), float(norm.min())
    return (
        f.ts, f.device_id, f.seq, r.agent_id, r.received_at, r.late, f.hr_bpm, f.skin_temp_c,
        f.noise.laeq_db if f.noise else None, f.noise.lcpeak_db if f.noise else None,
        f.env.temp_c if f.env else None, f.env.rh_pct if f.env else None,
        f.env.globe_temp_c if f.env else None,
        f.hav.tool_id if f.hav else None, f.hav.ahv_ms2 if f.hav else None, f.hav.trigger_s if f.hav else None,
        list(f.wbv.aw_ms2) if f.wbv else None, f.wbv.duration_s if f.wbv else None,
        f.lift.count if f.lift else None, f.lift.load_kg if f.lift else None,
        f.gps.lat if f.gps else None, f.gps.lon if f.gps else None, f.gps.acc_m if f.gps else None,
        f.battery_pct, f.sos, f.cancel,
        f.imu.rate_hz if f.imu else None, f.imu.n_samples if f.imu else None, imu_max, imu_min,
    )  # fmt: skip


def _robot_row(r: RobotReceived) -> tuple[object, ...]:
    s, p = r.state, r.state.pose
    return (
        s.ts, s.robot_id, s.seq, r.received_at, r.late, s.kind,
        p.x_m if p else None, p.y_m if p else None, p.yaw_rad if p else None,
        p.lat if p else None, p.lon if p else None,
        s.speed_ms, s.battery_pct, s.mode, s.estop, s.protective_stop, s.nearest_human_m, s.payload_kg,
        list(s.faults), s.tracks_leader, s.nearest_other_human_m,
    )  # fmt: skip


def _copy(cur: psycopg.Cursor[tuple[object, ...]], table: str, columns: Sequence[str],
          types: Sequence[str], rows: Sequence[tuple[object, ...]]) -> None:
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(list(types))
        for row in rows:
            copy.write_row(row)


class IngestStore:
    """The ingest worker's single connection: stage with COPY, insert new rows, return what was new."""

    def __init__(self, conn: psycopg.Connection[tuple[object, ...]], *, site_tz: str) -> None:
        self.conn = conn
        self.site_tz = site_tz  # robot states mark their robot's local day for the near-miss roll-up
        conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS frames_stage (LIKE frames) ON COMMIT DELETE ROWS;"
            "CREATE TEMP TABLE IF NOT EXISTS robot_states_stage (LIKE robot_states) ON COMMIT DELETE ROWS;"
        )
        conn.commit()

    def assignments_for(self, device_ids: Sequence[str], since: datetime, until: datetime) -> list[Assignment]:
        rows = self.conn.execute(
            "SELECT device_id, agent_id, valid_from, valid_to FROM assignments"
            " WHERE device_id = ANY(%s::text[]) AND valid_from <= %s AND (valid_to IS NULL OR valid_to > %s)",
            (text_array(device_ids), until, since),
        ).fetchall()
        return [Assignment(str(d), str(a), f, t) for d, a, f, t in rows]  # type: ignore[arg-type]

    def insert_frames(self, frames: Sequence[Received]) -> set[tuple[str, int]]:
        """Stage and insert frames; returns the (device_id, seq) keys stored for the first time."""
        if not frames:
            return set()
        cur = self.conn.cursor()
        _copy(cur, "frames_stage", _FRAME_COLUMNS, _FRAME_TYPES, [_frame_row(r) for r in frames])
        cols = ", ".join(_FRAME_COLUMNS)
        new = cur.execute(
            f"INSERT INTO frames ({cols}) SELECT DISTINCT ON (device_id, seq, ts) {cols} FROM frames_stage"
            " ON CONFLICT (device_id, seq, ts) DO NOTHING RETURNING device_id, seq"
        ).fetchall()
        cur.execute(
            "INSERT INTO devices (device_id) SELECT DISTINCT device_id FROM frames_stage"
            " ON CONFLICT (device_id) DO NOTHING"
        )
        cur.execute(
            "INSERT INTO device_latest AS d (device_id, agent_id, ts, seq, received_at, hr_bpm, battery_pct,"
            " laeq_db, temp_c, lat, lon)"
            " SELECT DISTINCT ON (device_id) device_id, agent_id, ts, seq, received_at, hr_bpm, battery_pct,"
            " laeq_db, temp_c, lat, lon FROM frames_stage ORDER BY device_id, ts DESC"
            " ON CONFLICT (device_id) DO UPDATE SET agent_id = EXCLUDED.agent_id, ts = EXCLUDED.ts,"
            " seq = EXCLUDED.seq, received_at = EXCLUDED.received_at, hr_bpm = EXCLUDED.hr_bpm,"
            " battery_pct = EXCLUDED.battery_pct, laeq_db = EXCLUDED.laeq_db, temp_c = EXCLUDED.temp_c,"
            " lat = EXCLUDED.lat, lon = EXCLUDED.lon WHERE EXCLUDED.ts >= d.ts"
        )
        return {(str(d), int(s)) for d, s in new}  # type: ignore[call-overload]

    def insert_robot_states(self, states: Sequence[RobotReceived]) -> int:
        if not states:
            return 0
        cur = self.conn.cursor()
        _copy(cur, "robot_states_stage", _ROBOT_COLUMNS, _ROBOT_TYPES, [_robot_row(r) for r in states])
        cols = ", ".join(_ROBOT_COLUMNS)
        # The states stored for the first time mark their robot-days for the near-miss roll-up (gateway/db/robot_days).
        row = cur.execute(
            f"WITH new AS (INSERT INTO robot_states ({cols}) SELECT DISTINCT ON (robot_id, seq, ts) {cols}"
            " FROM robot_states_stage ON CONFLICT (robot_id, seq, ts) DO NOTHING RETURNING robot_id, ts),"
            f" marked AS ({robot_days.MARK_NEW_STATES}) SELECT count(*) FROM new", {"site_tz": self.site_tz}
        ).fetchone()
        inserted = int(row[0]) if row else 0  # type: ignore[call-overload]
        latest = [c for c in _ROBOT_COLUMNS if c != "late"]
        sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in latest if c != "robot_id")
        cur.execute(
            f"INSERT INTO robots (robot_id, kind) SELECT DISTINCT ON (robot_id) robot_id, kind"
            f" FROM robot_states_stage ON CONFLICT (robot_id) DO NOTHING;"
            f"INSERT INTO robot_latest AS r ({', '.join(latest)})"
            f" SELECT DISTINCT ON (robot_id) {', '.join(latest)} FROM robot_states_stage"
            f" ORDER BY robot_id, ts DESC ON CONFLICT (robot_id) DO UPDATE SET {sets} WHERE EXCLUDED.ts >= r.ts"
        )
        return inserted

    def robot_latest(self, robot_ids: Sequence[str]) -> dict[str, tuple[datetime, float | None]]:
        """The last stored (ts, payload_kg) of each robot, before this batch's states are written."""
        rows = self.conn.execute(
            "SELECT robot_id, ts, payload_kg FROM robot_latest WHERE robot_id = ANY(%s::text[])",
            (text_array(robot_ids),),
        ).fetchall()
        return {str(r): (t, p) for r, t, p in rows}  # type: ignore[misc]

    def insert_imu(self, rows: Sequence[ImuRow]) -> None:
        if not rows:
            return
        with self.conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO imu_raw (ts, device_id, seq, rate_hz, acc_ms2, gyr_rads)"
                " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                [(r.ts, r.device_id, r.seq, r.rate_hz, r.acc_ms2.ravel().tolist(),
                  None if r.gyr_rads is None else r.gyr_rads.ravel().tolist()) for r in rows],
            )

    def insert_dead_letters(self, letters: Sequence[DeadLetter]) -> None:
        if not letters:
            return
        with self.conn.cursor() as cur:
            _copy(
                cur, "dead_letters",
                ("received_at", "topic", "reason", "detail", "payload_excerpt", "payload_bytes"),
                ("timestamptz", "text", "text", "text", "text", "int4"),
                [(d.received_at, d.topic[:256], d.reason, d.detail[:1000], d.excerpt(), len(d.payload))
                 for d in letters],
            )  # fmt: skip

    def record_status(self, changes: Sequence[StatusChange]) -> None:
        for change in changes:
            self.conn.execute(
                "INSERT INTO devices (device_id, link_status, link_at) VALUES (%s, %s, %s)"
                " ON CONFLICT (device_id) DO UPDATE SET link_status = EXCLUDED.link_status,"
                " link_at = EXCLUDED.link_at",
                (change.device_id, change.link.value, change.at),
            )
            self.notify("vigie_live", {"type": "device.status", "device_id": change.device_id,
                                       "status": change.link.value})  # fmt: skip

    def notify(self, channel: str, message: dict[str, object]) -> None:
        # NOTIFY is transactional: listeners hear it only if the batch commits.
        self.conn.execute("SELECT pg_notify(%s, %s)", (channel, orjson.dumps(message).decode()))

    def commit(self) -> None:
        self.conn.commit()

    def rollback(self) -> None:
        self.conn.rollback()

    def add_frame_minutes(self, new: Sequence[Received]) -> int:
        """Add the newly stored frames to their agents' per-minute roll-ups (``gateway.db.rollups``)."""
        return rollups.add_minutes(self.conn, new)
