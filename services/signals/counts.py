"""The statistics of counted signals: stumbles per day, per agent-day on a site, heavy lifts per hour worked.

Counts of events are Poisson-like and, for stumbles, mostly zero: a median of such days is zero, their MAD is
zero, and a z-score against a floor treats a day with three stumbles like a day with one. So counts are tested as
rates, with the model made for them (the four numbers a safety officer reads keep their meaning):

- **baseline**: the rate of the first ``baseline_days`` valid days, events / exposure (the exposure is what the
  count is per: a worked day, the agent-days worked on a site, the hours worked);
- **spread**: the standard deviation of one typical day's rate at that rate, √(dispersion × rate / mean exposure),
  raised to the metric's floor (the smallest change of rate worth a look);
- **effect size**: (recent rate − baseline rate) / spread, like every other signal's; the recent rate is the
  events / exposure of the last ``recent_days`` valid days;
- **confidence**: 1 − p of the exact conditional test of the recent count against the baseline count
  (``rate_confidence``).

The flag is Lucas's counted-data CUSUM (``poisson_cusum``) crossing the evidence the normal CUSUM asks for
(``stats.evidence_threshold``), with the recent rate at least ``min_effect`` spreads above the baseline rate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from services.signals.stats import CUSUM_H, CUSUM_K, Z_CAP, Trend, evidence_cap, evidence_threshold


class DayCount(NamedTuple):
    """A valid day's count of events and its exposure: what the count is per (a day, agent-days, hours)."""

    day: date
    events: float
    exposure: float


class RateBaseline(NamedTuple):
    """A count's baseline: the observed rate, the rate tested against, the overdispersion and one day's spread."""

    rate: float
    tested_rate: float
    dispersion: float
    sd: float


def rate_baseline(events: npt.ArrayLike, exposures: npt.ArrayLike, *, sd_floor: float = 0.0) -> RateBaseline:
    """The baseline rate, the rate tested against, the dispersion and the spread of one day's rate.

    The tested rate is (events + ½) / exposure, the Jeffreys estimate: thirty days without a stumble are not a zero
    rate, and against a zero rate the first event would be infinite evidence. The dispersion is Pearson's
    χ² / (n − 1), at least 1 (quasi-Poisson, McCullagh & Nelder 1989, *Generalized Linear Models*, §4.5): when the
    baseline days vary more than Poisson counts would, each day is worth proportionally less evidence.
    """
    c, e = np.asarray(events, dtype=float), np.asarray(exposures, dtype=float)
    if c.size == 0 or float(e.sum()) <= 0.0:
        raise ValueError("a count baseline needs days with exposure")
    tested = (float(c.sum()) + 0.5) / float(e.sum())
    expected = tested * e
    pearson = float(np.sum((c - expected) ** 2 / np.maximum(expected, 1e-12)))
    dispersion = max(1.0, pearson / (c.size - 1)) if c.size > 1 else 1.0
    sd = math.sqrt(dispersion * tested / float(e.mean()))
    return RateBaseline(float(c.sum()) / float(e.sum()), tested, dispersion, max(sd, sd_floor))


def poisson_cusum(events: npt.ArrayLike, exposures: npt.ArrayLike, base: RateBaseline, *, k: float = CUSUM_K,
                  z_cap: float = Z_CAP) -> npt.NDArray[np.float64]:
    """Lucas's counted-data CUSUM (1985, Technometrics 27:129) in log-likelihood form: the statistic per day.

    The in-control rate is the tested baseline rate μ₀, the rate to detect μ₁ = μ₀ + 2k spreads (the step the
    normal CUSUM is designed for). A day with c events over exposure e adds its log-likelihood ratio
    c·ln(μ₁/μ₀) − (μ₁ − μ₀)·e, divided by the dispersion and at most ``evidence_cap`` nats: a short day (few hours
    of work, few agents on site) is little evidence either way, a day without events costs (μ₁ − μ₀)·e.
    """
    mu0 = base.tested_rate
    mu1 = mu0 + 2.0 * k * base.sd
    steps = np.asarray(events, dtype=float) * math.log(mu1 / mu0) - (mu1 - mu0) * np.asarray(exposures, dtype=float)
    capped = np.minimum(steps / base.dispersion, evidence_cap(k, z_cap))
    statistic = np.empty(capped.size)
    total = 0.0
    for i, value in enumerate(capped):
        total = max(0.0, total + float(value))
        statistic[i] = total
    return statistic


