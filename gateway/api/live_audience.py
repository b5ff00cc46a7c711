"""Who each live message is for: the WebSocket side of services/access.py.

A supervisor's screen receives only their crews' agents, robots and alerts; an agent's only their own; a safety
officer's everything, with agents' names pseudonymised unless they are authorised for names. The crews of
agents, robots and devices come from a small directory loaded from the database and refreshed on a miss and
every minute (a crew change shows within a minute at worst).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
from psycopg_pool import AsyncConnectionPool

from services.access import Principal, may_see_subject, shown_name

REFRESH_S = 60.0
_WORN = ("SELECT DISTINCT ON (device_id) device_id, agent_id FROM assignments WHERE valid_from <= now()"
         " AND (valid_to IS NULL OR valid_to > now()) ORDER BY device_id, valid_from DESC")


@dataclass
class Directory:
    """agent → crew, robot → crew, device → current wearer, alert → (agent, crew)."""

    pool: AsyncConnectionPool[Any]
    agent_crew: dict[str, str | None] = field(default_factory=dict)
    robot_crew: dict[str, str | None] = field(default_factory=dict)
    device_agent: dict[str, str] = field(default_factory=dict)
    alert_subject: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    loaded_at: float = 0.0

    async def refresh(self, force: bool = False) -> None:
        if not force and time.monotonic() - self.loaded_at < REFRESH_S:
            return
        async with self.pool.connection() as conn:
            agents = await (await conn.execute("SELECT agent_id, crew_id FROM agents")).fetchall()
            robots = await (await conn.execute("SELECT robot_id, crew_id FROM robots")).fetchall()
            worn = await (await conn.execute(_WORN)).fetchall()
        self.agent_crew = dict(agents)
        self.robot_crew = dict(robots)
        self.device_agent = dict(worn)
        self.loaded_at = time.monotonic()

    async def subject(self, message: dict[str, Any]) -> tuple[str | None, str | None]:
        """(agent_id, crew_id) a message is about."""
        await self.refresh()
        kind = message.get("type")
        if kind in ("alert.raised", "alert.updated"):
            alert = message.get("alert") or {}
            agent_id, robot_id = alert.get("agent_id"), alert.get("robot_id")
            subject = await self._agent_or_robot(agent_id, robot_id)
            self.alert_subject[str(alert.get("alert_id"))] = subject
            return subject
        if kind == "alert.comment":
            return self.alert_subject.get(str(message.get("alert_id")), (None, None))
        if kind == "device.status":
            agent_id = self.device_agent.get(str(message.get("device_id")))
            return await self._agent_or_robot(agent_id, None)
        return None, None

    async def _agent_or_robot(self, agent_id: str | None, robot_id: str | None) -> tuple[str | None, str | None]:
        if agent_id is not None:
            if agent_id not in self.agent_crew:
                await self.refresh(force=True)
            return agent_id, self.agent_crew.get(agent_id)
        if robot_id is not None:
            if robot_id not in self.robot_crew:
                await self.refresh(force=True)
            return None, self.robot_crew.get(robot_id)
        return None, None


def _key(principal: Principal) -> tuple[Any, ...]:
    """Principals that see exactly the same messages share one rendering of each."""
    return (principal.role, principal.crew_ids, principal.agent_id, principal.sees_names)


class Audience:
    """Renders each message once per group of equivalent principals: None when the group may not see it."""

    def __init__(self, directory: Directory, pseudonym_key: bytes) -> None:
        self.directory = directory
        self._key = pseudonym_key

    async def renderer(self, text: str) -> Callable[[Principal], str | None]:
        try:
            message = orjson.loads(text)
        except orjson.JSONDecodeError:
            return lambda _p: None
        agent_id, crew_id = await self.directory.subject(message)
        cache: dict[tuple[Any, ...], str | None] = {}

        def render(principal: Principal) -> str | None:
            key = _key(principal)
            if key not in cache:
                if not may_see_subject(principal, agent_id, crew_id):
                    cache[key] = None
                elif principal.sees_names or "alert" not in message:
                    cache[key] = text
                else:
                    alert = dict(message["alert"])
                    if alert.get("agent_id"):
                        alert["agent_name"] = shown_name(principal, alert["agent_id"], alert.get("agent_name"),
                                                         self._key)  # fmt: skip
                    cache[key] = orjson.dumps({**message, "alert": alert}).decode()
            return cache[key]

        return render

    def states(self, kind: str, items: Iterable[dict[str, Any]]) -> Callable[[Principal], str | None]:
        """``agents.changed`` / ``robots.changed`` filtered to the principal's crews (or self)."""
        items = list(items)
        cache: dict[tuple[Any, ...], str | None] = {}

        def render(principal: Principal) -> str | None:
            key = _key(principal)
            if key not in cache:
                visible = []
                for item in items:
                    agent_id = item.get("agent_id")
                    if not may_see_subject(principal, agent_id, item.get("crew_id")):
                        continue
                    if agent_id and not principal.sees_names:
                        name = shown_name(principal, agent_id, item.get("display_name"), self._key)
                        visible.append({**item, "display_name": name})
                    else:
                        visible.append(item)
                cache[key] = orjson.dumps({"type": kind, "items": visible}).decode() if visible else None
            return cache[key]

        return render
