"""Reports on a synthetic year, and bytes per agent-day of each storage tier (``vigie bench reports``).

    .venv/bin/vigie bench reports [--agents 10000] [--crews 200] [--days 225] [--year 2025] [--out docs/benchmarks.md]
    .venv/bin/python -m benchmarks.bench_reports ...   (the same)

Starts a throwaway TimescaleDB, migrates it, writes a synthetic year with binary COPY
(``benchmarks/synthetic_year.py``): the exposure ledger of every agent, the per-minute roll-ups of one 50-agent
crew for a month, per-second frames of a few agents for a few days. Then times the project's own code paths,
those of ``gateway/api/routes_exposure.py``: one agent-year exposure report (JSON), the annual statement of
every agent (D4163-2), a crew month as PDF. Baselines in the same run, as ratios (the machine is shared, so
absolute figures move): the same agent-days answered from per-second frames and from minute roll-ups rather
than from the ledger; the annual statement one agent per request (as ``GET /reports/annual``) rather than in
one streamed pass; the roll-up's share of an ingest batch's writes. Prints one JSON object; with ``--out``
replaces the section between ``<!-- bench-reports:start -->`` and ``<!-- bench-reports:end -->``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import psycopg

from benchmarks import synthetic_year as sy
from benchmarks.bench_reports_doc import markdown, write_section
from gateway.bench_reports import add_arguments
from gateway.db import exposure_queries, migrations
from gateway.db.ingest_store import IngestStore
from gateway.exposure_view import annual_json, day_json
from gateway.reports.annual_all import statements_part as annual_part
from gateway.runtime.ports import free_port
from gateway.runtime.postgres import PostgresCluster
from services.model import Environment, Frame, Noise, Received

AGENT_YEAR_TARGET_MS, ANNUAL_TARGET_S = 100.0, 30.0
_FROM_FRAMES = """
SELECT (ts AT TIME ZONE 'Europe/Paris')::date AS day, count(*) AS worked_s, count(laeq_db) AS noise_s,
       sum(power(10.0::float8, 0.1 * laeq_db::float8)) AS noise_sum_t_10pow, max(lcpeak_db) AS lcpeak_max_db,
       count(*) FILTER (WHERE lcpeak_db >= 135) AS peaks,
       sum(hav_ahv_ms2::float8 ^ 2 * hav_trigger_s) FILTER (WHERE hav_trigger_s > 0) AS hav_sum_a2t,
       sum(lift_count) FILTER (WHERE lift_count > 0) AS lifts,
       sum(lift_count * lift_load_kg::float8) FILTER (WHERE lift_count > 0) AS tonnage_kg,
       count(*) FILTER (WHERE temp_c >= 30 OR temp_c <= 5) AS temp_extreme_s
FROM frames WHERE agent_id = %s AND ts >= %s AND ts < %s GROUP BY 1 ORDER BY 1"""
_FROM_MINUTES = """
SELECT (minute AT TIME ZONE 'Europe/Paris')::date AS day, sum(worked_s), sum(noise_s), sum(noise_sum_t_10pow),
       max(lcpeak_max_db), sum(peaks_over_135), sum(hav_sum_a2t), sum(lifts), sum(tonnage_kg),
       sum(temp_ge_30_s + temp_le_5_s)
