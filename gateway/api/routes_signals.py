"""Weak signals (issue 9): the signals of a scope and period, the weekly report, the sites' signal readers.

Who sees what (privacy by design, docs/privacy.md) is decided by services/access.py (``may_read_signal``,
``shown_signal_subject``): crew, site and robot signals for safety officers and admins, a supervisor's own crews'
crew and robot signals, an individual signal for the agent themself and the site's named signal readers,
pseudonymised unless they may see names; groups smaller than ``signals_min_group_size`` are withheld and counted
(services/signals/privacy.py). This module reads, adapts and delegates. Every read is written to the audit log by
the access guard (gateway/api/security.py). Meanings are in the asked language (services/signals/meanings.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from gateway.api.deps import ConnDep, NowDep, SettingsDep
from gateway.api.security import PrincipalDep
from gateway.db import access_store, signal_reviews, signals_queries
from gateway.db.signals_queries import Scope, Subject
from gateway.reports import signals_report
from gateway.reports.i18n import Lang
from services.access import Principal, Role, may_read_signal, may_review_signal, shown_signal_subject
from services.signals.detect import detect
from services.signals.model import Signal
from services.signals.params import DEFAULT_PARAMS
from services.signals.privacy import visible
from services.signals.review import NOTE_MAX_CHARS, FlagKey, InvalidReview, Review, flag_key, make_review, reference

router = APIRouter(prefix="/api/v1", tags=["signals"])
DEFAULT_SPAN = timedelta(days=55)  # eight weeks: a baseline and a recent window (services/signals/detect.py)
MAX_SPAN = timedelta(days=366)
HISTORY = timedelta(days=DEFAULT_PARAMS.window_days - 1)
"""Inputs are read from ``to`` − HISTORY (or ``from`` if earlier): the window ``detect`` analyses, so a short
requested period still has its subjects' baselines (30 valid days) behind it."""
IdPath = Annotated[str, Path(min_length=1, max_length=64)]


def _readable(principal: Principal, signal: Signal, subject: Subject | None, reader_sites: Collection[str]) -> bool:
    """services.access.may_read_signal on the signal and where its subject belongs (unknown: None)."""
    site_id, crew_id = (subject.site_id, subject.crew_id) if subject else (None, None)
    return may_read_signal(principal, signal.subject_kind, signal.subject_id, site_id=site_id, crew_id=crew_id,
                           reader_sites=reader_sites)  # fmt: skip


async def _scope(conn: ConnDep, principal: Principal, site: str | None, crew: str | None) -> Scope:
    if principal.role is Role.SUPERVISOR and crew is not None and crew not in principal.crew_ids:
        raise HTTPException(403, f"crew {crew} is not in your scope")
    if principal.role is Role.AGENT:
        # The agent's own signals are read against their crew (e.g. tonnage versus the crew).
        _, own_crew = await access_store.agent_crew(conn, principal.agent_id or "")
        if own_crew is None or (crew is not None and crew != own_crew):
            return Scope(site, crew, principal.agent_id)
        return Scope(site, own_crew)
    return Scope(site, crew)


@dataclass(frozen=True, slots=True)
class _Shown:
    """The signals of a scope and period this principal may read, and how to show them."""

    signals: list[Signal]
    withheld: int
    subjects: dict[tuple[str, str], Subject]
    reader_sites: frozenset[str]

    def subject_of(self, s: Signal) -> Subject | None:
        return self.subjects.get((s.subject_kind.value, s.subject_id))


async def _shown(conn: ConnDep, principal: Principal, scope: Scope, start: date, end: date,
                 settings: SettingsDep) -> _Shown:  # fmt: skip
    tz = ZoneInfo(settings.site_timezone)
    # From 1 January too: the night-work projection counts the calendar year's nights (D4163-2); detect() uses the
    # days before its window for that alone.
    data = await signals_queries.inputs(conn, min(start, end - HISTORY, date(end.year, 1, 1)), end, tz, scope)
    found = detect(data.agent_days, data.robot_days, data.heat_episodes, until=end)
    sites: frozenset[str] = frozenset()
    if principal.role in (Role.ADMIN, Role.SAFETY_OFFICER):
        sites = await signals_queries.reader_sites(conn, principal.subject)
    partial = _Shown([], 0, data.subjects, sites)

    def readable(s: Signal) -> bool:
        return _readable(principal, s, partial.subject_of(s), sites)

    shown, withheld = visible([s for s in found if readable(s)], min_group_size=settings.signals_min_group_size,
                              individual_allowed=readable)  # fmt: skip
    return _Shown(list(shown), withheld, data.subjects, sites)


