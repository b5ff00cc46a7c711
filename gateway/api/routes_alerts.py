"""Alerts: list, read, acknowledge, resolve."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query

from gateway.api.deps import ConnDep, NowDep, SettingsDep
from gateway.api.schemas import AckIn, CommentIn, ResolveIn
from gateway.api.security import PrincipalDep
from gateway.db import queries
from gateway.db.alerts_store import AlertNotFound, transition
from services.access import Principal, Role, crew_filter, shown_name
from services.errors import InvalidTransition

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])
StatusFilter = Literal["open", "raised", "acknowledged", "resolved"]


def _named(alert: dict[str, Any], principal: Principal, key: bytes) -> dict[str, Any]:
    """The alert as this principal may see it: a safety officer not authorised for names gets pseudonyms."""
    if principal.sees_names or not alert.get("agent_id"):
        return alert
    return {**alert, "agent_name": shown_name(principal, alert["agent_id"], alert.get("agent_name"), key)}


@router.get("")
async def list_alerts(conn: ConnDep, principal: PrincipalDep, settings: SettingsDep,
                      status: StatusFilter | None = None, agent_id: str | None = None,
                      limit: Annotated[int, Query(ge=1, le=5000)] = 200) -> dict[str, Any]:  # fmt: skip
    """Alerts, newest first; ``status=open`` means raised or acknowledged. A supervisor gets their crews'."""
    items = await queries.alerts(conn, status, agent_id, limit, crew_filter(principal))
    return {"items": [_named(a, principal, settings.pseudonym_key) for a in items]}


@router.get("/stats")
async def alert_stats(conn: ConnDep, start: Annotated[datetime, Query(alias="from")],
                      end: Annotated[datetime, Query(alias="to")], site_id: str | None = None
                      ) -> dict[str, Any]:  # fmt: skip
    """Time to acknowledge and to resolve (p50/p95, seconds) per site over a period; late alerts excluded."""
    return {"from": start.isoformat(), "to": end.isoformat(),
            "items": await queries.alert_timings(conn, start, end, site_id)}  # fmt: skip


@router.get("/{alert_id}/events")
async def alert_events(alert_id: uuid.UUID, conn: ConnDep) -> dict[str, Any]:
    """The audit trail: every state change, escalation and comment, oldest first."""
    return {"items": await queries.alert_events(conn, str(alert_id))}


@router.post("/{alert_id}/comments", status_code=201)
async def comment_alert(alert_id: uuid.UUID, body: CommentIn, conn: ConnDep, now: NowDep,
                        principal: PrincipalDep) -> dict[str, Any]:  # fmt: skip
    if await queries.alert(conn, str(alert_id)) is None:
        raise HTTPException(404, f"no alert {alert_id}")
    return await queries.add_comment(conn, str(alert_id), body.by or principal.subject, body.text, now,
                                     account=principal.subject)  # fmt: skip


@router.get("/{alert_id}")
async def get_alert(alert_id: uuid.UUID, conn: ConnDep, principal: PrincipalDep, settings: SettingsDep
                    ) -> dict[str, Any]:  # fmt: skip
    found = await queries.alert(conn, str(alert_id))
    if found is None:
        raise HTTPException(404, f"no alert {alert_id}")
    if principal.role is Role.AGENT and found.get("agent_id") != principal.agent_id:
        raise HTTPException(403, "agents see only their own alerts")
    return _named(found, principal, settings.pseudonym_key)


async def _transition(conn: ConnDep, alert_id: uuid.UUID, action: str, by: str | None, principal: Principal,
                      now: NowDep, body: ResolveIn | None = None) -> dict[str, Any]:  # fmt: skip
    try:
        return await transition(conn, alert_id, action, by or principal.subject, now,
                                reason=body.reason if body else None, comment=body.comment if body else None,
                                account=principal.subject)  # fmt: skip
    except AlertNotFound as exc:
        raise HTTPException(404, f"no alert {alert_id}") from exc
    except InvalidTransition as exc:
        raise HTTPException(409, str(exc)) from exc


@router.post("/{alert_id}/ack")
async def acknowledge_alert(alert_id: uuid.UUID, conn: ConnDep, now: NowDep, principal: PrincipalDep,
                            body: AckIn | None = None) -> dict[str, Any]:  # fmt: skip
    """Take the alert in hand (raised → acknowledged). 409 when it is not raised."""
    return await _transition(conn, alert_id, "acknowledged", (body or AckIn()).by, principal, now)


@router.post("/{alert_id}/resolve")
async def resolve_alert(alert_id: uuid.UUID, body: ResolveIn, conn: ConnDep, now: NowDep,
                        principal: PrincipalDep) -> dict[str, Any]:  # fmt: skip
    """Close the alert with a reason (real_incident, false_alarm, help_dispatched, test)."""
    return await _transition(conn, alert_id, "resolved", body.by, principal, now, body)
