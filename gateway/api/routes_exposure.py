"""Exposure: per-day ledger of an agent, crew reports (JSON, CSV, PDF), the annual statement."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response

from gateway.api.deps import ConnDep
from gateway.db import exposure_queries
from gateway.exposure_view import annual_json, day_json
from gateway.reports import csv_report, pdf_report

router = APIRouter(prefix="/api/v1", tags=["exposure"])
MAX_SPAN = timedelta(days=366)
Day = Annotated[date, Query(description="local day, YYYY-MM-DD")]


def _check_span(start: date, end: date) -> None:
    if end < start:
        raise HTTPException(422, "`to` must not be before `from`")
    if end - start > MAX_SPAN:
        raise HTTPException(422, "a report covers at most 366 days")


async def _days(conn: ConnDep, start: date, end: date, agent_id: str | None, crew_id: str | None
                ) -> list[dict[str, Any]]:  # fmt: skip
    rows = await exposure_queries.days(conn, start, end, agent_id=agent_id, crew_id=crew_id)
    return [day_json(r, exposure_queries.profile_of(r), r["display_name"]) for r in rows]


@router.get("/agents/{agent_id}/exposure")
async def agent_exposure(agent_id: str, conn: ConnDep, start: Annotated[date, Query(alias="from")],
                         end: Annotated[date, Query(alias="to")]) -> dict[str, Any]:  # fmt: skip
    """One object per local day with exposure: noise, HAV, WBV, heat, lifting, night, with provenance."""
    _check_span(start, end)
    if await exposure_queries.agent(conn, agent_id) is None:
        raise HTTPException(404, f"no agent {agent_id}")
    return {"agent_id": agent_id, "from": start.isoformat(), "to": end.isoformat(),
            "items": await _days(conn, start, end, agent_id, None)}  # fmt: skip


@router.get("/reports/exposure", response_model=None)
async def exposure_report(conn: ConnDep, start: Annotated[date, Query(alias="from")],
                          end: Annotated[date, Query(alias="to")], crew_id: str | None = None,
                          agent_id: str | None = None, format: Literal["json", "csv", "pdf"] = "json",
                          lang: Literal["fr", "en"] = "fr") -> dict[str, Any] | Response:  # fmt: skip
    """A crew's (or one agent's) exposure over a period: JSON, CSV (one row per agent-day) or PDF."""
    _check_span(start, end)
    if crew_id is None and agent_id is None:
        raise HTTPException(422, "give crew_id or agent_id")
    days = await _days(conn, start, end, agent_id, crew_id)
    subject = (f"équipe {crew_id}" if lang == "fr" else f"crew {crew_id}") if crew_id else f"agent {agent_id}"
    name = f"vigie-exposure-{crew_id or agent_id}-{start}-{end}"
    if format == "csv":
        return Response(csv_report.exposure_csv(days), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})  # fmt: skip
    if format == "pdf":
        title = f"Vigie — {'expositions' if lang == 'fr' else 'exposure'}, {subject}"
        pdf = await asyncio.to_thread(pdf_report.exposure_pdf, title, (start, end), days, lang,
                                    generated_at=datetime.now(UTC))
        return Response(pdf, media_type="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'})  # fmt: skip
    return {"subject": subject, "from": start.isoformat(), "to": end.isoformat(), "items": days}


@router.get("/reports/annual", response_model=None)
async def annual_report(agent_id: str, year: Annotated[int, Query(ge=2000, le=2100)], conn: ConnDep,
                        format: Literal["json", "pdf"] = "json", lang: Literal["fr", "en"] = "fr"
                        ) -> dict[str, Any] | Response:  # fmt: skip
    """The Code du travail D4163-2 annual statement of one agent, each factor against its threshold."""
    agent = await exposure_queries.agent(conn, agent_id)
    if agent is None:
        raise HTTPException(404, f"no agent {agent_id}")
    rows = await exposure_queries.days(conn, date(year, 1, 1), date(year, 12, 31), agent_id=agent_id)
    statement = annual_json(agent_id, agent["display_name"], year, rows, exposure_queries.profile_of(agent))
    if format == "pdf":
        pdf = await asyncio.to_thread(pdf_report.annual_pdf, statement, lang, generated_at=datetime.now(UTC))
        return Response(pdf, media_type="application/pdf", headers={
            "Content-Disposition": f'attachment; filename="vigie-annual-{agent_id}-{year}.pdf"'})  # fmt: skip
    return statement
