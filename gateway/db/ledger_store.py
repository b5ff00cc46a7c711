"""The exposure ledger in the database: additive upserts from the ingest, heat-strain refresh.

Runs on the ingest worker's connection, inside the batch's transaction (``add_days``, ``add_hr_minutes``)
so a frame's ledger increment commits with the frame itself, exactly once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

import psycopg

from services.ledger import DayDelta, ExposureProfile, heat_strain_for_day, profile
from services.model import Received

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
    return (
        d.agent_id, d.day, d.worked_s, d.first_ts, d.last_ts, d.noise.seconds, d.noise.sum_t_10pow,
        d.noise.lcpeak_max_db, d.noise.peaks_over_135, d.peaks_over_135_at_ear, d.hav.seconds, d.hav.sum_a2t_m2s3,
        d.wbv.seconds, d.wbv.sum_x_m2s3, d.wbv.sum_y_m2s3, d.wbv.sum_z_m2s3, d.heat.wbgt_max_c,
        d.heat.seconds_over_ref, d.heat.seconds_temp_ge_30, d.heat.seconds_temp_le_5, d.heat.seconds_wbgt_measured,
        d.heat.seconds_wbgt_estimated, (d.agent_id, d.day) in hr_days, d.handling.lifts, d.handling.lifts_ge_15kg,
        d.handling.lifts_ge_25kg, d.handling.tonnage_kg, d.handling.avoided_kg, d.night_s, d.lifting_index_max,
        sorted(d.device_ids), sorted(d.tool_ids),
    )  # fmt: skip


def profiles(conn: psycopg.Connection[Any], agent_ids: Sequence[str]) -> dict[str, ExposureProfile]:
    rows = conn.execute(
        "SELECT agent_id, hearing_attenuation_db, task, acclimatised FROM agents WHERE agent_id = ANY(%s)",
        (list(agent_ids),),
    ).fetchall()
    return {str(agent_id): profile(attenuation_db, task, acclimatised)
            for agent_id, attenuation_db, task, acclimatised in rows}  # fmt: skip


def crews(conn: psycopg.Connection[Any], subject_ids: Sequence[str]) -> dict[str, str | None]:
    """The crew of each agent or robot among ``subject_ids`` (their rules may be overridden per crew)."""
    rows = conn.execute(
        "SELECT agent_id, crew_id FROM agents WHERE agent_id = ANY(%s)"
        " UNION ALL SELECT robot_id, crew_id FROM robots WHERE robot_id = ANY(%s)",
        (list(subject_ids), list(subject_ids)),
    ).fetchall()
    return {str(s): c for s, c in rows}


def add_days(conn: psycopg.Connection[Any], deltas: Sequence[DayDelta], hr_days: set[tuple[str, date]]
             ) -> list[tuple[str, date, float, float, datetime | None]]:  # fmt: skip
    """Add the increments to the ledger (binary COPY into a staging table, one upsert).

    Returns each touched agent-day's running (noise Σ t·10^(L/10), HAV Σ a²T, first frame time).
    """
    if not deltas:
        return []
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS exposure_stage"
                 " (LIKE exposure_days INCLUDING DEFAULTS) ON COMMIT DELETE ROWS")  # fmt: skip
    with conn.cursor() as cur:
        with cur.copy(f"COPY exposure_stage ({', '.join(_DAY_COLUMNS)}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(list(_DAY_TYPES))
            for delta in deltas:
                copy.write_row(day_row(delta, hr_days))
        cur.execute(_UPSERT + " RETURNING agent_id, day, noise_sum_t_10pow, hav_sum_a2t, first_ts")
        return [(str(a), d, float(n), float(h), f) for a, d, n, h, f in cur.fetchall()]


def hr_minute_sums(frames: Sequence[Received]) -> dict[tuple[str, datetime], tuple[float, int]]:
    """Per (agent, UTC minute): the sum and count of heart-rate readings of newly stored frames."""
    sums: dict[tuple[str, datetime], list[float]] = defaultdict(lambda: [0.0, 0])
    for r in frames:
        if r.agent_id is not None and r.frame.hr_bpm is not None:
            acc = sums[(r.agent_id, r.frame.ts.replace(second=0, microsecond=0))]
            acc[0] += r.frame.hr_bpm
            acc[1] += 1
    return {key: (total, int(n)) for key, (total, n) in sums.items()}


def add_hr_minutes(conn: psycopg.Connection[Any], sums: dict[tuple[str, datetime], tuple[float, int]]) -> None:
    if not sums:
        return
    with conn.cursor() as cur:
        cur.executemany(HR_MINUTE_UPSERT, [(agent, minute, total, n) for (agent, minute), (total, n) in sums.items()])


def _day_bounds(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    return start, end


def refresh_heat_strain(conn: psycopg.Connection[Any], tz: tzinfo, limit: int = 500) -> int:
    """Recompute core temperature and PSI for agent-days whose heart-rate minutes changed.

    The filter is order-dependent, so it is rerun over the day's whole minute ledger: late and out-of-order
    frames only change the minute means it reads. Returns the number of agent-days refreshed.
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
            conn.execute(
                "UPDATE exposure_days SET psi_max = %s, core_temp_max_c = %s, psi_dirty = false"
                " WHERE agent_id = %s AND day = %s",
                (strain.psi_max, strain.core_temp_max_c, agent_id, day),
            )
    return len(dirty)
