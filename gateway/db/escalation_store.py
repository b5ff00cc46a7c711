"""Escalations, notifications and the outbox, in the database (sync: run by the housekeeper thread)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
import psycopg
from psycopg.rows import dict_row

from gateway.db.alerts_store import LIVE_CHANNEL, SELECT_ALERTS, row_json
from services.escalation import EscalationLevel, due_levels

Conn = psycopg.Connection[Any]


def chains(conn: Conn) -> dict[str, list[EscalationLevel]]:
    rows = conn.execute("SELECT site_id, level, after_s, target, webhook_url FROM escalation_levels").fetchall()
    out: dict[str, list[EscalationLevel]] = {}
    for site_id, level, after_s, target, url in rows:
        out.setdefault(site_id, []).append(EscalationLevel(level, after_s, target, url))
    return out


def escalate_due(conn: Conn, now: datetime) -> int:
    """Notify the next levels of every unacknowledged alert whose delay has passed; returns how many."""
    notified = 0
    with conn.transaction():
        by_site = chains(conn)
        with conn.cursor(row_factory=dict_row) as cur:
            # Only the alerts with a level due (a control room may keep hundreds open): this runs every second.
            cur.execute(
                SELECT_ALERTS + " WHERE status = 'raised' AND EXISTS (SELECT 1 FROM escalation_levels l"
                " WHERE l.site_id = alerts.site_id AND l.level > alerts.escalation_level"
                " AND alerts.raised_at + l.after_s * interval '1 second' <= %s)"
                " ORDER BY raised_at FOR UPDATE OF alerts SKIP LOCKED",
                (now,),
            )
            rows = cur.fetchall()
            for row in rows:
                levels = due_levels(row["escalation_level"], row["raised_at"], now, by_site.get(row["site_id"], []))
                if not levels:
                    continue
                for lvl in levels:
                    _notify(cur, row, lvl, now)
                    notified += 1
                cur.execute("UPDATE alerts SET escalation_level = %s, escalated_at = %s WHERE alert_id = %s",
                            (levels[-1].level, now, row["alert_id"]))  # fmt: skip
                row["escalation_level"] = levels[-1].level
                event = {"type": "alert.updated", "alert": row_json(row)}
                cur.execute("SELECT pg_notify(%s, %s)", (LIVE_CHANNEL, orjson.dumps(event).decode()))
    return notified


def _notify(cur: psycopg.Cursor[Any], row: dict[str, Any], lvl: EscalationLevel, now: datetime) -> None:
    alert_id = row["alert_id"]
    message = {"alert_id": str(alert_id), "site_id": row["site_id"], "level": lvl.level, "target": lvl.target,
               "rule": row["rule"], "severity": row["severity"], "subject_id": row["subject_id"],
               "message": row["message"], "raised_at": row["raised_at"].isoformat()}  # fmt: skip
    cur.execute(
        "INSERT INTO alert_events (alert_id, at, actor, action, details) VALUES (%s, %s, 'system', 'escalated', %s)",
        (alert_id, now, orjson.dumps({"level": lvl.level, "target": lvl.target}).decode()),
    )
    topic = f"vigie/v1/alerts/{row['site_id']}/escalation"
    cur.execute("INSERT INTO notifications (alert_id, level, channel, target) VALUES (%s, %s, 'mqtt', %s)"
                " RETURNING id", (alert_id, lvl.level, topic))  # fmt: skip
    mqtt_id = cur.fetchone()["id"]  # type: ignore[index]
    cur.execute("INSERT INTO outbox (topic, payload, notification_id) VALUES (%s, %s, %s)",
                (topic, orjson.dumps(message).decode(), mqtt_id))  # fmt: skip
    if lvl.webhook_url:
        cur.execute("INSERT INTO notifications (alert_id, level, channel, target, body) VALUES"
                    " (%s, %s, 'webhook', %s, %s)",
                    (alert_id, lvl.level, lvl.webhook_url, orjson.dumps(message).decode()))  # fmt: skip


def pending_outbox(conn: Conn, limit: int = 200) -> list[tuple[int, str, bytes, int | None]]:
    rows = conn.execute("SELECT id, topic, payload::text, notification_id FROM outbox WHERE sent_at IS NULL"
                        " ORDER BY id LIMIT %s", (limit,)).fetchall()  # fmt: skip
    conn.commit()
    return [(int(i), str(t), str(p).encode(), n) for i, t, p, n in rows]


def mark_sent(conn: Conn, outbox_id: int, notification_id: int | None, now: datetime) -> None:
    conn.execute("UPDATE outbox SET sent_at = %s WHERE id = %s", (now, outbox_id))
    if notification_id is not None:
        conn.execute("UPDATE notifications SET status = 'sent', sent_at = %s WHERE id = %s", (now, notification_id))
    conn.commit()


def pending_webhooks(conn: Conn, limit: int = 20) -> list[tuple[int, str, bytes]]:
    """Webhook notifications not yet delivered, with their JSON body."""
    rows = conn.execute("SELECT id, target, body::text FROM notifications WHERE channel = 'webhook'"
                        " AND status = 'pending' ORDER BY id LIMIT %s", (limit,)).fetchall()  # fmt: skip
    conn.commit()
    return [(int(i), str(t), str(body).encode()) for i, t, body in rows]


def record_webhook(conn: Conn, notification_id: int, ok: bool, response: str, now: datetime) -> None:
    conn.execute("UPDATE notifications SET status = %s, sent_at = %s, response = %s WHERE id = %s",
                 ("sent" if ok else "failed", now, response[:1000], notification_id))  # fmt: skip
    conn.commit()

