"""The live hub behind ``WS /api/v1/live``.

Alerts and link changes are announced by whoever writes them (the ingest worker, the API itself) with
PostgreSQL ``NOTIFY`` inside the writing transaction, so any number of ingest workers and API processes
see the same events, and an event is heard only once its data is committed. The hub LISTENs on one
dedicated connection and fans out to every WebSocket. Agent and robot state changes are coalesced: at most
one ``agents.changed`` / ``robots.changed`` message per ``state_interval_s`` carrying the rows changed
since the last one.

A client authenticates with its first message, ``{"type": "auth", "token": "<bearer token>"}`` (browsers
cannot set headers on a WebSocket, and a token in the URL would end up in logs); it then gets ``hello`` and
only the messages its role and crews allow (gateway/api/live_audience.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import psycopg
from fastapi import WebSocket
from psycopg_pool import AsyncConnectionPool

from gateway.api.live_audience import Audience, Directory
from gateway.auth.tokens import InvalidToken
from gateway.db import access_store, queries
from gateway.db.alerts_store import LIVE_CHANNEL
from gateway.settings import Settings
from gateway.timefmt import iso
from services.access import MACHINE_ROLES, Principal

Authenticate = Callable[[str], Awaitable[Principal]]
AUTH_TIMEOUT_S = 5.0
CLOSE_UNAUTHORISED = 4401  # 4000-4999: application close codes (RFC 6455 §7.4.2), mirroring HTTP 401/403
CLOSE_FORBIDDEN = 4403
STALE_CHECK_S = 5.0

log = logging.getLogger(__name__)
STATE_CHANNEL = "vigie_state"


class LiveHub:
    def __init__(self, conninfo: str, pool: AsyncConnectionPool[Any], settings: Settings,
                 authenticate: Authenticate, state_interval_s: float = 1.0) -> None:  # fmt: skip
        self._conninfo = conninfo
        self._pool = pool
        self._settings = settings
        self._state_interval_s = state_interval_s
        self._authenticate = authenticate
        self._audience = Audience(Directory(pool), settings.pseudonym_key)
        self._clients: dict[WebSocket, Principal] = {}
        self._state_dirty = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.listening = asyncio.Event()

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._listen_forever()), asyncio.create_task(self._push_states())]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def serve(self, ws: WebSocket, receive: Callable[[], Awaitable[str]]) -> None:
        """Authenticate a client by its first message, greet it, and keep it until it goes away."""
        principal = await self._handshake(ws, receive)
        if principal is None:
            return
        await ws.send_text(orjson.dumps({"type": "hello", "server_time": iso(datetime.now(UTC)),
                                         "role": principal.role.value}).decode())  # fmt: skip
        self._clients[ws] = principal
        try:
            while True:
                await receive()  # clients only listen; this returns when they disconnect
        finally:
            self._clients.pop(ws, None)

    async def _handshake(self, ws: WebSocket, receive: Callable[[], Awaitable[str]]) -> Principal | None:
        try:
            first = orjson.loads(await asyncio.wait_for(receive(), AUTH_TIMEOUT_S))
            token = first["token"] if isinstance(first, dict) and first.get("type") == "auth" else None
            if not isinstance(token, str):
                raise InvalidToken("the first message must be {\"type\": \"auth\", \"token\": ...}")
            principal = await self._authenticate(token)
        except (TimeoutError, orjson.JSONDecodeError, InvalidToken) as exc:
            await ws.close(CLOSE_UNAUTHORISED, f"authentication required: {exc}"[:120])
            return None
        if principal.role in MACHINE_ROLES:
            await ws.close(CLOSE_FORBIDDEN, "machines do not read the live feed")
            return None
        # The live feed carries health data and, during alerts, positions: who subscribed is audited once per
        # connection (each pushed message would drown the log).
        async with self._pool.connection() as conn:
            await access_store.audit(conn, principal, "WS /api/v1/live", None, "")
        return principal

    async def broadcast(self, text: str) -> None:
        await self._send_each(await self._audience.renderer(text))

    async def _send_each(self, render: Callable[[Principal], str | None]) -> None:
        dead = []
        for ws, principal in list(self._clients.items()):
            text = render(principal)
            if text is None:
                continue
            try:
                await asyncio.wait_for(ws.send_text(text), timeout=2.0)
            except Exception:  # a slow or broken socket must not stall the others
                dead.append(ws)
        for ws in dead:
            self._clients.pop(ws, None)

    async def _listen_forever(self) -> None:
        delay_s = 0.5
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {LIVE_CHANNEL}")
                    await conn.execute(f"LISTEN {STATE_CHANNEL}")
                    self.listening.set()
                    delay_s = 0.5
                    async for note in conn.notifies():
                        if note.channel == STATE_CHANNEL:
                            self._state_dirty.set()
                        else:
                            await self.broadcast(note.payload)
            except psycopg.OperationalError as exc:
                self.listening.clear()
                log.warning("live hub lost the database (%s); retrying in %.1fs", exc, delay_s)
                await asyncio.sleep(delay_s)
                delay_s = min(delay_s * 2, 5.0)

    async def _push_states(self) -> None:
        since: datetime | None = datetime.now(UTC)
        while True:
            # Also wake without news: agents whose wearable went silent turn stale with nothing to announce it.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._state_dirty.wait(), timeout=STALE_CHECK_S)
            self._state_dirty.clear()
            now = datetime.now(UTC)
            try:
                async with self._pool.connection() as conn:
                    agents = await queries.agents(conn, now, self._settings.stale_after_s, since=since,
                                                  site_timezone=self._settings.site_timezone,
                                                  shift_duration_s=self._settings.shift_duration_s)  # fmt: skip
                    robots = await queries.robots(conn, since=since)
            except psycopg.OperationalError as exc:
                log.warning("live hub could not read states: %s", exc)
                await asyncio.sleep(self._state_interval_s)
                continue
            # Overlap the window: a batch stamped just before ``now`` may commit just after it.
            since = now - timedelta(seconds=3)
            if agents:
                await self._send_each(self._audience.states("agents.changed", agents))
            if robots:
                await self._send_each(self._audience.states("robots.changed", robots))
            await asyncio.sleep(self._state_interval_s)
