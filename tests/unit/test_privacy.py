"""CNIL: a worker's position is shown only while they have an open alert, never as continuous tracking."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from services.privacy import Position, visible_position

AT = datetime(2026, 6, 3, 9, 15, 2, tzinfo=UTC)


def test_position_is_hidden_without_open_alert():
    assert visible_position(0, 48.8566, 2.3522, AT) is None


def test_position_is_shown_while_an_alert_is_open():
    assert visible_position(1, 48.8566, 2.3522, AT) == Position(48.8566, 2.3522, AT)
    assert visible_position(3, 48.8566, 2.3522, AT) == Position(48.8566, 2.3522, AT)


def test_no_position_when_the_device_sent_no_fix_even_in_alert():
    assert visible_position(1, None, None, AT) is None
    assert visible_position(1, 48.8566, None, AT) is None
    assert visible_position(1, 48.8566, 2.3522, None) is None


def test_a_non_finite_fix_is_not_a_position():
    assert visible_position(1, math.nan, 2.3522, AT) is None
    assert visible_position(1, 48.8566, math.inf, AT) is None


def test_a_negative_count_shows_nothing():
    assert visible_position(-1, 48.8566, 2.3522, AT) is None
