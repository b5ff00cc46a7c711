"""Alerts in the database: raise-or-count (deduplicated by the database), transitions, the audit trail.

Raising runs on the ingest worker's synchronous connection; acknowledge and resolve run on the API's
async pool. Both map rows to the domain ``Alert`` and back through the functions here, and every
change is written to ``alert_events`` and announced on the ``vigie_live`` channel in the same
transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from gateway.mqtt import topics
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
from services.incidents import PAUSE_RULES

ALERT_COLUMNS = (
    "alert_id, rule, severity, status, subject_type, subject_id, agent_id, device_id, robot_id, message,"
    " raised_at, source_ts, last_seen_ts, late, repeat_count, escalation_level, acknowledged_by,"
    " acknowledged_at, resolved_by, resolved_at, resolution, resolution_comment, site_id, cleared_at, details,"
    " robot_state"
)
# Every read of an alert returns its columns and the agent's display name (the public JSON has both).
SELECT_ALERTS = (
    f"SELECT {ALERT_COLUMNS}, (SELECT display_name FROM agents g WHERE g.agent_id = alerts.agent_id)"
    " AS agent_name FROM alerts"
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



def alert_json(alert: Alert, row: dict[str, Any]) -> dict[str, Any]:
    """The public JSON shape of an alert (REST and WebSocket alike), from its domain state and its row."""
    d = alert.draft
    return {
        "alert_id": alert.alert_id,
        "rule": d.rule,
        "severity": d.severity.value,
        "status": alert.status.value,
        "subject_type": d.subject_type.value,
        "subject_id": d.subject_id,
        "agent_id": d.agent_id,
        "agent_name": row.get("agent_name"),
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
        "site_id": row.get("site_id"),
        "cleared_at": iso(row.get("cleared_at")),
        "details": row.get("details") or {},
        "robot_state": row.get("robot_state"),
    }


def row_json(row: dict[str, Any]) -> dict[str, Any]:
    return alert_json(alert_from_row(row), row)


_UPSERT = f"""
INSERT INTO alerts (alert_id, rule, severity, status, subject_type, subject_id, agent_id, device_id,
                    robot_id, message, raised_at, source_ts, last_seen_ts, late, details, robot_state, site_id)
VALUES (%(alert_id)s, %(rule)s, %(severity)s, 'raised', %(subject_type)s, %(subject_id)s, %(agent_id)s,
        %(device_id)s, %(robot_id)s, %(message)s, %(now)s, %(source_ts)s, %(source_ts)s, %(late)s,
        %(details)s, %(robot_state)s,
        COALESCE((SELECT c.site_id FROM agents a JOIN crews c USING (crew_id) WHERE a.agent_id = %(agent_id)s),
                 (SELECT c.site_id FROM robots r JOIN crews c USING (crew_id) WHERE r.robot_id = %(robot_id)s),
                 'paris'))
ON CONFLICT (subject_type, subject_id, rule) WHERE status <> 'resolved'
DO UPDATE SET repeat_count = alerts.repeat_count + 1,
              last_seen_ts = GREATEST(alerts.last_seen_ts, EXCLUDED.last_seen_ts)
RETURNING {ALERT_COLUMNS}, (xmax = 0) AS inserted,
          (SELECT display_name FROM agents WHERE agent_id = alerts.agent_id) AS agent_name
"""


def robot_command(robot_id: str, cmd: str, reason: str, alert_id: str) -> tuple[str, tuple[str, Jsonb]]:
    """The outbox insert of a ``pause``/``resume`` for a robot (docs/contract.md, "Robot commands")."""
    payload = {"cmd": cmd, "reason": reason, "alert_id": alert_id}
    return "INSERT INTO outbox (topic, payload) VALUES (%s, %s)", (topics.robot_command(robot_id), Jsonb(payload))


@dataclass(frozen=True)
class ToRaise:
    """A draft with what the database keeps beside it: rule details and the linked robot's state."""

    draft: AlertDraft
    details: dict[str, Any] = field(default_factory=dict)
    robot_state: dict[str, Any] | None = None


def upsert_drafts(
    conn: psycopg.Connection[Any], drafts: Sequence[ToRaise], now: datetime
) -> list[tuple[Alert, bool]]:
    """Raise each draft, or count it on the open alert of the same (subject, rule); True when raised.

    A worker-and-robot incident (fall, SOS, man-down with a robot linked) also queues a ``pause`` command for
    the robot in the outbox, in the same transaction.
    """
    out: list[tuple[Alert, bool]] = []
    with conn.cursor(row_factory=dict_row) as cur:
        for item in drafts:
            draft = item.draft
            cur.execute(_UPSERT, {
                "alert_id": uuid.uuid4(), "rule": draft.rule, "severity": draft.severity.value,
                "subject_type": draft.subject_type.value, "subject_id": draft.subject_id,
                "agent_id": draft.agent_id, "device_id": draft.device_id, "robot_id": draft.robot_id,
                "message": draft.message, "now": now, "source_ts": draft.source_ts, "late": draft.late,
                "details": Jsonb(item.details), "robot_state": Jsonb(item.robot_state) if item.robot_state else None,
            })  # fmt: skip
            row = cur.fetchone()
            assert row is not None  # INSERT ... RETURNING always returns the row
            alert, inserted = alert_from_row(row), bool(row["inserted"])
            if inserted and draft.robot_id and draft.rule in PAUSE_RULES and not draft.late:
                cur.execute(*robot_command(draft.robot_id, "pause", draft.rule, alert.alert_id))
            if inserted:
                cur.execute(
                    "INSERT INTO alert_events (alert_id, at, actor, action, details) VALUES (%s, %s, %s, %s, %s)",
                    (alert.alert_id, now, "system", "raised",
                     orjson.dumps({"source_ts": iso(draft.source_ts), "late": draft.late}).decode()),
                )  # fmt: skip
            event = {"type": "alert.raised" if inserted else "alert.updated",
                     "alert": alert_json(alert, row)}  # fmt: skip
            cur.execute("SELECT pg_notify(%s, %s)", (LIVE_CHANNEL, orjson.dumps(event).decode()))
            out.append((alert, inserted))
    return out


