"""The crew's hidden state, stepped one simulated second at a time, vectorised across agents.

What each worker is doing (walking, lifting bins, riding the truck step, using a tool, resting, lying after a
fall), where they are, and the slow physiological and acoustic state that carries over between seconds
(heart rate, skin temperature, traffic noise). Rendering a frame from this state is ``crew``'s job; the
robots read positions from their own copy, so both stay deterministic whatever order they are called in.

The model can run several simulated days side by side (``days``): each is the same crew on another day — the
same people, that day's weather, their form of the day and the drifts injected by then (``drift_model``) —
stacked along the agent axis, so weeks of history cost about what one day costs (``simulations.history``).
Row ``slot * n_agents + i`` is agent ``i`` on ``days[slot]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum

import numpy as np
import numpy.typing as npt

from simulations.drift_model import NO_DRIFTS, Drifts, daily_form_sd
from simulations.incidents import Incidents
from simulations.roster import Roster, Team
from simulations.timebase import SITE_TZ, SimDay
from simulations.weather import Weather, WeatherDays, hot_round_share

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


class Activity(IntEnum):
    WALKING = 0
    LIFTING = 1
    RIDING = 2
    TOOL = 3
    RESTING = 4
    FALLING = 5  # the second in which a scripted fall happens
    LYING = 6


N_CHOSEN = 5  # activities the Markov chain picks from; FALLING and LYING are only ever scripted
LIE_S = 120  # a fallen worker lies still this long (fall detectors wait >= 30 s for "no recovery")
TRUCK_SPEED_MS = 3.0

# Next-activity probabilities, rows = current activity (W, L, R, T, Rest), per team (collectors, gardeners).
TRANSITIONS = np.array([
    [[0, .60, .34, .02, .04], [.55, 0, .43, 0, .02], [.88, .10, 0, 0, .02], [.7, 0, .3, 0, 0],
     [.6, 0, .4, 0, 0]],
    [[0, .15, 0, .70, .15], [.8, 0, 0, .1, .1], [1, 0, 0, 0, 0], [.6, .2, 0, 0, .2], [.7, 0, 0, .3, 0]],
])
DWELL_S = np.array([  # (min, max) seconds in each activity, per team
    [[5, 25], [6, 20], [8, 30], [20, 60], [30, 120]],
    [[20, 90], [5, 15], [5, 10], [30, 150], [60, 180]],
])
# Share of heart-rate reserve each activity costs (Karvonen); lying after a fall is rest plus stress.
EFFORT = np.array([0.30, 0.55, 0.12, 0.38, 0.05, 0.40, 0.05])
# LAeq (dB(A)) by activity: traffic and the truck's compactor for collectors, the park and tools for gardeners.
LAEQ_MEAN_DB = np.array([
    [72.0, 79.0, 83.0, 92.0, 67.0, 72.0, 70.0],
    [57.0, 60.0, 58.0, 91.0, 54.0, 57.0, 55.0],
])
MAX_SPEED_MS = np.array([1.4, 0.3, 4.0, 0.3, 0.0, 0.0, 0.0])  # riding: the truck plus catching up
HEAT_BPM_PER_C = 0.8  # heart rate per °C of air above 24 °C (thermoregulation: blood sent to the skin)
HOT_ROUND_BPM_PER_C = 4.5
"""Heart rate per °C of a hot round's extra heat, at the crew's average work rate: heat stored over an afternoon
in the sun raises core temperature, and the heart rate climbs with it (cardiovascular drift); harder work stores
more. Chosen so that a 10 °C hot round gives the harder-working members heat-strain episodes most afternoons."""
REFERENCE_EFFORT = 0.3  # the crew's typical share of heart-rate reserve (EFFORT, averaged over a shift)
HR_TAU_UP_S, HR_TAU_DOWN_S = 25.0, 45.0  # heart-rate response time constants: faster up than down
RECOVERY_HOLD_S = (50.0, 60.0, 170.0, 190.0)
"""A slowed recovery (``hr_recovery_slowing``, and each day's form): once a burst of lifts is followed by 50 s
without a lift, the heart rate is held up by the day's amount, fully from 60 s to 170 s after the last lift (the
minute the gateway reads two minutes after the burst: ``services.signals.physiology``), gone by 190 s. A lift
before 60 s cancels the hold (the burst goes on); after it, the hold runs its course."""
RECOVERY_HOLD_GAIN = 1.5
"""Bursts overlap (a collector lifts every minute or so), so the drop the gateway measures moves by about two
thirds of a hold: the hold is 1.5 × the day's amount, and a drift of SIZE bpm lowers the measured recovery by
about SIZE for collectors, a little more for gardeners (tests/unit/test_sim_drifts.py)."""
BREAK_FIRST_S, BREAK_EVERY_S, BREAK_S = 5400, 7200, 900
"""A 15-minute break an hour and a half into the shift, then every two hours: the crew rests (the calm the
resting heart rate is read from)."""


def on_break(t_s: int) -> bool:
    """Whether second ``t_s`` of a shift is in a break (see ``BREAK_FIRST_S``)."""
    return t_s >= BREAK_FIRST_S and (t_s - BREAK_FIRST_S) % BREAK_EVERY_S < BREAK_S


class CrewModel:
    """State of every agent after simulated second ``t_s`` (starts at -1: nothing simulated yet)."""

    def __init__(self, roster: Roster, seed: int, days: Sequence[SimDay], incidents: Incidents | None = None,
                 drifts: Drifts = NO_DRIFTS) -> None:
        if not days:
            raise ValueError("the model needs at least one day")
        incidents = incidents or Incidents()
        if len(days) > 1 and (incidents.sos or incidents.falls):
            raise ValueError("scripted incidents belong to a single simulated day")
        self.roster = roster
        self.seed = seed
        self.days = tuple(days)
        self._weather = WeatherDays(tuple(Weather.for_day(d.start, seed) for d in self.days))
        self.incidents = incidents
        self.drifts = drifts.for_roster(roster)
        n_agents, n_slots, n_crews = len(roster.agents), len(self.days), len(roster.crews)
        n = n_agents * n_slots
        self.n, self.n_agents = n, n_agents
        self.person: IntArray = np.tile(np.arange(n_agents, dtype=np.int64), n_slots)
        self.slot: IntArray = np.repeat(np.arange(n_slots, dtype=np.int64), n_agents)
        crew_of = {c.crew_id: k for k, c in enumerate(roster.crews)}
        self._own_crew = np.array([crew_of[a.crew_id] for a in roster.agents], dtype=np.int64)
        self.crew_index: IntArray = self.slot * n_crews + self._own_crew[self.person]  # one truck per crew and day
        self.team: IntArray = np.array([a.team is Team.GARDENERS for a in roster.agents], dtype=np.int64)[self.person]
        self._crew_radius_m: FloatArray = np.tile(np.array([c.area.radius_m for c in roster.crews]), n_slots)
        self.area_radius_m: FloatArray = self._crew_radius_m[self.crew_index]
        self._has_collectors = np.isin(np.arange(n_crews * n_slots), self.crew_index[self.team == 0])
        p = np.random.default_rng([seed, 0xA6E])
        # Per-person constants: resting/maximal heart rate (Tanaka: 208 - 0.7 age), gait, bending style.
        k = self.person
        age = p.uniform(22, 60, n_agents)
        self.rest_hr: FloatArray = p.uniform(58, 76, n_agents)[k]
        self.max_hr: FloatArray = (208.0 - 0.7 * age)[k]
        self.gait_hz: FloatArray = p.uniform(1.75, 2.1, n_agents)[k]
        self.gait_amp_ms2: FloatArray = p.uniform(1.8, 3.0, n_agents)[k]
        self.gait_phase_rad: FloatArray = p.uniform(0, 2 * np.pi, n_agents)[k]
        self.bend_max_rad: FloatArray = p.uniform(0.8, 1.3, n_agents)[k]
        self.lift_period_s: FloatArray = p.uniform(2.5, 4.0, n_agents)[k]
        self.battery_start_pct: FloatArray = p.uniform(55, 100, n_agents)[k]
        self.battery_drain_pct_s: FloatArray = (p.uniform(0.6, 1.2, n_agents) / 3600)[k]
        axes = np.array([[1.0, 0, 0], [-1.0, 0, 0], [0, 1.0, 0], [0, -1.0, 0]])
        self.lying_axis: FloatArray = axes[p.integers(0, 4, n_agents)][k]  # on the back, front, or either side
        self.tool_ahv_ms2: FloatArray = np.where(
            [a.tool_id.startswith("ht") for a in roster.agents], p.uniform(3.0, 6.5, n_agents),
            p.uniform(1.2, 3.0, n_agents))[k]
        self._day_terms()
        self.reset()

    def _day_terms(self) -> None:
        """Each row's day: its form (a normal day-to-day wobble per person) plus the drifts injected by then."""
        sd = daily_form_sd(self.n_agents, self.seed)
        rest, work, recovery, hot_c = [], [], [], []
        for day in self.days:
            form = np.random.default_rng([self.seed, 0xF0B, day.date.toordinal()]).normal(0.0, 1.0, (3, self.n_agents))
            levels = self.drifts.agent_levels
            rest.append(form[0] * sd["resting_hr_drift"] + levels("resting_hr_drift", day.index))
            work.append(form[1] * sd["working_hr_drift"] + levels("working_hr_drift", day.index))
            # Positive: recovers less than usual (the drift's direction); a good day recovers a little more.
            recovery.append(form[2] * sd["hr_recovery_slowing"] + levels("hr_recovery_slowing", day.index))
            hot_c.append(self.drifts.hot_round_c(day.index)[self._own_crew])
        self.rest_day_bpm: FloatArray = self.rest_hr + np.concatenate(rest)
        self.work_extra_bpm: FloatArray = np.concatenate(work)
        self.recovery_hold_bpm: FloatArray = RECOVERY_HOLD_GAIN * np.concatenate(recovery)
        self.hot_round_c: FloatArray = np.concatenate(hot_c)
        local = [d.start.astimezone(SITE_TZ) for d in self.days]
        self._local_hour0 = np.array([t.hour + t.minute / 60 + t.second / 3600 for t in local])

    def reset(self) -> None:
        """Back to before second 0: the same seeded draws again, so a replay retraces the same shift."""
        n = self.n
        rng = self._rng = np.random.default_rng([self.seed, 0x57E9, *(d.date.toordinal() for d in self.days)])
        self.t_s = -1
        self.activity: IntArray = rng.choice([0, 1, 3, 4], n, p=[.5, .2, .2, .1]).astype(np.int64)
        self.activity[(self.team == 0) & (self.activity == Activity.TOOL)] = Activity.RIDING
        self.remaining_s: FloatArray = rng.uniform(1, 20, n).round()
        self.started_s: FloatArray = -rng.uniform(0, 10, n).round()
        n_crews = len(self._crew_radius_m)
        self.truck_pos_m: FloatArray = rng.uniform(-100, 100, (n_crews, 2))
        self.truck_dir: IntArray = rng.integers(0, 4, n_crews)
        self.truck_moving: BoolArray = np.zeros(n_crews, dtype=bool)
        self.truck_phase_s: FloatArray = rng.uniform(5, 30, n_crews).round()
        self.truck_block_m: FloatArray = rng.uniform(80, 120, n_crews)
        self.offset_m: FloatArray = self._draw_offsets(rng)
        self.pos_m: FloatArray = self._anchor() + self.offset_m
        self.vel_ms: FloatArray = np.zeros((n, 2))
        self.heading_rad: FloatArray = rng.uniform(-np.pi, np.pi, n)
        self._hr_dyn_bpm: FloatArray = self.rest_day_bpm + 0.25 * (self.max_hr - self.rest_day_bpm)
        self.hr_bpm: FloatArray = self._hr_dyn_bpm.copy()  # what the strap reads: the response plus any hold
        self._last_lift_s: FloatArray = np.full(n, -1e9)
        self._hold_from_s: FloatArray = np.full(n, -1e9)
        self.stress_bpm: FloatArray = np.zeros(n)
        self.effort_ema: FloatArray = np.full(n, 0.25)
        self.skin_temp_c: FloatArray = np.full(n, 33.0)
        self.noise_dev_db: FloatArray = np.zeros(n)
        self.laeq_db: FloatArray = np.zeros(n)
        self.lcpeak_db: FloatArray = np.zeros(n)
        self.lift_count: IntArray = np.zeros(n, dtype=np.int64)
        self.lift_load_kg: FloatArray = np.zeros(n)

    def _per_slot(self, values: FloatArray) -> FloatArray:
        return np.asarray(values[self.slot], dtype=np.float64)

    def hot_excess_c(self, t_s: float) -> FloatArray:
        """Per row: the hot round's extra heat at second ``t_s`` (°C; 0 outside a hot round's afternoon)."""
        if not self.hot_round_c.any():
            return np.zeros(self.n)
        share = hot_round_share((self._local_hour0 + t_s / 3600) % 24)
        return np.asarray(self.hot_round_c * share[self.slot], dtype=np.float64)

    def air_temp_c(self, t_s: float) -> FloatArray:
        """Per row: the air temperature around the agent (the day's weather, plus a hot round's heat)."""
        return self._per_slot(self._weather.temp_c(t_s)) + self.hot_excess_c(t_s)

    def radiant_c(self, t_s: float) -> FloatArray:
        """Per row: the globe thermometer's extra over the air (sunshine, plus a hot round's walls and asphalt)."""
        return self._per_slot(self._weather.radiant_c(t_s)) + self.hot_excess_c(t_s)

    def rh_pct(self, t_s: float) -> FloatArray:
        return self._per_slot(self._weather.rh_pct(t_s))

    def advance_to(self, t_s: int) -> None:
        """Step to second ``t_s``; going back in time replays from the start (same seed, same history)."""
        if t_s < self.t_s:
            self.reset()
        while self.t_s < t_s:
            self._step(self.t_s + 1)

    def speed_ms(self) -> FloatArray:
        return np.asarray(np.hypot(self.vel_ms[:, 0], self.vel_ms[:, 1]))

    def truck_speed_ms(self) -> FloatArray:
        """Speed of the truck each agent belongs to (gardeners have none: always 0)."""
        return np.where(self.truck_moving, TRUCK_SPEED_MS, 0.0)[self.crew_index]

    def _anchor(self) -> FloatArray:
        anchor = self.truck_pos_m[self.crew_index].copy()
        anchor[self.team == 1] = 0.0  # gardeners work around their park's centre
        return anchor

    def _draw_offsets(self, rng: np.random.Generator) -> FloatArray:
        """Where the next task is, relative to the anchor: bins within 15 m of the truck, lawns across a park."""
        radius = np.where(self.team == 1, 0.8 * self.area_radius_m, 15.0) * np.sqrt(rng.random(self.n))
        angle = rng.uniform(-np.pi, np.pi, self.n)
        return np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)

    def _step_trucks(self, rng: np.random.Generator) -> None:
        """Stop-and-go along a street grid: drive a block or two, stop to collect, turn at corners."""
        n_crews = len(self.truck_dir)
        turn, coin = rng.random(n_crews), rng.random(n_crews)
        phase_draw = np.where(self.truck_moving, rng.uniform(15, 45, n_crews), rng.uniform(8, 20, n_crews))
        block_draw = rng.uniform(80, 120, n_crews)
        self.truck_phase_s -= 1
        flip = self.truck_phase_s <= 0
        self.truck_moving = (self.truck_moving ^ flip) & self._has_collectors
        self.truck_phase_s = np.where(flip, phase_draw.round(), self.truck_phase_s)
        unit = np.array([[1.0, 0], [0, 1.0], [-1.0, 0], [0, -1.0]])
        self.truck_pos_m += unit[self.truck_dir] * (TRUCK_SPEED_MS * self.truck_moving)[:, None]
        self.truck_block_m -= TRUCK_SPEED_MS * self.truck_moving
        corner = self.truck_block_m <= 0
        self.truck_block_m = np.where(corner, block_draw, self.truck_block_m)
        turning = corner & (turn < 0.4)
        self.truck_dir = np.where(turning, (self.truck_dir + np.where(coin < 0.5, 1, 3)) % 4, self.truck_dir)
        # Past the district's edge, head back along the axis that is furthest out.
        far = corner & (np.hypot(self.truck_pos_m[:, 0], self.truck_pos_m[:, 1]) > self._crew_radius_m)
        x, y = self.truck_pos_m[:, 0], self.truck_pos_m[:, 1]
        home = np.where(np.abs(x) > np.abs(y), np.where(x > 0, 2, 0), np.where(y > 0, 3, 1))
        self.truck_dir = np.where(far, home, self.truck_dir)

    def _step_activities(self, t_s: int, rng: np.random.Generator) -> BoolArray:
        u, dwell_u = rng.random(self.n), rng.random(self.n)
        self.remaining_s -= 1
        expired = self.remaining_s <= 0
        act = self.activity
        chosen = expired & (act < N_CHOSEN)
        rows = TRANSITIONS[self.team, np.minimum(act, N_CHOSEN - 1)]
        nxt = np.minimum((rows.cumsum(axis=1) < u[:, None]).sum(axis=1), N_CHOSEN - 1)
        new_act = np.where(chosen, nxt, act)
        new_act = np.where(expired & (act == Activity.FALLING), Activity.LYING, new_act)
        new_act = np.where(expired & (act == Activity.LYING), Activity.RESTING, new_act)
        bounds = DWELL_S[self.team, np.minimum(new_act, N_CHOSEN - 1)]
        dwell = np.round(bounds[:, 0] + dwell_u * (bounds[:, 1] - bounds[:, 0]))
        dwell = np.where(new_act == Activity.LYING, LIE_S, dwell)
        if on_break(t_s):  # everyone rests (a fall is still a fall)
            resting = new_act != Activity.LYING
            new_act = np.where(resting, Activity.RESTING, new_act)
            dwell = np.where(resting, 1.0, dwell)
            expired = expired | resting
        falls = self.incidents.falls_at(t_s)
        new_act[falls] = Activity.FALLING
        changed = (new_act != act) | expired
        changed[falls] = True
        dwell[falls] = 1
        self.activity = new_act.astype(np.int64)
        self.remaining_s = np.where(changed, dwell, self.remaining_s)
        self.started_s = np.where(changed, float(t_s), self.started_s)
        self.stress_bpm[falls] += 35.0
        self._hr_dyn_bpm[falls] += 20.0
        return np.asarray(changed, dtype=np.bool_)

    def _step(self, t_s: int) -> None:
        rng = self._rng
        self.t_s = t_s
        self._step_trucks(rng)
        changed = self._step_activities(t_s, rng)
        act = self.activity
        offsets, next_offsets = self._draw_offsets(rng), self._draw_offsets(rng)
        keeps_task = (act == Activity.LIFTING) | (act >= Activity.RESTING)
        self.offset_m = np.where((changed & ~keeps_task)[:, None], offsets, self.offset_m)
        target = self._anchor() + self.offset_m
        target[keeps_task] = self.pos_m[keeps_task]
        riding = act == Activity.RIDING
        target[riding] = self.truck_pos_m[self.crew_index[riding]] - 1.0  # on the rear step
        delta = target - self.pos_m
        dist = np.hypot(delta[:, 0], delta[:, 1])
        speed = np.minimum(MAX_SPEED_MS[act], np.where(riding, dist, 0.6 * dist))
        self.vel_ms = delta / np.maximum(dist, 1e-9)[:, None] * speed[:, None]
        self.pos_m = self.pos_m + self.vel_ms
        moving = speed > 0.05
        self.heading_rad = np.where(moving, np.arctan2(self.vel_ms[:, 1], self.vel_ms[:, 0]), self.heading_rad)
        arrived = (act == Activity.WALKING) & (dist < 1.0)
        self.offset_m = np.where(arrived[:, None], next_offsets, self.offset_m)  # walk on to the next bin

        # Lifts are the peaks of the bending cycle the IMU shows (one every lift_period_s).
        since = t_s - self.started_s
        cycles_end = np.floor((since + 1) / self.lift_period_s + 0.5)
        cycles_start = np.floor(since / self.lift_period_s + 0.5)
        lifting = act == Activity.LIFTING
        self.lift_count = np.where(lifting, cycles_end - cycles_start, 0).astype(np.int64)
        # Collectors mostly lift bags of 5-20 kg, now and then a heavy one (≈ 1 % over 25 kg, the NF X35-109
        # single-lift threshold): a gamma law of mean 12 kg, bounded to 5-40 kg. Gardeners: 5-20 kg.
        collector_kg = np.clip(rng.gamma(6.0, 2.0, self.n), 5.0, 40.0)
        load = np.where(self.team == 0, collector_kg, rng.uniform(5, 20, self.n))
        self.lift_load_kg = np.where(self.lift_count > 0, load, 0.0)

        self._step_body(t_s, act, rng)

        # Noise: an AR(1) wander around the activity's level, plus rare impulsive peaks (bins, horns).
        self.noise_dev_db = 0.85 * self.noise_dev_db + rng.normal(0, 1.6, self.n)
        truck_db = np.where(self.truck_speed_ms() > 0, 3.0, 0.0)
        peak_event = (rng.random(self.n) < 0.004) & (self.team == 0)
        laeq = LAEQ_MEAN_DB[self.team, act] + truck_db + self.noise_dev_db + 2.0 * peak_event
        street = (self.team == 0) & (act != Activity.TOOL)
        self.laeq_db = np.where(street, np.clip(laeq, 65, 90), np.clip(laeq, 45, 105))
        crest = 13.0 + np.abs(rng.normal(0, 4, self.n))
        self.lcpeak_db = np.where(peak_event, rng.uniform(112, 132, self.n), self.laeq_db + crest)

    def _recovery_hold(self, t_s: int) -> FloatArray:
        """Share (0-1) of the day's recovery hold at second ``t_s`` (see ``RECOVERY_HOLD_S``)."""
        arm, full, release, gone = RECOVERY_HOLD_S
        lifting = self.lift_count > 0
        self._last_lift_s = np.where(lifting, float(t_s), self._last_lift_s)
        self._hold_from_s = np.where(t_s - self._last_lift_s == arm, float(t_s), self._hold_from_s)
        since = t_s - self._hold_from_s + arm  # seconds since the last lift, while a hold runs
        self._hold_from_s = np.where(lifting & (since < full), -1e9, self._hold_from_s)
        since = t_s - self._hold_from_s + arm
        rising = np.clip((since - arm) / (full - arm), 0.0, 1.0)
        return np.asarray(rising * np.clip((gone - since) / (gone - release), 0.0, 1.0), dtype=np.float64)

    def _step_body(self, t_s: int, act: IntArray, rng: np.random.Generator) -> None:
        """Heart rate and skin temperature.

        Heart rate: a first-order response to effort (faster up than down), heat and fright after a fall; the
        day's form and drifts move the resting level, the working level and the recovery after lifts.
        """
        hot_c = self.hot_excess_c(t_s)
        temp_c = self._per_slot(self._weather.temp_c(t_s)) + hot_c
        effort = EFFORT[act]
        rest = self.rest_day_bpm
        working = (act != Activity.RESTING) & (act != Activity.LYING)
        target_hr = (rest + effort * (self.max_hr - rest) + HEAT_BPM_PER_C * np.maximum(0.0, temp_c - 24.0)
                     + HOT_ROUND_BPM_PER_C * hot_c * self.effort_ema / REFERENCE_EFFORT
                     + np.where(working, self.work_extra_bpm, 0.0) + self.stress_bpm)
        tau = np.where(target_hr > self._hr_dyn_bpm, HR_TAU_UP_S, HR_TAU_DOWN_S)
        self._hr_dyn_bpm += (target_hr - self._hr_dyn_bpm) * (1 - np.exp(-1 / tau)) + rng.normal(0, 0.8, self.n)
        self._hr_dyn_bpm = np.clip(self._hr_dyn_bpm, 40, 200)
        self.hr_bpm = np.clip(self._hr_dyn_bpm + self.recovery_hold_bpm * self._recovery_hold(t_s), 40, 200)
        self.stress_bpm *= np.exp(-1 / 90)
        self.effort_ema += (effort - self.effort_ema) / 300
        skin_target = 33.0 + 0.12 * (temp_c - 22.0) + 1.5 * self.effort_ema
        self.skin_temp_c += (skin_target - self.skin_temp_c) / 120 + rng.normal(0, 0.01, self.n)
