"""Ground-truth drifts injected into the frame-level crew simulator (issue 9): ``--drift KIND:SUBJECT@DAY[:SIZE]``.

The daily-level population of ``simulations.drifts`` scores the weak signals on months of records; this module
puts the same kinds of change into the simulated *frames*, where the gateway derives the daily records itself.
A drift is data: who, which kind, from which simulated day, by how much. The agent and robot models consult it
once per simulated day (``agents.CrewModel``, ``robots.RobotSimulator``); nothing here draws at random.

Sizes and ramps are those of ``simulations.drifts``: a physiological drift is ``SD_DRIFT_SIZE`` of the agent's own
day-to-day standard deviation (drawn from the same ranges), reached over ``RAMP_DAYS`` calendar days; a robot's
near misses become ``NEAR_MISS_FACTOR`` times as frequent. What each kind does to the frames:

* ``hr_recovery_slowing`` (agent): one to three minutes after a burst of lifts, the heart rate stays SIZE bpm
  above where it would have come down to (the 2-min recovery the gateway measures drops by SIZE);
* ``resting_hr_drift`` (agent): the resting heart rate rises by SIZE bpm, and everything built on it;
* ``working_hr_drift`` (agent): the heart rate while working (not resting) rises by SIZE bpm;
* ``heat_strain_recurring`` (crew, a hot round): the crew's air and globe temperature get up to SIZE °C more in
  the afternoon (``weather.hot_round_share``), and the heart rate follows the heat load;
* ``robot_near_misses`` (robot): someone comes within the robot's protective distance SIZE times as often — each
  stop or slow-down for a person is followed, with the drift's probability, by another close pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt

from services.signals.model import SubjectKind
from simulations.drifts import NEAR_MISS_FACTOR, SD_DRIFT_SIZE, InjectedDrift, ramp
from simulations.roster import RobotKind, Roster

FloatArray = npt.NDArray[np.float64]

AGENT_KINDS = ("hr_recovery_slowing", "resting_hr_drift", "working_hr_drift")
CREW_KINDS = ("heat_strain_recurring",)
ROBOT_KINDS = ("robot_near_misses",)
KINDS = AGENT_KINDS + CREW_KINDS + ROBOT_KINDS

HOT_ROUND_C = 10.0
"""Default extra heat of a hot round at its peak (°C): a street or park in the afternoon sun, walls and asphalt
radiating, against the same round in the shade of other days."""

# Each agent's day-to-day standard deviation of each measure (bpm), as simulations.drifts draws them.
FORM_SD_RANGES = {"resting_hr_drift": (1.5, 3.0), "working_hr_drift": (2.5, 4.5), "hr_recovery_slowing": (1.5, 3.0)}


def daily_form_sd(n_agents: int, seed: int) -> dict[str, FloatArray]:
    """Per agent: the day-to-day standard deviation (bpm) of their resting, working and recovery heart rate.

    The agent model draws each day's form around the agent's levels with these; a default drift is
    ``SD_DRIFT_SIZE`` of them, so it is as detectable for a steady person as for a variable one.
    """
    rng = np.random.default_rng([seed, 0xF0A])
    return {kind: rng.uniform(low, high, n_agents) for kind, (low, high) in FORM_SD_RANGES.items()}


@dataclass(frozen=True, slots=True)
class DriftSpec:
    """``KIND:SUBJECT@DAY[:SIZE]`` as typed. ``day``: calendar days after the run's day 0 (negative: in the
    history), or a date; ``size``: None for the kind's default."""

    kind: str
    subject: str
    day: int | date
    size: float | None = None


@dataclass(frozen=True, slots=True)
class Drift:
    """A resolved drift: the roster index of its subject, its first day (index from day 0) and its full size."""

    kind: str
    subject_kind: SubjectKind
    subject_id: str
    index: int
    start_index: int
    start: date
    size: float  # bpm, °C, or for near misses the extra passes per natural one (factor - 1)


def parse_drift(text: str) -> DriftSpec:
    """Parse ``KIND:SUBJECT@DAY[:SIZE]``; raises ``ValueError`` naming what is wrong."""
    head, at, tail = text.partition("@")
    kind, colon, subject = head.partition(":")
    kind, subject = kind.strip(), subject.strip()
    if not at or not colon or not subject:
        raise ValueError(f"expected KIND:SUBJECT@DAY[:SIZE] (e.g. hr_recovery_slowing:agent-0003@-16), got {text!r}")
    if kind not in KINDS:
        raise ValueError(f"unknown drift kind {kind!r}: the crew simulator injects {', '.join(KINDS)}")
    day_text, _, size_text = tail.partition(":")
    day: int | date
    try:
        day = date.fromisoformat(day_text.strip()) if day_text.count("-") >= 2 else int(day_text)
        size = float(size_text) if size_text.strip() else None
    except ValueError as exc:
        raise ValueError(f"{text!r}: DAY is a day number (e.g. -16) or a date, SIZE a number") from exc
    if size is not None and not (np.isfinite(size) and size > 0):
        raise ValueError(f"{text!r}: SIZE must be a positive number")
    return DriftSpec(kind, subject, day, size)


def _crew_index(roster: Roster, ref: str) -> int:
    for k, crew in enumerate(roster.crews):
        if ref in (crew.crew_id, str(k)):
            return k
    raise KeyError(f"no crew {ref!r} (crews: {', '.join(c.crew_id for c in roster.crews)})")


