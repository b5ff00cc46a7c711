"""A stand-in for the gateway's public API, serving the real dashboard files beside a synthetic site.

The dashboard is served from ``dashboards/static`` exactly as the gateway serves it; the REST snapshot and
the live WebSocket come from a :class:`SyntheticSite`. It is a real HTTP server with a real WebSocket
(uvicorn, in a thread, on a free loopback port), so the page meets what it meets in production: the
browser's own WebSocket and JSON parsing, not a scripted replacement of ``window.WebSocket``.

Each live message carries ``bench_seq`` and ``bench_sent_ms`` right after ``type`` (the page ignores
fields it does not know); the page's probe reads them from the first bytes of the text, without parsing
the whole message a second time.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from benchmarks.synthetic_site import SyntheticSite, basemap, iso
from dashboards import static_dir

REPO_ROOT = Path(__file__).resolve().parents[1]


def _json(body: Any, status_code: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status_code, media_type="application/json",
                    headers={"Cache-Control": "no-store"})  # fmt: skip


class FakeGateway:
    """Serves the dashboard and a synthetic site on ``url`` until :meth:`stop`."""

    def __init__(self, site: SyntheticSite, tick_s: float = 1.0) -> None:
        self.site = site
        self.tick_s = tick_s
        self.sent: dict[str, int] = {}  # message type -> count, for the report
        self.build_ms: list[float] = []  # time to build and encode each second's messages
        self._basemap = basemap(REPO_ROOT)
        self._seq = 0
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}/"
        app = Starlette(routes=[
            Route("/api/v1/alerts", self._alerts),
            Route("/api/v1/agents", self._agents),
            Route("/api/v1/robots", self._robots),
            Route("/api/v1/crews", self._crews),
            Route("/api/v1/basemap", self._basemap_route),
            WebSocketRoute("/api/v1/live", self._live),
            Route("/api/v1/{rest:path}", self._not_found, methods=["GET", "POST", "PUT", "DELETE"]),
            Mount("/", StaticFiles(directory=static_dir(), html=True)),
        ])  # fmt: skip
        self._server = uvicorn.Server(uvicorn.Config(app, log_level="warning", ws="websockets-sansio", lifespan="off",
                                                     ws_max_size=64 * 1024 * 1024))  # fmt: skip
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True)

    def start(self) -> FakeGateway:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the fake gateway did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)
        self._socket.close()

    async def _alerts(self, request: Request) -> Response:
        return _json({"items": self.site.open_alerts()})

    async def _agents(self, request: Request) -> Response:
        return _json({"items": self.site.agents(datetime.now(UTC))})

    async def _robots(self, request: Request) -> Response:
        return _json({"items": self.site.robots(datetime.now(UTC))})

    async def _crews(self, request: Request) -> Response:
        return _json({"items": self.site.crews})

    async def _basemap_route(self, request: Request) -> Response:
        return _json(self._basemap)

    async def _not_found(self, request: Request) -> Response:
        return _json({"detail": "not found"}, status_code=404)

    def _encode(self, message: dict[str, Any]) -> str:
        self._seq += 1
        kind = message["type"]
        self.sent[kind] = self.sent.get(kind, 0) + 1
        stamped = {"type": kind, "bench_seq": self._seq, "bench_sent_ms": round(time.time() * 1000, 1), **message}
        return orjson.dumps(stamped).decode()

    async def _live(self, ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text(orjson.dumps({"type": "hello", "server_time": iso(datetime.now(UTC))}).decode())
        # A steady one-second schedule, as the gateway's coalescing hub sends (gateway/api/live.py).
        next_at = time.monotonic() + self.tick_s
        try:
            while True:
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
                next_at += self.tick_s
                started = time.perf_counter()
                texts = [self._encode(message) for message in self.site.tick(datetime.now(UTC), self.tick_s)]
                self.build_ms.append((time.perf_counter() - started) * 1000)
                # Sending waits while the page does not read: a page that cannot keep up shows as a backlog.
                for text in texts:
                    await ws.send_text(text)
        except WebSocketDisconnect:
            return
