"""All the weak signals of a window of days: ``detect(agent_days, robot_days, heat_episodes, until=...)``.

Pure: the gateway reads the daily aggregates (gateway/db/signals_queries.py) and hands them here; the privacy
filter (services/signals/privacy.py) decides afterwards who may see what. Every computed signal is returned,
flagged or not (a safety officer reads the trend either way); ``flagged`` and ``first_flagged`` say which changed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta

import numpy as np

from services.signals.agent import (
    HAV_RISING,
    HAV_RUN,
    HIGH_STRAIN,
    HR_RECOVERY,
    LIFTS,
    NOISE_RUN,
    RESTING_HR,
    STUMBLES,
    TONNAGE,
    WORKING_HR,
    agent_signals,
)
from services.signals.build import Metric
from services.signals.groups import (
    CREW_NOISE,
    HEAT,
    NEAR_MISSES,
    SITE_STUMBLES,
    crew_noise_signals,
    heat_signals,
    near_miss_signals,
    site_stumble_signals,
)
from services.signals.model import AgentDay, HeatEpisode, RobotDay, Signal, SubjectKind
from services.signals.params import DEFAULT_PARAMS, SignalParams

METRICS: tuple[Metric, ...] = (RESTING_HR, WORKING_HR, HR_RECOVERY, HIGH_STRAIN, NOISE_RUN, HAV_RUN, HAV_RISING,
                               STUMBLES, LIFTS, TONNAGE, HEAT, CREW_NOISE, NEAR_MISSES, SITE_STUMBLES)  # fmt: skip
"""Every metric a signal is computed for (night work, a projection to a yearly threshold, is not one). What needs
the metrics' properties takes them from here (meanings.py reads ``counted``); tests/unit/test_signals_meanings.py
fails if a Metric defined in services/signals is missing."""

MIN_CREW_FOR_MEDIAN = 3
"""The rest of the crew's median tonnage of a day needs at least three other agents with a load."""


def detect(agent_days: Iterable[AgentDay], robot_days: Iterable[RobotDay], heat_episodes: Iterable[HeatEpisode],
           *, params: SignalParams = DEFAULT_PARAMS, until: date) -> list[Signal]:  # fmt: skip
    """The signals of the ``params.window_days`` calendar days ending on ``until`` (inclusive).

    Agent-days with less than ``params.min_worked_s`` of work are skipped, never imputed; weekends and days off
    simply do not exist in the series. Night work is counted over the calendar year of ``until`` (the threshold is
    annual), whatever the window.
    """
    start = until - timedelta(days=params.window_days - 1)
    all_days = [d for d in agent_days if d.day <= until]
    year_days: dict[str, list[AgentDay]] = defaultdict(list)
    for d in all_days:
        if d.day.year == until.year:
            year_days[d.agent_id].append(d)
    days = sorted((d for d in all_days if d.day >= start and d.worked_s >= params.min_worked_s),
                  key=lambda d: (d.agent_id, d.day))  # fmt: skip
    by_agent: dict[str, list[AgentDay]] = defaultdict(list)
    by_crew: dict[str, list[AgentDay]] = defaultdict(list)
    by_site: dict[str, list[AgentDay]] = defaultdict(list)
    for d in days:
        by_agent[d.agent_id].append(d)
        by_site[d.site_id].append(d)
        if d.crew_id is not None:
            by_crew[d.crew_id].append(d)
    crew_sizes = {crew: len({d.agent_id for d in ds}) for crew, ds in by_crew.items()}
    site_sizes = {site: len({d.agent_id for d in ds}) for site, ds in by_site.items()}

    signals: list[Signal] = []
    medians = _crew_median_tonnage(by_crew)
    for agent_days_ in by_agent.values():
        signals.extend(agent_signals(agent_days_, medians, params, until, year_days.get(agent_days_[0].agent_id, [])))

    worked: dict[tuple[SubjectKind, str], list[date]] = {}
    sizes: dict[tuple[SubjectKind, str], int] = {}
    for crew, ds in by_crew.items():
        worked[(SubjectKind.CREW, crew)] = sorted({d.day for d in ds})
        sizes[(SubjectKind.CREW, crew)] = crew_sizes[crew]
    for site, ds in by_site.items():
        worked[(SubjectKind.SITE, site)] = sorted({d.day for d in ds})
        sizes[(SubjectKind.SITE, site)] = site_sizes[site]
    episodes = [e for e in heat_episodes if start <= e.day <= until]
    signals.extend(heat_signals(worked, episodes, sizes, params))
    signals.extend(crew_noise_signals(by_crew, crew_sizes, params))
    robots = [r for r in robot_days if start <= r.day <= until]
    signals.extend(near_miss_signals(robots, crew_sizes, site_sizes, params))
    signals.extend(site_stumble_signals(by_site, site_sizes, params))
    return signals


def _crew_median_tonnage(by_crew: dict[str, list[AgentDay]]) -> dict[tuple[str, date], float]:
    """Per (agent, day): the median tonnage of the *rest* of the crew that day.

    Leaving the agent out matters: in a small crew the agent is often the median, and a ratio to oneself is 1.0
    whatever happens (it also hid the agent's own change from the comparison).
    """
    loads: dict[tuple[str, date], list[tuple[str, float]]] = defaultdict(list)
    for crew, ds in by_crew.items():
        for d in ds:
            if d.tonnage_kg > 0.0:
                loads[(crew, d.day)].append((d.agent_id, d.tonnage_kg))
    medians: dict[tuple[str, date], float] = {}
    for (_, day), pairs in loads.items():
        if len(pairs) <= MIN_CREW_FOR_MEDIAN:
            continue
        kg = np.array([load for _, load in pairs])
        for i, (agent, _) in enumerate(pairs):
            medians[(agent, day)] = float(np.median(np.delete(kg, i)))
    return medians
