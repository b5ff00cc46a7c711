"""Exposure: an agent's day minute by minute, per-day ledger, crew reports (JSON, CSV, PDF), the annual statement."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response

from gateway.api import scoping
from gateway.api.deps import ConnDep, NowDep, SettingsDep
from gateway.api.security import PrincipalDep
from gateway.db import curves, exposure_queries
from gateway.exposure_view import annual_json, day_json
from gateway.reports import csv_report
from gateway.timefmt import iso
from services.access import Principal
from services.exposure import today

router = APIRouter(prefix="/api/v1", tags=["exposure"])
MAX_SPAN = timedelta(days=366)
Day = Annotated[date, Query(description="local day, YYYY-MM-DD")]


def _pdf(renderer: str, *args: Any, **kwargs: Any) -> bytes:
    """Render a PDF in a worker thread; matplotlib (~1 s to import) is loaded there, on the first PDF only."""
    from gateway.reports import pdf_report

    pdf: bytes = getattr(pdf_report, renderer)(*args, **kwargs)
    return pdf


def _check_span(start: date, end: date) -> None:
    if end < start:
        raise HTTPException(422, "`to` must not be before `from`")
    if end - start > MAX_SPAN:
        raise HTTPException(422, "a report covers at most 366 days")


async def _days(conn: ConnDep, start: date, end: date, agent_id: str | None, crew_id: str | None,
                principal: Principal, key: bytes) -> list[dict[str, Any]]:  # fmt: skip
    rows = await exposure_queries.days(conn, start, end, agent_id=agent_id, crew_id=crew_id)
    days = [day_json(r, exposure_queries.profile_of(r), r["display_name"]) for r in rows]
    return [scoping.pseudonymise(d, principal, key, "agent_name") for d in days]


@router.get("/agents/{agent_id}/exposure/today")
async def agent_exposure_today(agent_id: str, conn: ConnDep, settings: SettingsDep, now: NowDep,
                               principal: PrincipalDep,
                               day: Annotated[date | None, Query(description="local day, YYYY-MM-DD; default today")]
                               = None) -> dict[str, Any]:  # fmt: skip
    """The agent's day minute by minute (cumulative doses, WBGT, heart rate, lifts) with action and limit lines.

    Minutes without any frame are left out; doses are shares of the daily reference as in ``GET /agents``.
    """
    agent = await exposure_queries.agent(conn, agent_id)
    if agent is None:
        raise HTTPException(404, f"no agent {agent_id}")
    tz = ZoneInfo(settings.site_timezone)
    day = day or now.astimezone(tz).date()
    start, end = today.local_day_bounds(day, tz)
    rows = await curves.minutes(conn, agent_id, start, end)
    sums = today.cumulative_curves(rows.noise_sum_t_10pow, rows.hav_sum_a2t, rows.lifts, rows.tonnage_kg)
    profile = exposure_queries.profile_of(agent)
    lines = {
        "noise_dose_pct": today.noise_dose_lines(profile.hearing_attenuation_db),
        "hav_points": today.hav_points_lines(), "wbgt_c": today.wbgt_lines(profile.wbgt_ref_c),
        "hr_bpm": today.hr_lines(), "lifts": (), "tonnage_kg": today.tonnage_lines(),
    }  # fmt: skip
    who = scoping.pseudonymise({"agent_id": agent_id, "display_name": agent["display_name"]}, principal,
                               settings.pseudonym_key, "display_name")  # fmt: skip
    return {
        **who, "day": day.isoformat(), "timezone": settings.site_timezone,
        "series": {
            "t": [iso(m) for m in rows.minute], "noise_dose_pct": sums.noise_dose_pct.tolist(),
            "hav_points": sums.hav_points.tolist(), "wbgt_c": today.minute_max_wbgt_c(rows.env),
            "hr_bpm": rows.hr_bpm, "lifts": sums.lifts.tolist(), "tonnage_kg": sums.tonnage_kg.tolist(),
        },
        "lines": {name: [asdict(line) for line in group] for name, group in lines.items()},
    }  # fmt: skip


@router.get("/agents/{agent_id}/exposure")
async def agent_exposure(agent_id: str, conn: ConnDep, settings: SettingsDep, principal: PrincipalDep,
                         start: Annotated[date, Query(alias="from")],
                         end: Annotated[date, Query(alias="to")]) -> dict[str, Any]:  # fmt: skip
    """One object per local day with exposure: noise, HAV, WBV, heat, lifting, night, with provenance."""
    _check_span(start, end)
    if await exposure_queries.agent(conn, agent_id) is None:
        raise HTTPException(404, f"no agent {agent_id}")
    items = await _days(conn, start, end, agent_id, None, principal, settings.pseudonym_key)
    shown = scoping.pseudonymise({"agent_id": agent_id}, principal, settings.pseudonym_key, "agent_name")
    return {"agent_id": shown["agent_id"], "from": start.isoformat(), "to": end.isoformat(), "items": items}


@router.get("/reports/exposure", response_model=None)
async def exposure_report(conn: ConnDep, settings: SettingsDep, principal: PrincipalDep,
                          start: Annotated[date, Query(alias="from")],
                          end: Annotated[date, Query(alias="to")], crew_id: str | None = None,
                          agent_id: str | None = None, format: Literal["json", "csv", "pdf"] = "json",
                          lang: Literal["fr", "en"] = "fr") -> dict[str, Any] | Response:  # fmt: skip
    """A crew's (or one agent's) exposure over a period: JSON, CSV (one row per agent-day) or PDF."""
    _check_span(start, end)
    if crew_id is None and agent_id is None:
        raise HTTPException(422, "give crew_id or agent_id")
    days = await _days(conn, start, end, agent_id, crew_id, principal, settings.pseudonym_key)
    if agent_id is not None:
        agent_id = scoping.pseudonymise({"agent_id": agent_id}, principal, settings.pseudonym_key, "_")["agent_id"]
    subject = (f"équipe {crew_id}" if lang == "fr" else f"crew {crew_id}") if crew_id else f"agent {agent_id}"
    name = f"vigie-exposure-{crew_id or agent_id}-{start}-{end}"
    if format == "csv":
        return Response(csv_report.exposure_csv(days), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})  # fmt: skip
    if format == "pdf":
        title = f"Vigie — {'expositions' if lang == 'fr' else 'exposure'}, {subject}"
        pdf = await asyncio.to_thread(_pdf, "exposure_pdf", title, (start, end), days, lang,
                                    generated_at=datetime.now(UTC))
        return Response(pdf, media_type="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'})  # fmt: skip
    return {"subject": subject, "from": start.isoformat(), "to": end.isoformat(), "items": days}


@router.get("/reports/annual", response_model=None)
async def annual_report(agent_id: str, year: Annotated[int, Query(ge=2000, le=2100)], conn: ConnDep,
                        settings: SettingsDep, principal: PrincipalDep,
                        format: Literal["json", "pdf"] = "json", lang: Literal["fr", "en"] = "fr"
                        ) -> dict[str, Any] | Response:  # fmt: skip
    """The Code du travail D4163-2 annual statement of one agent, each factor against its threshold."""
    agent = await exposure_queries.agent(conn, agent_id)
    if agent is None:
        raise HTTPException(404, f"no agent {agent_id}")
    rows = await exposure_queries.days(conn, date(year, 1, 1), date(year, 12, 31), agent_id=agent_id)
    who = scoping.pseudonymise({"agent_id": agent_id, "display_name": agent["display_name"]}, principal,
                               settings.pseudonym_key, "display_name")  # fmt: skip
    statement = annual_json(who["agent_id"], who["display_name"], year, rows, exposure_queries.profile_of(agent))
    if format == "pdf":
        pdf = await asyncio.to_thread(_pdf, "annual_pdf", statement, lang, generated_at=datetime.now(UTC))
        return Response(pdf, media_type="application/pdf", headers={
            "Content-Disposition": f'attachment; filename="vigie-annual-{agent_id}-{year}.pdf"'})  # fmt: skip
    return statement
