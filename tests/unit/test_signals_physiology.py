"""The daily heart-rate features and the minutes of high strain, on hand-made minute series."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services import ledger
from services.exposure import heat_strain
from services.signals.physiology import HeartDay, HeartMinute, heart_day

T0 = datetime(2026, 7, 6, 6, 0, tzinfo=UTC)


def minutes(hr_bpm: dict[int, float], lifts: dict[int, int] | None = None,
            idle: set[int] | None = None) -> list[HeartMinute]:  # fmt: skip
    lifts, idle = lifts or {}, idle or set()
    return [HeartMinute(T0 + timedelta(minutes=i), hr, i not in idle, lifts.get(i, 0)) for i, hr in hr_bpm.items()]


def test_resting_heart_rate_is_the_lowest_mean_over_ten_consecutive_minutes():
    hr = {i: 80.0 for i in range(40)}
    hr.update({i: 60.0 + (i % 2) for i in range(20, 30)})  # a calm ten minutes: mean 60.5
    hr[5] = 40.0  # one low minute alone: its windows average (9·80 + 40)/10 = 76
    assert heart_day(minutes(hr)).resting_hr_bpm == pytest.approx(60.5)


def test_a_missing_minute_breaks_the_resting_window():
    hr = {i: 80.0 for i in range(40)}
    hr.update({i: 60.0 for i in range(20, 30)})
    del hr[25]  # no ten consecutive calm minutes left: the best window, 15-24, holds five 80s and five 60s
    assert heart_day(minutes(hr)).resting_hr_bpm == pytest.approx((5 * 60.0 + 5 * 80.0) / 10)
    assert heart_day(minutes({i: 70.0 for i in range(9)})).resting_hr_bpm is None  # shorter than ten minutes


def test_working_heart_rate_is_the_mean_over_worked_minutes():
    hr = {0: 70.0, 1: 100.0, 2: 110.0, 3: 120.0}
    assert heart_day(minutes(hr, idle={0})).working_hr_bpm == pytest.approx(110.0)
    assert heart_day(minutes(hr, idle={0, 1, 2, 3})).working_hr_bpm is None


def test_recovery_is_the_mean_drop_two_minutes_after_the_last_minute_of_each_burst():
    hr = {i: 90.0 for i in range(60)}
    hr.update({20: 115.0, 21: 120.0, 22: 110.0, 23: 100.0})  # burst 20-21: 120 → 100, a 20 bpm drop
    hr.update({30: 110.0, 31: 105.0, 32: 100.0})  # burst 30 alone: 110 → 100, 10 bpm
    hr.update({40: 130.0, 42: 90.0})  # burst 40: minute 41 not measured, no follow-up
    del hr[41]
    hr[59] = 140.0  # a burst at the day's last minute: no follow-up either
    lifts = {20: 2, 21: 1, 30: 3, 40: 1, 59: 2}
    assert heart_day(minutes(hr, lifts)).hr_recovery_bpm == pytest.approx((20.0 + 10.0) / 2)


def test_recovery_is_none_without_a_lifting_burst():
    day = heart_day(minutes({i: 90.0 for i in range(30)}))
    assert day.hr_recovery_bpm is None and day.working_hr_bpm == pytest.approx(90.0)
    assert heart_day([]) == HeartDay(None, None, None)


def test_features_do_not_depend_on_the_order_of_the_minutes():
    hr = {i: 80.0 + (i * 7) % 13 for i in range(90)}
    series = minutes(hr, {i: 1 for i in range(0, 90, 9)}, idle={3, 4})
    assert heart_day(reversed(series)) == heart_day(series)


def test_minutes_of_high_strain_count_only_the_minutes_with_psi_of_seven_or_more():
    effort = [(T0 + timedelta(minutes=i), 175.0) for i in range(120)]
    rest = [(T0 + timedelta(minutes=120 + i), 70.0) for i in range(60)]
    strain = ledger.heat_strain_for_day(effort + rest)
    core_c = heat_strain.core_temp_series_c([hr for _, hr in effort + rest])
    psi = [heat_strain.physiological_strain_index(c, hr) for c, (_, hr) in zip(core_c, effort + rest, strict=True)]
    assert strain.psi_high_min == sum(p >= 7.0 for p in psi)
    assert 0 < strain.psi_high_min < 120  # strain builds up during the effort, and falls at rest
    assert ledger.heat_strain_for_day(rest).psi_high_min == 0
    assert ledger.heat_strain_for_day([]).psi_high_min == 0
