"""Today's doses, their projection over the shift, the day's curves and their lines, against hand computations."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from services.exposure import heat
from services.exposure.today import (
    ReferenceLine,
    cumulative_curves,
    exposure_today,
    hav_points,
    hav_points_lines,
    hr_lines,
    local_day_bounds,
    minute_max_wbgt_c,
    noise_dose_lines,
    noise_dose_pct,
    projected,
    tonnage_lines,
    wbgt_lines,
)

PARIS = ZoneInfo("Europe/Paris")
DAY = date(2026, 6, 3)


def test_eight_hours_at_85_dba_is_a_full_noise_dose():
    assert float(noise_dose_pct(28_800 * 10**8.5)) == pytest.approx(100.0)


def test_one_hour_at_94_dba_is_almost_a_full_noise_dose():
    # 3600·10^9.4 / (28800·10^8.5) = 10^0.9 / 8 = 7.9433 / 8 = 0.99291
    assert float(noise_dose_pct(3600 * 10**9.4)) == pytest.approx(99.291, abs=1e-3)


def test_two_hours_at_5_ms2_is_100_hav_points():
    # HSE: points = 2·a²·T[h] = 2 × 25 × 2 = 100 (the 2.5 m/s² action value over 8 h).
    assert float(hav_points(25.0 * 7200)) == pytest.approx(100.0)
    assert float(hav_points(25.0 * 28_800)) == pytest.approx(400.0)


def test_projection_extends_todays_rate_over_the_shift():
    assert projected(50.0, worked_s=7200, shift_s=28_800) == pytest.approx(200.0)


def test_no_projection_before_a_quarter_of_an_hour_of_data():
    assert projected(5.0, worked_s=899, shift_s=28_800) is None
    assert projected(5.0, worked_s=900, shift_s=28_800) == pytest.approx(160.0)
    assert projected(None, worked_s=7200, shift_s=28_800) is None


def test_projection_is_never_below_what_was_received():
    assert projected(120.0, worked_s=36_000, shift_s=28_800) == 120.0


def test_exposure_today_from_the_ledger_sums():
    got = exposure_today(
        DAY, worked_s=7200, noise_s=7200, noise_sum_t_10pow=7200 * 10**8.5, hav_s=3600, hav_sum_a2t=4.0**2 * 3600,
        psi_max=2.4, wbgt_max_c=27.3, lifts=40, tonnage_kg=480.0, shift_s=28_800,
    )  # fmt: skip
    assert got.noise_dose_pct == pytest.approx(25.0)  # 2 h of the 8 h at 85 dB(A)
    assert got.noise_dose_projected_pct == pytest.approx(100.0)
    assert got.hav_points == pytest.approx(32.0)  # 2 × 16 × 1 h
    assert got.hav_points_projected == pytest.approx(128.0)
    assert (got.day, got.worked_s, got.psi_max, got.wbgt_max_c, got.lifts, got.tonnage_kg) == (
        DAY, 7200, 2.4, 27.3, 40, 480.0)


def test_nothing_measured_is_null_not_zero():
    got = exposure_today(
        DAY, worked_s=600, noise_s=0, noise_sum_t_10pow=0, hav_s=0, hav_sum_a2t=0, psi_max=None, wbgt_max_c=None,
        lifts=0, tonnage_kg=0.0, shift_s=28_800,
    )  # fmt: skip
    assert (got.noise_dose_pct, got.noise_dose_projected_pct, got.hav_points, got.hav_points_projected) == (
        None, None, None, None)


def test_curves_are_running_totals_of_the_minute_sums():
    curves = cumulative_curves([60 * 10**8.5, 0.0, 60 * 10**9.5], [0.0, 25.0 * 60, 25.0 * 60], [1, 0, 2],
                               [12.0, 0.0, 30.0])  # fmt: skip
    # 60 s at 85 dB(A) = 100·60/28800 = 0.2083 %; 60 s at 95 dB(A) ten times that.
    assert curves.noise_dose_pct.tolist() == pytest.approx([0.20833, 0.20833, 2.29167], abs=1e-5)
    # 60 s at 5 m/s²: 2 × 25 × 60/3600 = 0.8333 points per minute.
    assert curves.hav_points.tolist() == pytest.approx([0.0, 0.83333, 1.66667], abs=1e-5)
    assert curves.lifts.tolist() == [1, 1, 3]
    assert curves.tonnage_kg.tolist() == pytest.approx([12.0, 12.0, 42.0])


def test_curves_of_a_day_without_frames_are_empty():
    curves = cumulative_curves([], [], [], [])
    assert curves.noise_dose_pct.size == curves.lifts.size == 0


def test_minute_wbgt_is_the_highest_frame_wbgt_as_the_ledger_computes_it():
    # BoM estimate at 30 °C, 50 % RH: e = 0.5·6.105·exp(17.27·30/267.7) = 21.145 hPa;
    # WBGT = 0.567·30 + 0.393·21.145 + 3.94 = 29.26 °C.
    minute_1 = [[30.0, 50.0, None], [25.0, 50.0, None]]
    minute_3 = [[28.0, 40.0, 35.0]]  # with a globe: ISO 7243 outdoor formula
    got = minute_max_wbgt_c([minute_1, None, minute_3])
    assert got[0] == pytest.approx(29.26, abs=0.01)
    assert got[1] is None
    expected = heat.wbgt_c(28.0, 40.0, 35.0)
    assert expected is not None and got[2] == pytest.approx(expected[0])


def test_reference_lines_come_from_the_regulatory_values():
    noise = noise_dose_lines()  # 100·10^((L − 85)/10) for L = 80, 85, 87 dB(A)
    assert [line.key for line in noise] == ["lower_action", "upper_action", "limit"]
    assert [line.value for line in noise] == pytest.approx([31.623, 100.0, 158.489], abs=1e-3)
    hav = hav_points_lines()  # 100·(A(8)/2.5)² for A(8) = 2.5 and 5 m/s²
    assert [line.key for line in hav] == ["action", "limit"]
    assert [line.value for line in hav] == pytest.approx([100.0, 400.0])
    assert wbgt_lines(26.2) == (ReferenceLine("reference", 26.2),)
    assert hr_lines() == (ReferenceLine("psi_hr_max", 180.0),)
    assert tonnage_lines() == (ReferenceLine("recommended", 7500.0),)


def test_the_noise_limit_is_judged_at_the_ear_so_protection_raises_its_line():
    # R4431-3: with 10 dB of registered attenuation the limit is exceeded above 97 dB(A) unprotected.
    (_, _, limit) = noise_dose_lines(hearing_attenuation_db=10.0)
    assert limit.value == pytest.approx(100 * 10**1.2)


def test_a_local_day_lasts_23_hours_when_clocks_spring_forward():
    start, end = local_day_bounds(date(2026, 3, 29), PARIS)
    assert start == datetime(2026, 3, 28, 23, tzinfo=UTC)
    assert end == datetime(2026, 3, 29, 22, tzinfo=UTC)
