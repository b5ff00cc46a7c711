"""The statistics of the weak signals on hand-made series (services/signals/stats.py)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from services.signals.model import DayValue
from services.signals.stats import (
    HUBER_C,
    Direction,
    Trend,
    cusum_first_alarm,
    evidence_cap,
    evidence_threshold,
    rank_confidence,
    robust_baseline,
    robust_z,
    trend,
)

START = date(2025, 1, 6)


def series(values: list[float]) -> list[DayValue]:
    return [DayValue(START + timedelta(days=i), float(v)) for i, v in enumerate(values)]


def noisy(n: int, level: float, sd: float, seed: int = 0) -> list[float]:
    return list(np.random.default_rng(seed).normal(level, sd, n))


def run(values: list[float], direction: Direction = "up") -> Trend:
    """The trend as detect() runs it on a resting heart rate (floor 2 bpm, the day-to-day noise here)."""
    return trend(series(values), baseline_days=30, recent_days=7, direction=direction, min_effect=1.0, sd_floor=2.0)


def test_baseline_level_is_the_mean_clipped_near_the_median_and_spread_the_mad_scaled_to_sd() -> None:
    base = robust_baseline([1.0, 2.0, 3.0, 3.5, 100.0])
    # MAD = 1: values clipped to 3 ± 1.345 × 1.4826 = [1.006, 4.994] before averaging; 100 counts as 4.994.
    assert base.level == pytest.approx((1.0059 + 2.0 + 3.0 + 3.5 + 4.9941) / 5, abs=1e-3)
    assert base.sd >= 1.4826  # the winsorised SD may only raise it


def test_baseline_level_is_nearly_as_precise_as_the_mean() -> None:
    # From 30 normal days the median is off by 0.23 sd (1.2533 / √30), the mean by 0.18: the CUSUM adds that error
    # every day after the baseline, and the baselines that happened to sit low raised most false flags.
    rng = np.random.default_rng(0)
    levels = [robust_baseline(rng.normal(0.0, 1.0, 30)).level for _ in range(400)]
    assert float(np.std(levels)) < 0.21


def test_one_bad_baseline_day_moves_the_level_by_at_most_its_clipped_share() -> None:
    values = wobble(30, 60)
    clean = robust_baseline(values)
    values[12] = 160.0
    assert 0.0 < robust_baseline(values).level - clean.level <= HUBER_C * clean.sd / 30 + 0.1


def test_a_week_of_a_change_inside_the_baseline_barely_moves_its_level() -> None:
    values = wobble(30, 60)
    base = robust_baseline(values[:24] + [70.0] * 6)  # the step began on the 25th of 30 baseline days
    assert base.level - 60.0 < 0.6 * base.sd


def test_flat_baseline_takes_the_floor_instead_of_exploding() -> None:
    base = robust_baseline([60.0] * 30, sd_floor=2.0)
    assert base.sd == 2.0
    assert robust_z([64.0], base)[0] == pytest.approx(2.0)


def test_count_baseline_spread_is_at_least_poisson() -> None:
    base = robust_baseline([4.0] * 30, poisson_floor=True, center="mean")
    assert base.sd == pytest.approx(2.0)


def test_robust_z_is_signed_for_the_worrying_direction() -> None:
    base = robust_baseline([20.0] * 10, sd_floor=2.0)
    assert robust_z([16.0], base, "down")[0] == pytest.approx(2.0)
    assert robust_z([16.0], base, "up")[0] == pytest.approx(-2.0)


def test_cusum_ignores_one_outlier_but_crosses_on_a_sustained_shift() -> None:
    _, first = cusum_first_alarm([0.0] * 10 + [50.0] + [0.0] * 10)
    assert first is None
    _, first = cusum_first_alarm([0.0] * 10 + [2.5] * 10)
    assert first is not None and 10 <= first <= 14


def test_rank_confidence_is_high_for_a_clear_shift_and_low_for_none() -> None:
    base = noisy(30, 60, 2, seed=1)
    assert rank_confidence(base, noisy(7, 66, 2, seed=2), "up") > 0.99
    assert rank_confidence(base, noisy(7, 66, 2, seed=2), "down") < 0.01
    assert rank_confidence([1.0] * 10, [1.0] * 5) == 0.0  # all tied: no evidence


def test_rank_confidence_matches_the_normal_approximation_by_hand() -> None:
    # x = 1..5, y = 6..8: U_y = 15, mean 7.5, var 5*3*9/12 = 11.25, z = (15 - 7.5 - 0.5)/sqrt(11.25) = 2.087.
    confidence = rank_confidence([1, 2, 3, 4, 5], [6, 7, 8])
    assert confidence == pytest.approx(0.98156, abs=1e-4)


def test_flat_series_is_not_flagged() -> None:
    found = run(noisy(120, 60, 2))
    assert not found.flagged and found.first_flagged is None


def test_flat_noise_rarely_flags() -> None:
    flags = sum(run(noisy(120, 60, 2, seed=seed)).flagged for seed in range(40))
    assert flags <= 2  # 90 valid days after the baseline, 40 agents: the false-alarm rate is small, not zero


def test_clear_step_is_flagged_within_a_few_days_of_it() -> None:
    values = noisy(60, 60, 2) + noisy(40, 66, 2, seed=3)
    found = run(values)
    assert found.flagged and found.first_flagged is not None
    assert 0 <= (found.first_flagged - (START + timedelta(days=60))).days <= 5
    assert found.effect > 2.0 and found.confidence > 0.99


def wobble(n: int, level: float) -> list[float]:
    """A flat series with a deterministic day-to-day wobble (±2), so its spread is known."""
    return [level + (2.0, -1.0, 0.5, -2.0, 1.0)[i % 5] for i in range(n)]


def test_single_outlier_is_not_flagged() -> None:
    values = wobble(80, 60)
    values[45] = 120.0
    assert not run(values).flagged


def test_two_outliers_in_a_row_are_not_flagged() -> None:
    values = wobble(80, 60)
    values[45] = values[46] = 120.0
    assert not run(values).flagged


def test_too_few_baseline_days_flag_nothing() -> None:
    found = run(noisy(25, 60, 2) + [80.0] * 4)  # a step, but the 30-day baseline is not complete
    assert not found.flagged


def test_direction_is_respected() -> None:
    down = noisy(60, 22, 2) + noisy(30, 15, 2, seed=4)  # recovery slowing: the value goes down
    assert run(down, "down").flagged
    assert not run(down, "up").flagged
    assert run(down, "down").effect > 0 > run(down, "up").effect


def test_flag_needs_the_minimum_effect() -> None:
    values = noisy(60, 60, 2) + noisy(40, 66, 2, seed=3)
    assert not trend(series(values), baseline_days=30, recent_days=7, direction="up", min_effect=10.0).flagged


def test_flag_is_causal_a_shorter_series_flags_on_the_same_day() -> None:
    values = noisy(60, 60, 2) + noisy(40, 66, 2, seed=3)
    first = run(values).first_flagged
    assert first is not None
    cut = (first - START).days
    assert run(values[:cut + 1]).first_flagged == first
    assert not run(values[:cut]).flagged


def test_constant_baseline_without_floor_gives_finite_figures() -> None:
    found = trend(series([5.0] * 40), baseline_days=30, recent_days=7, direction="up", min_effect=1.0)
    assert np.isfinite(found.effect) and not found.flagged


def test_counts_and_nights_ask_the_evidence_of_the_normal_cusum_in_nats() -> None:
    # k = 1, h = 4.5: for a 2-sd step a day's log-likelihood ratio is 2(z − 1), so h = 4.5 is 9 nats, the cap 3.
    assert evidence_threshold() == pytest.approx(9.0)
    assert evidence_cap() == pytest.approx(3.0)