def _robot_index(roster: Roster, ref: str) -> int:
    for k, robot in enumerate(roster.robots):
        if ref in (robot.robot_id, str(k)):
            if robot.kind is RobotKind.EXOSKELETON:
                raise KeyError(f"{robot.robot_id} is an exoskeleton: its wearer is inside it, it has no near misses")
            return k
    raise KeyError(f"no robot {ref!r} (robots: {', '.join(r.robot_id for r in roster.robots) or 'none'})")


@dataclass(frozen=True, slots=True)
class Drifts:
    """Every drift of a run, consulted per simulated day (``day_index``: calendar days after day 0)."""

    items: tuple[Drift, ...] = ()
    n_agents: int = 0
    n_crews: int = 0
    n_robots: int = 0

    def for_roster(self, roster: Roster) -> Drifts:
        """These drifts sized for ``roster`` (the empty ``NO_DRIFTS`` fits any roster)."""
        sizes = (len(roster.agents), len(roster.crews), len(roster.robots))
        if (self.n_agents, self.n_crews, self.n_robots) == sizes:
            return self
        if self.items:
            raise ValueError("these drifts were resolved for another roster")
        return Drifts((), *sizes)

    def _levels(self, kinds: tuple[str, ...], kind: str, n: int, day_index: int) -> FloatArray:
        if kind not in kinds:
            raise ValueError(f"{kind} is not one of {kinds}")
        out = np.zeros(n)
        for d in self.items:
            if d.kind == kind:
                out[d.index] += ramp(day_index, d.start_index, d.size)
        return out

    def agent_levels(self, kind: str, day_index: int) -> FloatArray:
        """Per agent: the drift's size on that day (bpm), 0 where none."""
        return self._levels(AGENT_KINDS, kind, self.n_agents, day_index)

    def hot_round_c(self, day_index: int) -> FloatArray:
        """Per crew: the hot round's extra heat at its afternoon peak (°C) on that day."""
        return self._levels(CREW_KINDS, "heat_strain_recurring", self.n_crews, day_index)

    def extra_near_misses(self, day_index: int) -> FloatArray:
        """Per robot: extra close passes per natural one on that day (0 without drift, 1 once doubled)."""
        return self._levels(ROBOT_KINDS, "robot_near_misses", self.n_robots, day_index)

    def injected(self, roster: Roster) -> list[InjectedDrift]:
        """The ground truth, as ``simulations.drifts`` states it: which signal, which subject, from which day,
        and the other signals the same change legitimately moves (``also``)."""
        out = []
        for d in self.items:
            also: tuple[tuple[str, SubjectKind, str], ...] = ()
            if d.kind in CREW_KINDS:
                crew = roster.crews[d.index]
                members = [roster.agents[i].agent_id for i in crew.agent_indices]
                # A hotter afternoon is hotter for every member: their heart rate and strain rise with it.
                also = ((d.kind, SubjectKind.SITE, roster.agents[crew.agent_indices[0]].site_id),
                        *((k, SubjectKind.AGENT, m) for m in members
                          for k in ("high_strain_minutes", "working_hr_drift", "resting_hr_drift")))
                detail = f"up to {d.size:.1f} °C more in the afternoon"
            elif d.kind in ROBOT_KINDS:
                spec = roster.robots[d.index]
                also = ((d.kind, SubjectKind.CREW, spec.crew_id), (d.kind, SubjectKind.SITE, roster.agents[0].site_id))
                detail = f"protective stops and slow-downs for people × {1.0 + d.size:.1f}"
            else:
                # Slower recovery means a higher heart rate after each burst: the day's working mean rises too.
                if d.kind == "hr_recovery_slowing":
                    also = (("working_hr_drift", SubjectKind.AGENT, d.subject_id),)
                detail = f"{d.kind} {d.size:+.1f} bpm"
            out.append(InjectedDrift(d.kind, d.subject_kind, d.subject_id, d.start, detail, also))
        return out


NO_DRIFTS = Drifts()


def resolve(roster: Roster, specs: list[DriftSpec], *, seed: int, day0: date) -> Drifts:
    """Map each spec's subject to the roster and its day to an index from ``day0``; default sizes as documented.

    An unknown subject is a ``KeyError`` naming it.
    """
    form_sd = daily_form_sd(len(roster.agents), seed)
    items = []
    for spec in specs:
        start_index = spec.day if isinstance(spec.day, int) else (spec.day - day0).days
        if spec.kind in AGENT_KINDS:
            index = roster.agent_index(spec.subject)
            subject_kind, subject_id = SubjectKind.AGENT, roster.agents[index].agent_id
            size = spec.size or SD_DRIFT_SIZE * float(form_sd[spec.kind][index])
        elif spec.kind in CREW_KINDS:
            index = _crew_index(roster, spec.subject)
            subject_kind, subject_id = SubjectKind.CREW, roster.crews[index].crew_id
            size = spec.size or HOT_ROUND_C
        else:
            index = _robot_index(roster, spec.subject)
            subject_kind, subject_id = SubjectKind.ROBOT, roster.robots[index].robot_id
            factor = spec.size or NEAR_MISS_FACTOR
            if factor < 1:
                raise ValueError(f"robot_near_misses:{spec.subject}: SIZE is a factor of at least 1")
            size = factor - 1.0
        items.append(Drift(spec.kind, subject_kind, subject_id, index, start_index,
                           day0 + timedelta(days=start_index), size))
    return Drifts(tuple(items), len(roster.agents), len(roster.crews), len(roster.robots))
