"""The exposure ledger in the database: additive upserts from the ingest, heat-strain refresh.

Runs on the ingest worker's connection, inside the batch's transaction (``add_days``, ``add_hr_minutes``)
so a frame's ledger increment commits with the frame itself, exactly once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

import numpy as np
import psycopg

from gateway.db.arrays import text_array
from services.exposure.handling import HandlingDay
from services.ledger import DayDelta, ExposureProfile, heat_strain_for_day, profile
from services.ledger_batch import DayColumns, utc_us
from services.model import Received
from services.signals.physiology import HeartMinute, heart_day

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_DAY_COLUMNS = (
    "agent_id", "day", "worked_s", "first_ts", "last_ts", "noise_s", "noise_sum_t_10pow", "lcpeak_max_db",
    "peaks_over_135", "peaks_over_135_at_ear", "hav_s", "hav_sum_a2t", "wbv_s", "wbv_sum_x", "wbv_sum_y",
    "wbv_sum_z", "wbgt_max_c", "heat_s_over_ref", "temp_ge_30_s", "temp_le_5_s", "wbgt_measured_s",
    "wbgt_estimated_s", "psi_dirty", "lifts", "lifts_ge_15kg", "lifts_ge_25kg", "tonnage_kg", "avoided_kg",
    "night_s", "lifting_index_max", "device_ids", "tool_ids",
)  # fmt: skip
_DAY_TYPES = (
    "text", "date", "float8", "timestamptz", "timestamptz", "float8", "float8", "float4", "int4", "int4",
    "float8", "float8", "float8", "float8", "float8", "float8", "float4", "float8", "float8", "float8",
    "float8", "float8", "bool", "int4", "int4", "int4", "float8", "float8", "float8", "float4", "text[]", "text[]",
)  # fmt: skip
_SUMS = {"worked_s", "noise_s", "noise_sum_t_10pow", "peaks_over_135", "peaks_over_135_at_ear", "hav_s",
         "hav_sum_a2t", "wbv_s", "wbv_sum_x", "wbv_sum_y", "wbv_sum_z", "heat_s_over_ref", "temp_ge_30_s",
         "temp_le_5_s", "wbgt_measured_s", "wbgt_estimated_s", "lifts", "lifts_ge_15kg", "lifts_ge_25kg",
         "tonnage_kg", "avoided_kg", "night_s"}  # fmt: skip
_MAXES = {"lcpeak_max_db", "wbgt_max_c", "last_ts", "lifting_index_max"}


def _merge_sql(column: str) -> str:
    if column in _SUMS:
        return f"{column} = d.{column} + EXCLUDED.{column}"
    if column in _MAXES:
        return f"{column} = GREATEST(d.{column}, EXCLUDED.{column})"
    if column == "first_ts":
        return "first_ts = LEAST(d.first_ts, EXCLUDED.first_ts)"
    if column == "psi_dirty":
        return "psi_dirty = d.psi_dirty OR EXCLUDED.psi_dirty"
    return f"{column} = ARRAY(SELECT DISTINCT unnest(d.{column} || EXCLUDED.{column}) ORDER BY 1)"


_ON_CONFLICT = (
    " ON CONFLICT (agent_id, day) DO UPDATE SET " + ", ".join(_merge_sql(c) for c in _DAY_COLUMNS[2:])
    + ", updated_at = now()"
)
_UPSERT = (
    f"INSERT INTO exposure_days AS d ({', '.join(_DAY_COLUMNS)}) SELECT {', '.join(_DAY_COLUMNS)}"
    " FROM exposure_stage" + _ON_CONFLICT
)
# The same merge, row by row: for the rare paths outside the ingest (frames attached by a late assignment).
UPSERT_ROW = (
    f"INSERT INTO exposure_days AS d ({', '.join(_DAY_COLUMNS)})"
    f" VALUES ({', '.join(['%s'] * len(_DAY_COLUMNS))})" + _ON_CONFLICT
)
HR_MINUTE_UPSERT = (
    "INSERT INTO hr_minutes AS h (agent_id, minute, sum_hr, n) VALUES (%s, %s, %s, %s)"
    " ON CONFLICT (agent_id, minute) DO UPDATE SET sum_hr = h.sum_hr + EXCLUDED.sum_hr, n = h.n + EXCLUDED.n"
)


def day_row(d: DayDelta, hr_days: set[tuple[str, date]]) -> tuple[object, ...]:
    """The COPY row of one agent-day's increment; ``psi_dirty`` when its heart-rate minutes (``hr_days``) or its
    lifts changed, the inputs of ``refresh_heat_strain``."""
    return (
        d.agent_id, d.day, d.worked_s, d.first_ts, d.last_ts, d.noise.seconds, d.noise.sum_t_10pow,
        d.noise.lcpeak_max_db, d.noise.peaks_over_135, d.peaks_over_135_at_ear, d.hav.seconds, d.hav.sum_a2t_m2s3,
        d.wbv.seconds, d.wbv.sum_x_m2s3, d.wbv.sum_y_m2s3, d.wbv.sum_z_m2s3, d.heat.wbgt_max_c,
        d.heat.seconds_over_ref, d.heat.seconds_temp_ge_30, d.heat.seconds_temp_le_5, d.heat.seconds_wbgt_measured,
        d.heat.seconds_wbgt_estimated, (d.agent_id, d.day) in hr_days or d.handling.lifts > 0, d.handling.lifts,
        d.handling.lifts_ge_15kg, d.handling.lifts_ge_25kg, d.handling.tonnage_kg, d.handling.avoided_kg, d.night_s,
        d.lifting_index_max, sorted(d.device_ids), sorted(d.tool_ids),
    )  # fmt: skip


def profiles(conn: psycopg.Connection[Any], agent_ids: Sequence[str]) -> dict[str, ExposureProfile]:
    rows = conn.execute(
        "SELECT agent_id, hearing_attenuation_db, task, acclimatised FROM agents WHERE agent_id = ANY(%s::text[])",
        (text_array(agent_ids),),
    ).fetchall()
    return {str(agent_id): profile(attenuation_db, task, acclimatised)
            for agent_id, attenuation_db, task, acclimatised in rows}  # fmt: skip


def crews(conn: psycopg.Connection[Any], subject_ids: Sequence[str]) -> dict[str, str | None]:
    """The crew of each agent or robot among ``subject_ids`` (their rules may be overridden per crew)."""
    rows = conn.execute(
        "SELECT agent_id, crew_id FROM agents WHERE agent_id = ANY(%(ids)s::text[])"
        " UNION ALL SELECT robot_id, crew_id FROM robots WHERE robot_id = ANY(%(ids)s::text[])",
        {"ids": text_array(subject_ids)},
    ).fetchall()
    return {str(s): c for s, c in rows}


def day_rows(batch: DayColumns | None, avoided_kg: Mapping[tuple[str, date], float],
             hr_days: set[tuple[str, date]]) -> list[tuple[object, ...]]:  # fmt: skip
    """The COPY rows of a batch's agent-days (``day_row`` of each, column-wise) plus the load robots carried for
    agents, one row per agent-day: the upsert may not touch a row twice in one statement."""
    rows: list[tuple[object, ...]] = []
    keys: list[tuple[str, date]] = []
    if batch is not None:
        b = batch
        keys = list(zip(b.agent_id, b.day, strict=True))
        rows = list(zip(
            b.agent_id, b.day, b.worked_s, b.first_ts, b.last_ts, b.noise_s, b.noise_sum_t_10pow, b.lcpeak_max_db,
            b.peaks_over_135, b.peaks_over_135_at_ear, b.hav_s, b.hav_sum_a2t_m2s3, b.wbv_s, b.wbv_sum_x_m2s3,
            b.wbv_sum_y_m2s3, b.wbv_sum_z_m2s3, b.wbgt_max_c, b.seconds_over_ref, b.seconds_temp_ge_30,
            b.seconds_temp_le_5, b.seconds_wbgt_measured, b.seconds_wbgt_estimated,
            [k in hr_days or n > 0 for k, n in zip(keys, b.lifts, strict=True)],
            b.lifts, b.lifts_ge_15kg, b.lifts_ge_25kg, b.tonnage_kg, [avoided_kg.get(k, 0.0) for k in keys],
            b.night_s, b.lifting_index_max, [sorted(d) for d in b.device_ids], [sorted(t) for t in b.tool_ids],
            strict=True,
        ))  # fmt: skip
    seen = set(keys)
    rows += [day_row(DayDelta(agent_id, day, handling=HandlingDay(avoided_kg=kg)), hr_days)
             for (agent_id, day), kg in avoided_kg.items() if (agent_id, day) not in seen]  # fmt: skip
    return rows


def add_days(conn: psycopg.Connection[Any], rows: Sequence[tuple[object, ...]]
             ) -> list[tuple[str, date, float, float, datetime | None]]:  # fmt: skip
    """Add the increments (``day_rows``) to the ledger (binary COPY into a staging table, one upsert).

    Returns each touched agent-day's running (noise Σ t·10^(L/10), HAV Σ a²T, first frame time).
    """
    if not rows:
        return []
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS exposure_stage"
                 " (LIKE exposure_days INCLUDING DEFAULTS) ON COMMIT DELETE ROWS")  # fmt: skip
    with conn.cursor() as cur:
        with cur.copy(f"COPY exposure_stage ({', '.join(_DAY_COLUMNS)}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(list(_DAY_TYPES))
            for row in rows:
                copy.write_row(row)
        cur.execute(_UPSERT + " RETURNING agent_id, day, noise_sum_t_10pow, hav_sum_a2t, first_ts")
        return [(str(a), d, float(n), float(h), f) for a, d, n, h, f in cur.fetchall()]


def hr_minute_sums(frames: Sequence[Received]) -> dict[tuple[str, datetime], tuple[float, int]]:
    """Per (agent, UTC minute): the sum and count of heart-rate readings of newly stored frames, batch-wise."""
    rated = [r for r in frames if r.agent_id is not None and r.frame.hr_bpm is not None]
    if not rated:
        return {}
    minute = utc_us([r.frame.ts for r in rated]) // 60_000_000
    agent_of = {a: i for i, a in enumerate(dict.fromkeys(str(r.agent_id) for r in rated))}
    agent = np.fromiter((agent_of[str(r.agent_id)] for r in rated), np.int64, len(rated))
    first = int(minute.min())
    width = int(minute.max()) - first + 1
    keys, group = np.unique(agent * width + (minute - first), return_inverse=True)
    sums = np.bincount(group, np.array([r.frame.hr_bpm for r in rated], dtype=np.float64)).tolist()
    counts = np.bincount(group).tolist()
    agents, start = list(agent_of), _EPOCH + timedelta(minutes=first)
    offsets = (keys % width).tolist()
    minutes = {m: start + timedelta(minutes=m) for m in set(offsets)}  # a batch spans few minutes
    return {(agents[a], minutes[m]): (total, n)
            for a, m, total, n in zip((keys // width).tolist(), offsets, sums, counts, strict=True)}  # fmt: skip


def add_hr_minutes(conn: psycopg.Connection[Any], sums: dict[tuple[str, datetime], tuple[float, int]]) -> None:
    """Add heart-rate sums to their minutes: binary COPY into a staging table and one upsert, in (agent, minute)
    order (a statement per row was an eighth of the ingest's time; the order keeps two workers deadlock-free)."""
    if not sums:
        return
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS hr_minutes_stage (LIKE hr_minutes) ON COMMIT DELETE ROWS")
    with conn.cursor() as cur:
        with cur.copy("COPY hr_minutes_stage (agent_id, minute, sum_hr, n) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["text", "timestamptz", "float8", "int4"])
            for (agent, minute), (total, n) in sorted(sums.items()):
                copy.write_row((agent, minute, total, n))
        cur.execute("INSERT INTO hr_minutes AS h (agent_id, minute, sum_hr, n)"
                    " SELECT agent_id, minute, sum_hr, n FROM hr_minutes_stage ORDER BY agent_id, minute"
                    " ON CONFLICT (agent_id, minute) DO UPDATE SET sum_hr = h.sum_hr + EXCLUDED.sum_hr,"
                    " n = h.n + EXCLUDED.n")  # fmt: skip


def _day_bounds(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    return start, end


def refresh_heat_strain(conn: psycopg.Connection[Any], tz: tzinfo, limit: int = 500) -> int:
    """Recompute core temperature, PSI and the heart-rate features for agent-days whose minutes changed.

    The filter is order-dependent, so it is rerun over the day's whole minute ledger: late and out-of-order
    frames only change the minute means it reads. The heart-rate features of the weak signals (resting, working,
    recovery after lifts: ``services.signals.physiology``) need the lifts too, so they read the day's minute tier
    (``frame_minutes``); an agent-day is marked dirty by frames with heart rate or lifts (``day_rows``).
    Returns the number of agent-days refreshed.
    """
    with conn.transaction():
        dirty = conn.execute(
            "SELECT d.agent_id, d.day, a.resting_hr_bpm FROM exposure_days d JOIN agents a USING (agent_id)"
            " WHERE d.psi_dirty ORDER BY d.day LIMIT %s FOR UPDATE OF d SKIP LOCKED",
            (limit,),
        ).fetchall()
        for agent_id, day, resting_hr_bpm in dirty:
            start, end = _day_bounds(day, tz)
            minutes = conn.execute(
                "SELECT minute, sum_hr / n FROM hr_minutes WHERE agent_id = %s AND minute >= %s AND minute < %s",
                (agent_id, start, end),
            ).fetchall()
            strain = heat_strain_for_day([(m, float(hr)) for m, hr in minutes], resting_hr_bpm)
            rated = conn.execute(
                "SELECT minute, hr_sum_bpm / hr_n, worked_s > 0, lifts FROM frame_minutes"
                " WHERE agent_id = %s AND minute >= %s AND minute < %s AND hr_n > 0",
                (agent_id, start, end),
            ).fetchall()
            heart = heart_day(HeartMinute(m, float(hr), bool(worked), int(lifts)) for m, hr, worked, lifts in rated)
            # A day whose minutes retention already erased (a very late frame) keeps what was computed while they
            # existed: COALESCE, so a refresh never replaces a stored value by "unknown".
            conn.execute(
                "UPDATE exposure_days SET psi_max = COALESCE(%s, psi_max),"
                " core_temp_max_c = COALESCE(%s, core_temp_max_c),"
                " psi_high_min = CASE WHEN %s THEN %s ELSE psi_high_min END,"
                " hr_rest_bpm = COALESCE(%s, hr_rest_bpm), hr_work_bpm = COALESCE(%s, hr_work_bpm),"
                " hr_recovery_bpm = COALESCE(%s, hr_recovery_bpm), psi_dirty = false WHERE agent_id = %s AND day = %s",
                (strain.psi_max, strain.core_temp_max_c, bool(minutes), strain.psi_high_min, heart.resting_hr_bpm,
                 heart.working_hr_bpm, heart.hr_recovery_bpm, agent_id, day),
            )  # fmt: skip
    return len(dirty)
