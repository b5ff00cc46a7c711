"""The exposure ledger's increments: what a set of newly stored frames adds to each agent-day.

Every quantity is additive (sums, counts, maxima), so the ledger can be updated as frames arrive, in any
order, across restarts, and a frame stored once contributes once: the ingest adds the increments of the
frames it stored for the first time, in the same transaction. Physiological strain (core temperature,
PSI) is order-dependent and is computed separately from the per-minute heart-rate ledger
(``hr_minutes``), see ``heat_strain_for_day``.

Days are local days of the site's time zone (default Europe/Paris); each 1-s frame contributes 1 s to the
day its second starts in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, tzinfo

from services.exposure import heat, heat_strain, night, noise
from services.exposure.handling import HandlingDay, lift_index
from services.exposure.heat import HeatDay, Task
from services.exposure.merge import max_or_none
from services.exposure.noise import NoiseDose
from services.exposure.vibration import HavDose, WbvDose
from services.model import Received

FRAME_S = 1.0


@dataclass(frozen=True, slots=True)
class ExposureProfile:
    """What the ledger needs to know of an agent: registered hearing protection and usual task."""

    hearing_attenuation_db: float = 0.0
    task: Task = Task.COLLECTOR_WALKING
    acclimatised: bool = True

    @property
    def wbgt_ref_c(self) -> float:
        """ISO 7243:2017 reference WBGT for this agent's task metabolic rate (ISO 8996)."""
        return heat.wbgt_ref_c(heat.metabolic_rate_w(self.task), self.acclimatised)


DEFAULT_PROFILE = ExposureProfile()


def profile(hearing_attenuation_db: float, task: str, acclimatised: bool) -> ExposureProfile:
    """The profile as registered; an unknown task (an older registry value) falls back to the default task."""
    known = Task(task) if task in Task._value2member_map_ else DEFAULT_PROFILE.task
    return ExposureProfile(hearing_attenuation_db, known, acclimatised)


@dataclass(frozen=True, slots=True)
class DayDelta:
    """One agent-day's increment; ``merge`` is commutative and associative."""

    agent_id: str
    day: date
    worked_s: float = 0.0
    first_ts: datetime | None = None
    last_ts: datetime | None = None
    noise: NoiseDose = field(default_factory=NoiseDose)
    peaks_over_135_at_ear: int = 0
    hav: HavDose = field(default_factory=HavDose)
    wbv: WbvDose = field(default_factory=WbvDose)
    heat: HeatDay = field(default_factory=HeatDay)
    handling: HandlingDay = field(default_factory=HandlingDay)
    night_s: float = 0.0
    lifting_index_max: float | None = None
    device_ids: frozenset[str] = field(default_factory=frozenset)
    tool_ids: frozenset[str] = field(default_factory=frozenset)

    def merge(self, other: DayDelta) -> DayDelta:
        firsts = [t for t in (self.first_ts, other.first_ts) if t is not None]
        lasts = [t for t in (self.last_ts, other.last_ts) if t is not None]
        return replace(
            self,
            worked_s=self.worked_s + other.worked_s,
            first_ts=min(firsts, default=None),
            last_ts=max(lasts, default=None),
            noise=self.noise.merge(other.noise),
            peaks_over_135_at_ear=self.peaks_over_135_at_ear + other.peaks_over_135_at_ear,
            hav=self.hav.merge(other.hav),
            wbv=self.wbv.merge(other.wbv),
            heat=self.heat.merge(other.heat),
            handling=self.handling.merge(other.handling),
            night_s=self.night_s + other.night_s,
            lifting_index_max=max_or_none(self.lifting_index_max, other.lifting_index_max),
            device_ids=self.device_ids | other.device_ids,
            tool_ids=self.tool_ids | other.tool_ids,
        )


