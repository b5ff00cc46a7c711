"""Crew, site and robot signals: recurring heat strain, a crew over the noise action value, near misses, stumbles.

A group signal is reported only when the group has at least the configured number of agents
(services/signals/privacy.py); ``group_size`` carries the distinct agents behind the figure.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from datetime import date

from services.signals.build import Metric, Subject, count_signal, run_signal, trend_signal
from services.signals.counts import DayCount
from services.signals.model import AgentDay, DayValue, Fact, HeatEpisode, PeakHour, RobotDay, Signal, SubjectKind
from services.signals.params import SignalParams

HEAT = Metric("heat_strain_recurring", "heat_strain_episodes", "per day", "up", counted=True)
CREW_NOISE = Metric("crew_noise_over_action", "share_over_80_dba", "share", "up")
NEAR_MISSES = Metric("robot_near_misses", "protective_stops_and_slowdowns_per_h", "per h", "up")
SITE_STUMBLES = Metric("site_stumbles", "stumbles_per_agent_day", "per agent-day", "up", counted=True)

MIN_AGENTS_MEASURED = 3
"""A crew-day's share over the action value needs at least three measured agents to mean anything."""


def _peak_hour(episodes: Sequence[HeatEpisode], since: date | None) -> tuple[Fact, ...]:
    """The local hour most of the recent episodes fell in (none without a recent episode): when to act."""
    hours = Counter(e.hour for e in episodes if since is None or e.day >= since)
    if not hours:
        return ()
    hour, count = hours.most_common(1)[0]
    return (PeakHour(hour, count),)


def heat_signals(days_by_group: Mapping[tuple[SubjectKind, str], Sequence[date]],
                 episodes: Sequence[HeatEpisode], sizes: Mapping[tuple[SubjectKind, str], int],
                 params: SignalParams) -> list[Signal]:
    """Heat-strain episodes per worked day of each crew (the round) and site, a count tested as a rate
    (services/signals/counts.py), with the recent peak hour."""
    by_group: dict[tuple[SubjectKind, str], list[HeatEpisode]] = defaultdict(list)
    for episode in episodes:
        by_group[(SubjectKind.SITE, episode.site_id)].append(episode)
        if episode.crew_id is not None:
            by_group[(SubjectKind.CREW, episode.crew_id)].append(episode)
    signals = []
    for key, worked in days_by_group.items():
        group_episodes = by_group.get(key, [])
        per_day = Counter(e.day for e in group_episodes)
        counts = [DayCount(day, float(per_day.get(day, 0)), 1.0) for day in worked]
        recent_from = counts[-params.heat.recent_days].day if len(counts) >= params.heat.recent_days else None
        signal = count_signal(HEAT, Subject(key[0], key[1], sizes[key]), counts, params.heat, params,
                              facts=_peak_hour(group_episodes, recent_from))
        if signal is not None:
            signals.append(signal)
    return signals


def crew_noise_signals(days_by_crew: Mapping[str, Sequence[AgentDay]], sizes: Mapping[str, int],
                       params: SignalParams) -> list[Signal]:
    """Crew-days on which at least ``crew_noise_share`` of the measured agents were over 80 dB(A), in a row."""
    signals = []
    for crew, days in days_by_crew.items():
        over_by_day: dict[date, list[bool]] = defaultdict(list)
        for d in days:
            if d.noise_lex_db is not None:
                over_by_day[d.day].append(d.noise_lex_db >= params.noise_action_db)
        series = [DayValue(day, sum(flags) / len(flags)) for day, flags in sorted(over_by_day.items())
                  if len(flags) >= MIN_AGENTS_MEASURED]
        over = [point.value >= params.crew_noise_share for point in series]
        signal = run_signal(CREW_NOISE, Subject(SubjectKind.CREW, crew, sizes[crew]), series, over, params.noise,
                            params)
        if signal is not None:
            signals.append(signal)
    return signals


def near_miss_signals(robot_days: Sequence[RobotDay], crew_sizes: Mapping[str, int],
                      site_sizes: Mapping[str, int], params: SignalParams) -> list[Signal]:
    """Protective stops + slow-downs per hour of robot work, per robot, per crew and per site.

    Counts, but several a day per robot rather than mostly zero: the robust trend's normal approximation holds, and
    its spread is the day-to-day one observed, whether a robot's stops come in bursts (more variable than Poisson)
    or as regularly as a routine (less; the Poisson test would then wait for twice as many stops). A robot's group
    size is that of its crew (or site): a robot signal can point at the people working with it.
    """
    totals: dict[tuple[SubjectKind, str], dict[date, list[float]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    robot_group: dict[str, int] = {}
    for r in robot_days:
        if r.work_h < params.min_robot_work_h:
            continue
        keys = [(SubjectKind.ROBOT, r.robot_id), (SubjectKind.SITE, r.site_id)]
        if r.crew_id is not None:
            keys.append((SubjectKind.CREW, r.crew_id))
        robot_group[r.robot_id] = crew_sizes.get(r.crew_id or "", site_sizes.get(r.site_id, 0))
        for key in keys:
            cell = totals[key][r.day]
            cell[0] += r.protective_stops + r.slowdowns
            cell[1] += r.work_h
    signals = []
    for (kind, subject_id), per_day in totals.items():
        size = {SubjectKind.ROBOT: robot_group.get(subject_id, 0), SubjectKind.CREW: crew_sizes.get(subject_id, 0),
                SubjectKind.SITE: site_sizes.get(subject_id, 0)}[kind]
        series = [DayValue(day, events / hours) for day, (events, hours) in sorted(per_day.items())]
        signal = trend_signal(NEAR_MISSES, Subject(kind, subject_id, size), series, params.near_misses, params)
        if signal is not None:
            signals.append(signal)
    return signals


def site_stumble_signals(days_by_site: Mapping[str, Sequence[AgentDay]], sizes: Mapping[str, int],
                         params: SignalParams) -> list[Signal]:
    """Stumbles (suspected falls cancelled by the wearer) per agent-day worked on the site, tested as a rate
    (services/signals/counts.py): a day with more agents on site is more exposure, not more risk."""
    signals = []
    for site, days in days_by_site.items():
        per_day: dict[date, list[int]] = defaultdict(lambda: [0, 0])
        for d in days:
            per_day[d.day][0] += d.stumbles
            per_day[d.day][1] += 1
        counts = [DayCount(day, float(s), float(n)) for day, (s, n) in sorted(per_day.items())]
        signal = count_signal(SITE_STUMBLES, Subject(SubjectKind.SITE, site, sizes[site]), counts,
                              params.site_stumbles, params)
        if signal is not None:
            signals.append(signal)
    return signals
