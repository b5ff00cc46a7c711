"""Near misses of a robot counted from its ordered states: onsets of stops and slow-downs for a person.

A robot reports several states a second, and one stop for one person is one near miss however long it lasts,
so what counts is an *onset*: a state that is "stopped for a person" while the robot's previous state was not.
The count of a day can be continued from where it stopped (the last state's flags), so the per-robot-day
roll-up (``gateway/db/robot_days.py``) adds the states that arrived since without rereading the day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PersonFlags:
    """What one robot state says about a person nearby."""

    stop: bool  # a protective stop with a person detected (ISO/TS 15066 §5.5.4 protective separation)
    slow: bool  # moving, with a person inside the slow-down zone of the robot's kind


@dataclass(frozen=True, slots=True)
class Onsets:
    """Stops and slow-downs for a person begun in a run of states, and the flags of the run's last state."""

    protective_stops: int = 0
    slowdowns: int = 0
    last: PersonFlags | None = None


def person_flags(protective_stop: bool | None, nearest_human_m: float | None, slowdown_m: float) -> PersonFlags:
    """A state's flags: a stop for a person needs someone detected; a slow-down, no stop and someone within
    ``slowdown_m`` (robot states carry no "slow" flag: the zone is inferred from the kind's separation distance,
    ``gateway.db.signals_queries.slowdown_distances_m``)."""
    stopped = bool(protective_stop)
    return PersonFlags(stop=stopped and nearest_human_m is not None,
                       slow=not stopped and nearest_human_m is not None and nearest_human_m < slowdown_m)  # fmt: skip


def count_onsets(flags: Iterable[PersonFlags], before: PersonFlags | None = None) -> Onsets:
    """Onsets in ``flags`` (ordered by time); ``before``: the flags of the state just before the run, if known.

    Without a state before, a run that starts stopped (or slowed) counts one onset: the stop began then as far
    as the stored states can tell.
    """
    stops = slows = 0
    last = before
    for current in flags:
        stops += current.stop and not (last is not None and last.stop)
        slows += current.slow and not (last is not None and last.slow)
        last = current
    return Onsets(stops, slows, last)


def continue_onsets(done: Onsets, flags: Iterable[PersonFlags]) -> Onsets:
    """``done`` followed by the later states ``flags``: equal to counting the whole run at once."""
    more = count_onsets(flags, done.last)
    return Onsets(done.protective_stops + more.protective_stops, done.slowdowns + more.slowdowns, more.last)