def frame_delta(received: Received, profile: ExposureProfile, tz: tzinfo) -> DayDelta | None:
    """The contribution of one stored frame to its agent's local day (None for an unassigned device)."""
    if received.agent_id is None:
        return None
    f = received.frame
    delta = DayDelta(
        agent_id=received.agent_id, day=night.local_day(f.ts, tz), worked_s=FRAME_S, first_ts=f.ts,
        last_ts=f.ts, night_s=night.night_seconds(f.ts, FRAME_S, tz), device_ids=frozenset({f.device_id}),
    )  # fmt: skip
    if f.noise is not None:
        peak = f.noise.lcpeak_db
        at_ear = peak is not None and noise.at_ear_db(peak, profile.hearing_attenuation_db) >= noise.PEAK_COUNTED_DBC
        delta = replace(delta, noise=NoiseDose().add(f.noise.laeq_db, FRAME_S, peak), peaks_over_135_at_ear=int(at_ear))
    if f.hav is not None and f.hav.trigger_s > 0:
        tools = frozenset({f.hav.tool_id}) if f.hav.tool_id else frozenset()
        delta = replace(delta, hav=HavDose().add(f.hav.ahv_ms2, f.hav.trigger_s), tool_ids=tools)
    if f.wbv is not None and f.wbv.duration_s > 0:
        delta = replace(delta, wbv=WbvDose().add(f.wbv.aw_ms2, f.wbv.duration_s))
    if f.env is not None:
        wbgt = heat.wbgt_c(f.env.temp_c, f.env.rh_pct, f.env.globe_temp_c)
        delta = replace(delta, heat=HeatDay().add(f.env.temp_c, FRAME_S, wbgt=wbgt, wbgt_ref_c=profile.wbgt_ref_c))
    if f.lift is not None and f.lift.count > 0:
        delta = replace(delta, handling=HandlingDay().add(f.lift.count, f.lift.load_kg))
        if f.lift.geometry is not None:
            delta = replace(delta, lifting_index_max=lift_index(f.lift.load_kg, f.lift.geometry))
    return delta


def day_deltas(
    frames: Sequence[Received], profiles: Mapping[str, ExposureProfile], tz: tzinfo
) -> list[DayDelta]:
    """Increments per (agent, local day) of a batch of newly stored frames."""
    totals: dict[tuple[str, date], DayDelta] = {}
    for received in frames:
        profile = profiles.get(received.agent_id or "", DEFAULT_PROFILE)
        delta = frame_delta(received, profile, tz)
        if delta is None:
            continue
        key = (delta.agent_id, delta.day)
        totals[key] = totals[key].merge(delta) if key in totals else delta
    return list(totals.values())


def avoided_load(agent_id: str, ts: datetime, avoided_kg: float, tz: tzinfo) -> DayDelta:
    """Load carried by a robot or exoskeleton assigned to the agent instead of by the agent."""
    return DayDelta(agent_id=agent_id, day=night.local_day(ts, tz), handling=HandlingDay(avoided_kg=avoided_kg))


@dataclass(frozen=True, slots=True)
class HeatStrain:
    psi_max: float | None
    core_temp_max_c: float | None


def heat_strain_for_day(
    minute_hr_bpm: Sequence[tuple[datetime, float]], resting_hr_bpm: float = heat_strain.PSI_HR_0_BPM
) -> HeatStrain:
    """Core temperature (Buller et al. 2013 Kalman filter over 1-min mean HR) and its PSI maximum.

    Run over the day's whole per-minute heart-rate ledger, in time order, so late or out-of-order frames
    simply change the minute means it is fed. Gaps advance the filter with no observation.
    """
    if not minute_hr_bpm:
        return HeatStrain(None, None)
    state = heat_strain.CoreTempFilter()
    psi_max = ct_max = None
    for minute, hr_bpm in sorted(minute_hr_bpm):
        state = state.step(hr_bpm, minute)
        psi = heat_strain.physiological_strain_index(state.ct_c, hr_bpm, hr_0_bpm=resting_hr_bpm)
        psi_max = psi if psi_max is None else max(psi_max, psi)
        ct_max = state.ct_c if ct_max is None else max(ct_max, state.ct_c)
    return HeatStrain(psi_max, ct_max)


def payload_increments(
    states: Sequence[tuple[str, datetime, float | None]], previous_kg: Mapping[str, float]
) -> list[tuple[str, datetime, float]]:
    """Load put on robots: each rise of a robot's ``payload_kg`` is load an agent did not carry.

    ``states`` are (robot_id, ts, payload_kg) newer than the robot's last known state; ``previous_kg`` its
    last known payload. Unloading (a fall of payload) carries nothing off the agent, so only rises count.
    States older than the last known one are not compared (their order relative to it is unknown).
    """
    last = dict(previous_kg)
    rises: list[tuple[str, datetime, float]] = []
    for robot_id, ts, payload_kg in sorted(states, key=lambda s: (s[0], s[1])):
        if payload_kg is None:
            continue
        before = last.get(robot_id)
        if before is not None and payload_kg > before:
            rises.append((robot_id, ts, payload_kg - before))
        last[robot_id] = payload_kg
    return rises
