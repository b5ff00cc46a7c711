"""Versioned SQL migrations, applied in file-name order, each once, each in its own transaction.

``schema_migrations`` records what ran; an advisory lock keeps two gateways starting together from
applying the same file twice.
"""

from __future__ import annotations

import hashlib
from importlib import resources

import psycopg

_LOCK_ID = 0x76696769  # "vigi"


def available() -> list[tuple[str, str]]:
    """(version, sql) pairs shipped with the package, in order."""
    folder = resources.files(__package__)
    files = sorted((p for p in folder.iterdir() if p.name.endswith(".sql")), key=lambda p: p.name)
    return [(p.name.removesuffix(".sql"), p.read_text(encoding="utf-8")) for p in files]


def apply(conninfo: str) -> list[str]:
    """Apply pending migrations; returns the versions applied now."""
    applied_now: list[str] = []
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_ID,))
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version text PRIMARY KEY, sha256 text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {
                row[0]: row[1] for row in conn.execute("SELECT version, sha256 FROM schema_migrations")
            }
            for version, sql in available():
                digest = hashlib.sha256(sql.encode()).hexdigest()
                if version in done:
                    if done[version] != digest:
                        raise RuntimeError(f"migration {version} changed after it was applied")
                    continue
                with conn.transaction():
                    conn.execute(sql.encode())
                    conn.execute(
                        "INSERT INTO schema_migrations (version, sha256) VALUES (%s, %s)", (version, digest)
                    )
                applied_now.append(version)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_ID,))
    return applied_now
