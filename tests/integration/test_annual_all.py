"""``vigie report annual --all``: every agent's D4163-2 statement in one CSV, equal to each agent's own."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from gateway import cli
from gateway.db import exposure_queries
from gateway.exposure_view import annual_json
from gateway.reports.annual_all import all_statements

pytestmark = pytest.mark.integration


def _ledger(url: str) -> None:
    """Three agents over 2025: one with 130 nights, one with loud days, one quiet; days of 2024 to ignore."""
    with psycopg.connect(url) as conn:
        for agent in ("agent-n", "agent-l", "agent-q"):
            conn.execute("INSERT INTO agents (agent_id, display_name) VALUES (%s, %s)", (agent, f"Name {agent}"))
        rows = []
        for k in range(200):
            day = date(2025, 1, 1) + timedelta(days=k)
            rows.append(("agent-n", day, 28_800.0, 7_200.0 if k < 130 else 0.0, 0.0, 0.0))
            # 8 h at 88 dB(A): Σ t·10^(0.1·L) = 28,800·10^8.8 (ISO 9612), above 81 dB(A) at the ear.
            rows.append(("agent-l", day, 28_800.0, 0.0, 28_800.0, 28_800 * 10**8.8))
            rows.append(("agent-q", day, 28_800.0, 0.0, 28_800.0, 28_800 * 10**7.0))
        rows.append(("agent-q", date(2024, 12, 31), 28_800.0, 28_800.0, 0.0, 0.0))
        with conn.cursor().copy("COPY exposure_days (agent_id, day, worked_s, night_s, noise_s, noise_sum_t_10pow)"
                                " FROM STDIN") as copy:  # fmt: skip
            for row in rows:
                copy.write_row(row)


def test_the_city_wide_statement_equals_each_agents_own_and_is_audited(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _ledger(database_url)
    out = tmp_path / "annual.csv"
    assert cli.main(["report", "annual", "--all", "--year", "2025", "--database-url", database_url,
                     "-o", str(out)]) == 0  # fmt: skip
    rows = {r["agent_id"]: r for r in csv.DictReader(io.StringIO(out.read_text()))}
    assert set(rows) == {"agent-n", "agent-l", "agent-q"}
    assert (rows["agent-n"]["nights_reached"], rows["agent-n"]["nights"]) == ("yes", "130.0")
    assert rows["agent-l"]["factors_reached"] == "noise" and rows["agent-l"]["noise_hours"] == "1600.0"
    assert rows["agent-q"]["factors_reached"] == "" and rows["agent-q"]["days"] == "200"

    with psycopg.connect(database_url) as conn:
        audit = conn.execute("SELECT action, query FROM audit_log WHERE action = 'annual_all'").fetchall()
    assert audit == [("annual_all", "year=2025")]
    # One process or two: the same statements, in the same order.
    assert all_statements(database_url, 2025, jobs=1) == all_statements(database_url, 2025, jobs=2)


def test_each_row_is_the_statement_the_api_gives_for_that_agent(database_url: str) -> None:
    _ledger(database_url)
    everyone = {s["agent_id"]: s for s in all_statements(database_url, 2025, jobs=2)}
    asyncio.run(_same_as_the_api(database_url, everyone))


async def _same_as_the_api(database_url: str, everyone: dict[str, dict[str, Any]]) -> None:
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        for agent_id, statement in everyone.items():
            agent = await exposure_queries.agent(conn, agent_id)
            assert agent is not None
            rows = await exposure_queries.days(conn, date(2025, 1, 1), date(2025, 12, 31), agent_id=agent_id)
            own = annual_json(agent_id, agent["display_name"], 2025, rows, exposure_queries.profile_of(agent))
            assert statement == own
