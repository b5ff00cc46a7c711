"""The crew's hidden state, stepped one simulated second at a time, vectorised across agents.

What each worker is doing (walking, lifting bins, riding the truck step, using a tool, resting, lying after a
fall), where they are, and the slow physiological and acoustic state that carries over between seconds
(heart rate, skin temperature, traffic noise). Rendering a frame from this state is ``crew``'s job; the
robots read positions from their own copy, so both stay deterministic whatever order they are called in.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np
import numpy.typing as npt

from simulations.incidents import Incidents
from simulations.roster import Roster, Team
from simulations.weather import Weather

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


class CrewModel:
    """State of every agent after simulated second ``t_s`` (starts at -1: nothing simulated yet)."""

    def __init__(self, roster: Roster, seed: int, weather: Weather, incidents: Incidents) -> None:
        self.roster = roster
        self.seed = seed
        self.weather = weather
        self.incidents = incidents
        n = len(roster.agents)
        self.n = n
        crew_of = {c.crew_id: k for k, c in enumerate(roster.crews)}
        self.crew_index: IntArray = np.array([crew_of[a.crew_id] for a in roster.agents], dtype=np.int64)
        self.team: IntArray = np.array([a.team is Team.GARDENERS for a in roster.agents], dtype=np.int64)
        self.area_radius_m: FloatArray = np.array([c.area.radius_m for c in roster.crews])[self.crew_index]
        p = np.random.default_rng([seed, 0xA6E])
        # Per-person constants: resting/maximal heart rate (Tanaka: 208 - 0.7 age), gait, bending style.
        age = p.uniform(22, 60, n)
        self.rest_hr: FloatArray = p.uniform(58, 76, n)
        self.max_hr: FloatArray = 208.0 - 0.7 * age
        self.gait_hz: FloatArray = p.uniform(1.75, 2.1, n)
        self.gait_amp_ms2: FloatArray = p.uniform(1.8, 3.0, n)
        self.gait_phase_rad: FloatArray = p.uniform(0, 2 * np.pi, n)
        self.bend_max_rad: FloatArray = p.uniform(0.8, 1.3, n)
        self.lift_period_s: FloatArray = p.uniform(2.5, 4.0, n)
        self.battery_start_pct: FloatArray = p.uniform(55, 100, n)
        self.battery_drain_pct_s: FloatArray = p.uniform(0.6, 1.2, n) / 3600
        axes = np.array([[1.0, 0, 0], [-1.0, 0, 0], [0, 1.0, 0], [0, -1.0, 0]])
        self.lying_axis: FloatArray = axes[p.integers(0, 4, n)]  # on the back, front, or either side
        self.tool_ahv_ms2: FloatArray = np.where(
            [a.tool_id.startswith("ht") for a in roster.agents], p.uniform(3.0, 6.5, n), p.uniform(1.2, 3.0, n))
        self.reset()

    def reset(self) -> None:
        """Back to before second 0: the same seeded draws again, so a replay retraces the same shift."""
        n = self.n
        rng = self._rng = np.random.default_rng([self.seed, 0x57E9])
        self.t_s = -1
        self.activity: IntArray = rng.choice([0, 1, 3, 4], n, p=[.5, .2, .2, .1]).astype(np.int64)
        self.activity[(self.team == 0) & (self.activity == Activity.TOOL)] = Activity.RIDING
        self.remaining_s: FloatArray = rng.uniform(1, 20, n).round()
        self.started_s: FloatArray = -rng.uniform(0, 10, n).round()
        n_crews = len(self.roster.crews)
        self.truck_pos_m: FloatArray = rng.uniform(-100, 100, (n_crews, 2))
        self.truck_dir: IntArray = rng.integers(0, 4, n_crews)
        self.truck_moving: BoolArray = np.zeros(n_crews, dtype=bool)
        self.truck_phase_s: FloatArray = rng.uniform(5, 30, n_crews).round()
        self.truck_block_m: FloatArray = rng.uniform(80, 120, n_crews)
        self.offset_m: FloatArray = self._draw_offsets(rng)
        self.pos_m: FloatArray = self._anchor() + self.offset_m
        self.vel_ms: FloatArray = np.zeros((n, 2))
        self.heading_rad: FloatArray = rng.uniform(-np.pi, np.pi, n)
        self.hr_bpm: FloatArray = self.rest_hr + 0.25 * (self.max_hr - self.rest_hr)
        self.stress_bpm: FloatArray = np.zeros(n)
        self.effort_ema: FloatArray = np.full(n, 0.25)
        self.skin_temp_c: FloatArray = np.full(n, 33.0)
        self.noise_dev_db: FloatArray = np.zeros(n)
        self.laeq_db: FloatArray = np.zeros(n)
        self.lcpeak_db: FloatArray = np.zeros(n)
        self.lift_count: IntArray = np.zeros(n, dtype=np.int64)
        self.lift_load_kg: FloatArray = np.zeros(n)

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
        has_collectors = np.isin(np.arange(n_crews), self.crew_index[self.team == 0])
        self.truck_phase_s -= 1
        flip = self.truck_phase_s <= 0
        self.truck_moving = (self.truck_moving ^ flip) & has_collectors
        self.truck_phase_s = np.where(flip, phase_draw.round(), self.truck_phase_s)
        unit = np.array([[1.0, 0], [0, 1.0], [-1.0, 0], [0, -1.0]])
        self.truck_pos_m += unit[self.truck_dir] * (TRUCK_SPEED_MS * self.truck_moving)[:, None]
        self.truck_block_m -= TRUCK_SPEED_MS * self.truck_moving
        corner = self.truck_block_m <= 0
        self.truck_block_m = np.where(corner, block_draw, self.truck_block_m)
        turning = corner & (turn < 0.4)
        self.truck_dir = np.where(turning, (self.truck_dir + np.where(coin < 0.5, 1, 3)) % 4, self.truck_dir)
        # Past the district's edge, head back along the axis that is furthest out.
        radius = np.array([c.area.radius_m for c in self.roster.crews])
        far = corner & (np.hypot(self.truck_pos_m[:, 0], self.truck_pos_m[:, 1]) > radius)
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
        falls = self.incidents.falls_at(t_s)
        new_act[falls] = Activity.FALLING
        changed = (new_act != act) | expired
        changed[falls] = True
        dwell[falls] = 1
        self.activity = new_act.astype(np.int64)
        self.remaining_s = np.where(changed, dwell, self.remaining_s)
        self.started_s = np.where(changed, float(t_s), self.started_s)
        self.stress_bpm[falls] += 35.0
        self.hr_bpm[falls] += 20.0
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

        # Heart rate: first-order response to effort (faster up than down), heat and fright after a fall.
        temp_c = self.weather.temp_c(t_s)
        effort = EFFORT[act]
        target_hr = (self.rest_hr + effort * (self.max_hr - self.rest_hr)
                     + 0.8 * max(0.0, temp_c - 24.0) + self.stress_bpm)
        tau = np.where(target_hr > self.hr_bpm, 25.0, 45.0)
        self.hr_bpm += (target_hr - self.hr_bpm) * (1 - np.exp(-1 / tau)) + rng.normal(0, 0.8, self.n)
        self.hr_bpm = np.clip(self.hr_bpm, 40, 200)
        self.stress_bpm *= np.exp(-1 / 90)
        self.effort_ema += (effort - self.effort_ema) / 300
        skin_target = 33.0 + 0.12 * (temp_c - 22.0) + 1.5 * self.effort_ema
        self.skin_temp_c += (skin_target - self.skin_temp_c) / 120 + rng.normal(0, 0.01, self.n)

        # Noise: an AR(1) wander around the activity's level, plus rare impulsive peaks (bins, horns).
        self.noise_dev_db = 0.85 * self.noise_dev_db + rng.normal(0, 1.6, self.n)
        truck_db = np.where(self.truck_speed_ms() > 0, 3.0, 0.0)
        laeq = LAEQ_MEAN_DB[self.team, act] + truck_db + self.noise_dev_db
        street = (self.team == 0) & (act != Activity.TOOL)
        laeq = np.where(street, np.clip(laeq, 65, 90), np.clip(laeq, 45, 105))
        peak_event = (rng.random(self.n) < 0.004) & (self.team == 0)
        self.laeq_db = laeq + 2.0 * peak_event
        crest = 13.0 + np.abs(rng.normal(0, 4, self.n))
        self.lcpeak_db = np.where(peak_event, rng.uniform(112, 132, self.n), self.laeq_db + crest)
