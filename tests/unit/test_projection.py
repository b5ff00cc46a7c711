"""Projected-dose warnings: early, with the projected time, once per agent, rule and day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from services.model import Environment, Frame, HandArmVibration, Noise, Received
from services.projection import HAV_TARGET_SUM, NOISE_TARGET_SUM, DayTotals, DoseProjector

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)  # 09:00 in Paris


def feed(projector: DoseProjector, seconds: int, **sections: object) -> None:
    for i in range(seconds):
        frame = Frame("w", i, NOW - timedelta(seconds=seconds - i), **sections)  # type: ignore[arg-type]
        projector.observe(Received(frame, NOW, "a1"), wbgt_ref_c=28.0)


def test_steady_100_dba_warns_with_the_time_85_dba_lex_will_be_reached():
    projector = DoseProjector(PARIS)
    feed(projector, 60, noise=Noise(100.0))
    (draft,) = projector.project(DayTotals("a1", 60 * 10**10, 0.0, NOW + timedelta(hours=6)), NOW)
    crossing = NOW + timedelta(seconds=(NOISE_TARGET_SUM - 60 * 10**10) / 10**10)
    assert draft.rule == "noise_projected"
    assert draft.message == f"reaches 85 dB(A) LEX,8h by {crossing.astimezone(PARIS):%H:%M} — rotate the task"


def test_no_warning_when_the_limit_falls_after_the_end_of_the_shift():
    projector = DoseProjector(PARIS)
    feed(projector, 60, noise=Noise(80.0))
    assert projector.project(DayTotals("a1", 60 * 10**8, 0.0, NOW + timedelta(hours=4)), NOW) == []


def test_a_warning_is_given_once_per_agent_rule_and_day():
    projector = DoseProjector(PARIS)
    feed(projector, 60, noise=Noise(100.0))
    totals = DayTotals("a1", NOISE_TARGET_SUM + 1, 0.0, NOW + timedelta(hours=4))
    (first,) = projector.project(totals, NOW)
    assert first.message.startswith("has reached 85 dB(A)")
    assert projector.project(totals, NOW + timedelta(minutes=1)) == []


def test_hand_arm_vibration_warns_before_the_5_ms2_limit():
    projector = DoseProjector(PARIS)
    feed(projector, 300, hav=HandArmVibration(12.0, 1.0, "breaker"))
    drafts = projector.project(DayTotals("a1", 0.0, 0.9 * HAV_TARGET_SUM, NOW + timedelta(hours=4)), NOW)
    assert [d.rule for d in drafts] == ["hav_projected"]


def _warming(projector: DoseProjector, seconds: int, start_c: float, per_min_c: float) -> None:
    for i in range(seconds):
        temp_c = start_c + per_min_c * i / 60
        frame = Frame("w", i, NOW - timedelta(seconds=seconds - i), env=Environment(temp_c, 50.0))
        projector.observe(Received(frame, NOW, "a1"), wbgt_ref_c=28.0)


def test_a_rising_wbgt_warns_before_it_crosses_the_reference():
    projector = DoseProjector(PARIS)
    _warming(projector, 1200, start_c=27.0, per_min_c=0.1)  # 20 min of air warming 0.1 °C per minute
    drafts = projector.project(DayTotals("a1", 0.0, 0.0, NOW + timedelta(hours=4)), NOW)
    assert [d.rule for d in drafts] == ["heat_projected"]


def test_a_short_or_cool_wbgt_trend_projects_nothing():
    brief = DoseProjector(PARIS)
    _warming(brief, 300, start_c=27.0, per_min_c=0.5)  # 5 min: too short to believe
    assert brief.project(DayTotals("a1", 0.0, 0.0, NOW + timedelta(hours=4)), NOW) == []
    cool = DoseProjector(PARIS)
    _warming(cool, 1200, start_c=8.0, per_min_c=0.05)  # a November morning warming up, far below 28 °C
    assert cool.project(DayTotals("a1", 0.0, 0.0, NOW + timedelta(hours=8)), NOW) == []
