"""The FastAPI application: built by ``create_app(settings)``, resources opened in its lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any

import psycopg
from fastapi import Depends, FastAPI, Request, Response, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from psycopg_pool import AsyncConnectionPool

from dashboards import static_dir
from gateway.api import (
    routes_alerts,
    routes_auth,
    routes_credentials,
    routes_exposure,
    routes_ops,
    routes_registry,
    routes_rules,
    routes_signals,
)
from gateway.api.live import LiveHub
from gateway.api.security import authenticate_token, authorize
from gateway.bootstrap import build_ingest
from gateway.mqtt.accounts import BrokerAuthFiles
from gateway.mqtt.broker_sync import BrokerAuthSync
from gateway.settings import Settings

MAX_BODY_BYTES = 1_048_576


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
            settings.database_url, min_size=1, max_size=settings.db_pool_max, open=False
        )
        await pool.open(wait=True, timeout=30)
        hub = LiveHub(settings.database_url, pool, settings,
                      authenticate=lambda token: authenticate_token(token, settings.jwt_secret_value, pool))
        await hub.start()
        ingest = build_ingest(settings) if settings.run_ingest else None
        if ingest is not None:
            ingest.start()
        app.state.settings, app.state.pool, app.state.hub, app.state.ingest = settings, pool, hub, ingest
        app.state.broker_sync = None if settings.mqtt_auth_dir is None else BrokerAuthSync(
            BrokerAuthFiles(settings.mqtt_auth_dir), settings.mqtt_broker_pid_file)  # fmt: skip
        try:
            yield
        finally:
            if ingest is not None:
                ingest.stop()
            await hub.stop()
            await pool.close()

    app = FastAPI(title="Vigie", version="0.1.0", lifespan=lifespan,
                  description="Field-safety monitoring: wearables, robots, alerts, exposure.")  # fmt: skip

    @app.middleware("http")
    async def limit_body(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        too_large = JSONResponse({"detail": f"request body over {MAX_BODY_BYTES} bytes"}, status_code=413)
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
            return too_large
        if length is None:
            # Chunked (RFC 9112 §7.1) or unannounced: count while reading, never buffer more than the limit.
            body = bytearray()
            async for chunk in request.stream():
                body += chunk
                if len(body) > MAX_BODY_BYTES:
                    return too_large
            request._body = bytes(body)  # what Request.body() caches: Starlette hands it on to the route
        return await call_next(request)

    @app.exception_handler(psycopg.DataError)
    async def unstorable_value(_request: Request, exc: psycopg.DataError) -> JSONResponse:
        # A value the database cannot hold (a NUL in a name, a number out of its column's range): the client's
        # input, so 422 with the reason, not a 500.
        return JSONResponse({"detail": f"value not storable: {str(exc).splitlines()[0][:200]}"}, status_code=422)

    # Every route goes through the access policy (gateway/api/security.py): authenticate, authorise, audit.
    for module in (routes_ops, routes_auth, routes_alerts, routes_registry, routes_exposure, routes_rules,
                   routes_credentials, routes_signals):  # fmt: skip
        app.include_router(module.router, dependencies=[Depends(authorize)])

    @app.websocket("/api/v1/live")
    async def live(ws: WebSocket) -> None:
        """Alerts, link changes and coalesced agent/robot state changes as JSON messages."""
        await ws.accept()
        with suppress(WebSocketDisconnect):
            await app.state.hub.serve(ws, ws.receive_text)

    app.mount("/", StaticFiles(directory=static_dir(), html=True), name="dashboard")
    return app
