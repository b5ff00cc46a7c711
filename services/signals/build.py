"""From a series to a Signal: the trend, the run-of-days rule, and the sentence a safety officer reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from services.signals.model import DayValue, Signal, SubjectKind
from services.signals.params import SignalParams, TrendParams
from services.signals.stats import Direction, longest_run_end, trend


@dataclass(frozen=True, slots=True)
class Subject:
    kind: SubjectKind
    id: str
    group_size: int


@dataclass(frozen=True, slots=True)
class Metric:
    """What a signal measures: its kind, the metric's name and unit, the worrying direction, and why it matters."""

    kind: str
    name: str
    unit: str
    direction: Direction
    label: str  # "Resting heart rate"
    why: str  # the second half of the meaning sentence: why a safety officer should care


def _meaning(metric: Metric, baseline: float, recent: float, effect: float, flagged: bool, extra: str = "") -> str:
    state = "flagged" if flagged else "not flagged"
    return (f"{metric.label}: {baseline:.2f} {metric.unit} at baseline, {recent:.2f} {metric.unit} recently "
            f"({effect:+.1f} robust sd, {state}){extra}. {metric.why}")


def trend_signal(metric: Metric, subject: Subject, series: Sequence[DayValue], tp: TrendParams,
                 params: SignalParams, extra: str = "") -> Signal | None:
    """The metric's trend against the subject's own baseline; None until the baseline is complete."""
    if len(series) < tp.baseline_days:
        return None
    found = trend(series, baseline_days=tp.baseline_days, recent_days=tp.recent_days, direction=metric.direction,
                  min_effect=tp.min_effect, sd_floor=tp.sd_floor, poisson_floor=tp.poisson_floor, center=tp.center,
                  k=params.k, h=params.h, z_cap=params.z_cap)
    return Signal(kind=metric.kind, subject_kind=subject.kind, subject_id=subject.id, metric=metric.name,
                  unit=metric.unit, direction=metric.direction, baseline=found.baseline, recent=found.recent,
                  effect_size=found.effect, confidence=found.confidence, flagged=found.flagged,
                  first_flagged=found.first_flagged, group_size=subject.group_size,
                  meaning=_meaning(metric, found.baseline, found.recent, found.effect, found.flagged, extra),
                  series=tuple(series))


def run_signal(metric: Metric, subject: Subject, series: Sequence[DayValue], over: Sequence[bool],
               tp: TrendParams, params: SignalParams) -> Signal | None:
    """Flagged on the day ``params.consecutive_days`` valid days in a row are over the action value.

    The levels, effect and confidence are those of the trend (for reading); the flag is the run rule, because an
    action value is a fixed limit, not a departure from the agent's habits.
    """
    if len(series) < params.consecutive_days:
        return None
    baseline_days = min(tp.baseline_days, max(1, len(series) - 1))
    found = trend(series, baseline_days=baseline_days, recent_days=tp.recent_days, direction=metric.direction,
                  min_effect=tp.min_effect, sd_floor=tp.sd_floor, k=params.k, h=params.h, z_cap=params.z_cap)
    end = longest_run_end(over, params.consecutive_days)
    first = None if end is None else series[end].day
    extra = f"; {params.consecutive_days} worked days in a row over the action value from {first}" if first else ""
    return Signal(kind=metric.kind, subject_kind=subject.kind, subject_id=subject.id, metric=metric.name,
                  unit=metric.unit, direction=metric.direction, baseline=found.baseline, recent=found.recent,
                  effect_size=found.effect, confidence=found.confidence, flagged=first is not None,
                  first_flagged=first, group_size=subject.group_size,
                  meaning=_meaning(metric, found.baseline, found.recent, found.effect, first is not None, extra),
                  series=tuple(series))
