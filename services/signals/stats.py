"""The statistics behind every weak signal: a robust baseline, robust z-scores, a one-sided CUSUM, a rank test.

Everything a safety officer is shown is one of four numbers, each computed here and nowhere else (counts, whose
days are mostly zero, have their own: services/signals/counts.py):

- **baseline**: the level of the subject's own first ``baseline_days`` valid days in the window: their mean with
  the values clipped at 1.345 robust spreads from the median (``HUBER_C``), so one bad day moves it by at most
  1.345 / 30 of a spread, yet it is nearly as precise as the mean. The median alone is robust but only 64 %
  efficient: from 30 days it is off by 0.23 spread (its standard error), and the CUSUM adds that error again every
  day — the baselines it happened to put low were the ones behind most false flags;
- **robust spread**: the median absolute deviation × 1.4826, which estimates the standard deviation of a normal
  distribution (Rousseeuw & Croux 1993, JASA 88:1273), or the standard deviation of the baseline winsorised at
  3 of those if larger (the MAD alone is too noisy from 30 days), raised to a floor: a flat baseline (MAD = 0) would
  otherwise turn any change into an infinite z-score. The floor is the day-to-day variability one expects of the
  measure anyway (per metric, services/signals/params.py) and, for sparse values, the Poisson spread √mean;
- **effect size**: (recent level − baseline) / robust spread, signed so that positive is the worrying way; the
  recent level is the median of the last ``recent_days`` (robust: one day of seven cannot make it);
- **confidence**: 1 − p of a one-sided Mann–Whitney U test (Mann & Whitney 1947, Ann. Math. Stat. 18:50) of the
  recent days against the baseline days, normal approximation with tie and continuity corrections (as
  ``scipy.stats.mannwhitneyu(method="asymptotic")``; Lehmann 1975, *Nonparametrics*, §1.4). It says how unlikely
  the recent days would be if nothing had changed; it does not decide the flag.

The flag is decided by a one-sided CUSUM (Page 1954, Biometrika 41:100) on the robust z-scores of the days after
the baseline: ``S_t = max(0, S_{t-1} + min(z_t, z_cap) − k)``; an alarm when ``S_t > h``. ``k`` (the reference
value) is half the smallest shift worth detecting and ``h`` (the decision interval) trades false alarms against
delay; both are in units of the robust spread. The z-scores are capped at ``z_cap`` (a "winsorised" CUSUM,
Hawkins & Olwell 1998, *Cumulative Sum Charts*, §6.3) so that a single outlier can never cross ``h`` on its own.
A flag also needs the recent level to have moved by at least ``min_effect`` robust spreads: the CUSUM finds *when*
it changed, the effect says it changed *enough* to be worth a safety officer's time. The same CUSUM in
log-likelihood units (``evidence_threshold``, ``evidence_cap``) decides for counts and for night rotas.

Everything is causal: the flag on day t uses only days up to t, so ``first_flagged`` of one run over a window is
the day a run every evening would first have raised it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from typing import Literal, NamedTuple

import numpy as np
import numpy.typing as npt

from services.signals.model import DayValue

MAD_TO_SD = 1.4826
"""MAD × 1.4826 estimates σ for normal data (1 / Φ⁻¹(3/4)); Rousseeuw & Croux 1993."""

WINSOR_SD = 3.0
"""Baseline values beyond 3 MAD-sd of the median are clipped before the winsorised spread."""
HUBER_C = 1.345
"""Baseline values beyond 1.345 MAD-sd of the median are clipped before the baseline level is averaged: Huber's
constant (Huber 1964, Ann. Math. Stat. 35:73), chosen for 95 % of the mean's efficiency on normal days. A tighter
clip than the spread's, because the level must also resist the first days of a change that began inside the
baseline: a week of shifted days among thirty moves it about as little as it moves the median."""

CUSUM_K = 1.0
"""Reference value, in robust sd: half the step worth detecting fast (2 sd). Tuned on seeds 101-103."""
CUSUM_H = 4.5
"""Decision interval, in robust sd. With k = 1 the in-control average run length of normal data with a known
spread is ≈ 4 × 10⁴ days (Siegmund's approximation); the margin is for the spread estimated from 30 days, which
can be 20-30 % too small. A 2.5-sd step is flagged after ≈ 4 valid days (its ramp adds a few)."""
Z_CAP = 2.5
"""A day counts for at most 2.5 sd − k = 1.5: one outlier, two, even three in a row (4.5, not above h) never
flag alone."""

Direction = Literal["up", "down"]
Center = Literal["robust", "mean"]
"""``robust``: clipped-mean baseline (``HUBER_C``), median recent level. ``mean``: plain means, for values that are
mostly zero (high-strain minutes), whose median stays at zero whatever happens."""


class Baseline(NamedTuple):
    level: float
    sd: float


class Trend(NamedTuple):
    """What ``trend`` found; unpacks as (baseline, recent, effect, confidence, flagged, first_flagged)."""

    baseline: float
    recent: float
    effect: float
    confidence: float
    flagged: bool
    first_flagged: date | None


def robust_baseline(values: npt.ArrayLike, *, sd_floor: float = 0.0, poisson_floor: bool = False,
                    center: Center = "robust") -> Baseline:
    """Clipped mean (``HUBER_C``; the plain mean with ``center="mean"``) and robust spread, raised to ``sd_floor``
    and, with ``poisson_floor``, to √mean. With a zero MAD (a flat baseline) the level is the median."""
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        raise ValueError("a baseline needs at least one value")
    median = float(np.median(x))
    mad_sd = MAD_TO_SD * float(np.median(np.abs(x - median)))
    sd, level = mad_sd, median
    if x.size > 1 and mad_sd > 0.0:
        # The MAD is robust but noisy (37 % efficiency): from 30 days it is often 30 % too small, and a CUSUM
        # fed by too small a spread raises false alarms. The standard deviation of the values clipped at 3 MAD-sd
        # (Huber 1981, *Robust Statistics*) is nearly as efficient as the plain one and one outlier moves it little.
        clipped = np.clip(x, median - WINSOR_SD * mad_sd, median + WINSOR_SD * mad_sd)
        sd = max(mad_sd, float(np.std(clipped, ddof=1)))
        level = float(np.mean(np.clip(x, median - HUBER_C * mad_sd, median + HUBER_C * mad_sd)))
    if center == "mean":
        level = float(np.mean(x))
    if poisson_floor:
        sd = max(sd, math.sqrt(max(float(np.mean(x)), 0.0)))
    # A constant baseline with no floor still needs a finite spread: a relative epsilon, not a division by zero.
    return Baseline(level, max(sd, sd_floor, 1e-9 * max(1.0, abs(level))))


def robust_z(values: npt.ArrayLike, baseline: Baseline, direction: Direction = "up") -> npt.NDArray[np.float64]:
    """(value − baseline) / robust spread, signed so that positive is the worrying direction."""
    z = (np.asarray(values, dtype=float) - baseline.level) / baseline.sd
    return z if direction == "up" else -z


def cusum_first_alarm(z: npt.ArrayLike, *, k: float = CUSUM_K, h: float = CUSUM_H,
                      z_cap: float = Z_CAP) -> tuple[npt.NDArray[np.float64], int | None]:
    """Page's one-sided CUSUM of capped z-scores: the statistic per step and the first index where it exceeds h."""
    capped = np.minimum(np.asarray(z, dtype=float), z_cap)
    s = np.empty(capped.size)
    total, first = 0.0, None
    for i, value in enumerate(capped):
        total = max(0.0, total + float(value) - k)
        s[i] = total
        if first is None and total > h:
            first = i
    return s, first


def effect_size(recent_level: float, baseline: Baseline, direction: Direction = "up") -> float:
    """(recent − baseline) / robust spread, positive when the change goes the worrying way."""
    effect = (recent_level - baseline.level) / baseline.sd
    return effect if direction == "up" else -effect


def rank_confidence(baseline: npt.ArrayLike, recent: npt.ArrayLike, direction: Direction = "up") -> float:
    """1 − p of the one-sided Mann–Whitney U test that ``recent`` is shifted the worrying way from ``baseline``.

    Normal approximation with the tie-corrected variance n₁n₂/12 · ((n+1) − Σ(t³−t)/(n(n−1))) and a continuity
    correction of ½. Returns 0 when either sample is empty or every value is tied (no evidence either way).
    """
    x, y = np.asarray(baseline, dtype=float), np.asarray(recent, dtype=float)
    n_x, n_y = x.size, y.size
    if n_x == 0 or n_y == 0:
        return 0.0
    if direction == "down":
        x, y = -x, -y
    both = np.concatenate([x, y])
    n = both.size
    _, inverse, counts = np.unique(both, return_inverse=True, return_counts=True)
    # Average ranks of tied values: rank of a group = (values below it) + (its size + 1) / 2.
    below = np.concatenate([[0], np.cumsum(counts)[:-1]])
    ranks = (below + (counts + 1) / 2.0)[inverse]
    u_y = float(ranks[n_x:].sum()) - n_y * (n_y + 1) / 2.0
    ties = float(np.sum(counts.astype(float) ** 3 - counts))
    variance = n_x * n_y / 12.0 * ((n + 1) - ties / (n * (n - 1))) if n > 1 else 0.0
    if variance <= 0.0:
        return 0.0
    z = (u_y - n_x * n_y / 2.0 - 0.5) / math.sqrt(variance)
    p = 0.5 * math.erfc(z / math.sqrt(2.0))
    return 1.0 - p


def _level(values: npt.NDArray[np.float64], center: Center) -> float:
    return float(np.median(values) if center == "robust" else np.mean(values))


def trend(series: Sequence[DayValue], *, baseline_days: int, recent_days: int, direction: Direction,
          min_effect: float, sd_floor: float = 0.0, poisson_floor: bool = False, center: Center = "robust",
          k: float = CUSUM_K, h: float = CUSUM_H, z_cap: float = Z_CAP) -> Trend:
    """A subject's series against its own baseline: levels, effect, confidence and the CUSUM flag.

    ``series`` holds only the valid days, in day order (days with too little data are left out by the caller,
    never imputed). The baseline is the first ``baseline_days`` of them (``robust_baseline``); with no day after it
    nothing can be flagged. The recent level is the median (or mean) of the last ``recent_days`` days, and a
    day t is flagged when the CUSUM of the days after the baseline exceeds ``h`` on t and the level of the
    ``recent_days`` days ending on t is at least ``min_effect`` robust spreads away from the baseline.
    """
    if baseline_days < 1 or recent_days < 1:
        raise ValueError("baseline_days and recent_days must be ≥ 1")
    values = np.fromiter((point.value for point in series), dtype=float, count=len(series))
    if values.size == 0:
        raise ValueError("trend needs at least one valid day")
    base_values = values[:baseline_days]
    base = robust_baseline(base_values, sd_floor=sd_floor, poisson_floor=poisson_floor, center=center)
    after = values[baseline_days:]
    if after.size == 0:
        return Trend(base.level, base.level, 0.0, 0.0, False, None)
    recent_values = after[-recent_days:]
    recent = _level(recent_values, center)
    effect = effect_size(recent, base, direction)
    confidence = rank_confidence(base_values, recent_values, direction)
    statistic, _ = cusum_first_alarm(robust_z(after, base, direction), k=k, h=h, z_cap=z_cap)
    first: date | None = None
    for i in np.flatnonzero(statistic > h):
        window = after[max(0, int(i) - recent_days + 1):int(i) + 1]
        if effect_size(_level(window, center), base, direction) >= min_effect:
            first = series[baseline_days + int(i)].day
            break
    return Trend(base.level, recent, effect, confidence, first is not None, first)


def longest_run_end(flags: Sequence[bool], run_days: int) -> int | None:
    """Index of the first day that completes ``run_days`` consecutive True values, or None."""
    run = 0
    for i, flag in enumerate(flags):
        run = run + 1 if flag else 0
        if run >= run_days:
            return i
    return None


def evidence_threshold(k: float = CUSUM_K, h: float = CUSUM_H) -> float:
    """The normal CUSUM's decision interval in log-likelihood units: 2k·h nats (9 with k = 1, h = 4.5).

    Against a step of δ = 2k spreads (the one the CUSUM is designed for), a day's log-likelihood ratio is
    δ(z − δ/2) = 2k(z − k): Page's CUSUM of (z − k) crossing h is the likelihood-ratio CUSUM crossing 2k·h.
    Counts and night rotas ask the same evidence, a likelihood ratio of e⁹ ≈ 8 100 to 1 (Lorden 1971, Ann. Math.
    Stat. 42:1897: the in-control average run length of such a CUSUM is at least e^threshold steps).
    """
    return 2.0 * k * h


def evidence_cap(k: float = CUSUM_K, z_cap: float = Z_CAP) -> float:
    """The most one day may add to a likelihood-ratio CUSUM: 2k(z_cap − k) nats (3), the normal CUSUM's cap."""
    return 2.0 * k * (z_cap - k)