async def signals_for(conn: ConnDep, settings: SettingsDep, principal: Principal, scope: Scope, start: date,
                      end: date, lang: Lang) -> dict[str, Any]:  # fmt: skip
    """The signals of the scope over [start, end] that this principal may read, and how many were withheld; each
    signal's meaning in ``lang``, a flagged one's reference and recorded follow-up.

    Their inputs go back ``HISTORY`` before ``end`` (a signal's series may start before ``start``).
    """
    found = await _shown(conn, principal, scope, start, end, settings)
    keyed = [(s, flag_key(s)) for s in found.signals]
    reviews = await signal_reviews.of_flags(conn, [k for _, k in keyed if k is not None])
    items = [_item(s, found, principal, settings, lang, k, reviews) for s, k in keyed]
    return {"from": start.isoformat(), "to": end.isoformat(), "lang": lang,
            "min_group_size": settings.signals_min_group_size, "withheld": found.withheld,
            "items": signals_report.ordered(items)}  # fmt: skip


def _item(s: Signal, found: _Shown, principal: Principal, settings: SettingsDep, lang: Lang, key: FlagKey | None,
          reviews: Mapping[FlagKey, Review]) -> dict[str, Any]:  # fmt: skip
    subject = found.subject_of(s)
    shown_id, label = shown_signal_subject(principal, s.subject_kind, s.subject_id, subject.label if subject else None,
                                           settings.pseudonym_key)  # fmt: skip
    ref = reference(key, settings.pseudonym_key) if key else None
    return signals_report.signal_json(s, shown_id, label, lang, ref, reviews.get(key) if key else None)


@router.get("/signals")
async def list_signals(conn: ConnDep, settings: SettingsDep, principal: PrincipalDep, now: NowDep,
                       site: str | None = None, crew: str | None = None,
                       start: Annotated[date | None, Query(alias="from", description="first local day")] = None,
                       end: Annotated[date | None, Query(alias="to", description="last local day (default today)")]
                       = None,
                       lang: Annotated[Lang, Query(description="language of the meanings")] = "fr"
                       ) -> dict[str, Any]:  # fmt: skip
    """Weak signals: trends with a baseline, an effect size and a confidence, per agent, crew, site and robot.

    Not a diagnosis and not a ranking: each item says what it measures and what it may mean (``meaning``, in
    ``lang``: French by default, English on request).
    """
    end = end or now.astimezone(ZoneInfo(settings.site_timezone)).date()
    start = start or end - DEFAULT_SPAN
    if end < start:
        raise HTTPException(422, "`to` must not be before `from`")
    if end - start > MAX_SPAN:
        raise HTTPException(422, "at most 366 days")
    scope = await _scope(conn, principal, site, crew)
    return await signals_for(conn, settings, principal, scope, start, end, lang)


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: str = Field(description="action (measures taken or planned), watch, or explained (no measure needed)")
    note: str = Field("", max_length=4 * NOTE_MAX_CHARS, description="what was done, or what explains the flag")


