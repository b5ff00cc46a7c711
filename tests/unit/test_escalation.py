from datetime import UTC, datetime, timedelta

from services.escalation import EscalationLevel, due_levels

T0 = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
CHAIN = [EscalationLevel(1, 120, "site manager"), EscalationLevel(2, 300, "safety officer", "http://x/hook")]


def test_nobody_else_is_notified_before_the_first_delay():
    assert due_levels(0, T0, T0 + timedelta(seconds=119), CHAIN) == []


def test_each_level_is_due_once_its_delay_has_passed():
    assert [lvl.level for lvl in due_levels(0, T0, T0 + timedelta(seconds=120), CHAIN)] == [1]
    assert [lvl.level for lvl in due_levels(1, T0, T0 + timedelta(seconds=299), CHAIN)] == []
    assert [lvl.level for lvl in due_levels(1, T0, T0 + timedelta(seconds=300), CHAIN)] == [2]


def test_a_gateway_back_after_an_outage_sends_every_missed_level_in_order():
    assert [lvl.level for lvl in due_levels(0, T0, T0 + timedelta(hours=1), CHAIN)] == [1, 2]

