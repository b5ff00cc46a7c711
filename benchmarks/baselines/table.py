"""The table each baseline writes: one row per wearable frame, scalar fields as columns, the IMU as JSON.

What an IT team would create for "store the frames": a plain PostgreSQL table (no hypertable, no
compression) with the frame's identity as primary key, so a QoS 1 redelivery is stored once
(``ON CONFLICT (device_id, seq) DO NOTHING``). The last three columns are filled by the naive Python
baseline only (its per-sample analysis); Node-RED leaves them null.
"""

from __future__ import annotations

import re

import psycopg
from psycopg import sql

_TABLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

COLUMNS = (
    "device_id", "seq", "ts", "hr_bpm", "skin_temp_c", "laeq_db", "lcpeak_db", "temp_c", "rh_pct", "globe_temp_c",
    "tool_id", "ahv_ms2", "trigger_s", "wbv_aw_ms2", "lift_count", "load_kg", "lat", "lon", "gps_acc_m",
    "battery_pct", "sos", "cancel", "imu", "acc_peak_ms2", "acc_min_ms2", "fall_suspected",
)  # fmt: skip

_DDL = """
CREATE TABLE {table} (
    device_id      text NOT NULL,
    seq            bigint NOT NULL,
    ts             timestamptz NOT NULL,
    received_at    timestamptz NOT NULL DEFAULT now(),
    hr_bpm         real,
    skin_temp_c    real,
    laeq_db        real,
    lcpeak_db      real,
    temp_c         real,
    rh_pct         real,
    globe_temp_c   real,
    tool_id        text,
    ahv_ms2        real,
    trigger_s      real,
    wbv_aw_ms2     double precision[],
    lift_count     integer,
    load_kg        real,
    lat            double precision,
    lon            double precision,
    gps_acc_m      real,
    battery_pct    real,
    sos            boolean,
    cancel         boolean,
    imu            jsonb,
    acc_peak_ms2   real,
    acc_min_ms2    real,
    fall_suspected boolean,
    PRIMARY KEY (device_id, seq)
)
"""


def checked_table_name(name: str) -> str:
    """Return ``name`` if it is a plain lower-case SQL identifier (it is also spliced into Node-RED's SQL)."""
    if not _TABLE_NAME.match(name):
        raise ValueError(f"baseline table name {name!r} must match {_TABLE_NAME.pattern}")
    return name


def recreate_table(database_url: str, table: str) -> None:
    """Drop ``table`` if it exists and create it empty: every run starts from zero rows."""
    ident = sql.Identifier(checked_table_name(table))
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(ident))
        conn.execute(sql.SQL(_DDL).format(table=ident))


def count_rows(database_url: str, table: str) -> int:
    """Rows in ``table`` (exact ``count(*)``: a sequential scan, milliseconds for tens of thousands of rows)."""
    ident = sql.Identifier(checked_table_name(table))
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(ident)).fetchone()
    assert row is not None
    return int(row[0])
