"""What the detection engine concludes, for the gateway to apply to its alerts.

An *episode* of a rule for a subject opens with one ``Raise`` and ends with one ``Clear`` (the condition is
gone) or ``Cancel`` (the wearer cancelled a suspected fall); ``Confirm`` escalates the open alert in between.
The engine never raises a rule twice for a subject without ending the episode first (hysteresis); the one
exception is the SOS button, which raises on every press and is never cleared by data (see ``wearer_rules``).
Ending an episode does not resolve the alert: a person still resolves it, with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from services.alerts import AlertDraft, Severity, SubjectType


class RuleId(StrEnum):
    """The ``rule`` of every alert the engine raises (``AlertDraft.rule``)."""

    SOS = "sos"
    FALL = "fall"
    MAN_DOWN = "man_down"
    HEAT_STRAIN = "heat_strain"
    WBGT_OVER_REFERENCE = "wbgt_over_reference"
    NOISE_PEAK = "noise_peak"
    HAV_LIMIT_APPROACHING = "hav_limit_approaching"
    LIFTING_OVERLOAD = "lifting_overload"
    ROBOT_ESTOP = "robot_estop"
    ROBOT_PROTECTIVE_STOP = "robot_protective_stop"
    ROBOT_FAULT = "robot_fault"
    ROBOT_BATTERY_LOW = "robot_battery_low"
    WEARABLE_OFFLINE = "wearable_offline"
    WEARABLE_BATTERY_LOW = "wearable_battery_low"
    MISSED_CHECKIN = "missed_checkin"


DetailValue = str | float | int | bool | None | tuple[str, ...]
"""JSON-ready: timestamps are RFC 3339 strings."""

EpisodeKey = tuple[str, str, str]
"""(subject type, subject id, rule) — the same key as ``AlertDraft.dedup_key``."""


@dataclass(frozen=True, slots=True)
class Raise:
    """Open an alert: the draft, and what a supervisor needs to judge it (stage times, peak, distance)."""

    draft: AlertDraft
    details: dict[str, DetailValue] = field(default_factory=dict)

    @property
    def key(self) -> EpisodeKey:
        return self.draft.dedup_key


@dataclass(frozen=True, slots=True)
class Clear:
    """The condition is gone at ``at``: the gateway marks the open alert cleared; a person still resolves it."""

    subject_type: SubjectType
    subject_id: str
    rule: str
    at: datetime
    reason: str

    @property
    def key(self) -> EpisodeKey:
        return (self.subject_type.value, self.subject_id, self.rule)


@dataclass(frozen=True, slots=True)
class Cancel:
    """The wearer cancelled a suspected fall in time: the gateway resolves the alert as a false alarm ``by`` them.

    ``by`` is the wearer's agent id (the device id when nobody is assigned to the device).
    """

    subject_type: SubjectType
    subject_id: str
    rule: str
    at: datetime
    by: str

    @property
    def key(self) -> EpisodeKey:
        return (self.subject_type.value, self.subject_id, self.rule)


@dataclass(frozen=True, slots=True)
class Confirm:
    """Escalate the open alert: new ``message``, higher ``severity``; the episode stays open.

    Sent when a suspected fall was not cancelled within the window (the man-down alarm), and when hand-arm
    vibration points reach the daily limit after the approaching-limit warning.
    """

    subject_type: SubjectType
    subject_id: str
    rule: str
    at: datetime
    message: str
    severity: Severity

    @property
    def key(self) -> EpisodeKey:
        return (self.subject_type.value, self.subject_id, self.rule)


Outcome = Raise | Clear | Cancel | Confirm
