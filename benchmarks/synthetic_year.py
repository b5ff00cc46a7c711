"""A synthetic year of a city's field crews, written straight to the database with binary ``COPY``.

Not through MQTT: the reports benchmark (``benchmarks/bench_reports.py``) needs millions of ledger rows in
seconds. ``encode_copy`` builds PostgreSQL's binary COPY stream for whole numpy columns at once (no per-row
Python); the generators draw plausible, seeded values: 8-hour day shifts of collectors, some of them noisy
(street cleaning, L_EX,8h 78–92 dB(A)), a third on vibrating tools, a tenth driving, a few night shifts,
temperatures following the seasons in Paris.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg

_HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
_FIXED = {"int2": ">i2", "int4": ">i4", "int8": ">i8", "float4": ">f4", "float8": ">f8", "bool": "?"}
_PG_EPOCH_DAY = np.datetime64("2000-01-01", "D")
_PG_EPOCH_US = np.datetime64("2000-01-01T00:00:00", "us")
PARIS_OFFSET_H = 1  # the generators place shifts in Paris winter time: an hour's error in summer is harmless


@dataclass(frozen=True, slots=True)
class Column:
    """One column for ``encode_copy``: a PostgreSQL type name and one value per row.

    ``int2``/``int4``/``int8``/``float4``/``float8``/``bool``: numbers (NaN floats become NULL); ``date``:
    ``datetime64[D]``; ``timestamptz``: ``datetime64[us]`` in UTC; ``text``: a numpy bytes (``S``) array, the
    empty string standing for NULL;
    ``raw``: an (n, w) uint8 array of already-encoded binary values with ``lengths``.
    """

    pg_type: str
    values: npt.ArrayLike
    lengths: npt.NDArray[np.int64] | None = None


def _field(column: Column, n: int) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """(n, w) payload bytes, byte length and not-null mask of one column."""
    values = np.asarray(column.values)
    valid = np.ones(n, dtype=bool)
    if column.pg_type in _FIXED:
        if values.dtype.kind == "f":
            valid = np.isfinite(values)
        data = np.ascontiguousarray(np.nan_to_num(values).astype(_FIXED[column.pg_type]))
    elif column.pg_type == "date":
        data = np.ascontiguousarray((values.astype("datetime64[D]") - _PG_EPOCH_DAY).astype(">i4"))
    elif column.pg_type == "timestamptz":
        data = np.ascontiguousarray((values.astype("datetime64[us]") - _PG_EPOCH_US).astype(">i8"))
    elif column.pg_type == "text":
        data = np.ascontiguousarray(values.astype(np.bytes_))
        lengths = np.char.str_len(data).astype(np.int64)
        return data.view(np.uint8).reshape(n, -1), lengths, lengths > 0
    elif column.pg_type == "raw":
        assert column.lengths is not None
        return np.asarray(values, dtype=np.uint8).reshape(n, -1), column.lengths, valid
    else:
        raise ValueError(f"unsupported type {column.pg_type}")
    width = data.dtype.itemsize
    return data.view(np.uint8).reshape(n, width), np.full(n, width, dtype=np.int64), valid


def encode_copy(columns: Sequence[Column]) -> bytes:
    """The binary ``COPY ... FROM STDIN (FORMAT BINARY)`` stream of these columns (PostgreSQL docs, "COPY",
    binary format): header, then per row a 16-bit field count and each field as a 32-bit length (−1: NULL)
    and its bytes in network order, then the −1 trailer."""
    n = len(np.asarray(columns[0].values))
    fields = [_field(c, n) for c in columns]
    row_len = 2 + sum(4 + np.where(valid, lengths, 0) for _, lengths, valid in fields)
    starts = len(_HEADER) + np.concatenate(([0], np.cumsum(row_len)[:-1]))
    buf = np.zeros(len(_HEADER) + int(np.sum(row_len)) + 2, dtype=np.uint8)
    buf[: len(_HEADER)] = np.frombuffer(_HEADER, dtype=np.uint8)
    count = np.frombuffer(len(columns).to_bytes(2, "big"), dtype=np.uint8)
    buf[starts[:, None] + np.arange(2)] = count
    pos = starts + 2
    for data, lengths, valid in fields:
        length = np.where(valid, lengths, -1).astype(">i4").view(np.uint8).reshape(n, 4)
        buf[pos[:, None] + np.arange(4)] = length
        width = data.shape[1]
        mask = valid[:, None] & (np.arange(width) < lengths[:, None])
        buf[(pos[:, None] + 4 + np.arange(width))[mask]] = data[mask]
        pos = pos + 4 + np.where(valid, lengths, 0)
    buf[-2:] = 0xFF
    return buf.tobytes()


def copy_columns(conn: psycopg.Connection[Any], table: str, names: Sequence[str], columns: Sequence[Column]) -> None:
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.write(encode_copy(columns))


def text_array_1(values: npt.NDArray[np.bytes_]) -> Column:
    """A one-element ``text[]`` per row, in the binary array format (ndim, flags, element oid, size, lower bound)."""
    lengths = np.char.str_len(values).astype(np.int64)
    n, width = len(values), values.dtype.itemsize
    head = np.array([1, 0, 25, 1, 1], dtype=">i4").view(np.uint8)
    out = np.zeros((n, 24 + width), dtype=np.uint8)
    out[:, :20] = head
    out[:, 20:24] = lengths.astype(">i4").view(np.uint8).reshape(n, 4)
    out[:, 24:] = np.ascontiguousarray(values).view(np.uint8).reshape(n, width)
    return Column("raw", out, lengths + 24)


def agent_ids(n: int) -> npt.NDArray[np.bytes_]:
    return np.array([f"agent-{i:05d}" for i in range(n)], dtype=np.bytes_)


def working_days(year: int) -> npt.NDArray[np.datetime64]:
    """Monday to Friday of ``year``."""
    days = np.arange(np.datetime64(f"{year}-01-01"), np.datetime64(f"{year + 1}-01-01"), dtype="datetime64[D]")
    weekday = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday (3)
    return days[weekday < 5]


def _season_temp_c(days: npt.NDArray[np.datetime64]) -> npt.NDArray[np.float64]:
    """Afternoon air temperature in Paris by day of year: 7 °C in January, 26 °C late July."""
    doy = (days - days.astype("datetime64[Y]")).astype(np.float64)
    temp_c: npt.NDArray[np.float64] = 16.5 - 9.5 * np.cos(2 * np.pi * (doy - 20) / 365.25)
    return temp_c


LEDGER_COLUMNS = (
    "agent_id", "day", "worked_s", "first_ts", "last_ts", "noise_s", "noise_sum_t_10pow", "lcpeak_max_db",
    "peaks_over_135", "peaks_over_135_at_ear", "hav_s", "hav_sum_a2t", "wbv_s", "wbv_sum_x", "wbv_sum_y",
    "wbv_sum_z", "wbgt_max_c", "heat_s_over_ref", "temp_ge_30_s", "temp_le_5_s", "wbgt_estimated_s", "psi_max",
    "core_temp_max_c", "lifts", "lifts_ge_15kg", "lifts_ge_25kg", "tonnage_kg", "night_s", "device_ids",
    "tool_ids",
)  # fmt: skip


def ledger_year(rng: np.random.Generator, first_agent: int, n_agents: int, year: int,
                days_per_agent: int) -> list[Column]:  # fmt: skip
    """``exposure_days`` rows (``LEDGER_COLUMNS``) of agents [first_agent, first_agent + n_agents)."""
    workdays = working_days(year)
    days = np.concatenate([np.sort(rng.choice(workdays, days_per_agent, replace=False)) for _ in range(n_agents)])
    per_agent = np.repeat(np.arange(n_agents), days_per_agent)
    n = len(days)
    base_lex = rng.normal(80.0, 4.0, n_agents)[per_agent]
    tool_user = (rng.random(n_agents) < 0.3)[per_agent]
    driver = (rng.random(n_agents) < 0.1)[per_agent]
    night = (rng.random(n_agents) < 0.15)[per_agent]
    worked = np.clip(rng.normal(7.5, 0.5, n), 4.0, 9.5) * 3600.0
    start_h = np.where(night, 22.0, 6.5) + rng.normal(0.0, 0.25, n) - PARIS_OFFSET_H
    first = days.astype("datetime64[us]") + (start_h * 3.6e9).astype("timedelta64[us]")
    lex = base_lex + rng.normal(0.0, 3.0, n)
    lcpeak = np.clip(lex + 30.0 + rng.normal(0.0, 6.0, n), 100.0, 150.0).astype(np.float32)
    peaks = np.where(lcpeak >= 135.0, rng.poisson(2.0, n) + 1, 0)
    hav_s = np.where(tool_user, rng.uniform(0.3, 2.5, n) * 3600.0, 0.0)
    a_hv = rng.uniform(2.0, 7.0, n)
    wbv_s = np.where(driver, rng.uniform(2.0, 6.0, n) * 3600.0, 0.0)
    aw = rng.uniform(0.2, 0.6, (n, 3)) * np.array([1.0, 1.0, 1.4])
    temp = _season_temp_c(days) + rng.normal(0.0, 3.0, n) - np.where(night, 8.0, 0.0)
    wbgt = temp - 4.0 + rng.normal(0.0, 1.0, n)
    share_hot = np.clip((temp - 28.0) / 6.0, 0.0, 1.0)
    share_cold = np.clip((7.0 - temp) / 6.0, 0.0, 1.0)
    lifts = rng.poisson(np.where(driver, 20, 250), n)
    ids = agent_ids(first_agent + n_agents)[first_agent:]
    devices = np.char.add(b"wear-", np.char.lstrip(ids[per_agent], b"agent-"))
    tools = np.where(tool_user, b"breaker-1", b"")
    return [
        Column("text", ids[per_agent]), Column("date", days), Column("float8", worked),
        Column("timestamptz", first), Column("timestamptz", first + (worked * 1e6).astype("timedelta64[us]")),
        Column("float8", worked * 0.95), Column("float8", 28_800.0 * 10.0 ** (0.1 * lex)),
        Column("float4", lcpeak), Column("int4", peaks), Column("int4", peaks * (base_lex < 84.0)),
        Column("float8", hav_s), Column("float8", a_hv**2 * hav_s), Column("float8", wbv_s),
        *(Column("float8", aw[:, i] ** 2 * wbv_s) for i in range(3)),
        Column("float4", wbgt), Column("float8", np.clip(wbgt - 27.0, 0.0, None) * 600.0),
        Column("float8", np.round(share_hot * worked)), Column("float8", np.round(share_cold * worked)),
        Column("float8", worked), Column("float4", rng.uniform(1.0, 5.0, n)),
        Column("float4", rng.uniform(37.0, 38.4, n)), Column("int4", lifts),
        Column("int4", rng.binomial(lifts, 0.1)), Column("int4", rng.binomial(lifts, 0.02)),
        Column("float8", lifts * rng.uniform(6.0, 10.0, n)),
        Column("float8", np.where(night, np.clip(rng.normal(4.0, 1.0, n), 0.0, 5.0) * 3600.0, 0.0)),
        text_array_1(devices), _tool_arrays(tools),
    ]  # fmt: skip


def _tool_arrays(tools: npt.NDArray[np.bytes_]) -> Column:
    """One tool per row, or the empty array (ndim 0) where none was used."""
    column = text_array_1(tools)
    empty = np.char.str_len(tools) == 0
    raw = np.asarray(column.values, dtype=np.uint8).copy()
    raw[empty] = 0
    raw[empty, :12] = np.array([0, 0, 25], dtype=">i4").view(np.uint8)
    assert column.lengths is not None
    return Column("raw", raw, np.where(empty, 12, column.lengths))


MINUTE_COLUMNS = (
    "agent_id", "minute", "worked_s", "hr_n", "hr_sum_bpm", "hr_max_bpm", "noise_s", "noise_sum_t_10pow",
    "lcpeak_max_db", "peaks_over_135", "hav_s", "hav_sum_a2t", "wbgt_max_c", "temp_ge_30_s", "lifts",
    "tonnage_kg", "battery_min_pct",
)  # fmt: skip


def minute_month(rng: np.random.Generator, ids: npt.NDArray[np.bytes_], days: npt.NDArray[np.datetime64],
                 shift_min: int = 480) -> list[Column]:  # fmt: skip
    """``frame_minutes`` rows (``MINUTE_COLUMNS``): every agent works every day in ``days``, 07:00 local on."""
    n_agents, n_days = len(ids), len(days)
    start = days.astype("datetime64[m]") + np.timedelta64(7 * 60 - 60 * PARIS_OFFSET_H, "m")
    minutes = start[None, :, None] + np.arange(shift_min).astype("timedelta64[m]")[None, None, :]
    minutes = np.broadcast_to(minutes, (n_agents, n_days, shift_min)).reshape(-1)
    who = np.repeat(ids, n_days * shift_min)
    n = len(minutes)
    laeq = rng.normal(80.0, 6.0, n)
    hr = rng.normal(95.0, 12.0, n)
    hav = rng.random(n) < 0.1
    lifts = rng.poisson(0.5, n)
    return [
        Column("text", who), Column("timestamptz", minutes.astype("datetime64[us]")), Column("int4", np.full(n, 60)),
        Column("int4", np.full(n, 60)), Column("float8", hr * 60), Column("float4", hr + 15.0),
        Column("int4", np.full(n, 60)), Column("float8", 60 * 10.0 ** (0.1 * laeq)),
        Column("float4", laeq + 30.0), Column("int4", (laeq > 104.0).astype(int)),
        Column("float8", np.where(hav, 30.0, 0.0)), Column("float8", np.where(hav, 30.0 * 16.0, 0.0)),
        Column("float4", rng.normal(18.0, 3.0, n)), Column("int4", np.zeros(n, dtype=int)),
        Column("int4", lifts), Column("float8", lifts * 8.0), Column("float4", rng.uniform(20.0, 100.0, n)),
    ]  # fmt: skip


FRAME_COLUMNS = (
    "ts", "device_id", "seq", "agent_id", "received_at", "hr_bpm", "skin_temp_c", "laeq_db", "lcpeak_db", "temp_c",
    "rh_pct", "hav_tool_id", "hav_ahv_ms2", "hav_trigger_s", "lift_count", "lift_load_kg", "lat", "lon",
    "gps_acc_m", "battery_pct", "imu_rate_hz", "imu_n", "acc_max_ms2", "acc_min_ms2",
)  # fmt: skip


def frames_day(rng: np.random.Generator, agent: bytes, device: bytes, day: date, shift_s: int = 28_800) -> list[Column]:
    """A shift of per-second frames (``FRAME_COLUMNS``) as a wearable sends them: every section but WBV."""
    start = np.datetime64(day, "us") + np.timedelta64((7 - PARIS_OFFSET_H) * 3600, "s")
    ts = start + np.arange(shift_s).astype("timedelta64[s]")
    n = shift_s
    on_tool = (np.arange(n) // 600) % 6 == 0  # ten minutes of tool work in every hour
    lift = rng.random(n) < 0.01
    seq0 = int((start - np.datetime64("2020-01-01", "us")) // np.timedelta64(1, "s"))
    return [
        Column("timestamptz", ts), Column("text", np.full(n, device)), Column("int8", seq0 + np.arange(n)),
        Column("text", np.full(n, agent)), Column("timestamptz", ts + np.timedelta64(300, "ms")),
        Column("float4", rng.normal(95.0, 12.0, n)), Column("float4", rng.normal(34.0, 0.5, n)),
        Column("float4", rng.normal(80.0, 6.0, n)), Column("float4", rng.normal(110.0, 8.0, n)),
        Column("float4", rng.normal(18.0, 3.0, n)), Column("float4", rng.uniform(40.0, 80.0, n)),
        Column("text", np.where(on_tool, b"breaker-1", b"")), Column("float4", np.where(on_tool, 4.5, np.nan)),
        Column("float4", np.where(on_tool, 1.0, np.nan)), Column("int2", np.where(lift, 1, 0)),
        Column("float4", np.where(lift, rng.uniform(3.0, 25.0, n), np.nan)),
        Column("float8", 48.85 + rng.normal(0.0, 0.01, n)), Column("float8", 2.35 + rng.normal(0.0, 0.01, n)),
        Column("float4", rng.uniform(3.0, 12.0, n)), Column("float4", np.linspace(100.0, 40.0, n)),
        Column("float4", np.full(n, 50.0)), Column("int2", np.full(n, 50)),
        Column("float4", rng.normal(12.0, 1.0, n)), Column("float4", rng.normal(8.0, 0.5, n)),
    ]  # fmt: skip


def shift_days(days: npt.NDArray[np.datetime64]) -> list[date]:
    return [date(1970, 1, 1) + timedelta(days=int(d)) for d in days.astype("datetime64[D]").astype(np.int64)]
