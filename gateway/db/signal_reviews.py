"""The follow-up of flagged weak signals (``signal_reviews``, migration 0014; services/signals/review.py)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import psycopg

from services.signals.model import SubjectKind
from services.signals.review import FlagKey, Outcome, Review

Conn = psycopg.AsyncConnection[Any]

_COLUMNS = "kind, subject_kind, subject_id, first_flagged, outcome, note, reviewed_by, reviewed_at"


async def save(conn: Conn, review: Review) -> None:
    """Record ``review``, replacing an earlier review of the same flag (the audit log keeps who wrote each)."""
    k = review.key
    async with conn.cursor() as cur:
        await cur.execute(
            f"INSERT INTO signal_reviews ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (kind, subject_kind, subject_id, first_flagged) DO UPDATE SET outcome = EXCLUDED.outcome,"
            " note = EXCLUDED.note, reviewed_by = EXCLUDED.reviewed_by, reviewed_at = EXCLUDED.reviewed_at",
            (k.kind, k.subject_kind.value, k.subject_id, k.first_flagged, review.outcome.value, review.note,
             review.reviewed_by, review.reviewed_at),
        )  # fmt: skip


async def of_flags(conn: Conn, keys: Collection[FlagKey]) -> dict[FlagKey, Review]:
    """The reviews recorded for these flags (one query, whatever their number)."""
    if not keys:
        return {}
    unique = list(set(keys))
    async with conn.cursor() as cur:
        await cur.execute(
            f"SELECT {_COLUMNS} FROM signal_reviews JOIN unnest(%s::text[], %s::text[], %s::text[], %s::date[])"
            " AS k (kind, subject_kind, subject_id, first_flagged)"
            " USING (kind, subject_kind, subject_id, first_flagged)",
            ([k.kind for k in unique], [k.subject_kind.value for k in unique], [k.subject_id for k in unique],
             [k.first_flagged for k in unique]),
        )  # fmt: skip
        rows = await cur.fetchall()
    out = {}
    for kind, subject_kind, subject_id, first_flagged, outcome, note, by, at in rows:
        key = FlagKey(kind, SubjectKind(subject_kind), subject_id, first_flagged)
        out[key] = Review(key, Outcome(outcome), note, by, at)
    return out
