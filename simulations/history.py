"""Past days of the simulated crew, as the gateway would have recorded them: the demo's weak-signal history.

Trend signals need thirty worked days of baseline and a recent week (``services.signals.params``), the gateway
refuses frames more than 30 days old, and weeks of 1 Hz frames are far more than a demo can publish at start.
So the weeks before a run are simulated by the *same* agent, robot and drift models as the live frames
(``agents.CrewModel`` and ``robots.RobotSimulator`` over all the days at once, the sensors' ``crew.readings``) and
summed the way the ingest sums frames: per agent and UTC minute (the ``frame_minutes`` tier, from which the
gateway's housekeeper derives the day's resting, working and recovery heart rate), per agent and local day (the
ledger's sums), the heat-strain alerts the detection rule would have raised (PSI and estimated core temperature
over one-minute heart rates, ``services.detection.heat_rules``), and each robot's state changes (a robot's
stops and slow-downs for people are counted from its state changes, so its unchanged states add nothing).

This module only computes; writing it into a database is the gateway's business (``gateway/demo_history.py``,
demo mode only). ``History.signal_inputs`` gives the same days as the signals' records, to check a scenario with
``services.signals.detect`` without a database.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np

from services.detection.config import RuleConfig
from services.exposure import noise
from services.exposure.heat_strain import core_temp_series_c, physiological_strain_index
from services.ledger import heat_strain_for_day
from services.signals.model import AgentDay, HeatEpisode, RobotDay
from services.signals.physiology import HeartMinute, heart_day
from services.signals.robot_onsets import count_onsets, person_flags, slowdown_zone_m
from simulations.agents import FloatArray
from simulations.crew import Readings, readings, sensor_rng
from simulations.drift_model import NO_DRIFTS, Drifts
from simulations.drifts import InjectedDrift
from simulations.robots import MODES, RobotSimulator
from simulations.roster import RobotKind, Roster
from simulations.timebase import SITE_TZ, SimDay

MINUTE_COLUMNS = ("worked_s", "hr_n", "hr_sum_bpm", "hr_max_bpm", "noise_s", "noise_sum_t_10pow", "lcpeak_max_db",
                  "peaks_over_135", "hav_s", "hav_sum_a2t", "lifts", "lifts_ge_15kg", "lifts_ge_25kg", "tonnage_kg")
"""The per-minute sums kept (``frame_minutes`` columns, plus the heavy lifts the ledger counts)."""


@dataclass(frozen=True, slots=True)
class AgentHistory:
    """One agent's simulated day: its minutes (``minutes[column][k]`` for minute ``k`` from ``start``)."""

    agent_id: str
    device_id: str
    tool_id: str
    crew_id: str
    site_id: str
    day: date
    start: datetime  # UTC, a whole minute: the shift's first frame
    minutes: dict[str, FloatArray]

    def minute_at(self, k: int) -> datetime:
        return self.start + timedelta(minutes=k)

    def total(self, column: str) -> float:
        return float(self.minutes[column].sum())


@dataclass(frozen=True, slots=True)
class HeatAlert:
    """A heat-strain alert the detection rule would have raised, and when it would have cleared."""

    agent_id: str
    device_id: str
    raised_at: datetime
    cleared_at: datetime
    psi: float
    core_temp_c: float


@dataclass(frozen=True, slots=True)
class RobotStateChange:
    """A robot state that differs from the previous one in what the signals count (or a shift's first or last)."""

    robot_id: str
    kind: str
    ts: datetime
    protective_stop: bool
    nearest_human_m: float | None
    mode: str
    speed_ms: float
    tracks_leader: bool = False  # a follower: its slow-downs are judged on the nearest person but its collector
    nearest_other_human_m: float | None = None


@dataclass(frozen=True, slots=True)
class History:
    days: tuple[SimDay, ...]
    agents: list[AgentHistory]
    heat_alerts: list[HeatAlert]
    robot_states: list[RobotStateChange]
    drifts: list[InjectedDrift]

    def signal_inputs(self, roster: Roster, cfg: RuleConfig | None = None
                      ) -> tuple[list[AgentDay], list[RobotDay], list[HeatEpisode]]:  # fmt: skip
        """The days as ``services.signals.detect`` reads them (no stumbles: the simulator cancels no alert)."""
        return agent_days(self, roster), robot_days(self, roster, cfg or RuleConfig()), heat_episodes(self, roster)


