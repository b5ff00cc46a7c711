"""Counted signals tested as rates, on hand-made counts (services/signals/counts.py)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, timedelta

import pytest

from services.signals.agent import RESTING_HR, STUMBLES
from services.signals.build import Subject, count_signal
from services.signals.counts import (
    DayCount,
    binomial_at_least,
    count_trend,
    poisson_cusum,
    rate_baseline,
    rate_confidence,
)
from services.signals.model import SubjectKind
from services.signals.params import DEFAULT_PARAMS
from services.signals.stats import Trend, evidence_cap, evidence_threshold

START = date(2025, 1, 6)


def counts(events: Sequence[float], exposure: float | list[float] = 1.0) -> list[DayCount]:
    hours = exposure if isinstance(exposure, list) else [exposure] * len(events)
    return [DayCount(START + timedelta(days=i), float(c), e)
            for i, (c, e) in enumerate(zip(events, hours, strict=True))]


def stumbles(events: Sequence[float]) -> Trend:
    """The trend as detect() runs it on one agent's stumbles (floor 0.25 a day)."""
    return count_trend(counts(events), baseline_days=30, recent_days=7, min_effect=1.0, sd_floor=0.25)


def test_thirty_days_without_a_stumble_are_not_a_zero_rate() -> None:
    base = rate_baseline([0.0] * 30, [1.0] * 30, sd_floor=0.25)
    assert base.rate == 0.0 and base.tested_rate == pytest.approx(0.5 / 30)  # Jeffreys: (0 + ½) / 30 days
    assert base.dispersion == 1.0 and base.sd == 0.25  # √(0.017) = 0.13 is under the floor


def test_spread_is_the_poisson_sd_of_one_days_rate() -> None:
    base = rate_baseline([15.0] * 30, [7.5] * 30)  # 2 lifts an hour over 7.5-hour days: less variable than Poisson
    assert base.dispersion == 1.0  # never below Poisson: a steady baseline is not believed steadier than chance
    assert base.sd == pytest.approx(math.sqrt((450.5 / 225) / 7.5))


def test_days_more_variable_than_poisson_count_for_less() -> None:
    bursty = rate_baseline([0.0] * 25 + [4.0] * 5, [1.0] * 30)
    steady = rate_baseline([0.0, 1.0] * 15, [1.0] * 30)
    assert bursty.dispersion > 2.0 and steady.dispersion == 1.0
    day = poisson_cusum([2.0], [1.0], bursty)[0]
    as_if_poisson = poisson_cusum([2.0], [1.0], bursty._replace(dispersion=1.0))[0]
    assert day == pytest.approx(as_if_poisson / bursty.dispersion)


def test_a_day_adds_its_log_likelihood_ratio_at_most_the_cap() -> None:
    base = rate_baseline([0.0] * 30, [1.0] * 30, sd_floor=0.25)
    mu0, mu1 = base.tested_rate, base.tested_rate + 2 * 0.25
    one = poisson_cusum([1.0], [1.0], base)[0]
    assert one == pytest.approx(math.log(mu1 / mu0) - (mu1 - mu0))  # 2.93 nats: one stumble
    assert poisson_cusum([10.0], [1.0], base)[0] == evidence_cap()  # ten on one day are one capped day
    assert poisson_cusum([1.0, 0.0], [1.0, 1.0], base)[1] == pytest.approx(one - (mu1 - mu0))  # a day without


def test_binomial_tail_by_hand() -> None:
    assert binomial_at_least(2, 3, 0.5) == pytest.approx(0.5)  # (3 + 1) / 8
    assert binomial_at_least(0, 3, 0.5) == 1.0 and binomial_at_least(4, 3, 0.5) == 0.0
    # Large n stays finite and exact: Σ C(1000, i) 0.3^i 0.7^(1000−i) for i ≥ 300, in exact fractions, is 0.51192748.
    assert binomial_at_least(300, 1000, 0.3) == pytest.approx(0.51192748, abs=1e-8)


