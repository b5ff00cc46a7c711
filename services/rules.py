"""Alert rules: what in a frame calls for a supervisor's attention.

The walking skeleton carries the SOS rule; the detection issue adds falls, heat strain, noise, vibration,
lifting, robot proximity and device offline rules behind the same signature, so the ingest handler does not
change when a rule is added.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from services.alerts import AlertDraft, Severity, SubjectType
from services.model import Received

Rule = Callable[[Received], AlertDraft | None]


def _subject(received: Received) -> tuple[SubjectType, str]:
    # An alert follows the agent wearing the device at the frame's time; a device nobody is assigned to
    # still raises (someone pressed that button), on the device.
    if received.agent_id is not None:
        return SubjectType.AGENT, received.agent_id
    return SubjectType.DEVICE, received.frame.device_id


def sos_rule(received: Received) -> AlertDraft | None:
    """The wearer pressed the SOS button: always critical, never filtered or delayed."""
    if not received.frame.sos:
        return None
    subject_type, subject_id = _subject(received)
    return AlertDraft(
        rule="sos",
        severity=Severity.CRITICAL,
        subject_type=subject_type,
        subject_id=subject_id,
        source_ts=received.frame.ts,
        message="SOS button pressed",
        agent_id=received.agent_id,
        device_id=received.frame.device_id,
        late=received.late,
    )


DEFAULT_RULES: tuple[Rule, ...] = (sos_rule,)


def evaluate(frames: Sequence[Received], rules: Sequence[Rule] = DEFAULT_RULES) -> list[AlertDraft]:
    """Apply every rule to every frame, in frame-time order."""
    drafts: list[AlertDraft] = []
    for received in sorted(frames, key=lambda r: (r.frame.ts, r.frame.seq)):
        for rule in rules:
            draft = rule(received)
            if draft is not None:
                drafts.append(draft)
    return drafts
