"""From a series to a Signal: the trend, and the run-of-days rule for fixed action values.

The sentence a safety officer reads is not built here: ``services.signals.meanings`` writes it, in French or
English, from the signal's figures and facts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from services.signals.counts import DayCount, count_trend
from services.signals.model import DayValue, Fact, RunOver, Signal, SubjectKind
from services.signals.params import SignalParams, TrendParams
from services.signals.stats import Direction, longest_run_end, trend


@dataclass(frozen=True, slots=True)
class Subject:
    kind: SubjectKind
    id: str
    group_size: int


@dataclass(frozen=True, slots=True)
class Metric:
    """What a signal measures: its kind, the metric's name and unit, and the worrying direction.

    ``counted``: a count of events tested as a rate (``count_signal``), whose effect is in spreads of one day's
    rate under the Poisson model rather than robust spreads. Its label and why it matters, in each language, are
    in services/signals/meanings.py (keyed by ``kind``).
    """

    kind: str
    name: str
    unit: str
    direction: Direction
    counted: bool = False


def trend_signal(metric: Metric, subject: Subject, series: Sequence[DayValue], tp: TrendParams,
                 params: SignalParams, facts: tuple[Fact, ...] = ()) -> Signal | None:
    """The metric's trend against the subject's own baseline; None until the baseline is complete."""
    if len(series) < tp.baseline_days:
        return None
    tested = [DayValue(p.day, math.log(p.value)) for p in series] if tp.log_scale else series
    found = trend(tested, baseline_days=tp.baseline_days, recent_days=tp.recent_days, direction=metric.direction,
                  min_effect=tp.min_effect, sd_floor=tp.sd_floor, poisson_floor=tp.poisson_floor, center=tp.center,
                  k=params.k, h=params.h, z_cap=params.z_cap)
    # A ratio is tested on its logarithm (twice the crew median is as far above as half is below, and the right
    # skew of a ratio no longer passes for a rise); the levels are shown back as ratios.
    baseline, recent = (math.exp(found.baseline), math.exp(found.recent)) if tp.log_scale else found[:2]
    return Signal(kind=metric.kind, subject_kind=subject.kind, subject_id=subject.id, metric=metric.name,
                  unit=metric.unit, direction=metric.direction, baseline=baseline, recent=recent,
                  effect_size=found.effect, confidence=found.confidence, flagged=found.flagged,
                  first_flagged=found.first_flagged, group_size=subject.group_size, series=tuple(series),
                  facts=facts)


def count_signal(metric: Metric, subject: Subject, counts: Sequence[DayCount], tp: TrendParams,
                 params: SignalParams, facts: tuple[Fact, ...] = ()) -> Signal | None:
    """A count's rate against the subject's own baseline rate (``count_trend``); None until the baseline is complete.

    The signal's series is the rate of each valid day (events / exposure), for the trend plot.
    """
    if not metric.counted:
        raise ValueError(f"{metric.kind} is not a counted metric: its sentence would misread the effect")
    if len(counts) < tp.baseline_days:
        return None
    found = count_trend(counts, baseline_days=tp.baseline_days, recent_days=tp.recent_days, min_effect=tp.min_effect,
                        sd_floor=tp.sd_floor, k=params.k, h=params.h, z_cap=params.z_cap)
    series = tuple(DayValue(c.day, c.events / c.exposure) for c in counts)
    return Signal(kind=metric.kind, subject_kind=subject.kind, subject_id=subject.id, metric=metric.name,
                  unit=metric.unit, direction=metric.direction, baseline=found.baseline, recent=found.recent,
                  effect_size=found.effect, confidence=found.confidence, flagged=found.flagged,
                  first_flagged=found.first_flagged, group_size=subject.group_size, series=series, facts=facts)


def run_signal(metric: Metric, subject: Subject, series: Sequence[DayValue], over: Sequence[bool],
               tp: TrendParams, params: SignalParams) -> Signal | None:
    """Flagged on the day ``params.consecutive_days`` valid days in a row are over the action value.

    The levels, effect and confidence are those of the trend (for reading); the flag is the run rule, because an
    action value is a fixed limit, not a departure from the agent's habits. The run is kept as a ``RunOver`` fact.
    """
    if len(series) < params.consecutive_days:
        return None
    baseline_days = min(tp.baseline_days, max(1, len(series) - 1))
    found = trend(series, baseline_days=baseline_days, recent_days=tp.recent_days, direction=metric.direction,
                  min_effect=tp.min_effect, sd_floor=tp.sd_floor, k=params.k, h=params.h, z_cap=params.z_cap)
    end = longest_run_end(over, params.consecutive_days)
    first = None if end is None else series[end].day
    facts: tuple[Fact, ...] = ()
    if end is not None:
        facts = (RunOver(params.consecutive_days, series[end - params.consecutive_days + 1].day, series[end].day),)
    return Signal(kind=metric.kind, subject_kind=subject.kind, subject_id=subject.id, metric=metric.name,
                  unit=metric.unit, direction=metric.direction, baseline=found.baseline, recent=found.recent,
                  effect_size=found.effect, confidence=found.confidence, flagged=first is not None,
                  first_flagged=first, group_size=subject.group_size, series=tuple(series), facts=facts)
