"""Individual signals: one agent against their own baseline, or against a fixed action value (docs/signals.md).

Individual signals are shown only to the agent and the site's named signal readers (services/signals/privacy.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import NamedTuple

from services.exposure.annual import night_threshold_nights
from services.exposure.night import counts_as_night
from services.signals.build import Metric, Subject, count_signal, run_signal, trend_signal
from services.signals.counts import DayCount, binomial_at_least
from services.signals.model import AgentDay, DayValue, NightYear, Signal, SubjectKind
from services.signals.params import SignalParams, TrendParams
from services.signals.stats import evidence_cap, evidence_threshold

RESTING_HR = Metric("resting_hr_drift", "resting_hr_bpm", "bpm", "up")
WORKING_HR = Metric("working_hr_drift", "working_hr_bpm", "bpm", "up")
HR_RECOVERY = Metric("hr_recovery_slowing", "hr_recovery_bpm", "bpm", "down")
HIGH_STRAIN = Metric("high_strain_minutes", "high_strain_min", "min", "up")
NOISE_RUN = Metric("noise_consecutive_days", "noise_lex_db", "dB(A)", "up")
HAV_RUN = Metric("hav_consecutive_days", "hav_points", "points", "up")
HAV_RISING = Metric("hav_points_rising", "hav_points", "points", "up")
STUMBLES = Metric("stumbles", "stumbles", "per day", "up", counted=True)
LIFTS = Metric("heavy_lifts_per_hour", "lifts_ge_25kg_per_h", "per h", "up", counted=True)
TONNAGE = Metric("tonnage_vs_crew", "tonnage_share_of_crew_median", "× crew median", "up")
NIGHT_WORK_KIND = "night_work_projection"


def _series(days: Sequence[AgentDay], value: Callable[[AgentDay], float | None]) -> list[DayValue]:
    return [DayValue(d.day, float(v)) for d in days if (v := value(d)) is not None and math.isfinite(v)]


def _tonnage_share(day: AgentDay, crew_median_kg: Mapping[tuple[str, date], float]) -> float | None:
    """The agent's tonnage / the rest of the crew's median that day; None on a day the agent handled nothing (a
    share of the load needs a load, and the trend is on its logarithm)."""
    median = crew_median_kg.get((day.agent_id, day.day))
    return None if not median or day.crew_id is None or day.tonnage_kg <= 0.0 else day.tonnage_kg / median


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
        # Counts: stumbles per worked day, heavy lifts per hour worked (a short day is less evidence).
        count_signal(STUMBLES, subject, [DayCount(d.day, float(d.stumbles), 1.0) for d in days], p.stumbles, p),
        count_signal(LIFTS, subject, [DayCount(d.day, float(d.lifts_ge_25kg), d.worked_s / 3600.0) for d in days],
                     p.lifts_per_h, p),
        trend_signal(TONNAGE, subject, _series(days, lambda d: _tonnage_share(d, crew_median_kg)),
                     p.tonnage_share, p),
        night_projection(year_days, subject, until, p),
    ]
    return [signal for signal in found if signal is not None]


def _run(metric: Metric, subject: Subject, series: list[DayValue], action: float, tp: TrendParams,
         params: SignalParams) -> Signal | None:
    return run_signal(metric, subject, series, [point.value >= action for point in series], tp, params)


def wilson_lower(successes: int, trials: int, z: float) -> float:
    """Lower bound of the Wilson score interval for a proportion (Wilson 1927, JASA 22:209)."""
    if trials == 0:
        return 0.0
    p = successes / trials
    denominator = 1.0 + z * z / trials
    centre = p + z * z / (2 * trials)
    spread = z * math.sqrt(p * (1.0 - p) / trials + z * z / (4 * trials * trials))
    return max(0.0, (centre - spread) / denominator)


class NightPace(NamedTuple):
    """Where an agent's year of nights stands on a worked day: counted so far, and the pace to project."""

    so_far: int
    days_left: float  # worked days left in the year, at the agent's pace of work so far
    nights: int  # nights among the worked days the pace is taken from
    days: int  # those worked days: the whole year so far, or the days since the rota changed
    since_change: bool  # the share is a new rota's (the CUSUM found a change), not the year's


