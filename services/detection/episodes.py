"""Open episodes per (subject, rule): the one place that makes every rule raise once and re-arm on clear."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from services.alerts import AlertDraft, Severity, SubjectType
from services.detection.outcomes import Cancel, Clear, Confirm, DetailValue, Outcome, Raise, RuleId
from services.model import Received


@dataclass(frozen=True, slots=True)
class Subject:
    """Whom an alert is about: the agent wearing the device, else the device itself, or a robot."""

    type: SubjectType
    id: str

    @staticmethod
    def of(received: Received) -> Subject:
        # An alert follows the agent wearing the device at the frame's time; a device
        # nobody is assigned to still raises, on the device.
        if received.agent_id is not None:
            return Subject(SubjectType.AGENT, received.agent_id)
        return Subject(SubjectType.DEVICE, received.frame.device_id)


@dataclass(frozen=True, slots=True)
class Source:
    """The data an outcome comes from: its subject, the ids to put on the draft, its time and lateness."""

    subject: Subject
    ts: datetime
    late: bool = False
    agent_id: str | None = None
    device_id: str | None = None
    robot_id: str | None = None

    @staticmethod
    def of(received: Received) -> Source:
        return Source(Subject.of(received), received.frame.ts, received.late, received.agent_id,
                      received.frame.device_id)  # fmt: skip

    def at(self, ts: datetime) -> Source:
        """The same subject and ids, for data (or a clock) at ``ts``, live."""
        return Source(self.subject, ts, False, self.agent_id, self.device_id, self.robot_id)


def make_raise(src: Source, rule: RuleId, severity: Severity, message: str,
               details: Mapping[str, DetailValue] | None = None) -> Raise:  # fmt: skip
    draft = AlertDraft(
        rule=rule.value,
        severity=severity,
        subject_type=src.subject.type,
        subject_id=src.subject.id,
        source_ts=src.ts,
        message=message,
        agent_id=src.agent_id,
        device_id=src.device_id,
        robot_id=src.robot_id,
        late=src.late,
    )
    return Raise(draft, dict(details or {}))


class Episodes:
    """Which rules are raised for which subject. Every latched Raise, Clear, Cancel and Confirm goes through here."""

    def __init__(self) -> None:
        self._open: set[tuple[Subject, RuleId]] = set()

    def is_open(self, subject: Subject, rule: RuleId) -> bool:
        return (subject, rule) in self._open

    def raise_(self, src: Source, rule: RuleId, severity: Severity, message: str,
               details: Mapping[str, DetailValue] | None = None) -> list[Outcome]:  # fmt: skip
        """Open the episode and raise, unless it is already open (then nothing: no flicker)."""
        if (src.subject, rule) in self._open:
            return []
        self._open.add((src.subject, rule))
        return [make_raise(src, rule, severity, message, details)]

    def clear(self, subject: Subject, rule: RuleId, at: datetime, reason: str) -> list[Outcome]:
        """End the episode because its condition is gone (nothing if it is not open)."""
        if (subject, rule) not in self._open:
            return []
        self._open.discard((subject, rule))
        return [Clear(subject.type, subject.id, rule.value, at, reason)]

    def cancel(self, subject: Subject, rule: RuleId, at: datetime, by: str) -> list[Outcome]:
        """End the episode because the wearer cancelled it (nothing if it is not open)."""
        if (subject, rule) not in self._open:
            return []
        self._open.discard((subject, rule))
        return [Cancel(subject.type, subject.id, rule.value, at, by)]

    def confirm(self, subject: Subject, rule: RuleId, at: datetime, message: str,
                severity: Severity) -> list[Outcome]:  # fmt: skip
        """Escalate the open episode (nothing if it is not open)."""
        if (subject, rule) not in self._open:
            return []
        return [Confirm(subject.type, subject.id, rule.value, at, message, severity)]

    def hysteresis(self, src: Source, rule: RuleId, *, raise_if: bool, clear_if: bool, severity: Severity,
                   message: str, clear_reason: str,
                   details: Mapping[str, DetailValue] | None = None) -> list[Outcome]:  # fmt: skip
        """Raise on ``raise_if`` when closed, clear on ``clear_if`` when open; between the two, keep the state."""
        if raise_if:
            return self.raise_(src, rule, severity, message, details)
        if clear_if:
            return self.clear(src.subject, rule, src.ts, clear_reason)
        return []
