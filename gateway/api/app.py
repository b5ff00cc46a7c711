"""The FastAPI application: built by ``create_app(settings)``, resources opened in its lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any

from fastapi import FastAPI, Request, Response, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from psycopg_pool import AsyncConnectionPool

from dashboards import static_dir
from gateway.api import routes_alerts, routes_exposure, routes_ops, routes_registry, routes_rules
from gateway.api.live import LiveHub
from gateway.bootstrap import build_ingest
from gateway.settings import Settings

MAX_BODY_BYTES = 1_048_576


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
            settings.database_url, min_size=1, max_size=settings.db_pool_max, open=False
        )
        await pool.open(wait=True, timeout=30)
        hub = LiveHub(settings.database_url, pool, settings.stale_after_s)
        await hub.start()
        ingest = build_ingest(settings) if settings.run_ingest else None
        if ingest is not None:
            ingest.start()
        app.state.settings, app.state.pool, app.state.hub, app.state.ingest = settings, pool, hub, ingest
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
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
            return JSONResponse({"detail": f"request body over {MAX_BODY_BYTES} bytes"}, status_code=413)
        return await call_next(request)

    app.include_router(routes_ops.router)
    app.include_router(routes_alerts.router)
    app.include_router(routes_registry.router)
    app.include_router(routes_exposure.router)
    app.include_router(routes_rules.router)

    @app.websocket("/api/v1/live")
    async def live(ws: WebSocket) -> None:
        """Alerts, link changes and coalesced agent/robot state changes as JSON messages."""
        await ws.accept()
        with suppress(WebSocketDisconnect):
            await app.state.hub.serve(ws, ws.receive_text)

    app.mount("/", StaticFiles(directory=static_dir(), html=True), name="dashboard")
    return app
