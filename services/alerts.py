"""The alert lifecycle: raised → acknowledged → resolved, as a pure state machine.

Every accident-risk alert must be handled to the end: somebody acknowledges it (who, when) and somebody
resolves it with a reason. An alert may be resolved straight from ``raised`` (a supervisor on the radio
with the agent does not need two taps), but never reopened: a new occurrence after resolution is a new
alert. While an alert is open, further occurrences of the same rule for the same subject are counted on
it rather than raised again (deduplication per ``(subject, rule)``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from services.errors import InvalidTransition


class AlertStatus(StrEnum):
    RAISED = "raised"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"

    @property
    def is_open(self) -> bool:
        return self is not AlertStatus.RESOLVED


class Severity(StrEnum):
    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"


class Resolution(StrEnum):
    REAL_INCIDENT = "real_incident"
    FALSE_ALARM = "false_alarm"
    HELP_DISPATCHED = "help_dispatched"
    TEST = "test"


class SubjectType(StrEnum):
    AGENT = "agent"
    DEVICE = "device"
    ROBOT = "robot"


@dataclass(frozen=True, slots=True)
class AlertDraft:
    """What a rule concludes from data: an alert to raise (or to count on the open one)."""

    rule: str
    severity: Severity
    subject_type: SubjectType
    subject_id: str
    source_ts: datetime
    message: str
    agent_id: str | None = None
    device_id: str | None = None
    robot_id: str | None = None
    late: bool = False

    @property
    def dedup_key(self) -> tuple[str, str, str]:
        return (self.subject_type.value, self.subject_id, self.rule)


@dataclass(frozen=True, slots=True)
class Alert:
    """An alert and where it stands in its lifecycle."""

    alert_id: str
    draft: AlertDraft
    raised_at: datetime
    status: AlertStatus = AlertStatus.RAISED
    repeat_count: int = 1
    last_seen_ts: datetime | None = None
    escalation_level: int = 0
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    resolution: Resolution | None = None
    resolution_comment: str | None = None


def raise_alert(alert_id: str, draft: AlertDraft, now: datetime) -> Alert:
    return Alert(alert_id=alert_id, draft=draft, raised_at=now, last_seen_ts=draft.source_ts)


def acknowledge(alert: Alert, by: str, at: datetime) -> Alert:
    """A person takes the alert in hand. Only a raised alert can be acknowledged."""
    if alert.status is not AlertStatus.RAISED:
        raise InvalidTransition(f"alert {alert.alert_id} is {alert.status.value}, not raised")
    if not by.strip():
        raise InvalidTransition("acknowledging needs the name of who acknowledges")
    return replace(alert, status=AlertStatus.ACKNOWLEDGED, acknowledged_by=by, acknowledged_at=at)


def resolve(
    alert: Alert, by: str, at: datetime, reason: Resolution, comment: str | None = None
) -> Alert:
    """Close the alert with a reason. Resolving from ``raised`` also records the implicit acknowledgement."""
    if not alert.status.is_open:
        raise InvalidTransition(f"alert {alert.alert_id} is already resolved")
    if not by.strip():
        raise InvalidTransition("resolving needs the name of who resolves")
    acked_by = alert.acknowledged_by or by
    acked_at = alert.acknowledged_at or at
    return replace(
        alert,
        status=AlertStatus.RESOLVED,
        acknowledged_by=acked_by,
        acknowledged_at=acked_at,
        resolved_by=by,
        resolved_at=at,
        resolution=reason,
        resolution_comment=comment,
    )
