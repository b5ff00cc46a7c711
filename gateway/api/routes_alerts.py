"""Alerts: list, read, acknowledge, resolve."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query

from gateway.api.deps import ConnDep, NowDep
from gateway.api.schemas import AckIn, CommentIn, ResolveIn
from gateway.db import queries
from gateway.db.alerts_store import AlertNotFound, transition
from services.errors import InvalidTransition

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])
StatusFilter = Literal["open", "raised", "acknowledged", "resolved"]


@router.get("")
async def list_alerts(conn: ConnDep, status: StatusFilter | None = None, agent_id: str | None = None,
                      limit: Annotated[int, Query(ge=1, le=5000)] = 200) -> dict[str, Any]:  # fmt: skip
    """Alerts, newest first; ``status=open`` means raised or acknowledged."""
    return {"items": await queries.alerts(conn, status, agent_id, limit)}


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
async def comment_alert(alert_id: uuid.UUID, body: CommentIn, conn: ConnDep, now: NowDep) -> dict[str, Any]:
    if await queries.alert(conn, str(alert_id)) is None:
        raise HTTPException(404, f"no alert {alert_id}")
    return await queries.add_comment(conn, str(alert_id), body.by, body.text, now)


@router.get("/{alert_id}")
async def get_alert(alert_id: uuid.UUID, conn: ConnDep) -> dict[str, Any]:
    found = await queries.alert(conn, str(alert_id))
    if found is None:
        raise HTTPException(404, f"no alert {alert_id}")
    return found


async def _transition(conn: ConnDep, alert_id: uuid.UUID, action: str, by: str, now: NowDep,
                      body: ResolveIn | None = None) -> dict[str, Any]:  # fmt: skip
    try:
        return await transition(conn, alert_id, action, by, now,
                                reason=body.reason if body else None, comment=body.comment if body else None)
    except AlertNotFound as exc:
        raise HTTPException(404, f"no alert {alert_id}") from exc
    except InvalidTransition as exc:
        raise HTTPException(409, str(exc)) from exc


@router.post("/{alert_id}/ack")
async def acknowledge_alert(alert_id: uuid.UUID, conn: ConnDep, now: NowDep, body: AckIn | None = None
                            ) -> dict[str, Any]:  # fmt: skip
    """Take the alert in hand (raised → acknowledged). 409 when it is not raised."""
    return await _transition(conn, alert_id, "acknowledged", (body or AckIn()).by, now)


@router.post("/{alert_id}/resolve")
async def resolve_alert(alert_id: uuid.UUID, body: ResolveIn, conn: ConnDep, now: NowDep) -> dict[str, Any]:
    """Close the alert with a reason (real_incident, false_alarm, help_dispatched, test)."""
    return await _transition(conn, alert_id, "resolved", body.by, now, body)