FROM frame_minutes WHERE agent_id = %s AND minute >= %s AND minute < %s GROUP BY 1 ORDER BY 1"""
Conn = psycopg.Connection[Any]
AConn = psycopg.AsyncConnection[Any]


def _ms(seconds: float) -> float:
    return round(seconds * 1000.0, 2)


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def generate(conn: Conn, args: argparse.Namespace) -> dict[str, Any]:
    """The synthetic year; returns what was written and how long each part took."""
    rng = np.random.default_rng(args.seed)
    ids = sy.agent_ids(args.agents)
    per_crew = args.agents // args.crews
    timings: dict[str, float] = {}
    started = time.perf_counter()
    with conn.cursor() as cur:
        with cur.copy("COPY crews (crew_id, site_id, name) FROM STDIN") as copy:
            for c in range(args.crews):
                copy.write_row((f"crew-{c:03d}", "paris", f"Crew {c}"))
        with cur.copy("COPY agents (agent_id, display_name, crew_id, hearing_attenuation_db) FROM STDIN") as copy:
            for i, agent in enumerate(ids):
                copy.write_row((agent.decode(), f"Agent {i}", f"crew-{min(i // per_crew, args.crews - 1):03d}",
                                float(rng.choice([0.0, 0.0, 15.0, 25.0]))))  # fmt: skip
    # Bulk load: the agent ids are consistent by construction, so the foreign-key triggers (one lookup per row,
    # most of the load time) are skipped for this session only.
    conn.execute("SET session_replication_role = replica")
    block = 500
    for first in range(0, args.agents, block):
        n = min(block, args.agents - first)
        sy.copy_columns(conn, "exposure_days", sy.LEDGER_COLUMNS, sy.ledger_year(rng, first, n, args.year, args.days))
    conn.commit()
    conn.execute("RESET session_replication_role")
    timings["ledger_s"] = time.perf_counter() - started

    started = time.perf_counter()
    month = sy.working_days(args.year)
    month = month[month.astype("datetime64[M]") == np.datetime64(f"{args.year}-03")]
    crew_ids = ids[:per_crew]
    sy.copy_columns(conn, "frame_minutes", sy.MINUTE_COLUMNS, sy.minute_month(rng, crew_ids, month))
    conn.commit()
    timings["minutes_s"] = time.perf_counter() - started

    started = time.perf_counter()
    sample_days = sy.shift_days(month[: args.sample_days])
    for agent in ids[: args.sample_agents]:
        device = b"wear-" + agent[6:]
        for day in sample_days:
            sy.copy_columns(conn, "frames", sy.FRAME_COLUMNS, sy.frames_day(rng, agent, device, day))
    conn.commit()
    timings["frames_s"] = time.perf_counter() - started
    started = time.perf_counter()
    conn.autocommit = True
    conn.execute("VACUUM ANALYZE")
    conn.autocommit = False
    timings["vacuum_analyze_s"] = time.perf_counter() - started
    return {
        "crew_month": (sy.shift_days(month)[0], sy.shift_days(month)[-1]), "crew_agents": per_crew,
        "sample_agents": [a.decode() for a in ids[: args.sample_agents]], "sample_days": sample_days,
        "seconds": {k: round(v, 2) for k, v in timings.items()},
    }  # fmt: skip


def storage(conn: Conn) -> dict[str, Any]:
    """Bytes per agent-day of each tier: table + indexes + TOAST, over the agent-days it holds."""

    def one(query: str) -> int:
        row = conn.execute(query).fetchone()
        return int(row[0] or 0) if row else 0

    local = "(({col}) AT TIME ZONE 'Europe/Paris')::date"
    tiers = {
        "frames": ("SELECT hypertable_size('frames')", f"SELECT count(DISTINCT (agent_id, {local.format(col='ts')}))"
                   " FROM frames"),
        "imu_raw": ("SELECT hypertable_size('imu_raw')", None),
        "frame_minutes": ("SELECT hypertable_size('frame_minutes')",
                          f"SELECT count(DISTINCT (agent_id, {local.format(col='minute')})) FROM frame_minutes"),
        "exposure_days": ("SELECT pg_total_relation_size('exposure_days')", "SELECT count(*) FROM exposure_days"),
    }  # fmt: skip
    out: dict[str, Any] = {}
    for table, (size_sql, days_sql) in tiers.items():
        size = one(size_sql)
        agent_days = one(days_sql) if days_sql else 0
        rows = one(f"SELECT count(*) FROM {table}")
        out[table] = {"bytes": size, "rows": rows, "agent_days": agent_days,
                      "bytes_per_agent_day": round(size / agent_days) if agent_days else None}  # fmt: skip
    conn.commit()
    return out


async def _agent_year(conn: AConn, agent_id: str, year: int) -> bytes:
    """``GET /agents/{id}/exposure?from=<year>-01-01&to=<year>-12-31`` without HTTP (admin: no pseudonyms)."""
    await exposure_queries.agent(conn, agent_id)
    rows = await exposure_queries.days(conn, date(year, 1, 1), date(year, 12, 31), agent_id=agent_id)
    items = [day_json(r, exposure_queries.profile_of(r), r["display_name"]) for r in rows]
    return orjson.dumps({"agent_id": agent_id, "items": items})


async def _annual_one(conn: AConn, agent_id: str, year: int) -> dict[str, Any]:
    """``GET /reports/annual?agent_id=..&year=..`` without HTTP."""
    agent = await exposure_queries.agent(conn, agent_id)
    assert agent is not None
    rows = await exposure_queries.days(conn, date(year, 1, 1), date(year, 12, 31), agent_id=agent_id)
    return annual_json(agent_id, agent["display_name"], year, rows, exposure_queries.profile_of(agent))


def _ready() -> bool:
    time.sleep(0.5)
    return True


def annual_all(url: str, year: int, agent_ids: list[str], jobs: int) -> tuple[list[dict[str, Any]], float]:
    """Every agent's statement, the agents split in ``jobs`` id ranges built in parallel processes (the day
    summaries are Python work, one core each); returns the statements and the seconds taken, without the
    start of the worker processes (a server keeps its workers)."""
    ids = sorted(agent_ids)
    cuts: list[str | None] = [None, *(ids[len(ids) * k // jobs] for k in range(1, jobs)), None]
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        for ready in [pool.submit(_ready) for _ in range(jobs)]:  # busy together: every worker is started
            ready.result()
        started = time.perf_counter()
        parts = list(pool.map(annual_part, [url] * jobs, [year] * jobs, cuts[:-1], cuts[1:]))
        seconds = time.perf_counter() - started
    return [s for part in parts for s in part], seconds


async def time_reports(url: str, args: argparse.Namespace, written: dict[str, Any]) -> dict[str, Any]:
    from gateway.reports import pdf_report  # matplotlib: imported once, before timing, as the API's worker does

    ids = [a.decode() for a in sy.agent_ids(args.agents)]
    out: dict[str, Any] = {}
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        picks = ids[:: max(1, len(ids) // 50)][:50]
        await _agent_year(conn, picks[0], args.year)  # warm the plan cache
        rounds = []
        for _ in range(2):  # best of two rounds: other jobs share the two cores
            agent_year = []
            for agent in picks:
                t = time.perf_counter()
                body = await _agent_year(conn, agent, args.year)
                agent_year.append(time.perf_counter() - t)
            rounds.append(agent_year)
        agent_year = min(rounds, key=lambda r: _pct(r, 95))
        out["agent_year_json"] = {"agents": len(picks), "rounds": len(rounds), "p50_ms": _ms(_pct(agent_year, 50)),
                                  "p95_ms": _ms(_pct(agent_year, 95)), "bytes": len(body),
                                  "target_ms": AGENT_YEAR_TARGET_MS,
                                  "met": _pct(agent_year, 95) * 1000 <= AGENT_YEAR_TARGET_MS}  # fmt: skip

        statements, annual_s = annual_all(url, args.year, ids, args.jobs)
        t = time.perf_counter()
        annual_part(url, args.year, None, None)
        one_process_s = time.perf_counter() - t
        one_by_one = ids[:: max(1, len(ids) // 200)][:200]
        t = time.perf_counter()
        for agent in one_by_one:
            await _annual_one(conn, agent, args.year)
        per_request_s = (time.perf_counter() - t) / len(one_by_one)
        reached = sum(1 for s in statements if s["factors_reached"])
        out["annual_statement_all"] = {
            "agents": len(statements), "seconds": round(annual_s, 2), "jobs": args.jobs, "target_s": ANNUAL_TARGET_S,
            "met": annual_s <= ANNUAL_TARGET_S, "agents_with_a_factor_reached": reached,
            "one_process_s": round(one_process_s, 2),
            "baseline_one_request_per_agent_ms": _ms(per_request_s),
            "baseline_extrapolated_s": round(per_request_s * len(statements), 1),
            "ratio_baseline_over_streamed": round(per_request_s * len(statements) / annual_s, 2),
        }  # fmt: skip

        start, end = written["crew_month"]
        t = time.perf_counter()
        rows = await exposure_queries.days(conn, start, end, crew_id="crew-000")
        days = [day_json(r, exposure_queries.profile_of(r), r["display_name"]) for r in rows]
        query_s = time.perf_counter() - t
        pdf = await asyncio.to_thread(pdf_report.exposure_pdf, "Vigie — expositions, équipe crew-000", (start, end),
                                      days, "fr", generated_at=datetime.now(UTC))  # fmt: skip
        total_s = time.perf_counter() - t
        out["crew_month_pdf"] = {"agents": len({d["agent_id"] for d in days}), "agent_days": len(days),
                                 "query_ms": _ms(query_s), "seconds": round(total_s, 2), "bytes": len(pdf),
                                 "pages": pdf.count(b"/Type /Page\n") or pdf.count(b"/Type /Page")}  # fmt: skip
        out["same_agent_days"] = await _tiers_compared(conn, written)
    out["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    return out


async def _tiers_compared(conn: AConn, written: dict[str, Any]) -> dict[str, Any]:
    """The sample agents' days answered from per-second frames, from minute roll-ups, from the ledger."""
    days: list[date] = written["sample_days"]
    start = datetime.combine(days[0], datetime.min.time(), tzinfo=UTC) - timedelta(hours=2)
    end = datetime.combine(days[-1] + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    timings: dict[str, list[float]] = {"frames": [], "minutes": [], "ledger": []}
    for _ in range(3):
        for agent in written["sample_agents"]:
            for tier, query in (("frames", _FROM_FRAMES), ("minutes", _FROM_MINUTES)):
                t = time.perf_counter()
                async with conn.cursor() as cur:
                    await cur.execute(query, (agent, start, end))
                    await cur.fetchall()
                timings[tier].append(time.perf_counter() - t)
            t = time.perf_counter()
            rows = await exposure_queries.days(conn, days[0], days[-1], agent_id=agent)
            [day_json(r, exposure_queries.profile_of(r), r["display_name"]) for r in rows]
            timings["ledger"].append(time.perf_counter() - t)
    per_day = {tier: statistics.median(v) / len(days) for tier, v in timings.items()}
    return {
        "agents": len(written["sample_agents"]), "days": len(days),
        **{f"{tier}_ms_per_agent_day": round(s * 1000, 3) for tier, s in per_day.items()},
        "ratio_frames_over_ledger": round(per_day["frames"] / per_day["ledger"], 1),
        "ratio_minutes_over_ledger": round(per_day["minutes"] / per_day["ledger"], 1),
        "ratio_frames_over_minutes": round(per_day["frames"] / per_day["minutes"], 1),
        "agent_year_from_frames_s_extrapolated": round(per_day["frames"] * 225, 2),
    }  # fmt: skip


def rollup_cost(conn: Conn, batches: int = 10, size: int = 1000) -> dict[str, Any]:
    """An ingest batch's writes: ``insert_frames`` (COPY + idempotent insert) against ``add_frame_minutes``."""
    store = IngestStore(conn, site_tz="Europe/Paris")  # frames only: no robot-day is marked
    t0 = datetime(2025, 6, 2, 8, tzinfo=UTC)
    frames_s, minutes_s = [], []
    for b in range(batches):
        ts = t0 + timedelta(seconds=b)
        received = [Received(Frame(f"wear-b{i:05d}", b, ts, hr_bpm=90.0 + i % 20, noise=Noise(80.0 + i % 10, 120.0),
                                   env=Environment(20.0, 60.0), battery_pct=80.0), ts, f"agent-{i:05d}")
                    for i in range(size)]  # fmt: skip
        t = time.perf_counter()
        store.insert_frames(received)
        frames_s.append(time.perf_counter() - t)
        t = time.perf_counter()
        store.add_frame_minutes(received)
        minutes_s.append(time.perf_counter() - t)
        store.rollback()
    f, m = statistics.median(frames_s), statistics.median(minutes_s)
    return {"batch_frames": size, "insert_frames_ms": _ms(f), "add_frame_minutes_ms": _ms(m),
            "rollup_share_of_writes": round(m / (f + m), 3)}  # fmt: skip


def machine(conn: Conn) -> dict[str, Any]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())  # fmt: skip
    pg = conn.execute("SELECT current_setting('server_version'),"
                      " (SELECT extversion FROM pg_extension WHERE extname = 'timescaledb')").fetchone()  # fmt: skip
    assert pg is not None
    conn.commit()
    return {"nproc": os.cpu_count(), "cpu": cpu, "load_average": [round(x, 2) for x in os.getloadavg()],
            "python": platform.python_version(), "postgresql": pg[0], "timescaledb": pg[1],
            "numpy": np.__version__}  # fmt: skip