def generate(roster: Roster, *, seed: int, days: Sequence[SimDay], shift_s: int, drifts: Drifts = NO_DRIFTS,
             robot_rate_hz: float = 2.0, cfg: RuleConfig | None = None) -> History:
    """Simulate ``days`` (shifts of ``shift_s`` seconds, each from its ``start``) and sum them as the ingest would.

    ``robot_rate_hz`` should be the live run's: a robot's stops are counted from its states, and a faster stream
    sees more of the short ones.
    """
    cfg = cfg or RuleConfig()
    days = tuple(days)
    if not days:
        return History((), [], [], [], drifts.injected(roster))
    if any(d.start.second or d.start.microsecond for d in days):
        raise ValueError("history shifts start on a whole minute (minutes are the gateway's UTC minutes)")
    robots = RobotSimulator(roster, seed=seed, start=days[0].start, rate_hz=robot_rate_hz, drifts=drifts, days=days)
    m = robots.model
    n_minutes = math.ceil(shift_s / 60)
    sums = {c: np.zeros((m.n, n_minutes)) for c in MINUTE_COLUMNS}
    sums["hr_max_bpm"][:] = -np.inf
    sums["lcpeak_max_db"][:] = -np.inf
    tracker = _RobotTracker(robots, cfg)
    ticks = round(robot_rate_hz)
    for t in range(shift_s):
        for j in range(ticks):
            robots.tick_to(t * ticks + j)
            tracker.observe(t * ticks + j, last=t == shift_s - 1 and j == ticks - 1)
        _add_second(sums, readings(m, t, sensor_rng(seed, t)), t // 60)
    agents = []
    for row in range(m.n):
        spec, day = roster.agents[int(m.person[row])], days[int(m.slot[row])]
        agents.append(AgentHistory(spec.agent_id, spec.device_id, spec.tool_id, spec.crew_id, spec.site_id, day.date,
                                   day.start, {c: values[row] for c, values in sums.items()}))  # fmt: skip
    heat = [alert for a in agents for alert in _heat_alerts(a, shift_s, cfg)]
    return History(days, agents, heat, tracker.changes, drifts.injected(roster))


def _add_second(sums: dict[str, FloatArray], r: Readings, minute: int) -> None:
    lifts = r.lifts.astype(np.float64)
    hav = r.using_tool
    columns: dict[str, FloatArray | float] = {
        "worked_s": 1.0, "hr_n": 1.0, "hr_sum_bpm": r.hr_bpm, "noise_s": 1.0,
        "noise_sum_t_10pow": 10.0 ** (0.1 * r.laeq_db),
        "peaks_over_135": (r.lcpeak_db >= noise.PEAK_COUNTED_DBC).astype(np.float64),
        "hav_s": np.where(hav, r.trigger_s, 0.0), "hav_sum_a2t": np.where(hav, r.ahv_ms2 ** 2 * r.trigger_s, 0.0),
        "lifts": lifts, "lifts_ge_15kg": lifts * (r.load_kg >= 15.0), "lifts_ge_25kg": lifts * (r.load_kg >= 25.0),
        "tonnage_kg": lifts * r.load_kg,
    }  # fmt: skip
    for column, value in columns.items():
        sums[column][:, minute] += value
    np.maximum(sums["hr_max_bpm"][:, minute], r.hr_bpm, out=sums["hr_max_bpm"][:, minute])
    np.maximum(sums["lcpeak_max_db"][:, minute], r.lcpeak_db, out=sums["lcpeak_max_db"][:, minute])


class _RobotTracker:
    """Keeps each robot's first and last state of the shift and every state that changes what the signals count:
    a protective stop with a person near, or a slow-down (someone inside the warning zone), per the gateway's
    reading (``services/signals/robot_onsets.slowdown_zone_m`` of the configured separation distance of the kind)."""

    def __init__(self, robots: RobotSimulator, cfg: RuleConfig) -> None:
        self.robots = robots
        self.zone_m = np.array([slowdown_zone_m(cfg.separation_m(s.kind.value)) for s in robots.specs])
        self.previous = np.full((len(robots.specs), 2), -1, dtype=np.int64)
        self.changes: list[RobotStateChange] = []

    def observe(self, k: int, *, last: bool) -> None:
        r = self.robots
        near = r.nearest_human_m
        measured = ~np.isnan(near)
        stop = r.protective_stop & measured
        in_the_way_m = np.where(r.tracks_leader, r.nearest_other_human_m, near)  # robot_onsets.person_flags
        slow = ~r.protective_stop & measured & (np.nan_to_num(in_the_way_m, nan=np.inf) < self.zone_m)
        state = np.stack([stop, slow], axis=1).astype(np.int64)
        changed = (state != self.previous).any(axis=1) | last
        self.previous = state
        for i in np.flatnonzero(changed).tolist():
            spec, day = r.specs[i], r.days[int(r.slot[i])]
            nearest = None if not measured[i] else round(min(float(near[i]), 1000.0), 2)
            other_m = float(r.nearest_other_human_m[i])
            other = None if math.isnan(other_m) else round(min(other_m, 1000.0), 2)
            self.changes.append(RobotStateChange(spec.robot_id, spec.kind.value,
                                                 day.start + timedelta(seconds=k / r.rate_hz),
                                                 bool(r.protective_stop[i]), nearest, MODES[int(r.mode[i])],
                                                 round(float(r.speed_ms[i]), 3), bool(r.tracks_leader[i]),
                                                 other))  # fmt: skip


def _heat_alerts(agent: AgentHistory, shift_s: int, cfg: RuleConfig) -> list[HeatAlert]:
    """The heat-strain rule over the day's one-minute mean heart rates (services/detection/heat_rules.py): raise at
    PSI ≥ ``psi_raise`` or core ≥ ``core_temp_raise_c``, clear at PSI ≤ ``psi_clear`` and core ≤ ``core_temp_clear_c``;
    a minute's verdict comes when the minute is over. An episode still open at the end of the shift ends with it."""
    n = agent.minutes["hr_n"]
    hr = np.divide(agent.minutes["hr_sum_bpm"], n, out=np.full_like(n, np.nan), where=n > 0)
    core = core_temp_series_c(hr)
    out: list[HeatAlert] = []
    raised: tuple[datetime, float, float] | None = None
    for k, (hr_bpm, ct_c) in enumerate(zip(hr.tolist(), core.tolist(), strict=True)):
        if not math.isfinite(hr_bpm):
            continue
        psi = physiological_strain_index(ct_c, hr_bpm, cfg.psi_core_temp_0_c, cfg.psi_hr_0_bpm)
        done = agent.minute_at(k + 1)
        if raised is None and (psi >= cfg.psi_raise or ct_c >= cfg.core_temp_raise_c):
            raised = (done, psi, ct_c)
        elif raised is not None and psi <= cfg.psi_clear and ct_c <= cfg.core_temp_clear_c:
            out.append(HeatAlert(agent.agent_id, agent.device_id, raised[0], done, raised[1], raised[2]))
            raised = None
    if raised is not None:
        out.append(HeatAlert(agent.agent_id, agent.device_id, raised[0], agent.start + timedelta(seconds=shift_s),
                             raised[1], raised[2]))  # fmt: skip
    return out


def agent_days(history: History, roster: Roster) -> list[AgentDay]:
    """Each agent-day as the signals read it: the ledger's sums (noise at the ear, behind the agent's hearing
    protection), the heart-rate features of its minutes, the heat-strain alerts of the day."""
    attenuation_db = {a.agent_id: a.hearing_attenuation_db for a in roster.agents}
    heat = Counter((h.agent_id, h.raised_at.astimezone(SITE_TZ).date()) for h in history.heat_alerts)
    out = []
    for a in history.agents:
        hr = a.minutes["hr_sum_bpm"] / np.maximum(a.minutes["hr_n"], 1)
        rated = [(a.minute_at(k), float(v)) for k, v in enumerate(hr.tolist()) if a.minutes["hr_n"][k] > 0]
        heart = heart_day(HeartMinute(t, v, True, int(a.minutes["lifts"][k])) for k, (t, v) in enumerate(rated))
        strain = heat_strain_for_day(rated)
        dose = noise.NoiseDose(a.total("noise_sum_t_10pow"), a.total("noise_s"),
                               float(a.minutes["lcpeak_max_db"].max()), int(a.total("peaks_over_135")))
        out.append(AgentDay(
            agent_id=a.agent_id, crew_id=a.crew_id, site_id=a.site_id, day=a.day, worked_s=a.total("worked_s"),
            resting_hr_bpm=heart.resting_hr_bpm, working_hr_bpm=heart.working_hr_bpm,
            hr_recovery_bpm=heart.hr_recovery_bpm, high_strain_min=float(strain.psi_high_min),
            noise_lex_db=None if (lex := noise.lex_8h_db(dose)) is None else noise.at_ear_db(
                lex, attenuation_db[a.agent_id]),
            heat_strain_episodes=heat[(a.agent_id, a.day)],
            lifts_ge_25kg=int(a.total("lifts_ge_25kg")), tonnage_kg=a.total("tonnage_kg"),
        ))  # fmt: skip
    return out


def heat_episodes(history: History, roster: Roster) -> list[HeatEpisode]:
    crew_of = {a.agent_id: (a.crew_id, a.site_id) for a in roster.agents}
    out = []
    for h in history.heat_alerts:
        local = h.raised_at.astimezone(SITE_TZ)
        crew, site = crew_of[h.agent_id]
        out.append(HeatEpisode(h.agent_id, crew, site, local.date(), local.hour))
    return out


def robot_days(history: History, roster: Roster, cfg: RuleConfig) -> list[RobotDay]:
    """Per robot and local day: work hours (first to last state) and onsets of stops and slow-downs for people."""
    crews = {r.robot_id: r.crew_id for r in roster.robots}
    site = roster.agents[0].site_id
    zone = {k.value: slowdown_zone_m(cfg.separation_m(k.value)) for k in RobotKind}
    per: dict[tuple[str, date], list[RobotStateChange]] = {}
    for s in sorted(history.robot_states, key=lambda s: (s.robot_id, s.ts)):
        per.setdefault((s.robot_id, s.ts.astimezone(SITE_TZ).date()), []).append(s)
    out = []
    for (robot_id, day), states in per.items():
        # Each day on its own, as the gateway's roll-up does for a robot silent overnight (robot_days.LOOKBACK).
        flags = ((s.ts, person_flags(s.protective_stop, s.nearest_human_m, zone[s.kind], tracks_leader=s.tracks_leader,
                                     nearest_other_human_m=s.nearest_other_human_m)) for s in states)  # fmt: skip
        onsets = count_onsets(flags)
        work_h = (states[-1].ts - states[0].ts).total_seconds() / 3600.0
        out.append(RobotDay(robot_id, crews[robot_id], site, day, work_h, onsets.protective_stops, onsets.slowdowns))
    return out
