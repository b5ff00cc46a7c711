"""The live hub behind ``WS /api/v1/live``.

Alerts and link changes are announced by whoever writes them (the ingest worker, the API itself) with
PostgreSQL ``NOTIFY`` inside the writing transaction, so any number of ingest workers and API processes
see the same events, and an event is heard only once its data is committed. The hub LISTENs on one
dedicated connection and fans out to every WebSocket. Agent and robot state changes are coalesced: at most
one ``agents.changed`` / ``robots.changed`` message per ``state_interval_s`` carrying the rows changed
since the last one.
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

from gateway.db import queries
from gateway.db.alerts_store import LIVE_CHANNEL
from gateway.timefmt import iso

log = logging.getLogger(__name__)
STATE_CHANNEL = "vigie_state"


class LiveHub:
    def __init__(self, conninfo: str, pool: AsyncConnectionPool[Any], stale_after_s: float,
                 state_interval_s: float = 1.0) -> None:  # fmt: skip
        self._conninfo = conninfo
        self._pool = pool
        self._stale_after_s = stale_after_s
        self._state_interval_s = state_interval_s
        self._clients: set[WebSocket] = set()
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

    async def serve(self, ws: WebSocket, receive: Callable[[], Awaitable[Any]]) -> None:
        """Register a client, greet it, and keep it until it goes away."""
        await ws.send_text(orjson.dumps({"type": "hello", "server_time": iso(datetime.now(UTC))}).decode())
        self._clients.add(ws)
        try:
            while True:
                await receive()  # clients only listen; this returns when they disconnect
        finally:
            self._clients.discard(ws)

    async def broadcast(self, text: str) -> None:
        dead = []
        for ws in list(self._clients):
            try:
                await asyncio.wait_for(ws.send_text(text), timeout=2.0)
            except Exception:  # a slow or broken socket must not stall the others
                dead.append(ws)
        for ws in dead:
            self._clients.discard(ws)

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
            await self._state_dirty.wait()
            self._state_dirty.clear()
            now = datetime.now(UTC)
            try:
                async with self._pool.connection() as conn:
                    agents = await queries.agents(conn, now, self._stale_after_s, since=since)
                    robots = await queries.robots(conn, since=since)
            except psycopg.OperationalError as exc:
                log.warning("live hub could not read states: %s", exc)
                await asyncio.sleep(self._state_interval_s)
                continue
            # Overlap the window: a batch stamped just before ``now`` may commit just after it.
            since = now - timedelta(seconds=3)
            if agents:
                await self.broadcast(orjson.dumps({"type": "agents.changed", "items": agents}).decode())
            if robots:
                await self.broadcast(orjson.dumps({"type": "robots.changed", "items": robots}).decode())
            await asyncio.sleep(self._state_interval_s)
