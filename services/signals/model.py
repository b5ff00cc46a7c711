"""Weak signals: the records they are computed from and the signal itself (issue 9; docs/signals.md).

A weak signal is a trend over days and weeks, not a live alert: an agent's heart rate recovering more slowly
after lifts week after week, a crew whose robots keep stopping for people, a round where heat strain recurs.
Each one carries its baseline, its recent level, an effect size and a confidence a safety officer can read.
The inputs are daily aggregates the gateway reads from the ledger, the minute tier, the alerts and the robot
states (gateway/db/signals_queries.py); everything in ``services.signals`` is a pure function of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Literal, TypeVar


class SubjectKind(StrEnum):
    AGENT = "agent"  # individual: shown only to the agent and the site's named signal readers
    CREW = "crew"
    SITE = "site"
    ROBOT = "robot"


@dataclass(frozen=True, slots=True)
class AgentDay:
    """One agent's worked local day, as the signals need it. None: not measured that day."""

    agent_id: str
    crew_id: str | None
    site_id: str
    day: date
    worked_s: float
    resting_hr_bpm: float | None = None  # lowest 10-min mean heart rate of the shift
    working_hr_bpm: float | None = None  # mean heart rate over the worked minutes
    hr_recovery_bpm: float | None = None  # mean drop of heart rate in the 2 min after lifting bursts
    high_strain_min: float = 0.0  # minutes with PSI ≥ 7 (Moran 1998 "high")
    noise_lex_db: float | None = None  # LEX,8h at the ear (ISO 9612)
    hav_points: float | None = None  # HSE points (ISO 5349-1 A(8))
    heat_strain_episodes: int = 0  # heat-strain alerts raised that day
    lifts_ge_25kg: int = 0
    tonnage_kg: float = 0.0
    night_s: float = 0.0  # worked between 00:00 and 05:00 local (D4163-2 night work)
    stumbles: int = 0  # suspected falls cancelled by the wearer


@dataclass(frozen=True, slots=True)
class RobotDay:
    """One robot's day: how often it stopped or slowed down for a person, per hour of work."""

    robot_id: str
    crew_id: str | None
    site_id: str
    day: date
    work_h: float
    protective_stops: int = 0  # protective stops with a person inside the protective distance (ISO/TS 15066)
    slowdowns: int = 0  # speed reductions for a person in the warning zone


@dataclass(frozen=True, slots=True)
class HeatEpisode:
    """A heat-strain alert: where (round = crew here, site) and at what local hour."""

    agent_id: str
    crew_id: str | None
    site_id: str
    day: date
    hour: int


@dataclass(frozen=True, slots=True)
class DayValue:
    day: date
    value: float


@dataclass(frozen=True, slots=True)
class RunOver:
    """The run-of-days rule was met: ``days`` valid days in a row over the action value, ``start`` to ``end``."""

    days: int
    start: date
    end: date


@dataclass(frozen=True, slots=True)
class PeakHour:
    """The local hour most recent heat-strain episodes fell in (``hour``:00 to ``hour`` + 1:00), and how many."""

    hour: int
    episodes: int


@dataclass(frozen=True, slots=True)
class NightYear:
    """The calendar year a night-work projection is about and its D4163-2 threshold (``night_threshold_nights``)."""

    year: int
    threshold_nights: int


Fact = RunOver | PeakHour | NightYear
"""What a signal's sentence needs beyond its levels, effect and flag (services/signals/meanings.py)."""

F = TypeVar("F", RunOver, PeakHour, NightYear)


@dataclass(frozen=True, slots=True)
class Signal:
    """A trend with a baseline: what it measures, how far it moved, how sure we are, and what it means.

    ``effect_size``: (recent − baseline) / robust spread of the baseline (median absolute deviation × 1.4826),
    signed so that positive is the worrying direction. ``confidence``: 1 − p of a one-sided rank test between
    the baseline and the recent window. ``flagged``: the change-point test (one-sided CUSUM on the robust
    z-scores) crossed its decision interval and the effect is at least the minimum; ``first_flagged``: the day
    it first did. ``group_size``: agents behind the figure (1 for an individual signal). ``facts``: the figures
    its sentence quotes besides those (the run of days, the heat peak hour, the night threshold); the sentence
    itself, in French or English, is ``services.signals.meanings.meaning(signal, lang)``.
    """

    kind: str
    subject_kind: SubjectKind
    subject_id: str
    metric: str
    unit: str
    direction: Literal["up", "down"]
    baseline: float
    recent: float
    effect_size: float
    confidence: float
    flagged: bool
    first_flagged: date | None
    group_size: int
    series: tuple[DayValue, ...] = ()
    facts: tuple[Fact, ...] = ()

    def fact(self, kind: type[F]) -> F | None:
        """The signal's fact of this type, if it has one."""
        return next((f for f in self.facts if isinstance(f, kind)), None)
