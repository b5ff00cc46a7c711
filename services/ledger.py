"""The exposure ledger's increments: what a set of newly stored frames adds to each agent-day.

Every quantity is additive (sums, counts, maxima), so the ledger can be updated as frames arrive, in any
order, across restarts, and a frame stored once contributes once: the ingest adds the increments of the
frames it stored for the first time, in the same transaction. Physiological strain (core temperature,
PSI) is order-dependent and is computed separately from the per-minute heart-rate ledger
(``hr_minutes``), see ``heat_strain_for_day``.

Days are local days of the site's time zone (default Europe/Paris); each 1-s frame contributes 1 s to the
day its second starts in. A batch is computed at once, with numpy across its frames and agents
(``services.ledger_batch``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, tzinfo

from services.exposure import heat, heat_strain, night
from services.exposure.handling import HandlingDay
from services.exposure.heat import HeatDay, Task
from services.exposure.merge import max_or_none
from services.exposure.noise import NoiseDose
from services.exposure.vibration import HavDose, WbvDose
from services.ledger_batch import DayColumns, day_columns
from services.model import Received


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
    (delta,) = day_deltas([received], {received.agent_id: profile}, tz)
    return delta


def day_deltas(
    frames: Sequence[Received], profiles: Mapping[str, ExposureProfile], tz: tzinfo
) -> list[DayDelta]:
    """Increments per (agent, local day) of a batch of newly stored frames, in order of first appearance."""
    c = day_table(frames, profiles, tz)
    if c is None:
        return []
    return [
        DayDelta(
            agent_id=c.agent_id[i], day=c.day[i], worked_s=c.worked_s[i], first_ts=c.first_ts[i],
            last_ts=c.last_ts[i],
            noise=NoiseDose(c.noise_sum_t_10pow[i], c.noise_s[i], c.lcpeak_max_db[i], c.peaks_over_135[i]),
            peaks_over_135_at_ear=c.peaks_over_135_at_ear[i], hav=HavDose(c.hav_sum_a2t_m2s3[i], c.hav_s[i]),
            wbv=WbvDose(c.wbv_sum_x_m2s3[i], c.wbv_sum_y_m2s3[i], c.wbv_sum_z_m2s3[i], c.wbv_s[i]),
            heat=HeatDay(c.wbgt_max_c[i], c.seconds_over_ref[i], c.seconds_temp_ge_30[i], c.seconds_temp_le_5[i],
                         None, c.seconds_wbgt_measured[i], c.seconds_wbgt_estimated[i]),
            handling=HandlingDay(c.lifts[i], c.lifts_ge_15kg[i], c.lifts_ge_25kg[i], c.tonnage_kg[i]),
            night_s=c.night_s[i], lifting_index_max=c.lifting_index_max[i], device_ids=c.device_ids[i],
            tool_ids=c.tool_ids[i],
        )
        for i in range(len(c.agent_id))
    ]  # fmt: skip


def day_table(
    frames: Sequence[Received], profiles: Mapping[str, ExposureProfile], tz: tzinfo
) -> DayColumns | None:
    """``day_deltas`` as columns (``services.ledger_batch``), for the ingest; None when no frame was worn."""
    chosen = {a: profiles.get(a, DEFAULT_PROFILE) for a in {r.agent_id for r in frames if r.agent_id is not None}}
    refs = {(p.task, p.acclimatised): p.wbgt_ref_c for p in set(chosen.values())}  # few tasks, many agents
    attenuation_db = {a: p.hearing_attenuation_db for a, p in chosen.items()}
    return day_columns(frames, attenuation_db, {a: refs[(p.task, p.acclimatised)] for a, p in chosen.items()}, tz)


def avoided_load(agent_id: str, ts: datetime, avoided_kg: float, tz: tzinfo) -> DayDelta:
    """Load carried by a robot or exoskeleton assigned to the agent instead of by the agent."""
    return DayDelta(agent_id=agent_id, day=night.local_day(ts, tz), handling=HandlingDay(avoided_kg=avoided_kg))


@dataclass(frozen=True, slots=True)
class HeatStrain:
    psi_max: float | None
    core_temp_max_c: float | None
    psi_high_min: int = 0  # minutes with PSI ≥ 7 (high strain, Moran et al. 1998)


def heat_strain_for_day(
    minute_hr_bpm: Sequence[tuple[datetime, float]], resting_hr_bpm: float = heat_strain.PSI_HR_0_BPM
) -> HeatStrain:
    """Core temperature (Buller et al. 2013 Kalman filter over 1-min mean HR), its PSI maximum and the minutes of
    high strain (PSI ≥ ``heat_strain.PSI_HIGH``).

    Run over the day's whole per-minute heart-rate ledger, in time order, so late or out-of-order frames
    simply change the minute means it is fed. Gaps advance the filter with no observation.
    """
    if not minute_hr_bpm:
        return HeatStrain(None, None)
    state = heat_strain.CoreTempFilter()
    psi_max = ct_max = None
    high_min = 0
    for minute, hr_bpm in sorted(minute_hr_bpm):
        state = state.step(hr_bpm, minute)
        psi = heat_strain.physiological_strain_index(state.ct_c, hr_bpm, hr_0_bpm=resting_hr_bpm)
        psi_max = psi if psi_max is None else max(psi_max, psi)
        ct_max = state.ct_c if ct_max is None else max(ct_max, state.ct_c)
        if psi >= heat_strain.PSI_HIGH:
            high_min += 1
    return HeatStrain(psi_max, ct_max, high_min)


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
