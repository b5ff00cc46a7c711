"""Individual signals: one agent against their own baseline, or against a fixed action value (docs/signals.md).

Individual signals are shown only to the agent and the site's named signal readers (services/signals/privacy.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from datetime import date

from services.exposure.annual import night_threshold_nights
from services.exposure.night import counts_as_night
from services.signals.build import Metric, Subject, run_signal, trend_signal
from services.signals.model import AgentDay, DayValue, NightYear, Signal, SubjectKind
from services.signals.params import SignalParams, TrendParams

RESTING_HR = Metric("resting_hr_drift", "resting_hr_bpm", "bpm", "up")
WORKING_HR = Metric("working_hr_drift", "working_hr_bpm", "bpm", "up")
HR_RECOVERY = Metric("hr_recovery_slowing", "hr_recovery_bpm", "bpm", "down")
HIGH_STRAIN = Metric("high_strain_minutes", "high_strain_min", "min", "up")
NOISE_RUN = Metric("noise_consecutive_days", "noise_lex_db", "dB(A)", "up")
HAV_RUN = Metric("hav_consecutive_days", "hav_points", "points", "up")
HAV_RISING = Metric("hav_points_rising", "hav_points", "points", "up")
STUMBLES = Metric("stumbles", "stumbles", "per day", "up")
LIFTS = Metric("heavy_lifts_per_hour", "lifts_ge_25kg_per_h", "per h", "up")
TONNAGE = Metric("tonnage_vs_crew", "tonnage_share_of_crew_median", "× crew median", "up")
NIGHT_WORK_KIND = "night_work_projection"


def _series(days: Sequence[AgentDay], value: Callable[[AgentDay], float | None]) -> list[DayValue]:
    return [DayValue(d.day, float(v)) for d in days if (v := value(d)) is not None and math.isfinite(v)]


def _tonnage_share(day: AgentDay, crew_median_kg: Mapping[tuple[str, date], float]) -> float | None:
    median = crew_median_kg.get((day.agent_id, day.day))
    return None if not median or day.crew_id is None else day.tonnage_kg / median


def agent_signals(days: Sequence[AgentDay], crew_median_kg: Mapping[tuple[str, date], float],
                  params: SignalParams, until: date, year_days: Sequence[AgentDay]) -> list[Signal]:
    """Every individual signal of one agent whose valid ``days`` (one agent, day order) allow it."""
    subject = Subject(SubjectKind.AGENT, days[0].agent_id, 1)
    p = params
    found: list[Signal | None] = [
        trend_signal(RESTING_HR, subject, _series(days, lambda d: d.resting_hr_bpm), p.resting_hr, p),
        trend_signal(WORKING_HR, subject, _series(days, lambda d: d.working_hr_bpm), p.working_hr, p),
        trend_signal(HR_RECOVERY, subject, _series(days, lambda d: d.hr_recovery_bpm), p.hr_recovery, p),
        # High-strain minutes only exist where the heart rate was measured.
        trend_signal(HIGH_STRAIN, subject,
                     _series(days, lambda d: d.high_strain_min if d.working_hr_bpm is not None else None),
                     p.high_strain, p),
        _run(NOISE_RUN, subject, _series(days, lambda d: d.noise_lex_db), p.noise_action_db, p.noise, p),
        _run(HAV_RUN, subject, _series(days, lambda d: d.hav_points), p.hav_action_points, p.hav_points, p),
        trend_signal(HAV_RISING, subject, _series(days, lambda d: d.hav_points), p.hav_points, p),
        trend_signal(STUMBLES, subject, _series(days, lambda d: float(d.stumbles)), p.stumbles, p),
        trend_signal(LIFTS, subject, _series(days, lambda d: d.lifts_ge_25kg / (d.worked_s / 3600.0)),
                     p.lifts_per_h, p),
        trend_signal(TONNAGE, subject, _series(days, lambda d: _tonnage_share(d, crew_median_kg)),
                     p.tonnage_share, p),
        night_projection(year_days, subject, until, p),
    ]
    return [signal for signal in found if signal is not None]


def _run(metric: Metric, subject: Subject, series: list[DayValue], action: float, tp: TrendParams,
         params: SignalParams) -> Signal | None:
    return run_signal(metric, subject, series, [point.value >= action for point in series], tp, params)


def poisson_at_least(mean: float, count: int) -> float:
    """P(N ≥ count) for N ~ Poisson(mean), summed from the pmf (stdlib only)."""
    if count <= 0:
        return 1.0
    if mean <= 0.0:
        return 0.0
    term, below = math.exp(-mean), 0.0
    for i in range(count):
        below += term
        term *= mean / (i + 1)
    return max(0.0, 1.0 - below)


def wilson_lower(successes: int, trials: int, z: float) -> float:
    """Lower bound of the Wilson score interval for a proportion (Wilson 1927, JASA 22:209)."""
    if trials == 0:
        return 0.0
    p = successes / trials
    denominator = 1.0 + z * z / trials
    centre = p + z * z / (2 * trials)
    spread = z * math.sqrt(p * (1.0 - p) / trials + z * z / (4 * trials * trials))
    return max(0.0, (centre - spread) / denominator)


def night_projection(year_days: Sequence[AgentDay], subject: Subject, until: date,
                     params: SignalParams) -> Signal | None:
    """Nights worked this year, projected to 31 December at the agent's recent share of nights.

    D4163-2 makes night work (≥ 1 h between 00:00 and 05:00) an occupational risk factor from 100 nights a year
    (120 before 2023): ``night_threshold_nights``. The projection is nights so far + (share of nights among the
    last ``night_recent_worked_days`` worked days) × (worked days left in the year, at the agent's pace so far).
    It is flagged on the first day the threshold is reached, or the projection still reaches it with the share
    taken at its Wilson lower bound (``night_bound_z``; a fortnight of nights, not three nights in a row of a
    rota). ``baseline`` = nights so far, ``recent`` = projected nights, ``effect_size`` = (projected − threshold)
    / √(projected remaining nights), ``confidence`` = P(reaching it) with the remaining nights Poisson.
    """
    year = until.year
    worked = sorted((d.day, counts_as_night(d.night_s)) for d in year_days if d.day.year == year and d.day <= until)
    if not any(night for _, night in worked):
        return None
    threshold = night_threshold_nights(year)
    year_end = date(year, 12, 31)
    recent_n = params.night_recent_worked_days

    def state(i: int) -> tuple[int, float, float, float]:
        on = worked[i][0]
        so_far = sum(1 for _, night in worked[:i + 1] if night)
        window = worked[max(0, i + 1 - recent_n):i + 1]
        share = sum(1 for _, night in window if night) / len(window)
        pace = (i + 1) / ((on - date(year, 1, 1)).days + 1)  # worked days per calendar day so far
        days_left = pace * (year_end - on).days
        low = wilson_lower(round(share * len(window)), len(window), params.night_bound_z) * days_left
        return so_far, share * days_left, low, poisson_at_least(share * days_left, threshold - so_far)

    first = None
    for i in range(len(worked)):
        if not worked[i][1]:
            continue  # between nights the projection only falls: the nights are the days to test
        so_far, _, low, _ = state(i)
        enough_days = i + 1 >= recent_n
        if so_far >= threshold or (enough_days and so_far + low >= threshold):
            first = worked[i][0]
            break
    so_far, expected_rest, _, chance = state(len(worked) - 1)
    projected = so_far + expected_rest
    effect = (projected - threshold) / math.sqrt(max(expected_rest, 1.0))
    counted = 0
    series = []
    for day, night in worked:
        counted += int(night)
        series.append(DayValue(day, float(counted)))
    return Signal(kind=NIGHT_WORK_KIND, subject_kind=subject.kind, subject_id=subject.id,
                  metric="nights_per_year", unit="nights", direction="up", baseline=float(so_far), recent=projected,
                  effect_size=effect, confidence=chance, flagged=first is not None, first_flagged=first,
                  group_size=1, series=tuple(series), facts=(NightYear(year, threshold),))
