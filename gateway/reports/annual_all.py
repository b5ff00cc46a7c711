"""Every agent's Code du travail D4163-2 annual statement in one pass: the employer's yearly declaration.

Each year the employer declares, per worker, the occupational risk factors over their thresholds (Code du
travail L4163-1 ff., D4163-2: noise, peaks, extreme temperatures, night work; the declaration feeds each
worker's compte professionnel de prévention). ``vigie report annual --all`` writes it as CSV for the whole city
(10,000 agents in ~15 s with two processes here; docs/benchmarks.md). Read from the exposure ledger only
(``exposure_days``, kept for years), streamed in primary-key order, each agent's statement built as soon as
their rows are in; the agents are split in id ranges over ``jobs`` processes (the day summaries are Python
work, one core each).
"""

from __future__ import annotations

import csv
import io
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from typing import Any

import psycopg
from psycopg.rows import dict_row

from gateway.db import exposure_queries
from gateway.exposure_view import annual_json

_COLUMNS = ("agent_id, day, worked_s, noise_s, noise_sum_t_10pow, lcpeak_max_db, peaks_over_135,"
            " peaks_over_135_at_ear, temp_ge_30_s, temp_le_5_s, night_s")  # fmt: skip
FACTORS = ("noise_hours", "peaks", "extreme_temp_hours", "nights")


def statements_part(url: str, year: int, lo: str | None, hi: str | None) -> list[dict[str, Any]]:
    """The statements of the agents with ids in [lo, hi) (None: unbounded) who worked in ``year``."""
    statements: list[dict[str, Any]] = []
    current: list[dict[str, Any]] = []
    where = "(%(lo)s::text IS NULL OR agent_id >= %(lo)s) AND (%(hi)s::text IS NULL OR agent_id < %(hi)s)"
    bounds = {"lo": lo, "hi": hi, "start": date(year, 1, 1), "end": date(year, 12, 31)}
    with psycopg.connect(url) as conn:
        agents = {r["agent_id"]: r for r in conn.cursor(row_factory=dict_row).execute(
            f"SELECT agent_id, display_name, hearing_attenuation_db, task, acclimatised FROM agents WHERE {where}",
            bounds)}  # fmt: skip

        def flush() -> None:
            if current:
                agent = agents[current[0]["agent_id"]]
                statements.append(annual_json(agent["agent_id"], agent["display_name"], year, current,
                                              exposure_queries.profile_of(agent)))  # fmt: skip

        # Binary results in batches of 20,000 rows (a row at a time cost a third more).
        with conn.cursor("annual", row_factory=dict_row, binary=True) as cur:
            cur.execute(f"SELECT {_COLUMNS} FROM exposure_days WHERE {where}"
                        " AND day BETWEEN %(start)s AND %(end)s ORDER BY agent_id, day", bounds)  # fmt: skip
            while rows := cur.fetchmany(20_000):
                for row in rows:
                    if current and row["agent_id"] != current[0]["agent_id"]:
                        flush()
                        current = []
                    current.append(row)
        flush()
    return statements


def all_statements(url: str, year: int, jobs: int = 2) -> list[dict[str, Any]]:
    """Every agent's statement for ``year``, in agent id order, built by ``jobs`` processes."""
    if jobs <= 1:
        return statements_part(url, year, None, None)
    with psycopg.connect(url) as conn:
        ids = [str(r[0]) for r in conn.execute(
            "SELECT DISTINCT agent_id FROM exposure_days WHERE day BETWEEN %s AND %s ORDER BY agent_id",
            (date(year, 1, 1), date(year, 12, 31))).fetchall()]  # fmt: skip
    if not ids:
        return []
    cuts: list[str | None] = [None, *(ids[len(ids) * k // jobs] for k in range(1, jobs)), None]
    # spawn, not fork: the caller may hold threads and connections that a forked child must not inherit.
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        parts = list(pool.map(statements_part, [url] * jobs, [year] * jobs, cuts[:-1], cuts[1:]))
    return [s for part in parts for s in part]


def annual_csv(statements: Sequence[dict[str, Any]]) -> bytes:
    """One row per agent: each factor's amount, threshold and whether it was reached (RFC 4180 CSV, UTF-8)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    header = ["agent_id", "agent_name", "year", "days"]
    for factor in FACTORS:
        header += [f"{factor}", f"{factor}_threshold", f"{factor}_reached"]
    writer.writerow([*header, "factors_reached"])
    for s in statements:
        row: list[Any] = [s["agent_id"], s["agent_name"] or "", s["year"], s["days"]]
        for factor in FACTORS:
            f = s["factors"][factor]
            row += [f["amount"], f["threshold"], "yes" if f["reached"] else "no"]
        writer.writerow([*row, " ".join(s["factors_reached"])])
    return out.getvalue().encode()