def binomial_at_least(successes: int, trials: int, p: float) -> float:
    """P(X ≥ successes) for X ~ Binomial(trials, p), summed in log space (stdlib only)."""
    if successes <= 0:
        return 1.0
    if successes > trials or p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    log_p, log_q, log_all = math.log(p), math.log1p(-p), math.lgamma(trials + 1)
    logs = [log_all - math.lgamma(i + 1) - math.lgamma(trials - i + 1) + i * log_p + (trials - i) * log_q
            for i in range(successes, trials + 1)]
    top = max(logs)
    return min(1.0, math.exp(top) * math.fsum(math.exp(v - top) for v in logs))


def rate_confidence(base_events: float, base_exposure: float, recent_events: float, recent_exposure: float) -> float:
    """1 − p of the exact one-sided test that the recent rate exceeds the baseline rate.

    Given all n = recent + baseline events, the recent ones are Binomial(n, e_r / (e_r + e_b)) if both rates are
    equal (Przyborowski & Wilenski 1940, Biometrika 31:313; the "C-test" of Krishnamoorthy & Thomson 2004, J. Stat.
    Plan. Inference 119:23): exact for a handful of events, where a rank test drowns in ties. 0 without exposure.
    """
    if recent_exposure <= 0.0 or base_exposure <= 0.0:
        return 0.0
    share = recent_exposure / (recent_exposure + base_exposure)
    return 1.0 - binomial_at_least(round(recent_events), round(base_events + recent_events), share)


def count_trend(series: Sequence[DayCount], *, baseline_days: int, recent_days: int, min_effect: float,
                sd_floor: float = 0.0, k: float = CUSUM_K, h: float = CUSUM_H, z_cap: float = Z_CAP) -> Trend:
    """A count's rate against its own baseline rate (up only: more events is the worrying way).

    ``series`` holds the valid days in day order. A day is flagged when ``poisson_cusum`` of the days after the
    baseline exceeds ``evidence_threshold(k, h)`` and the rate of the ``recent_days`` days ending on it is at least
    ``min_effect`` spreads above the baseline rate.
    """
    if baseline_days < 1 or recent_days < 1:
        raise ValueError("baseline_days and recent_days must be ≥ 1")
    if not series:
        raise ValueError("count_trend needs at least one valid day")
    events = np.fromiter((point.events for point in series), dtype=float, count=len(series))
    exposures = np.fromiter((point.exposure for point in series), dtype=float, count=len(series))
    base = rate_baseline(events[:baseline_days], exposures[:baseline_days], sd_floor=sd_floor)
    after_events, after_exposures = events[baseline_days:], exposures[baseline_days:]
    if after_events.size == 0:
        return Trend(base.rate, base.rate, 0.0, 0.0, False, None)

    def window(end: int) -> tuple[float, float]:
        start = max(0, end - recent_days + 1)
        return float(after_events[start:end + 1].sum()), float(after_exposures[start:end + 1].sum())

    def effect_of(count: float, exposure: float) -> float:
        return (count / exposure - base.rate) / base.sd if exposure > 0.0 else 0.0

    recent_events, recent_exposure = window(after_events.size - 1)
    statistic = poisson_cusum(after_events, after_exposures, base, k=k, z_cap=z_cap)
    first: date | None = None
    for i in np.flatnonzero(statistic > evidence_threshold(k, h)):
        if effect_of(*window(int(i))) >= min_effect:
            first = series[baseline_days + int(i)].day
            break
    recent = recent_events / recent_exposure if recent_exposure > 0.0 else base.rate
    confidence = rate_confidence(float(events[:baseline_days].sum()), float(exposures[:baseline_days].sum()),
                                 recent_events, recent_exposure)
    return Trend(base.rate, recent, effect_of(recent_events, recent_exposure), confidence, first is not None, first)
