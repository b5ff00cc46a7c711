"""Users, API keys and the audit log (tables of migration 0008)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.rows import dict_row

from gateway.auth import passwords
from gateway.auth.tokens import new_api_key, secret_matches
from gateway.timefmt import iso
from services.access import Principal, Role

AsyncConn = psycopg.AsyncConnection[Any]
SyncConn = psycopg.Connection[Any]

_UPSERT_USER = (
    "INSERT INTO users (username, password_hash, role, crew_ids, agent_id, names_allowed)"
    " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (username) DO UPDATE SET password_hash = EXCLUDED.password_hash,"
    " role = EXCLUDED.role, crew_ids = EXCLUDED.crew_ids, agent_id = EXCLUDED.agent_id,"
    " names_allowed = EXCLUDED.names_allowed, disabled = false"
)


def _principal(row: dict[str, Any], subject: str) -> Principal:
    return Principal(subject, Role(row["role"]), frozenset(row["crew_ids"] or ()), row["agent_id"],
                     bool(row.get("names_allowed", False)), row.get("subject_id"))  # fmt: skip


def upsert_user_sync(conn: SyncConn, username: str, password: str, role: Role, crew_ids: Sequence[str] = (),
                     agent_id: str | None = None, names_allowed: bool = False) -> None:  # fmt: skip
    """For ``vigie up`` and ``vigie user``: create or reset a user."""
    conn.execute(_UPSERT_USER, (username, passwords.hash_password(password), role.value, list(crew_ids), agent_id,
                                names_allowed))  # fmt: skip


async def upsert_user(conn: AsyncConn, username: str, password: str, role: Role, crew_ids: Sequence[str],
                      agent_id: str | None, names_allowed: bool) -> dict[str, Any]:  # fmt: skip
    await conn.execute(_UPSERT_USER, (username, passwords.hash_password(password), role.value, list(crew_ids),
                                      agent_id, names_allowed))  # fmt: skip
    return {"username": username, "role": role.value, "crew_ids": sorted(crew_ids), "agent_id": agent_id,
            "names_allowed": names_allowed}  # fmt: skip


async def authenticate(conn: AsyncConn, username: str, password: str) -> Principal | None:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute("SELECT password_hash, role, crew_ids, agent_id, names_allowed, disabled FROM users"
                          " WHERE username = %s", (username,))  # fmt: skip
        row = await cur.fetchone()
    ok = passwords.verify_password(password, row["password_hash"] if row else None)
    if row is None or not ok or row["disabled"]:
        return None
    return _principal(row, username)


async def users(conn: AsyncConn) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute("SELECT username, role, crew_ids, agent_id, names_allowed, disabled, created_at FROM users"
                          " ORDER BY username")  # fmt: skip
        rows = await cur.fetchall()
    return [{**r, "created_at": iso(r["created_at"])} for r in rows]


async def create_api_key(conn: AsyncConn, role: Role, label: str, crew_ids: Sequence[str], agent_id: str | None,
                         subject_id: str | None) -> dict[str, Any]:  # fmt: skip
    """Returns the key once, with its id; only the secret's hash is stored."""
    key_id, key, secret_hash = new_api_key()
    await conn.execute("INSERT INTO api_keys (key_id, secret_hash, role, label, crew_ids, agent_id, subject_id)"
                       " VALUES (%s, %s, %s, %s, %s, %s, %s)",
                       (key_id, secret_hash, role.value, label, list(crew_ids), agent_id, subject_id))  # fmt: skip
    return {"key_id": key_id, "api_key": key, "role": role.value, "label": label}


def create_api_key_sync(conn: SyncConn, role: Role, label: str) -> str:
    key_id, key, secret_hash = new_api_key()
    conn.execute("INSERT INTO api_keys (key_id, secret_hash, role, label) VALUES (%s, %s, %s, %s)",
                 (key_id, secret_hash, role.value, label))  # fmt: skip
    return key


async def api_key_principal(conn: AsyncConn, key_id: str, secret: str) -> Principal | None:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute("SELECT secret_hash, role, crew_ids, agent_id, subject_id FROM api_keys"
                          " WHERE key_id = %s AND revoked_at IS NULL", (key_id,))  # fmt: skip
        row = await cur.fetchone()
    if row is None or not secret_matches(secret, bytes(row["secret_hash"])):
        return None
    return _principal(row, f"key:{key_id}")


async def revoke_api_key(conn: AsyncConn, key_id: str) -> bool:
    cur = await conn.execute("UPDATE api_keys SET revoked_at = now() WHERE key_id = %s AND revoked_at IS NULL",
                             (key_id,))  # fmt: skip
    return cur.rowcount > 0


async def audit(conn: AsyncConn, principal: Principal, action: str, target: str | None, query: str) -> None:
    await conn.execute("INSERT INTO audit_log (actor, role, action, target, query) VALUES (%s, %s, %s, %s, %s)",
                       (principal.subject, principal.role.value, action, target, query[:500]))  # fmt: skip


async def audit_entries(conn: AsyncConn, target: str | None, limit: int) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute("SELECT id, at, actor, role, action, target, query FROM audit_log"
                          " WHERE (%(t)s::text IS NULL OR target = %(t)s) ORDER BY id DESC LIMIT %(n)s",
                          {"t": target, "n": limit})  # fmt: skip
        rows = await cur.fetchall()
    return [{**r, "at": iso(r["at"])} for r in rows]


async def agent_crew(conn: AsyncConn, agent_id: str) -> tuple[bool, str | None]:
    """(exists, crew_id) of an agent."""
    row = await (await conn.execute("SELECT crew_id FROM agents WHERE agent_id = %s", (agent_id,))).fetchone()
    return (row is not None, row[0] if row else None)


async def alert_subject(conn: AsyncConn, alert_id: str) -> tuple[bool, str | None, str | None]:
    """(exists, agent_id, crew_id) of an alert: its agent's crew, or its robot's crew."""
    row = await (await conn.execute(
        "SELECT al.agent_id, coalesce(a.crew_id, r.crew_id) FROM alerts al"
        " LEFT JOIN agents a ON a.agent_id = al.agent_id LEFT JOIN robots r ON r.robot_id = al.robot_id"
        " WHERE al.alert_id::text = %s", (alert_id,))).fetchone()  # fmt: skip
    return (row is not None, row[0] if row else None, row[1] if row else None)