def test_exact_rate_test_of_four_recent_stumbles_against_none_in_thirty_days() -> None:
    # All four events fall in the 7 recent days out of 37: p = (7/37)⁴ = 0.00128.
    assert rate_confidence(0, 30, 4, 7) == pytest.approx(1 - (7 / 37) ** 4)
    assert rate_confidence(1, 30, 0, 7) == 0.0  # no recent event: no evidence


def test_a_stumble_every_other_day_is_flagged_within_two_weeks() -> None:
    found = stumbles([1 if i == 12 else 0 for i in range(30)] + [0, 0, 1, 0, 2, 0, 1, 0, 1, 0, 2, 0, 1, 0])
    assert found.flagged and found.first_flagged is not None
    assert (found.first_flagged - (START + timedelta(days=32))).days <= 8
    assert found.baseline == pytest.approx(1 / 30) and found.confidence > 0.99


def test_one_day_of_several_stumbles_is_not_flagged() -> None:
    assert not stumbles([0] * 45 + [3] + [0] * 20).flagged
    assert not stumbles([0] * 45 + [3, 0, 0, 2] + [0] * 20).flagged  # two capped days: 6 nats, not above 9


def test_levels_are_rates_over_the_exposure() -> None:
    found = count_trend(counts([15.0] * 30 + [30.0] * 10, [7.5] * 30 + [5.0] * 10), baseline_days=30,
                        recent_days=7, min_effect=1.0)
    assert found.baseline == pytest.approx(2.0) and found.recent == pytest.approx(6.0)
    assert found.flagged and found.effect > 1.0


def test_the_same_rate_over_short_days_takes_more_days_to_flag() -> None:
    full = count_trend(counts([15.0] * 30 + [24.0] * 20, 7.5), baseline_days=30, recent_days=7, min_effect=1.0)
    short = count_trend(counts([15.0] * 30 + [8.0] * 20, [7.5] * 30 + [2.5] * 20), baseline_days=30,
                        recent_days=7, min_effect=1.0)  # 3.2 an hour either way
    assert full.first_flagged is not None and short.first_flagged is not None
    assert short.first_flagged > full.first_flagged


def test_count_flag_is_causal() -> None:
    events = [0.0] * 30 + [0, 1, 0, 2, 1, 0, 1, 2, 0, 1, 1, 0, 2, 1]
    first = stumbles(events).first_flagged
    assert first is not None
    cut = (first - START).days
    assert stumbles(events[:cut + 1]).first_flagged == first
    assert not stumbles(events[:cut]).flagged


def test_the_alarm_is_the_normal_cusums_evidence() -> None:
    base = rate_baseline([0.0] * 30, [1.0] * 30, sd_floor=0.25)
    three = poisson_cusum([1.0, 1.0, 1.0], [1.0] * 3, base)
    assert three[-1] < evidence_threshold()  # three stumbles in a row: 8.8 nats, not yet
    assert poisson_cusum([1.0] * 4, [1.0] * 4, base)[-1] > evidence_threshold()


def test_only_a_counted_metric_is_tested_as_a_rate() -> None:
    # Its sentence reads the effect in Poisson sd (services/signals/meanings.py): a trend metric must not get one.
    subject = Subject(SubjectKind.AGENT, "a1", 1)
    with pytest.raises(ValueError, match="not a counted metric"):
        count_signal(RESTING_HR, subject, counts([0.0] * 40), DEFAULT_PARAMS.stumbles, DEFAULT_PARAMS)
    signal = count_signal(STUMBLES, subject, counts([0.0] * 30 + [2.0] * 5), DEFAULT_PARAMS.stumbles, DEFAULT_PARAMS)
    assert signal is not None and [p.value for p in signal.series[-2:]] == [2.0, 2.0]  # the plot shows daily rates