def run(args: argparse.Namespace) -> int:
    base = Path(tempfile.mkdtemp(prefix="vigie-bench-reports-"))
    base.chmod(0o711)  # as root the server runs as `postgres`, which must reach the data directory
    cluster = PostgresCluster(base / "data", free_port(), fast_unsafe=True)
    started = time.perf_counter()
    try:
        cluster.start()
        cluster.ensure_database("bench")
        url = cluster.url("bench")
        migrations.apply(url)
        with psycopg.connect(url) as conn:
            host = machine(conn)
            written = generate(conn, args)
            sizes = storage(conn)
            ingest = rollup_cost(conn)
        reports = asyncio.run(time_reports(url, args, written))
    finally:
        cluster.stop()
        shutil.rmtree(base, ignore_errors=True)
    result = {
        "command": " ".join(["vigie bench reports", *sys.argv[3:]]) if sys.argv[1:3] == ["bench", "reports"]
        else " ".join(["python -m benchmarks.bench_reports", *sys.argv[1:]]),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"), "machine": host,
        "synthetic": {"agents": args.agents, "crews": args.crews, "days_per_agent": args.days, "year": args.year,
                      "crew_month": [d.isoformat() for d in written["crew_month"]],
                      "sample_agents": len(written["sample_agents"]), "sample_days": len(written["sample_days"]),
                      "generation_s": written["seconds"]},
        "storage": sizes, "ingest_rollup": ingest, **reports, "wall_s": round(time.perf_counter() - started, 1),
    }  # fmt: skip
    print(json.dumps(result, indent=2, default=str))
    if args.out:
        write_section(args.out, markdown(result))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_reports", description=__doc__.split("\n")[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
