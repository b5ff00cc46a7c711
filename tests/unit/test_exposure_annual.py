from datetime import date, timedelta

import pytest

from services.exposure.annual import DaySummary, annual_statement, night_threshold_nights
from services.exposure.noise import NoiseDose, at_ear_db, lex_8h_db

H = 3600.0


def _days(year: int, n: int, **fields: float) -> list[DaySummary]:
    first = date(year, 1, 1)
    return [DaySummary(first + timedelta(days=i), **fields) for i in range(n)]  # type: ignore[arg-type]


def test_noise_hours_are_the_hours_worked_on_days_at_81_dba_at_the_ear():
    days = [
        DaySummary(date(2025, 3, 3), worked_s=7 * H, lex_8h_at_ear_db=81.0),
        DaySummary(date(2025, 3, 4), worked_s=7 * H, lex_8h_at_ear_db=80.9),
        DaySummary(date(2025, 3, 5), worked_s=6 * H, lex_8h_at_ear_db=90.0),
        DaySummary(date(2025, 3, 6), worked_s=6 * H),
    ]
    statement = annual_statement(2025, days)
    assert statement.noise_hours.amount == pytest.approx(13.0)
    assert statement.noise_hours.share == pytest.approx(13.0 / 600.0)
    assert not statement.noise_hours.reached


def test_protected_days_do_not_count_towards_noise_hours():
    dose = NoiseDose().add(88.0, 7 * H)
    lex = lex_8h_db(dose)
    assert lex is not None and lex > 81.0
    protected = DaySummary(date(2025, 5, 2), worked_s=7 * H, lex_8h_at_ear_db=at_ear_db(lex, 15.0))
    assert annual_statement(2025, [protected]).noise_hours.amount == 0.0


def test_600_noisy_hours_reach_the_noise_factor():
    statement = annual_statement(2025, _days(2025, 100, worked_s=6 * H, lex_8h_at_ear_db=84.0))
    assert statement.noise_hours.amount == pytest.approx(600.0)
    assert statement.noise_hours.reached
    assert statement.factors_reached == ("noise",)


def test_120_peaks_a_year_reach_the_noise_factor_on_their_own():
    statement = annual_statement(2025, _days(2025, 40, worked_s=7 * H, peaks_ge_135=3))
    assert statement.peaks.amount == 120
    assert statement.peaks.reached
    assert statement.factors_reached == ("noise",)


def test_extreme_temperature_hours_against_900():
    statement = annual_statement(2025, _days(2025, 150, worked_s=7 * H, temp_extreme_s=5 * H))
    assert statement.extreme_temp_hours.amount == pytest.approx(750.0)
    assert statement.extreme_temp_hours.share == pytest.approx(750.0 / 900.0)
    assert not statement.extreme_temp_hours.reached


def test_a_night_needs_an_hour_between_midnight_and_five():
    days = [*_days(2025, 10, worked_s=7 * H, night_s=H), DaySummary(date(2025, 6, 1), 7 * H, night_s=H - 1)]
    assert annual_statement(2025, days).nights.amount == 10


def test_100_nights_reach_the_factor_since_2024_but_not_before_september_2023():
    assert annual_statement(2024, _days(2024, 100, worked_s=7 * H, night_s=2 * H)).nights.reached
    assert not annual_statement(2022, _days(2022, 100, worked_s=7 * H, night_s=2 * H)).nights.reached
    assert annual_statement(2022, _days(2022, 120, worked_s=7 * H, night_s=2 * H)).nights.reached


def test_night_thresholds_by_year_including_the_2023_transition():
    assert [night_threshold_nights(y) for y in (2022, 2023, 2024, 2030)] == [120, 113, 100, 100]


def test_a_shorter_contract_can_pass_its_own_night_threshold():
    statement = annual_statement(2023, _days(2023, 100, worked_s=7 * H, night_s=2 * H), night_threshold=100)
    assert statement.nights.threshold == 100
    assert statement.nights.reached


def test_days_outside_the_year_or_summarised_twice_are_refused():
    with pytest.raises(ValueError):
        annual_statement(2025, [DaySummary(date(2024, 12, 31), 7 * H)])
    twice = [DaySummary(date(2025, 1, 2), 7 * H), DaySummary(date(2025, 1, 2), 3 * H)]
    with pytest.raises(ValueError):
        annual_statement(2025, twice)


def test_an_empty_year_reaches_nothing():
    statement = annual_statement(2025, [])
    assert statement.days == 0
    assert statement.factors_reached == ()
