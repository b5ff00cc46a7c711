"""The alert lifecycle state machine: raised → acknowledged → resolved, nothing else."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.alerts import (
    Alert,
    AlertDraft,
    AlertStatus,
    Resolution,
    Severity,
    SubjectType,
    acknowledge,
    raise_alert,
    resolve,
)
from services.errors import InvalidTransition

T0 = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


def _draft() -> AlertDraft:
    return AlertDraft("sos", Severity.CRITICAL, SubjectType.AGENT, "agent-1", T0, "SOS button pressed",
                      agent_id="agent-1", device_id="wear-1")


def test_a_new_alert_is_raised_and_counts_one_occurrence():
    alert = raise_alert("a1", _draft(), T0)
    assert alert.status is AlertStatus.RAISED
    assert alert.repeat_count == 1
    assert alert.acknowledged_by is None


def test_acknowledging_records_who_and_when():
    alert = acknowledge(raise_alert("a1", _draft(), T0), "Marc", T0 + timedelta(seconds=20))
    assert alert.status is AlertStatus.ACKNOWLEDGED
    assert (alert.acknowledged_by, alert.acknowledged_at) == ("Marc", T0 + timedelta(seconds=20))


def test_resolving_needs_a_reason_and_keeps_the_acknowledgement():
    acked = acknowledge(raise_alert("a1", _draft(), T0), "Marc", T0 + timedelta(seconds=20))
    done = resolve(acked, "Inès", T0 + timedelta(minutes=5), Resolution.HELP_DISPATCHED, "SAMU sent")
    assert done.status is AlertStatus.RESOLVED
    assert done.acknowledged_by == "Marc"
    assert (done.resolved_by, done.resolution, done.resolution_comment) == (
        "Inès", Resolution.HELP_DISPATCHED, "SAMU sent")


def test_resolving_a_raised_alert_records_the_implicit_acknowledgement():
    done = resolve(raise_alert("a1", _draft(), T0), "Marc", T0 + timedelta(seconds=9), Resolution.FALSE_ALARM)
    assert done.acknowledged_by == "Marc"
    assert done.acknowledged_at == T0 + timedelta(seconds=9)


def test_an_acknowledged_alert_cannot_be_acknowledged_again():
    acked = acknowledge(raise_alert("a1", _draft(), T0), "Marc", T0)
    with pytest.raises(InvalidTransition):
        acknowledge(acked, "Inès", T0)


def test_a_resolved_alert_is_never_reopened():
    done = resolve(raise_alert("a1", _draft(), T0), "Marc", T0, Resolution.TEST)
    with pytest.raises(InvalidTransition):
        acknowledge(done, "Marc", T0)
    with pytest.raises(InvalidTransition):
        resolve(done, "Marc", T0, Resolution.TEST)


def test_an_anonymous_transition_is_refused():
    with pytest.raises(InvalidTransition):
        acknowledge(raise_alert("a1", _draft(), T0), "  ", T0)


ACTIONS = st.lists(st.sampled_from(["ack", "resolve"]), max_size=6)


@given(ACTIONS, st.sampled_from(list(Resolution)))
def test_any_sequence_of_actions_follows_the_lifecycle(actions, reason):
    """Property: status only moves forward, and each allowed move happens exactly when legal."""
    order = [AlertStatus.RAISED, AlertStatus.ACKNOWLEDGED, AlertStatus.RESOLVED]
    alert: Alert = raise_alert("a1", _draft(), T0)
    for i, action in enumerate(actions):
        before = alert.status
        at = T0 + timedelta(seconds=i + 1)
        legal = before is AlertStatus.RAISED if action == "ack" else before is not AlertStatus.RESOLVED
        try:
            alert = acknowledge(alert, "x", at) if action == "ack" else resolve(alert, "x", at, reason)
        except InvalidTransition:
            assert not legal
            assert alert.status is before
        else:
            assert legal
            assert order.index(alert.status) > order.index(before)
        if alert.status is AlertStatus.RESOLVED:
            assert alert.acknowledged_at is not None and alert.resolved_at is not None
            assert alert.acknowledged_at <= alert.resolved_at
