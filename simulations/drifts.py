"""A daily-level population with ground-truth drifts, for the weak-signal benchmark (``vigie bench signals``).

Not per-second frames: the records the signals read (``AgentDay``, ``RobotDay``, ``HeatEpisode``), drawn from
seeded numpy. Each agent has their own levels and their own day-to-day noise (resting heart rate ≈ 62 bpm ± 2-3
day to day, recovery ≈ 22 bpm ± 2-3, …); crews share a day (the same noisy job, the same robots); weekends are
off and an agent misses about one worked day in twenty; a sensor misses about one day in twenty. With
``drifts=True`` a few subjects change on a known day (``InjectedDrift.start``) by a stated amount, reached over a
week (a ramp, not a jump): that is the ground truth the benchmark scores against.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from services.signals.model import AgentDay, HeatEpisode, RobotDay, SubjectKind

CREW_SIZE_LOAD = 10.0
"""A crew-day's load (≈ 4 t) is shared by about ten agents."""
RAMP_DAYS = 7
"""Calendar days over which an injected drift reaches its full size."""
SD_DRIFT_SIZE = 2.5
"""A physiological drift moves the agent's measure by this many of their own day-to-day standard deviations."""
NEAR_MISS_FACTOR = 2.0
"""A drifted site's robots stop and slow down for people this many times as often."""
HEAT_EPISODES_PER_AGENT_DAY = 0.3
"""Heat-strain episodes per agent-day of a hot round (a crew whose afternoons became too hot), 14:00-16:00."""

AGENT_DRIFTS = ("hr_recovery_slowing", "resting_hr_drift", "working_hr_drift", "high_strain_minutes",
                "hav_points_rising", "stumbles", "heavy_lifts_per_hour", "tonnage_vs_crew", "night_work_projection")
GROUP_DRIFTS = ("crew_noise_over_action", "heat_strain_recurring", "robot_near_misses")