_SELECT_ONE = SELECT_ALERTS + " WHERE alert_id = %s"


async def transition(
    conn: psycopg.AsyncConnection[Any],
    alert_id: uuid.UUID,
    action: str,
    by: str,
    now: datetime,
    reason: Resolution | None = None,
    comment: str | None = None,
    account: str | None = None,
) -> dict[str, Any]:
    """Acknowledge or resolve under a row lock, through the domain state machine; returns the JSON.

    ``by`` is the name shown (who took it in hand); ``account`` the authenticated account that did it (the
    audit trail keeps both: a control room may share one screen's account between supervisors)."""
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
        details = {"reason": reason.value if reason else None, "comment": comment, "account": account}
        await cur.execute(
            "INSERT INTO alert_events (alert_id, at, actor, action, details) VALUES (%s, %s, %s, %s, %s)",
            (alert_id, now, by, action, orjson.dumps(details).decode()),
        )
        if action == "resolved" and changed.draft.robot_id and changed.draft.rule in PAUSE_RULES:
            reason_text = f"alert resolved: {reason.value if reason else ''}"
            await cur.execute(*robot_command(changed.draft.robot_id, "resume", reason_text, changed.alert_id))
        body = alert_json(changed, row)
        await cur.execute(
            "SELECT pg_notify(%s, %s)",
            (LIVE_CHANNEL, orjson.dumps({"type": "alert.updated", "alert": body}).decode()),
        )
    return body


def _open_alert(cur: psycopg.Cursor[Any], subject_type: str, subject_id: str, rule: str) -> dict[str, Any] | None:
    cur.execute(
        SELECT_ALERTS + " WHERE subject_type = %s AND subject_id = %s AND rule = %s"
        " AND status <> 'resolved' FOR UPDATE",
        (subject_type, subject_id, rule),
    )
    row: dict[str, Any] | None = cur.fetchone()
    return row


def _announce(cur: psycopg.Cursor[Any], alert: Alert, row: dict[str, Any]) -> None:
    event = {"type": "alert.updated", "alert": alert_json(alert, row)}
    cur.execute("SELECT pg_notify(%s, %s)", (LIVE_CHANNEL, orjson.dumps(event).decode()))


def clear(conn: psycopg.Connection[Any], subject_type: str, subject_id: str, rule: str, at: datetime,
          reason: str) -> bool:  # fmt: skip
    """The condition behind an open alert is gone (hysteresis clear): note it; a person still resolves."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = _open_alert(cur, subject_type, subject_id, rule)
        if row is None:
            return False
        cur.execute("UPDATE alerts SET cleared_at = %s WHERE alert_id = %s", (at, row["alert_id"]))
        row["cleared_at"] = at
        cur.execute("INSERT INTO alert_events (alert_id, at, actor, action, details) VALUES (%s, %s, 'system',"
                    " 'cleared', %s)", (row["alert_id"], at, Jsonb({"reason": reason})))  # fmt: skip
        _announce(cur, alert_from_row(row), row)
    return True


def cancel_by_wearer(conn: psycopg.Connection[Any], subject_type: str, subject_id: str, rule: str,
                     at: datetime) -> bool:  # fmt: skip
    """The wearer cancelled a suspected fall within the window: resolved as a false alarm, by the wearer."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = _open_alert(cur, subject_type, subject_id, rule)
        if row is None:
            return False
        done = resolve(alert_from_row(row), "wearer", at, Resolution.FALSE_ALARM, "cancelled on the wearable")
        cur.execute("UPDATE alerts SET status = 'resolved', acknowledged_by = %s, acknowledged_at = %s,"
                    " resolved_by = %s, resolved_at = %s, resolution = %s, resolution_comment = %s"
                    " WHERE alert_id = %s",
                    (done.acknowledged_by, done.acknowledged_at, done.resolved_by, done.resolved_at,
                     Resolution.FALSE_ALARM.value, done.resolution_comment, row["alert_id"]))  # fmt: skip
        cur.execute("INSERT INTO alert_events (alert_id, at, actor, action, details) VALUES (%s, %s, 'wearer',"
                    " 'resolved', %s)", (row["alert_id"], at, Jsonb({"reason": "false_alarm"})))  # fmt: skip
        if done.draft.robot_id and rule in PAUSE_RULES:
            cur.execute(*robot_command(done.draft.robot_id, "resume", "fall cancelled by the wearer", done.alert_id))
        _announce(cur, done, row)
    return True


def confirm(conn: psycopg.Connection[Any], subject_type: str, subject_id: str, rule: str, at: datetime,
            message: str, severity: Severity) -> bool:  # fmt: skip
    """A suspected fall was not cancelled in time: the open alert becomes a man-down alarm."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = _open_alert(cur, subject_type, subject_id, rule)
        if row is None:
            return False
        cur.execute("UPDATE alerts SET message = %s, severity = %s, details = details || %s WHERE alert_id = %s",
                    (message, severity.value, Jsonb({"confirmed_at": at.isoformat()}), row["alert_id"]))  # fmt: skip
        cur.execute("INSERT INTO alert_events (alert_id, at, actor, action, details) VALUES (%s, %s, 'system',"
                    " 'confirmed', %s)", (row["alert_id"], at, Jsonb({"message": message})))  # fmt: skip
        row.update(message=message, severity=severity.value)
        _announce(cur, alert_from_row(row), row)
    return True