@router.put("/signals/{ref}/review")
async def review_signal(ref: Annotated[str, Path(pattern=r"^sig-[0-9a-f]{20}$")], body: ReviewIn, conn: ConnDep,
                        settings: SettingsDep, principal: PrincipalDep, now: NowDep,
                        site: str | None = None, crew: str | None = None,
                        end: Annotated[date | None, Query(alias="to", description="last local day (default today)")]
                        = None, lang: Lang = "fr") -> dict[str, Any]:  # fmt: skip
    """Record the follow-up of a flagged signal, found by its ``ref`` among the signals the caller reads in the
    same scope (``site``, ``crew``) up to ``to``; returns the signal with its review. Replaces an earlier review
    of the same flag; every write is audited."""
    end = end or now.astimezone(ZoneInfo(settings.site_timezone)).date()
    scope = await _scope(conn, principal, site, crew)
    found = await _shown(conn, principal, scope, end - DEFAULT_SPAN, end, settings)
    match = next(((s, k) for s in found.signals if (k := flag_key(s)) and reference(k, settings.pseudonym_key) == ref),
                 None)  # fmt: skip
    if match is None:
        raise HTTPException(404, f"no flagged signal {ref} among those you read here up to {end}")
    signal, key = match
    subject = found.subject_of(signal)
    if not may_review_signal(principal, signal.subject_kind, signal.subject_id,
                             site_id=subject.site_id if subject else None, crew_id=subject.crew_id if subject else None,
                             reader_sites=found.reader_sites):  # fmt: skip
        raise HTTPException(403, "the follow-up of a signal is recorded by the staff who read it, not by its agent")
    try:
        review = make_review(key, body.outcome, body.note, principal.subject, now)
    except InvalidReview as exc:
        raise HTTPException(422, str(exc)) from exc
    await signal_reviews.save(conn, review)
    return _item(signal, found, principal, settings, lang, key, {key: review})


@router.get("/reports/signals", response_model=None)
async def signals_weekly_report(conn: ConnDep, settings: SettingsDep, principal: PrincipalDep,
                                week: Annotated[str, Query(description="ISO week, YYYY-Www")],
                                site: str | None = None, crew: str | None = None,
                                format: Literal["json", "csv", "pdf"] = "csv",
                                lang: Lang = "fr") -> dict[str, Any] | Response:  # fmt: skip
    """The weekly signals report for safety officers: CSV (one row per signal) or PDF (trend plots, meanings),
    with the meanings in the report's language."""
    try:
        monday, sunday = signals_report.week_period(week)
        start, end = signals_report.report_span(week)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    scope = await _scope(conn, principal, site, crew)
    body = await signals_for(conn, settings, principal, scope, start, end, lang)
    subject = crew or site or ("tous sites" if lang == "fr" else "all sites")
    name = f"vigie-signals-{subject}-{week}".replace(" ", "-")
    if format == "csv":
        return Response(signals_report.signals_csv(body["items"]), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})  # fmt: skip
    if format == "pdf":
        pdf = await asyncio.to_thread(_pdf, subject, week, (monday, sunday), body, lang, datetime.now(UTC))
        return Response(pdf, media_type="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'})  # fmt: skip
    return {"week": week, "subject": subject, **body}


def _pdf(subject: str, week: str, period: tuple[date, date], body: dict[str, Any], lang: Lang,
         generated_at: datetime) -> bytes:  # fmt: skip
    """Render in a worker thread; matplotlib is imported there, on the first PDF only."""
    from gateway.reports import pdf_signals

    return pdf_signals.signals_pdf(subject, week, period, body, lang, generated_at=generated_at)


@router.get("/sites/{site_id}/signal-readers")
async def list_signal_readers(site_id: IdPath, conn: ConnDep) -> dict[str, Any]:
    """The people named to read the site's individual signals (besides each agent, who reads their own)."""
    rows = await signals_queries.readers(conn, site_id)
    return {"site_id": site_id, "items": [{"username": r["username"], "added_at": r["added_at"].isoformat()}
                                          for r in rows]}  # fmt: skip


@router.put("/sites/{site_id}/signal-readers/{username}")
async def add_signal_reader(site_id: IdPath, username: IdPath, conn: ConnDep) -> dict[str, Any]:
    if not await signals_queries.add_reader(conn, site_id, username):
        raise HTTPException(404, f"no site {site_id} or no user {username}")
    return {"site_id": site_id, "username": username}


@router.delete("/sites/{site_id}/signal-readers/{username}", status_code=204)
async def remove_signal_reader(site_id: IdPath, username: IdPath, conn: ConnDep) -> Response:
    if not await signals_queries.remove_reader(conn, site_id, username):
        raise HTTPException(404, f"{username} is not a signal reader of {site_id}")
    return Response(status_code=204)
