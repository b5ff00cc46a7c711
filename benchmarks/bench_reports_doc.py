"""The reports benchmark's section of docs/benchmarks.md: built from its JSON result, written between markers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.doc_section import write_between

START, END = "<!-- bench-reports:start -->", "<!-- bench-reports:end -->"
TITLE = "## Reports on a synthetic year and storage tiers"


def write_section(path: Path, section: str) -> None:
    """Replace what lies between this benchmark's markers in ``path`` (append markers and section if absent)."""
    write_between(path, START, END, section)


CITY_AGENTS = 7_000
WORKED_SHARE = 225 / 365  # working days in a calendar day


def _gb(value: float) -> str:
    return f"{value * 1000:,.1f} MB" if value < 1 else f"{value:,.1f} GB"


def _yes(met: bool) -> str:
    return "**met**" if met else "**missed**"


def _n(value: float | int | None, digits: int = 0) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def markdown(r: dict[str, Any]) -> str:
    m, s = r["machine"], r["synthetic"]
    st, ay, an, pdf, tiers, ing = (r["storage"], r["agent_year_json"], r["annual_statement_all"], r["crew_month_pdf"],
                                   r["same_agent_days"], r["ingest_rollup"])  # fmt: skip
    gen = s["generation_s"]
    rows = []
    names = {"frames": "per-second frames (`retention_raw_days`, 30 d)", "imu_raw": "raw IMU around events",
             "frame_minutes": "per-minute roll-ups (`retention_minute_days`, 400 d)",
             "exposure_days": "exposure ledger (kept)"}  # fmt: skip
    kept_days = {"frames": 30, "imu_raw": 30, "frame_minutes": 400, "exposure_days": 365}
    for table, label in names.items():
        t = st[table]
        per = t["bytes_per_agent_day"]
        if not per:
            rows.append(f"| {label} | not generated | – | – | – | – | – |")
            continue
        day_gb = per * CITY_AGENTS / 1e9
        kept_gb = day_gb * kept_days[table] * WORKED_SHARE
        rows.append(f"| {label} | {_n(t['rows'])} | {_n(t['agent_days'])} | {_n(t['bytes'] / 1e6, 1)} MB "
                    f"| {_n(per)} | {_gb(day_gb)} | {_gb(kept_gb)} |")  # fmt: skip
    frames_per, minutes_per = st["frames"]["bytes_per_agent_day"], st["frame_minutes"]["bytes_per_agent_day"]
    ledger_per = st["exposure_days"]["bytes_per_agent_day"]
    return "\n".join([
        TITLE, "",
        f"Command: `{r['command']}` (also run by `make bench`; `benchmarks/bench_reports.py`). Machine: "
        f"{m['nproc']} cores ({m['cpu']}, shared with other jobs; load average {', '.join(map(str, m['load_average']))}"
        f" at the start, {', '.join(map(str, r['load_average_after']))} at the end), Python {m['python']}, "
        f"PostgreSQL {m['postgresql']}, TimescaleDB {m['timescaledb']}, "
        f"a throwaway cluster with durability off. Measured {r['measured_at']}; whole run {r['wall_s']} s.", "",
        f"Synthetic year {s['year']}, written with binary COPY from seeded numpy (not through MQTT): "
        f"{s['agents']:,} agents in {s['crews']} crews, {s['days_per_agent']} working days each in the ledger "
        f"({gen['ledger_s']} s); per-minute roll-ups of one crew for {s['crew_month'][0]}..{s['crew_month'][1]} "
        f"({gen['minutes_s']} s); per-second frames of {s['sample_agents']} agents × {s['sample_days']} days "
        f"({gen['frames_s']} s); then VACUUM ANALYZE ({gen['vacuum_analyze_s']} s).", "",
        "| report (the API's own code path) | measured | target |", "| --- | --- | --- |",
        f"| one agent-year exposure report, JSON (`GET /agents/{{id}}/exposure`, {ay['agents']} agents, best of "
        f"{ay['rounds']} rounds) | p50 {ay['p50_ms']} ms, "
        f"p95 {ay['p95_ms']} ms ({ay['bytes'] / 1e3:,.0f} kB) | ≤ {ay['target_ms']:g} ms: {_yes(ay['met'])} |",
        f"| annual statement (D4163-2) of all {an['agents']:,} agents, streamed by {an['jobs']} processes "
        f"| {an['seconds']} s ({an['one_process_s']} s in one) "
        f"| ≤ {an['target_s']:g} s: {_yes(an['met'])} |",
        f"| a {pdf['agents']}-agent crew month as PDF (`GET /reports/exposure?format=pdf`) | {pdf['seconds']} s "
        f"({pdf['agent_days']} agent-days, query {pdf['query_ms']} ms, {pdf['bytes'] / 1e6:.1f} MB) | – |", "",
        f"Baselines, same run: the annual statement one agent per request (`GET /reports/annual`, "
        f"{an['baseline_one_request_per_agent_ms']} ms each) would take {an['baseline_extrapolated_s']} s for "
        f"{an['agents']:,} agents, **{an['ratio_baseline_over_streamed']}×** the streamed pass "
        f"({an['baseline_extrapolated_s'] / an['one_process_s']:.1f}× the same pass in one process). Most of a "
        "streamed agent-day is Python (the day summary and statement of `gateway/exposure_view.py` and "
        "`services/exposure/annual.py`, then decoding the row), about 13 µs, hence one process per core. The same "
        f"{tiers['agents']} agents × {tiers['days']} days answered per day: from per-second frames "
        f"{tiers['frames_ms_per_agent_day']} ms per agent-day, from minute roll-ups {tiers['minutes_ms_per_agent_day']}"
        f" ms, from the ledger (query and JSON) {tiers['ledger_ms_per_agent_day']} ms: frames / ledger "
        f"**{tiers['ratio_frames_over_ledger']}×**, minutes / ledger **{tiers['ratio_minutes_over_ledger']}×**, "
        f"frames / minutes {tiers['ratio_frames_over_minutes']}× (an agent-year from frames: about "
        f"{tiers['agent_year_from_frames_s_extrapolated']} s, were they kept that long).", "",
        "Storage tiers (table, indexes and TOAST: `hypertable_size()` for hypertables, `pg_total_relation_size` for "
        "the ledger; an agent-day is one agent's local day with data):", "",
        f"| tier | rows | agent-days | size | bytes / agent-day | {CITY_AGENTS:,} agents, one day "
        "| over its retention (30 d, 400 d, a year of ledger) |",
        "| --- | --- | --- | --- | --- | --- | --- |", *rows, "",
        f"City figures: {CITY_AGENTS:,} agents on 8-hour shifts, 225 working days a year. Raw IMU is kept only "
        "around events and is not generated here. The minute tier is stored uncompressed: TimescaleDB's "
        "compression is in the Community edition only, not in the Apache edition installed here (not measured).",
        "",
        f"One agent-day takes {_n(frames_per)} B as per-second frames, {_n(minutes_per)} B as minutes "
        f"({frames_per / minutes_per:,.0f}× less) and {_n(ledger_per)} B in the ledger "
        f"({frames_per / ledger_per:,.0f}× less than frames)." if frames_per and minutes_per and ledger_per else "",
        f"What the minute tier costs the ingest, on a {ing['batch_frames']:,}-frame batch from as many agents (the "
        f"worst case: one minute row per frame, as at 10,000 agents sending every second): `insert_frames` "
        f"{ing['insert_frames_ms']} ms, `add_frame_minutes` {ing['add_frame_minutes_ms']} ms "
        f"({ing['rollup_share_of_writes'] * 100:.0f} % of the two; binary COPY into a staging table and one "
        "upsert, an `unnest` of array parameters measured 2–3× slower).",
    ]) + "\n"  # fmt: skip
