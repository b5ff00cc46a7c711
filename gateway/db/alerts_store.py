"""Alerts in the database: raise-or-count (deduplicated by the database), transitions, the audit trail.

Raising runs on the ingest worker's synchronous connection; acknowledge and resolve run on the API's
async pool. Both map rows to the domain ``Alert`` and back through the functions here, and every
change is written to ``alert_events`` and announced on the ``vigie_live`` channel in the same
transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
import psycopg
from psycopg.rows import dict_row

from gateway.timefmt import iso
from services.alerts import (
    Alert,
    AlertDraft,
    AlertStatus,
    Resolution,
    Severity,
    SubjectType,
    acknowledge,
    resolve,
)
from services.errors import InvalidTransition

ALERT_COLUMNS = (
    "alert_id, rule, severity, status, subject_type, subject_id, agent_id, device_id, robot_id, message,"
    " raised_at, source_ts, last_seen_ts, late, repeat_count, escalation_level, acknowledged_by,"
    " acknowledged_at, resolved_by, resolved_at, resolution, resolution_comment"
)
LIVE_CHANNEL = "vigie_live"


class AlertNotFound(LookupError):
    pass


def alert_from_row(row: dict[str, Any]) -> Alert:
    draft = AlertDraft(
        rule=row["rule"],
        severity=Severity(row["severity"]),
        subject_type=SubjectType(row["subject_type"]),
        subject_id=row["subject_id"],
        source_ts=row["source_ts"],
        message=row["message"],
        agent_id=row["agent_id"],
        device_id=row["device_id"],
        robot_id=row["robot_id"],
        late=row["late"],
    )
    return Alert(
        alert_id=str(row["alert_id"]),
        draft=draft,
        raised_at=row["raised_at"],
        status=AlertStatus(row["status"]),
        repeat_count=row["repeat_count"],
        last_seen_ts=row["last_seen_ts"],
        escalation_level=row["escalation_level"],
        acknowledged_by=row["acknowledged_by"],
        acknowledged_at=row["acknowledged_at"],
        resolved_by=row["resolved_by"],
        resolved_at=row["resolved_at"],
        resolution=Resolution(row["resolution"]) if row["resolution"] else None,
        resolution_comment=row["resolution_comment"],
    )



def alert_to_json(alert: Alert, agent_name: str | None = None) -> dict[str, Any]:
    """The public JSON shape of an alert (REST and WebSocket alike)."""
    d = alert.draft
    return {
        "alert_id": alert.alert_id,
        "rule": d.rule,
        "severity": d.severity.value,
        "status": alert.status.value,
        "subject_type": d.subject_type.value,
        "subject_id": d.subject_id,
        "agent_id": d.agent_id,
        "agent_name": agent_name,
        "device_id": d.device_id,
        "robot_id": d.robot_id,
        "message": d.message,
        "raised_at": iso(alert.raised_at),
        "source_ts": iso(d.source_ts),
        "last_seen_ts": iso(alert.last_seen_ts),
        "late": d.late,
        "repeat_count": alert.repeat_count,
        "escalation_level": alert.escalation_level,
        "acknowledged_by": alert.acknowledged_by,
        "acknowledged_at": iso(alert.acknowledged_at),
        "resolved_by": alert.resolved_by,
        "resolved_at": iso(alert.resolved_at),
        "resolution": alert.resolution.value if alert.resolution else None,
        "resolution_comment": alert.resolution_comment,
    }


_UPSERT = f"""
INSERT INTO alerts (alert_id, rule, severity, status, subject_type, subject_id, agent_id, device_id,
                    robot_id, message, raised_at, source_ts, last_seen_ts, late)
VALUES (%(alert_id)s, %(rule)s, %(severity)s, 'raised', %(subject_type)s, %(subject_id)s, %(agent_id)s,
        %(device_id)s, %(robot_id)s, %(message)s, %(now)s, %(source_ts)s, %(source_ts)s, %(late)s)
ON CONFLICT (subject_type, subject_id, rule) WHERE status <> 'resolved'
DO UPDATE SET repeat_count = alerts.repeat_count + 1,
              last_seen_ts = GREATEST(alerts.last_seen_ts, EXCLUDED.last_seen_ts)
