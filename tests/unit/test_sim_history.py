"""The simulated history: weeks of the same crew, summed as the ingest would, and what the weak signals make of it.

The detection is the real one (``services.signals.detect``) on the records the gateway would read: the drifted
agent and robot are flagged, and nobody else is (other than the signals the same change legitimately moves).
"""

from __future__ import annotations

from datetime import date, time, timedelta

import numpy as np
import pytest

from services.signals.detect import detect
from services.signals.params import SignalParams
from simulations.drift_model import parse_drift, resolve
from simulations.history import History, generate
from simulations.roster import make_roster
from simulations.timebase import Shifts

SEED = 7
ROSTER = make_roster(8, 1, SEED)  # crew-01, collectors, and robot-01, a follower
DAY0 = date(2026, 6, 15)
HISTORY_DAYS = 66  # 46 worked days: 30 of baseline before the drifts, 14 after them
SHIFTS = Shifts(start_local=time(8, 0), hours=1.75)  # a break at 1:30, the calm of the resting heart rate
DRIFTS = ["hr_recovery_slowing:agent-0003@-20:10", "resting_hr_drift:agent-0006@-20", "robot_near_misses:robot-01@-20"]
PARAMS = SignalParams(min_worked_s=1.5 * 3600)  # the shifts are shorter than the usual 2 h, to keep the test quick


@pytest.fixture(scope="module")
def history() -> History:
    drifts = resolve(ROSTER, [parse_drift(d) for d in DRIFTS], seed=SEED, day0=DAY0)
    days = SHIFTS.days(DAY0, -HISTORY_DAYS, -1)
    return generate(ROSTER, seed=SEED, days=days, shift_s=SHIFTS.duration_s, drifts=drifts)


def test_every_worked_day_of_every_agent_is_summed_minute_by_minute(history: History):
    assert len(history.days) == 46 and all(d.date.weekday() < 5 for d in history.days)
    assert len(history.agents) == 8 * 46
    day = history.agents[0]
    assert day.total("worked_s") == SHIFTS.duration_s and day.total("hr_n") == SHIFTS.duration_s
    assert day.minute_at(0) == history.days[0].start and day.minute_at(0).second == 0
    hr = day.minutes["hr_sum_bpm"] / day.minutes["hr_n"]
    assert hr.min() > 50 and hr.max() < 190
    assert np.mean([a.total("lifts") for a in history.agents]) > 100


def test_robot_states_keep_each_shifts_ends_and_every_change_the_signals_count(history: History):
    follower = [s for s in history.robot_states if s.robot_id == "robot-01"]
    first_day = [s for s in follower if s.ts.date() == history.days[0].date]
    assert first_day[0].ts == history.days[0].start
    assert first_day[-1].ts == history.days[0].start + timedelta(seconds=SHIFTS.duration_s - 0.5)
    assert any(s.protective_stop and s.nearest_human_m is not None and s.nearest_human_m < 0.5 for s in first_day)
    assert len(first_day) < 0.2 * 2 * SHIFTS.duration_s  # only the changes, not every state


def test_the_drifted_subjects_are_flagged_and_nobody_else(history: History):
    agent_days, robot_days, heat = history.signal_inputs(ROSTER)
    found = detect(agent_days, robot_days, heat, params=PARAMS, until=DAY0 - timedelta(days=1))
    flagged = {(s.kind, s.subject_kind.value, s.subject_id) for s in found if s.flagged}
    truth = {(d.kind, d.subject_kind.value, d.subject_id) for d in history.drifts}
    also = {(k, kind.value, subject) for d in history.drifts for k, kind, subject in d.also}
    assert truth <= flagged, truth - flagged
    assert flagged <= truth | also, flagged - truth - also
    recovery = next(s for s in found if s.kind == "hr_recovery_slowing" and s.subject_id == "agent-0003")
    assert recovery.first_flagged is not None and recovery.first_flagged >= DAY0 - timedelta(days=20)
    assert recovery.baseline - recovery.recent > 5.0
