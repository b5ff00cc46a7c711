"""The ``mqtt_accounts`` table: issue (or rotate), revoke and list broker accounts.

Issuing returns the clear password once; only its Mosquitto hash is stored. Every change is followed by a
rewrite of the broker's password and ACL files (gateway/mqtt/broker_sync.py).
"""

from __future__ import annotations

from typing import Any

import psycopg

from gateway.mqtt.accounts import AccountKind, MqttAccount, mosquitto_hash, new_password

_UPSERT = (
    "INSERT INTO mqtt_accounts (username, kind, password_hash, issued_by) VALUES (%s, %s, %s, %s)"
    " ON CONFLICT (username) DO UPDATE SET kind = EXCLUDED.kind, password_hash = EXCLUDED.password_hash,"
    " issued_at = now(), issued_by = EXCLUDED.issued_by, revoked_at = NULL"
)
_REVOKE = "UPDATE mqtt_accounts SET revoked_at = now() WHERE username = %s AND revoked_at IS NULL"
_ACTIVE = "SELECT username, kind, password_hash FROM mqtt_accounts WHERE revoked_at IS NULL ORDER BY username"
_KIND = "SELECT kind FROM mqtt_accounts WHERE username = %s"


class AccountKindConflictError(ValueError):
    """The username already belongs to an account of another kind (a robot id reused for a wearable)."""


def _row(row: tuple[Any, ...]) -> MqttAccount:
    return MqttAccount(row[0], AccountKind(row[1]), row[2])


def issue_sync(conn: psycopg.Connection[Any], username: str, kind: AccountKind, by: str = "system",
               password: str | None = None) -> str:  # fmt: skip
    """Create or rotate an account (synchronous, for ``vigie up`` and the CLI); returns the clear password."""
    password = password or new_password()
    existing = conn.execute(_KIND, (username,)).fetchone()
    if existing is not None and existing[0] != kind.value:
        raise AccountKindConflictError(f"{username} is already a {existing[0]} account")
    conn.execute(_UPSERT, (username, kind.value, mosquitto_hash(password), by))
    return password


def active_sync(conn: psycopg.Connection[Any]) -> list[MqttAccount]:
    return [_row(r) for r in conn.execute(_ACTIVE).fetchall()]


async def issue(conn: psycopg.AsyncConnection[Any], username: str, kind: AccountKind, by: str) -> str:
    """Create or rotate an account; returns the clear password, which is not stored."""
    password = new_password()
    existing = await (await conn.execute(_KIND, (username,))).fetchone()
    if existing is not None and existing[0] != kind.value:
        raise AccountKindConflictError(f"{username} is already a {existing[0]} account")
    await conn.execute(_UPSERT, (username, kind.value, mosquitto_hash(password), by))
    return password


async def revoke(conn: psycopg.AsyncConnection[Any], username: str, kind: AccountKind) -> bool:
    existing = await (await conn.execute(_KIND, (username,))).fetchone()
    if existing is None or existing[0] != kind.value:
        return False
    return (await conn.execute(_REVOKE, (username,))).rowcount > 0


async def active(conn: psycopg.AsyncConnection[Any]) -> list[MqttAccount]:
    return [_row(r) for r in await (await conn.execute(_ACTIVE)).fetchall()]
