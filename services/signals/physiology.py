"""An agent-day's heart-rate features, from its minutes: resting, working and recovery heart rate.

Computed once per agent-day where heat strain is (the housekeeper's refresh of ``exposure_days``), so the weak
signals (``services.signals``) read three numbers a day instead of the day's minutes:

* **resting** heart rate: the lowest mean over 10 consecutive minutes with heart rate (a shift has no true rest;
  its calmest ten minutes are the closest a wearable gets, and are compared only with the same agent's);
* **working** heart rate: the mean over the minutes with work;
* **recovery** after lifting: at the last minute of each burst of lifts (consecutive minutes with lifts), the
  drop of the minute heart rate two minutes later, averaged over the day's bursts. Cole et al. (1999, N. Engl.
  J. Med. 341:1351) measure the drop after exercise; here the "exercise" is a burst of lifts as the wearable
  counts them. Without a burst followed by two minutes of heart rate, there is no recovery that day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

RESTING_WINDOW_MIN = 10
RECOVERY_DELAY_MIN = 2
_MINUTE = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class HeartMinute:
    """One minute with heart rate: its start (UTC), its mean heart rate, whether it was worked, lifts counted."""

    minute: datetime
    hr_bpm: float
    worked: bool = True
    lifts: int = 0


@dataclass(frozen=True, slots=True)
class HeartDay:
    """The day's features (None: not measurable that day)."""

    resting_hr_bpm: float | None
    working_hr_bpm: float | None
    hr_recovery_bpm: float | None


def heart_day(minutes: Iterable[HeartMinute]) -> HeartDay:
    """Resting, working and post-lifting recovery heart rate of one agent-day (see the module docstring).

    ``minutes`` are the day's minutes *with* heart rate, in any order, one per minute start. A minute missing from
    them breaks a 10-minute window and a burst's two-minute follow-up.
    """
    by_minute = {m.minute: m for m in minutes}
    if not by_minute:
        return HeartDay(None, None, None)
    ordered = sorted(by_minute.values(), key=lambda m: m.minute)
    return HeartDay(_resting_bpm(ordered, by_minute), _working_bpm(ordered), _recovery_bpm(ordered, by_minute))


def _resting_bpm(ordered: list[HeartMinute], by_minute: dict[datetime, HeartMinute]) -> float | None:
    lowest: float | None = None
    for last in ordered:
        window = [by_minute.get(last.minute - k * _MINUTE) for k in range(RESTING_WINDOW_MIN)]
        if any(m is None for m in window):
            continue
        mean_bpm = sum(m.hr_bpm for m in window if m is not None) / RESTING_WINDOW_MIN
        lowest = mean_bpm if lowest is None else min(lowest, mean_bpm)
    return lowest


def _working_bpm(ordered: list[HeartMinute]) -> float | None:
    worked = [m.hr_bpm for m in ordered if m.worked]
    return sum(worked) / len(worked) if worked else None


def _recovery_bpm(ordered: list[HeartMinute], by_minute: dict[datetime, HeartMinute]) -> float | None:
    drops: list[float] = []
    for m in ordered:
        if m.lifts <= 0:
            continue
        following = [by_minute.get(m.minute + k * _MINUTE) for k in range(1, RECOVERY_DELAY_MIN + 1)]
        after, later = following[0], following[-1]
        if after is None or later is None or after.lifts > 0 or any(f is None for f in following):
            continue  # the burst goes on, or its follow-up is not measured
        drops.append(m.hr_bpm - later.hr_bpm)
    return sum(drops) / len(drops) if drops else None
