"""Operations: health, metrics, stored frames and the dead-letter table."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from gateway.api.deps import ConnDep, get_pool
from gateway.db import queries

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    """``ok`` when the database answers and, if this process ingests, MQTT is connected and storing."""
    checks: dict[str, bool] = {}
    try:
        async with get_pool(request).connection(timeout=2.0) as conn:
            await conn.execute("SELECT 1")
        checks["database"] = True
    except (psycopg.Error, TimeoutError, Exception):  # any failure here is the answer, not an error
        checks["database"] = False
    ingest = request.app.state.ingest
    if ingest is not None:
        checks.update(ingest.checks())
    checks["live"] = request.app.state.hub.listening.is_set()
    ok = all(checks.values())
    return JSONResponse({"status": "ok" if ok else "degraded", "checks": checks}, status_code=200 if ok else 503)


@router.get("/metrics")
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


@router.get("/api/v1/frames", tags=["data"])
async def list_frames(conn: ConnDep, device_id: str | None = None, agent_id: str | None = None,
                      start: Annotated[datetime | None, Query(alias="from")] = None,
                      end: Annotated[datetime | None, Query(alias="to")] = None,
                      limit: Annotated[int, Query(ge=1, le=10_000)] = 100) -> dict[str, Any]:  # fmt: skip
    """Stored per-second frame summaries, newest first."""
    return {"items": await queries.frames(conn, device_id, agent_id, start, end, limit)}


@router.get("/api/v1/dead-letters", tags=["data"])
async def list_dead_letters(conn: ConnDep, limit: Annotated[int, Query(ge=1, le=10_000)] = 100) -> dict[str, Any]:
    """Rejected MQTT messages with their reason and a bounded payload excerpt, newest first."""
    return {"items": await queries.dead_letters(conn, limit)}