RETURNING {ALERT_COLUMNS}, (xmax = 0) AS inserted,
          (SELECT display_name FROM agents WHERE agent_id = alerts.agent_id) AS agent_name
"""


def upsert_drafts(
    conn: psycopg.Connection[Any], drafts: Sequence[AlertDraft], now: datetime
) -> list[tuple[Alert, bool]]:
    """Raise each draft, or count it on the open alert of the same (subject, rule); True when raised."""
    out: list[tuple[Alert, bool]] = []
    with conn.cursor(row_factory=dict_row) as cur:
        for draft in drafts:
            cur.execute(_UPSERT, {
                "alert_id": uuid.uuid4(), "rule": draft.rule, "severity": draft.severity.value,
                "subject_type": draft.subject_type.value, "subject_id": draft.subject_id,
                "agent_id": draft.agent_id, "device_id": draft.device_id, "robot_id": draft.robot_id,
                "message": draft.message, "now": now, "source_ts": draft.source_ts, "late": draft.late,
            })  # fmt: skip
            row = cur.fetchone()
            assert row is not None  # INSERT ... RETURNING always returns the row
            alert, inserted = alert_from_row(row), bool(row["inserted"])
            if inserted:
                cur.execute(
                    "INSERT INTO alert_events (alert_id, at, actor, action, details) VALUES (%s, %s, %s, %s, %s)",
                    (alert.alert_id, now, "system", "raised",
                     orjson.dumps({"source_ts": iso(draft.source_ts), "late": draft.late}).decode()),
                )  # fmt: skip
            event = {"type": "alert.raised" if inserted else "alert.updated",
                     "alert": alert_to_json(alert, row["agent_name"])}  # fmt: skip
            cur.execute("SELECT pg_notify(%s, %s)", (LIVE_CHANNEL, orjson.dumps(event).decode()))
            out.append((alert, inserted))
    return out


_SELECT_ONE = (
    f"SELECT {ALERT_COLUMNS}, (SELECT display_name FROM agents g WHERE g.agent_id = alerts.agent_id)"
    " AS agent_name FROM alerts WHERE alert_id = %s"
)


async def transition(
    conn: psycopg.AsyncConnection[Any],
    alert_id: uuid.UUID,
    action: str,
    by: str,
    now: datetime,
    reason: Resolution | None = None,
    comment: str | None = None,
) -> dict[str, Any]:
    """Acknowledge or resolve under a row lock, through the domain state machine; returns the JSON."""
    async with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(_SELECT_ONE + " FOR UPDATE", (alert_id,))
        row = await cur.fetchone()
        if row is None:
            raise AlertNotFound(str(alert_id))
        current = alert_from_row(row)
        if action == "acknowledged":
            changed = acknowledge(current, by, now)
        elif action == "resolved" and reason is not None:
            changed = resolve(current, by, now, reason, comment)
        else:
            raise InvalidTransition(f"unknown action {action!r}")
        await cur.execute(
            "UPDATE alerts SET status = %s, acknowledged_by = %s, acknowledged_at = %s, resolved_by = %s,"
            " resolved_at = %s, resolution = %s, resolution_comment = %s WHERE alert_id = %s",
            (changed.status.value, changed.acknowledged_by, changed.acknowledged_at, changed.resolved_by,
             changed.resolved_at, changed.resolution.value if changed.resolution else None,
             changed.resolution_comment, alert_id),
        )  # fmt: skip
        details = {"reason": reason.value if reason else None, "comment": comment}
        await cur.execute(
            "INSERT INTO alert_events (alert_id, at, actor, action, details) VALUES (%s, %s, %s, %s, %s)",
            (alert_id, now, by, action, orjson.dumps(details).decode()),
        )
        body = alert_to_json(changed, row["agent_name"])
        await cur.execute(
            "SELECT pg_notify(%s, %s)",
            (LIVE_CHANNEL, orjson.dumps({"type": "alert.updated", "alert": body}).decode()),
        )
    return body
