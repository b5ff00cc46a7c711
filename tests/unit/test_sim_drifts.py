"""Drifts injected into the frame-level crew simulator: parsed, resolved, ramped, and really in the frames."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import pytest

from services.signals.model import SubjectKind
from services.signals.physiology import HeartMinute, heart_day
from services.signals.robot_onsets import count_onsets, person_flags
from simulations.agents import BREAK_FIRST_S, CrewModel, on_break
from simulations.drift_model import DriftSpec, daily_form_sd, parse_drift, resolve
from simulations.drifts import NEAR_MISS_FACTOR, RAMP_DAYS, SD_DRIFT_SIZE
from simulations.robots import RobotSimulator
from simulations.roster import Team, make_roster
from simulations.timebase import SITE_TZ, Shifts, SimDay

SEED = 3
ROSTER = make_roster(16, 3, SEED)  # crew-01 collectors (0-7), crew-02 gardeners (8-15); robot-01 follows agent 0
DAY0 = date(2026, 6, 15)  # a Monday


def _day(index: int, hour: int = 12, minute: int = 30) -> SimDay:
    local = DAY0 + timedelta(days=index)
    return SimDay(index, local, datetime.combine(local, time(hour, minute), SITE_TZ).astimezone(UTC))


def test_a_drift_is_kind_subject_day_and_optional_size():
    assert parse_drift("hr_recovery_slowing:agent-0003@-16") == DriftSpec("hr_recovery_slowing", "agent-0003", -16)
    assert parse_drift("heat_strain_recurring:crew-02@2026-06-01:12") == DriftSpec(
        "heat_strain_recurring", "crew-02", date(2026, 6, 1), 12.0)
    assert parse_drift("robot_near_misses:robot-01@3:2.5").size == 2.5
    for bad in ("hr_recovery_slowing:3", "nonsense:3@1", "resting_hr_drift:3@x", "resting_hr_drift:3@1:-2"):
        with pytest.raises(ValueError):
            parse_drift(bad)


def test_default_sizes_are_the_benchmarks_and_subjects_resolve_to_the_roster():
    specs = ["resting_hr_drift:agent-0004@-10", "heat_strain_recurring:crew-02@-3", "robot_near_misses:robot-01@0"]
    drifts = resolve(ROSTER, [parse_drift(s) for s in specs], seed=SEED, day0=DAY0)
    rest, hot, robot = drifts.items
    assert rest.index == 3 and rest.start == DAY0 - timedelta(days=10)
    assert rest.size == pytest.approx(SD_DRIFT_SIZE * daily_form_sd(16, SEED)["resting_hr_drift"][3])
    assert (hot.subject_kind, hot.index, hot.size) == (SubjectKind.CREW, 1, 10.0)
    assert (robot.subject_kind, robot.size) == (SubjectKind.ROBOT, NEAR_MISS_FACTOR - 1)
    truth = drifts.injected(ROSTER)
    assert [(t.kind, t.subject_id) for t in truth] == [("resting_hr_drift", "agent-0004"),
                                                       ("heat_strain_recurring", "crew-02"),
                                                       ("robot_near_misses", "robot-01")]  # fmt: skip
    assert ("heat_strain_recurring", SubjectKind.SITE, "paris") in truth[1].also
    with pytest.raises(KeyError, match="exoskeleton"):
        resolve(make_roster(16, 4, SEED), [parse_drift("robot_near_misses:robot-04@0")], seed=SEED, day0=DAY0)
    with pytest.raises(KeyError):
        resolve(ROSTER, [parse_drift("heat_strain_recurring:crew-09@0")], seed=SEED, day0=DAY0)


def test_a_drift_ramps_up_over_a_week_from_its_day_and_not_before():
    drifts = resolve(ROSTER, [parse_drift("working_hr_drift:5@-3:7")], seed=SEED, day0=DAY0)
    levels = [float(drifts.agent_levels("working_hr_drift", i)[5]) for i in range(-5, 8)]
    assert levels[:2] == [0.0, 0.0]
    assert levels[2] == pytest.approx(7 / RAMP_DAYS) and levels[2 + RAMP_DAYS - 1:] == [7.0] * (13 - 2 - RAMP_DAYS + 1)
    assert np.count_nonzero(drifts.agent_levels("working_hr_drift", 10)) == 1


def _recoveries(drifts: list[str], seconds: int = 3600) -> list[float]:
    """Each collector's 2-min recovery after lifting bursts over an hour, as the gateway computes it."""
    m = CrewModel(ROSTER, SEED, [_day(-1)], drifts=resolve(ROSTER, [parse_drift(d) for d in drifts], seed=SEED,
                                                           day0=DAY0))  # fmt: skip
    hr, lifts = np.zeros((m.n, seconds // 60)), np.zeros((m.n, seconds // 60))
    for t in range(seconds):
        m.advance_to(t)
        hr[:, t // 60] += m.hr_bpm / 60
        lifts[:, t // 60] += m.lift_count
    start = _day(-1).start
    out = []
    for k in range(8):
        minutes = [HeartMinute(start + timedelta(minutes=j), float(hr[k, j]), True, int(lifts[k, j]))
                   for j in range(hr.shape[1])]  # fmt: skip
        recovery = heart_day(minutes).hr_recovery_bpm
        assert recovery is not None
        out.append(recovery)
    return out


def test_a_slowed_recovery_lowers_the_drop_after_bursts_by_about_its_size_once_full_and_not_before_its_day():
    size = 8.0
    assert all(ROSTER.agents[k].team is Team.COLLECTORS for k in range(8))
    base = _recoveries([])
    assert _recoveries([f"hr_recovery_slowing:{k}@5:{size}" for k in range(8)]) == base  # not before its day
    full = _recoveries([f"hr_recovery_slowing:{k}@-30:{size}" for k in range(8)])
    drops = [b - f for b, f in zip(base, full, strict=True)]
    assert 0.6 * size < float(np.mean(drops)) < 1.4 * size
    assert min(drops) > 0.3 * size


def test_a_drift_on_one_agent_leaves_the_others_frames_alone():
    base = CrewModel(ROSTER, SEED, [_day(-1)])
    drifted = CrewModel(ROSTER, SEED, [_day(-1)], drifts=resolve(
        ROSTER, [parse_drift("resting_hr_drift:2@-30:6")], seed=SEED, day0=DAY0))
    base.advance_to(600)
    drifted.advance_to(600)
    others = np.arange(16) != 2
    assert np.array_equal(base.hr_bpm[others], drifted.hr_bpm[others])
    assert drifted.hr_bpm[2] > base.hr_bpm[2] + 3.0


def test_a_hot_round_heats_that_crews_afternoon_and_raises_its_heart_rate():
    drifts = resolve(ROSTER, [parse_drift("heat_strain_recurring:crew-02@-30:10")], seed=SEED, day0=DAY0)
    morning, afternoon = _day(-1, 9, 0), _day(-1, 14, 30)
    cool = CrewModel(ROSTER, SEED, [morning], drifts=drifts)
    assert not cool.hot_excess_c(0).any()
    hot = CrewModel(ROSTER, SEED, [afternoon], drifts=drifts)
    plain = CrewModel(ROSTER, SEED, [afternoon])
    excess = hot.hot_excess_c(0)
    assert np.allclose(excess[8:], 10.0) and not excess[:8].any()
    assert np.allclose(hot.air_temp_c(0) - plain.air_temp_c(0), excess)
    hot.advance_to(1800)
    plain.advance_to(1800)
    assert np.array_equal(hot.hr_bpm[:8], plain.hr_bpm[:8])
    assert float(np.mean(hot.hr_bpm[8:] - plain.hr_bpm[8:])) > 15.0


def _near_misses(drift: str | None, seconds: int = 1200) -> int:
    """Onsets of protective stops and slow-downs of robot-01 (a follower), as the gateway counts them."""
    drifts = resolve(ROSTER, [parse_drift(drift)] if drift else [], seed=SEED, day0=DAY0)
    sim = RobotSimulator(ROSTER, seed=SEED, start=_day(-1).start, rate_hz=2.0, drifts=drifts, day_index=-1)
    assert sim.specs[0].robot_id == "robot-01"
    states = []
    for k in range(2 * seconds):
        sim.tick_to(k)
        near, other = float(sim.nearest_human_m[0]), float(sim.nearest_other_human_m[0])
        # The slow-down zone: twice the follower's 0.5 m separation distance (robot_onsets.slowdown_zone_m); its
        # slow-downs are for people other than the collector it follows.
        flags = person_flags(bool(sim.protective_stop[0]), None if np.isnan(near) else near, 1.0,
                             tracks_leader=True, nearest_other_human_m=None if np.isnan(other) else other)  # fmt: skip
        states.append((sim.start + timedelta(seconds=k / 2), flags))
    onsets = count_onsets(states)
    return onsets.protective_stops + onsets.slowdowns


def test_a_robots_near_misses_double_once_the_drift_is_full():
    natural = _near_misses(None)
    assert natural > 40
    assert _near_misses("robot_near_misses:robot-01@5") == natural
    assert 1.6 < _near_misses("robot_near_misses:robot-01@-30") / natural < 2.4


def test_shifts_skip_nights_and_weekends_and_start_at_the_local_hour():
    shifts = Shifts(start_local=time(7, 0), hours=2.5)
    days = shifts.days(DAY0, -7, -1)  # Monday 8 to Sunday 14 June
    assert [d.date.weekday() for d in days] == [0, 1, 2, 3, 4]
    assert days[0].index == -7 and days[0].start == datetime(2026, 6, 8, 5, 0, tzinfo=UTC)  # 07:00 CEST
    assert shifts.day(date(2026, 1, 5), 0).start.hour == 6  # 07:00 CET in winter
    now = datetime(2026, 6, 17, 8, 0, tzinfo=UTC)  # Wednesday 10:00 local: today's shift ended at 09:30
    last = shifts.last_days(3, now)
    assert [d.date for d in last] == [date(2026, 6, 15), date(2026, 6, 16), date(2026, 6, 17)]
    assert [d.index for d in last] == [0, 1, 2] and shifts.duration_s == 9000
    assert not on_break(BREAK_FIRST_S - 1) and on_break(BREAK_FIRST_S) and not on_break(BREAK_FIRST_S + 900)