@dataclass(frozen=True, slots=True)
class InjectedDrift:
    """A ground-truth change: the signal that should see it, on which subject, from which day, and what else it moves.

    ``also`` lists the other (kind, subject kind, subject id) signals the same change legitimately moves (a crew
    over the noise action value puts each of its agents over it too): their flags are not false.
    """

    kind: str
    subject_kind: SubjectKind
    subject_id: str
    start: date
    detail: str
    also: tuple[tuple[str, SubjectKind, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Simulation:
    agent_days: list[AgentDay]
    robot_days: list[RobotDay]
    heat_episodes: list[HeatEpisode]
    drifts: list[InjectedDrift]
    agents: int
    days: int
    start: date
    end: date
    agent_months: float = field(default=0.0)


@dataclass(slots=True)
class _Agent:
    id: str
    crew: str
    site: str
    rest: float
    rest_sd: float
    work: float
    work_sd: float
    recovery: float
    recovery_sd: float
    strain: float
    vibration: bool
    hav: float
    lifts_per_h: float
    load_share: float
    night_share: float
    noise_db: float
    stumble_rate: float = 0.02
    heat_rate: float = 0.004
    drift: dict[str, tuple[int, float]] = field(default_factory=dict)  # kind → (start index, size)


def ramp(day_index: int, start_index: int, size: float) -> float:
    """The drift's size on ``day_index``: 0 before ``start_index``, then up to ``size`` over ``RAMP_DAYS`` days."""
    if day_index < start_index:
        return 0.0
    return size * min(1.0, (day_index - start_index + 1) / RAMP_DAYS)


def _ramp(day_index: int, drift: tuple[int, float] | None) -> float:
    return 0.0 if drift is None else ramp(day_index, drift[0], drift[1])


def _workdays(start: date, days: int) -> Iterator[tuple[int, date]]:
    for i in range(days):
        day = start + timedelta(days=i)
        if day.weekday() < 5:
            yield i, day


def simulate(*, agents: int = 300, crew_size: int = 10, sites: int = 6, days: int = 182,
             start: date = date(2025, 1, 6), seed: int = 0, drifts: bool = True,
             drifts_per_kind: int = 2) -> Simulation:
    """``agents`` agents in crews of ``crew_size`` over ``sites`` sites for ``days`` calendar days from ``start``."""
    rng = np.random.default_rng(seed)
    crews = [f"crew-{c:03d}" for c in range(max(1, agents // crew_size))]
    crew_site = {crew: f"site-{i % sites:02d}" for i, crew in enumerate(crews)}
    crew_noise_db = {crew: float(rng.normal(70.0, 2.5)) for crew in crews}
    crew_vibration = {crew: bool(rng.random() < 0.3) for crew in crews}
    crew_handling = {crew: float(rng.uniform(1.0, 3.0)) for crew in crews}
    crew_nights = {crew: float(rng.random() < 0.15) * 0.25 for crew in crews}
    robots = {f"robot-{i:03d}": crew for i, crew in enumerate(crews) if rng.random() < 0.5}
    robot_rates = {robot: (float(rng.uniform(0.1, 0.4)), float(rng.uniform(0.5, 1.5))) for robot in robots}
    people = [_Agent(
        id=f"agent-{a:04d}", crew=crews[a % len(crews)], site=crew_site[crews[a % len(crews)]],
        rest=float(rng.normal(62, 6)), rest_sd=float(rng.uniform(1.5, 3.0)),
        work=float(rng.normal(95, 9)), work_sd=float(rng.uniform(2.5, 4.5)),
        recovery=float(rng.normal(22, 4)), recovery_sd=float(rng.uniform(1.5, 3.0)),
        strain=float(rng.gamma(2.0, 3.0)), vibration=crew_vibration[crews[a % len(crews)]],
        hav=float(rng.uniform(25, 60)), lifts_per_h=crew_handling[crews[a % len(crews)]] * float(rng.uniform(0.7, 1.3)),
        load_share=float(rng.uniform(0.8, 1.2)), night_share=crew_nights[crews[a % len(crews)]],
        noise_db=crew_noise_db[crews[a % len(crews)]] + float(rng.normal(0.0, 1.0)),
    ) for a in range(agents)]

    injected: list[InjectedDrift] = []
    crew_noise_drift: dict[str, int] = {}
    crew_heat_drift: dict[str, int] = {}
    site_robot_drift: dict[str, int] = {}
    if drifts:
        injected = _inject(rng, people, crews, crew_site, robots, days, start, drifts_per_kind,
                           crew_noise_drift, crew_heat_drift, site_robot_drift)

    agent_days: list[AgentDay] = []
    heat: list[HeatEpisode] = []
    robot_days: list[RobotDay] = []
    for i, day in _workdays(start, days):
        crew_day_noise = {crew: float(rng.normal(0.0, 1.5)) for crew in crews}
        crew_day_load = {crew: float(rng.normal(4000.0, 400.0)) for crew in crews}
        for p in people:
            if rng.random() < 0.05:
                continue  # leave, sick day, training: no record that day
            agent_days.append(_agent_day(rng, p, i, day, crew_day_noise[p.crew], crew_day_load[p.crew],
                                         crew_noise_drift, crew_heat_drift, heat))
        for robot, crew in robots.items():
            work_h = max(0.0, float(rng.normal(6.0, 1.0)))
            factor = NEAR_MISS_FACTOR if i >= site_robot_drift.get(crew_site[crew], days + 1) else 1.0
            stop_rate, slow_rate = robot_rates[robot]
            robot_days.append(RobotDay(robot, crew, crew_site[crew], day, work_h,
                                       int(rng.poisson(stop_rate * work_h * factor)),
                                       int(rng.poisson(slow_rate * work_h * factor))))
    return Simulation(agent_days, robot_days, heat, injected, agents, days, start, start + timedelta(days=days - 1),
                      agent_months=agents * days / 30.44)


def _agent_day(rng: np.random.Generator, p: _Agent, i: int, day: date, crew_noise: float, crew_load: float,
               crew_noise_drift: dict[str, int], crew_heat_drift: dict[str, int],
               heat: list[HeatEpisode]) -> AgentDay:
    d = p.drift.get
    worked_s = float(np.clip(rng.normal(7.5, 0.5), 3.0, 10.0)) * 3600.0
    hr_ok = rng.random() >= 0.05
    noise_ok = rng.random() >= 0.05
    # A drifted crew's job moves to ≈ 83.5 dB(A) (new equipment, a noisier round), reached at once.
    noise_db = 83.5 if i >= crew_noise_drift.get(p.crew, 10**9) else p.noise_db
    noise = float(rng.normal(noise_db, 2.0)) + crew_noise
    strain = float(rng.poisson(p.strain + _ramp(i, d("high_strain_minutes"))))
    lifts_rate = p.lifts_per_h * (1.0 + _ramp(i, d("heavy_lifts_per_hour")))
    lifts = int(rng.poisson(lifts_rate * worked_s / 3600.0))
    share = p.load_share * (1.0 + _ramp(i, d("tonnage_vs_crew")))
    night_share = 0.95 if _ramp(i, d("night_work_projection")) > 0 else p.night_share
    night_s = 3.0 * 3600.0 if rng.random() < night_share else 0.0
    heat_rate = p.heat_rate + (HEAT_EPISODES_PER_AGENT_DAY if i >= crew_heat_drift.get(p.crew, 10**9) else 0.0)
    episodes = int(rng.poisson(heat_rate))
    for _ in range(episodes):
        hour = int(rng.choice([14, 15])) if heat_rate > 0.1 else int(rng.integers(9, 17))
        heat.append(HeatEpisode(p.id, p.crew, p.site, day, hour))
    return AgentDay(
        agent_id=p.id, crew_id=p.crew, site_id=p.site, day=day, worked_s=worked_s,
        resting_hr_bpm=float(rng.normal(p.rest + _ramp(i, d("resting_hr_drift")), p.rest_sd)) if hr_ok else None,
        working_hr_bpm=float(rng.normal(p.work + _ramp(i, d("working_hr_drift")), p.work_sd)) if hr_ok else None,
        hr_recovery_bpm=(float(rng.normal(p.recovery - _ramp(i, d("hr_recovery_slowing")), p.recovery_sd))
                         if hr_ok else None),
        high_strain_min=strain if hr_ok else 0.0,
        noise_lex_db=noise if noise_ok else None,
        hav_points=(max(0.0, float(rng.normal(p.hav + _ramp(i, d("hav_points_rising")), 8.0)))
                    if p.vibration else None),
        heat_strain_episodes=episodes, lifts_ge_25kg=lifts,
        tonnage_kg=max(0.0, float(rng.normal(crew_load / CREW_SIZE_LOAD * share, 60.0))),
        night_s=night_s, stumbles=int(rng.poisson(p.stumble_rate + _ramp(i, d("stumbles")))),
    )


def _inject(rng: np.random.Generator, people: list[_Agent], crews: list[str], crew_site: dict[str, str],
            robots: dict[str, str], days: int, start: date, per_kind: int, crew_noise_drift: dict[str, int],
            crew_heat_drift: dict[str, int], site_robot_drift: dict[str, int]) -> list[InjectedDrift]:
    """Pick distinct subjects and start days (after 8 weeks of history, at least 4 weeks before the end)."""
    out: list[InjectedDrift] = []
    first, last = 56, days - 28
    order = [int(a) for a in rng.permutation(len(people))]

    def start_index() -> int:
        return int(rng.integers(first, max(first + 1, last)))

    for kind in AGENT_DRIFTS:
        taken = 0
        while taken < per_kind and order:
            p = people[order.pop()]
            if kind == "hav_points_rising" and not p.vibration:
                continue
            if kind == "night_work_projection" and p.night_share > 0:
                continue
            s = start_index()
            size = {"hr_recovery_slowing": SD_DRIFT_SIZE * p.recovery_sd,
                    "resting_hr_drift": SD_DRIFT_SIZE * p.rest_sd, "working_hr_drift": SD_DRIFT_SIZE * p.work_sd,
                    "high_strain_minutes": 20.0, "hav_points_rising": 25.0, "stumbles": 1.0,
                    "heavy_lifts_per_hour": 1.0, "tonnage_vs_crew": 0.6, "night_work_projection": 1.0}[kind]
            p.drift[kind] = (s, size)
            # One agent stumbling daily doubles the stumbles per agent-day of a fifty-agent site: a real site flag.
            also: tuple[tuple[str, SubjectKind, str], ...] = (
                (("site_stumbles", SubjectKind.SITE, p.site),) if kind == "stumbles" else ())
            out.append(InjectedDrift(kind, SubjectKind.AGENT, p.id, start + timedelta(days=s), f"{kind} {size:+.2f}",
                                     also))  # fmt: skip
            taken += 1
    spare = [int(c) for c in rng.permutation(len(crews))]
    for kind in ("crew_noise_over_action", "heat_strain_recurring"):
        for _ in range(per_kind):
            crew = crews[spare.pop()]
            s = start_index()
            members = [p.id for p in people if p.crew == crew]
            if kind == "crew_noise_over_action":
                crew_noise_drift[crew] = s
                also = tuple(("noise_consecutive_days", SubjectKind.AGENT, m) for m in members)
                detail = "the crew's LEX,8h moves to ≈ 83.5 dB(A)"
            else:
                crew_heat_drift[crew] = s
                also = (("heat_strain_recurring", SubjectKind.SITE, crew_site[crew]),)
                detail = "0.3 heat-strain episodes per agent-day, 14:00-16:00"
            out.append(InjectedDrift(kind, SubjectKind.CREW, crew, start + timedelta(days=s), detail, also))
    robot_sites = sorted({crew_site[crew] for crew in robots.values()})
    for site in [robot_sites[int(i)] for i in rng.permutation(len(robot_sites))[:per_kind]]:
        s = start_index()
        site_robot_drift[site] = s
        also = tuple(("robot_near_misses", kind, subject)
                     for robot, crew in robots.items() if crew_site[crew] == site
                     for kind, subject in ((SubjectKind.ROBOT, robot), (SubjectKind.CREW, crew)))
        out.append(InjectedDrift("robot_near_misses", SubjectKind.SITE, site, start + timedelta(days=s),
                                 "protective stops and slow-downs per hour × 2", also))
    return out