def night_paces(worked: Sequence[tuple[date, bool]], threshold: int, params: SignalParams) -> list[NightPace]:
    """Per worked day of the year (day order): nights so far and the share of nights to project, causally.

    The share projected is that of the agent's current rota: the year so far until the rota changes. A change is
    found by a Bernoulli CUSUM (Reynolds & Stoumbos 1999, J. Qual. Technol. 31:87) around the share that would
    just reach the threshold, p₁ = nights still needed / worked days left: against the rota's share so far p₀
    (Jeffreys estimate), a night adds ln(p₁/p₀) and a day without one ln((1 − p₁)/(1 − p₀)), at most
    ``evidence_cap`` nats a day. It watches for a rise while p₀ < p₁ (the rota would stay under the threshold) and
    for a fall while p₀ > p₁; once the evidence exceeds ``evidence_threshold`` (the normal CUSUM's, in nats) a
    new rota begins on the day the statistic last left zero. So a run of nights within a rota is not projected
    over the year, and nights since a real change are not diluted by the months before it.
    """
    year = worked[0][0].year
    jan_1, dec_31 = date(year, 1, 1), date(year, 12, 31)
    enough, cap = evidence_threshold(params.k, params.h), evidence_cap(params.k, params.z_cap)
    before = [0]  # nights before each worked day
    for _, night in worked:
        before.append(before[-1] + int(night))
    paces: list[NightPace] = []
    rota, statistic, excursion, changed = 0, 0.0, 0, False
    for i, (day, night) in enumerate(worked):
        days_left = (i + 1) / ((day - jan_1).days + 1) * (dec_31 - day).days  # at the pace of work so far
        usual = (before[i] - before[rota] + 0.5) / (i - rota + 1)
        needed = (threshold - before[i]) / (days_left + 1.0)
        if 0.0 < needed < 1.0 and needed != usual:
            step = math.log(needed / usual) if night else math.log((1.0 - needed) / (1.0 - usual))
            if statistic == 0.0:
                excursion = i
            statistic = max(0.0, statistic + min(step, cap))
            if statistic > enough:
                rota, statistic, changed = excursion, 0.0, True
        else:
            statistic = 0.0  # the threshold is reached, or out of reach: no change to weigh
        so_far = before[i + 1]
        paces.append(NightPace(so_far, days_left, so_far - before[rota], i + 1 - rota, changed))
    return paces


def night_projection(year_days: Sequence[AgentDay], subject: Subject, until: date,
                     params: SignalParams) -> Signal | None:
    """Nights worked this year, projected to 31 December at the agent's current share of nights.

    D4163-2 makes night work (≥ 1 h between 00:00 and 05:00) an occupational risk factor from 100 nights a year
    (120 before 2023): ``night_threshold_nights``. The projection is nights so far + share of nights × worked days
    left in the year (at the agent's pace of work so far); the share is the year's so far or, once the rota changed,
    the share since the change (``night_paces``). Flagged on the first night the threshold is reached, or the
    projection reaches it with the share at its one-sided Wilson lower bound (``night_bound_z``), once the share has
    ``night_min_worked_days`` worked days behind it (the year's) or ``night_min_rota_days`` (a new rota's).
    ``baseline`` = nights so far, ``recent`` = projected nights, ``effect_size`` = (projected − threshold) /
    √(projected remaining nights), ``confidence`` = P(reaching it) with each remaining worked day a night at the
    current share (binomial).
    """
    year = until.year
    worked = sorted((d.day, counts_as_night(d.night_s)) for d in year_days if d.day.year == year and d.day <= until)
    if not any(night for _, night in worked):
        return None
    threshold = night_threshold_nights(year)
    paces = night_paces(worked, threshold, params)
    first = None
    for (day, night), pace in zip(worked, paces, strict=True):
        if not night:
            continue  # between nights the projection only falls: the nights are the days to test
        low = wilson_lower(pace.nights, pace.days, params.night_bound_z) * pace.days_left
        enough_days = pace.days >= (params.night_min_rota_days if pace.since_change else params.night_min_worked_days)
        if pace.so_far >= threshold or (enough_days and pace.so_far + low >= threshold):
            first = day
            break
    last = paces[-1]
    share = last.nights / last.days
    expected_rest = share * last.days_left
    projected = last.so_far + expected_rest
    effect = (projected - threshold) / math.sqrt(max(expected_rest, 1.0))
    chance = binomial_at_least(threshold - last.so_far, round(last.days_left), share)
    series = tuple(DayValue(day, float(pace.so_far)) for (day, _), pace in zip(worked, paces, strict=True))
    return Signal(kind=NIGHT_WORK_KIND, subject_kind=subject.kind, subject_id=subject.id,
                  metric="nights_per_year", unit="nights", direction="up", baseline=float(last.so_far),
                  recent=projected, effect_size=effect, confidence=chance, flagged=first is not None,
                  first_flagged=first, group_size=1, series=series, facts=(NightYear(year, threshold),))
