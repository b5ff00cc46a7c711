"""The per-minute tier (``frame_minutes``): what newly stored frames add to each agent's UTC minute.

Written by the ingest in the batch's transaction, from the frames it stored for the first time (as the ledger),
with one multi-row upsert whose every column is a sum, a count, a maximum or a minimum: a redelivered frame adds
nothing, and the order frames arrive in does not change the rows (up to floating-point rounding of the sums).
The sums are the ledger's (ISO 9612 Σ t·10^(0.1·L_Aeq) for 1-s frames, ISO 5349-1 Σ a_hv²·T, ISO 2631-1
Σ a_w²·T per axis, NF X35-109 lifts and tonnage); WBGT is not linear, so it is computed per frame
(``services.exposure.heat``) and only its maximum kept. Values are rounded to float32 first, as the ``frames``
columns store them, so a minute equals the aggregate of its stored frames. Frames worn by nobody are not
rolled up: they belong to no agent's record (the ledger ignores them too).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg

from services.exposure import heat, noise
from services.model import Frame, Received

F64 = npt.NDArray[np.float64]

_SUMS = (
    "worked_s", "hr_n", "hr_sum_bpm", "noise_s", "noise_sum_t_10pow", "peaks_over_135", "hav_s", "hav_sum_a2t",
    "wbv_s", "wbv_sum_x", "wbv_sum_y", "wbv_sum_z", "temp_ge_30_s", "temp_le_5_s", "lifts", "tonnage_kg", "sos_n",
)  # fmt: skip
_MAXES = ("hr_max_bpm", "lcpeak_max_db", "wbgt_max_c")
_MINS = ("battery_min_pct",)
COLUMNS = ("agent_id", "minute", *_SUMS, *_MAXES, *_MINS)
_INTS = {"worked_s", "hr_n", "noise_s", "peaks_over_135", "temp_ge_30_s", "temp_le_5_s", "lifts", "sos_n"}
_TYPES = {"agent_id": "text", "minute": "timestamptz", **{c: "float4" for c in (*_MAXES, *_MINS)},
          **{c: "int4" if c in _INTS else "float8" for c in _SUMS}}  # fmt: skip


def _merge(column: str) -> str:
    if column in _MAXES:
        return f"{column} = GREATEST(m.{column}, EXCLUDED.{column})"
    if column in _MINS:
        return f"{column} = LEAST(m.{column}, EXCLUDED.{column})"
    return f"{column} = m.{column} + EXCLUDED.{column}"


_STAGE = "CREATE TEMP TABLE IF NOT EXISTS frame_minutes_stage (LIKE frame_minutes) ON COMMIT DELETE ROWS"
_COPY_TYPES = [_TYPES[c] for c in COLUMNS]
_COPY = f"COPY frame_minutes_stage ({', '.join(COLUMNS)}) FROM STDIN (FORMAT BINARY)"
UPSERT = (
    f"INSERT INTO frame_minutes AS m ({', '.join(COLUMNS)}) SELECT {', '.join(COLUMNS)} FROM frame_minutes_stage"
    f" ORDER BY agent_id, minute"
    f" ON CONFLICT (agent_id, minute) DO UPDATE SET {', '.join(_merge(c) for c in COLUMNS[2:])}"
)


def _f32(frames: Sequence[Frame], get: Callable[[Frame], float | None]) -> F64:
    """One value per frame as the ``real`` columns of ``frames`` hold it (float32), NaN where absent."""
    values = [get(f) for f in frames]
    return np.array([np.nan if v is None else v for v in values], dtype=np.float32).astype(np.float64)


def minute_sums(received: Sequence[Received]) -> dict[str, list[Any]]:
    """Per (agent, UTC minute) of the worn frames: the ``frame_minutes`` columns, rows sorted by agent and minute."""
    worn = [r for r in received if r.agent_id is not None]
    keys = [(str(r.agent_id), r.frame.ts.replace(second=0, microsecond=0)) for r in worn]
    rows = sorted(set(keys))
    if not rows:
        return {c: [] for c in COLUMNS}
    where = {key: i for i, key in enumerate(rows)}
    group = np.fromiter((where[k] for k in keys), dtype=np.intp, count=len(keys))
    frames = [r.frame for r in worn]

    def total(weights: npt.ArrayLike) -> F64:
        sums: F64 = np.bincount(group, np.asarray(weights, dtype=np.float64), len(rows)).astype(np.float64)
        return sums

    def extreme(values: F64, ufunc: np.ufunc, start: float) -> list[float | None]:
        out = np.full(len(rows), start)
        ufunc.at(out, group, values)  # fmax/fmin skip NaN (frames without the value)
        return [float(v) if np.isfinite(v) else None for v in out]

    hr = _f32(frames, lambda f: f.hr_bpm)
    laeq = _f32(frames, lambda f: f.noise.laeq_db if f.noise else None)
    lcpeak = _f32(frames, lambda f: f.noise.lcpeak_db if f.noise else None)
    ahv = _f32(frames, lambda f: f.hav.ahv_ms2 if f.hav and f.hav.trigger_s > 0 else None)
    trigger = _f32(frames, lambda f: f.hav.trigger_s if f.hav and f.hav.trigger_s > 0 else None)
    wbv = np.array([f.wbv.aw_ms2 if f.wbv and f.wbv.duration_s > 0 else (np.nan,) * 3 for f in frames],
                   dtype=np.float32).astype(np.float64).reshape(-1, 3)  # fmt: skip
    wbv_s = _f32(frames, lambda f: f.wbv.duration_s if f.wbv and f.wbv.duration_s > 0 else None)
    temp = _f32(frames, lambda f: f.env.temp_c if f.env else None)
    rh = _f32(frames, lambda f: f.env.rh_pct if f.env else None)
    globe = _f32(frames, lambda f: f.env.globe_temp_c if f.env else None)
    lifts = _f32(frames, lambda f: f.lift.count if f.lift and f.lift.count > 0 else None)
    load = _f32(frames, lambda f: f.lift.load_kg if f.lift and f.lift.count > 0 else None)
    battery = _f32(frames, lambda f: f.battery_pct)
    wbgt, _ = heat.wbgt_c_array(temp, rh, globe)
    has = {name: np.isfinite(v) for name, v in (("hr", hr), ("noise", laeq), ("hav", ahv), ("wbv", wbv_s),
                                                 ("lift", lifts))}  # fmt: skip
    sums: dict[str, F64] = {
        "worked_s": total(np.ones(len(frames))), "hr_n": total(has["hr"]), "hr_sum_bpm": total(np.nan_to_num(hr)),
        "noise_s": total(has["noise"]),
        "noise_sum_t_10pow": total(np.where(has["noise"], 10.0 ** (0.1 * np.nan_to_num(laeq)), 0.0)),
        "peaks_over_135": total(has["noise"] & (lcpeak >= noise.PEAK_COUNTED_DBC)),
        "hav_s": total(np.nan_to_num(trigger)), "hav_sum_a2t": total(np.nan_to_num(ahv * ahv * trigger)),
        "wbv_s": total(np.nan_to_num(wbv_s)),
        **{f"wbv_sum_{axis}": total(np.nan_to_num(wbv[:, i] * wbv[:, i] * wbv_s)) for i, axis in enumerate("xyz")},
        "temp_ge_30_s": total(temp >= heat.HOT_TEMP_C), "temp_le_5_s": total(temp <= heat.COLD_TEMP_C),
        "lifts": total(np.nan_to_num(lifts)), "tonnage_kg": total(np.nan_to_num(lifts * load)),
        "sos_n": total([f.sos for f in frames]),
    }  # fmt: skip
    out: dict[str, list[Any]] = {"agent_id": [a for a, _ in rows], "minute": [m for _, m in rows]}
    for name, values in sums.items():
        out[name] = values.round().astype(np.int64).tolist() if name in _INTS else values.tolist()
    out["hr_max_bpm"] = extreme(hr, np.fmax, -np.inf)
    out["lcpeak_max_db"] = extreme(np.where(has["noise"], lcpeak, np.nan), np.fmax, -np.inf)
    out["wbgt_max_c"] = extreme(wbgt, np.fmax, -np.inf)
    out["battery_min_pct"] = extreme(battery, np.fmin, np.inf)
    return out


def _rows(sums: dict[str, list[Any]]) -> Iterator[tuple[Any, ...]]:
    return zip(*(sums[c] for c in COLUMNS), strict=True)


def add_minutes(conn: psycopg.Connection[Any], received: Sequence[Received]) -> int:
    """Add newly stored frames to their minutes; returns the number of agent-minutes touched.

    Binary COPY into a staging table, then one upsert (an array-parameter ``unnest`` measured two to three times
    slower to parse). Rows go in (agent, minute) order, so two ingest workers upserting overlapping minutes lock
    them in the same order and cannot deadlock on each other.
    """
    sums = minute_sums(received)
    if not sums["agent_id"]:
        return 0
    with conn.cursor() as cur:
        cur.execute(_STAGE)
        with cur.copy(_COPY) as copy:
            copy.set_types(_COPY_TYPES)
            for row in _rows(sums):
                copy.write_row(row)
        cur.execute(UPSERT)
    return len(sums["agent_id"])


async def add_minutes_async(conn: psycopg.AsyncConnection[Any], received: Sequence[Received]) -> int:
    """``add_minutes`` on an async connection: frames joining an agent's record after the fact (a shift
    registered late, gateway/db/ledger_backfill.py) reach the minutes as they reach the ledger."""
    sums = minute_sums(received)
    if not sums["agent_id"]:
        return 0
    async with conn.cursor() as cur:
        await cur.execute(_STAGE)
        async with cur.copy(_COPY) as copy:
            copy.set_types(_COPY_TYPES)
            for row in _rows(sums):
                await copy.write_row(row)
        await cur.execute(UPSERT)
    return len(sums["agent_id"])
