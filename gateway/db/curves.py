"""An agent's day minute by minute, from the stored per-second frames (the agent page's curves).

One query over the frames index ``frames_agent_ts`` bounded to the local day: per UTC minute, the same sums
the ledger keeps per day (ISO 9612 Σ t·10^(0.1·L_Aeq) for 1-s frames, ISO 5349-1 Σ a_hv²·T, lifts and
tonnage as the ledger counts them), the mean heart rate, and the environment rows each WBGT is computed from
(WBGT is not linear, so its maximum is taken after the per-frame computation, in ``services``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

Conn = psycopg.AsyncConnection[Any]

_MINUTES = """
SELECT time_bucket('1 minute', ts) AS minute,
       coalesce(sum(power(10.0::float8, 0.1 * laeq_db::float8)), 0) AS noise_sum_t_10pow,
       coalesce(sum(hav_ahv_ms2::float8 * hav_ahv_ms2::float8 * hav_trigger_s::float8)
                FILTER (WHERE hav_trigger_s > 0), 0) AS hav_sum_a2t,
       avg(hr_bpm::float8) AS hr_bpm,
       coalesce(sum(lift_count) FILTER (WHERE lift_count > 0), 0)::int AS lifts,
       coalesce(sum(lift_count * lift_load_kg::float8) FILTER (WHERE lift_count > 0), 0) AS tonnage_kg,
       array_agg(ARRAY[temp_c, rh_pct, globe_temp_c]) FILTER (WHERE temp_c IS NOT NULL AND rh_pct IS NOT NULL)
         AS env
FROM frames
WHERE agent_id = %(agent)s AND ts >= %(start)s AND ts < %(end)s
GROUP BY minute
ORDER BY minute
"""


@dataclass(frozen=True, slots=True)
class MinuteRows:
    """Aligned per-minute columns, in time order, for minutes with at least one frame."""

    minute: list[datetime]
    noise_sum_t_10pow: list[float]
    hav_sum_a2t: list[float]
    hr_bpm: list[float | None]
    lifts: list[int]
    tonnage_kg: list[float]
    env: list[list[list[float | None]] | None]


async def minutes(conn: Conn, agent_id: str, start: datetime, end: datetime) -> MinuteRows:
    """The agent's frames in [start, end) reduced per minute (see the module docstring)."""
    async with conn.cursor() as cur:
        await cur.execute(_MINUTES, {"agent": agent_id, "start": start, "end": end})
        rows = await cur.fetchall()
    return MinuteRows(
        minute=[r[0] for r in rows], noise_sum_t_10pow=[r[1] for r in rows], hav_sum_a2t=[r[2] for r in rows],
        hr_bpm=[r[3] for r in rows], lifts=[r[4] for r in rows], tonnage_kg=[r[5] for r in rows],
        env=[r[6] for r in rows],
    )  # fmt: skip
