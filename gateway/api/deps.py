"""Typed dependencies shared by the routes: the pool, the settings, the live hub, the clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any

import psycopg
from fastapi import Depends, Request
from psycopg_pool import AsyncConnectionPool

from gateway.settings import Settings


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_pool(request: Request) -> AsyncConnectionPool[Any]:
    pool: AsyncConnectionPool[Any] = request.app.state.pool
    return pool


async def get_conn(request: Request) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    async with get_pool(request).connection() as conn:
        yield conn


def utc_now() -> datetime:
    return datetime.now(UTC)


SettingsDep = Annotated[Settings, Depends(get_settings)]
ConnDep = Annotated[psycopg.AsyncConnection[Any], Depends(get_conn)]
NowDep = Annotated[datetime, Depends(utc_now)]
