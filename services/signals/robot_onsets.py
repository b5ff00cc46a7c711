"""Near misses of a robot counted from its ordered states: onsets of stops and slow-downs for a person.

A robot reports several states a second, and one stop for one person is one near miss however long it lasts,
so what counts is an *onset*: a state "stopped for a person" (or "slowed for a person") that begins an episode.
An episode ends once the robot has been out of that state for ``CLEAR_S`` seconds: a person standing at the edge
of the slow-down zone, or a range reading jittering across it, makes the state flicker several times a second,
and a safety officer reading "stops for people per hour" means approaches, not flickers. Counting every change
also made the figure depend on how often a robot reports. Measured on the crew simulator (three collectors'
followers and two mowers, two hours; ``simulations/robots.py``), slow-downs per hour for a follower:
182–212 at 10 Hz against 98–110 at 2 Hz when every change counted, 100–114 against 79–91 with this hysteresis;
a mower's protective stops went from 22–52 (10 Hz) and 7–17 (2 Hz) to 3–9 at either rate. A follower that tells its
collector apart no longer counts slowing at the collector's heels (``person_flags``: 112 → 90 slow-downs an hour at
2 Hz on the simulator); it still works among its crew, so it still slows often: the signal is a trend against the
robot's own baseline (``detect.py``), not a level compared across robots.

The count of a day can be continued from where it stopped (``Onsets`` keeps each episode's state), so the
per-robot-day roll-up (``gateway/db/robot_days.py``) adds the states that arrived since without rereading the day.
The states may be every state or only the changes (the simulator's history keeps changes): the hysteresis is
measured on the timestamps, so both give the same count.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

CLEAR_S = 3.0
"""Seconds out of a stop (or slow-down) before the next one counts as a new near miss: about 4 m at walking pace
(1.4 m/s), more than a follower's slow-down zone (2 × 0.5 m) and less than a mower's (2 × 3 m) — long enough
that range jitter at a zone's edge is one episode, short enough that a person leaving and coming back is two."""

_CLEAR = timedelta(seconds=CLEAR_S)

SLOWDOWN_ZONE_FACTOR = 2.0
"""A robot state counts as slowed for a person when someone is within this many separation distances and no
protective stop is on: the speed-and-separation monitor (services/separation.py, ISO/TS 15066 §5.5.4) scales
the speed down as a person approaches the protective distance. Robot states carry no "slow" flag, so the zone
is inferred from the configured separation distance of the robot's kind."""


def slowdown_zone_m(separation_m: float) -> float:
    """The person-distance under which a moving robot with this separation distance counts as slowed."""
    return SLOWDOWN_ZONE_FACTOR * separation_m


@dataclass(frozen=True, slots=True)
class PersonFlags:
    """What one robot state says about a person nearby."""

    stop: bool  # a protective stop with a person detected (ISO/TS 15066 §5.5.4 protective separation)
    slow: bool  # moving, with a person inside the slow-down zone of the robot's kind


@dataclass(frozen=True, slots=True)
class Episode:
    """One kind of near miss (stop or slow-down) after the last state counted: under way or not, and since when
    the robot has been out of it (None while in it)."""

    active: bool = False
    clear_since: datetime | None = None


@dataclass(frozen=True, slots=True)
class Onsets:
    """Stops and slow-downs for a person begun in a run of states, and where each episode stood at its end."""

    protective_stops: int = 0
    slowdowns: int = 0
    stop: Episode = Episode()
    slow: Episode = Episode()


def person_flags(protective_stop: bool | None, nearest_human_m: float | None, slowdown_m: float, *,
                 tracks_leader: bool = False, nearest_other_human_m: float | None = None) -> PersonFlags:  # fmt: skip
    """A state's flags: a stop for a person needs someone detected; a slow-down, no stop and someone within
    ``slowdown_m`` (robot states carry no "slow" flag: the zone is inferred from the kind's separation distance,
    ``slowdown_zone_m``).

    A robot that follows a person (a follower behind its collector) and tells that person apart
    (``tracks_leader``, contract field ``nearest_other_human_m``) slows for its leader as a matter of course:
    following at a walking worker's heels is its job, not a person in its way, so its slow-downs are judged on the
    nearest *other* person. Its protective stops still count for anyone, the leader included: the follower keeps
    its distance beyond the protective one (ISO/TS 15066 §5.5.4), so a stop means someone came closer than the
    robot could keep them, which is a near miss whoever it was.
    """
    stopped = bool(protective_stop)
    in_the_way_m = nearest_other_human_m if tracks_leader else nearest_human_m
    return PersonFlags(stop=stopped and nearest_human_m is not None,
                       slow=not stopped and in_the_way_m is not None and in_the_way_m < slowdown_m)  # fmt: skip


def step(episode: Episode, flag: bool, ts: datetime) -> tuple[Episode, bool]:
    """The episode after a state at ``ts`` whose flag is ``flag``, and whether that state begins a near miss."""
    if flag:
        begins = not episode.active or (episode.clear_since is not None and ts - episode.clear_since >= _CLEAR)
        return Episode(True, None), begins
    if not episode.active:
        return episode, False
    since = episode.clear_since or ts
    return (Episode() if ts - since >= _CLEAR else Episode(True, since)), False


def count_onsets(states: Iterable[tuple[datetime, PersonFlags]], before: Onsets | None = None) -> Onsets:
    """Onsets in ``states`` ((time, flags), ordered by time), continuing the episodes of ``before`` (its counts are
    not carried: see ``continue_onsets``).

    Without anything before, a run that starts stopped (or slowed) counts one onset: the stop began then as far
    as the stored states can tell.
    """
    stops = slows = 0
    stop, slow = (before.stop, before.slow) if before is not None else (Episode(), Episode())
    for ts, flags in states:
        stop, began_stop = step(stop, flags.stop, ts)
        slow, began_slow = step(slow, flags.slow, ts)
        stops += began_stop
        slows += began_slow
    return Onsets(stops, slows, stop, slow)


def continue_onsets(done: Onsets, states: Iterable[tuple[datetime, PersonFlags]]) -> Onsets:
    """``done`` followed by the later ``states``: equal to counting the whole run at once."""
    more = count_onsets(states, done)
    return Onsets(done.protective_stops + more.protective_stops, done.slowdowns + more.slowdowns, more.stop, more.slow)
