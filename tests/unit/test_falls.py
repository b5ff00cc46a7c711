"""The fall and man-down detector on synthetic waist-IMU recordings (no dataset needed)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from services.falls import DEFAULT_FALL_PARAMS, FallDetector, FallEventKind, FallParams, trial_candidates
from tests.unit.test_falls_support import FALL_IMPACT_S, T0, Body, everyday, fall, feed, kinds, rotation

STAGES = [FallEventKind.IMPACT, FallEventKind.LYING, FallEventKind.INACTIVE, FallEventKind.FALL_SUSPECTED]
PARAMS_FILE = Path(__file__).resolve().parents[2] / "services" / "falls_params.json"


@pytest.mark.parametrize("rate_hz", [20, 50, 100, 200])
def test_a_fall_is_suspected_once_after_impact_lying_and_inactivity_in_order(rate_hz):
    events = feed(fall(rate_hz).acc_ms2(), rate_hz)

    assert kinds(events) == STAGES
    assert [e.ts for e in events] == sorted(e.ts for e in events)
    impact, _, _, suspected = events
    assert abs((impact.ts - T0).total_seconds() - FALL_IMPACT_S) <= 0.05
    assert impact.peak_acc_ms2 is not None and impact.peak_acc_ms2 > 4 * 9.81
    assert timedelta(seconds=2) <= suspected.ts - impact.ts <= timedelta(seconds=3)
    assert suspected.detail.startswith("score ")


@pytest.mark.parametrize("rate_hz", [20, 50, 200])
@pytest.mark.parametrize("kind", ["walking", "sitting down hard", "jumping", "jogging"])
def test_everyday_movements_raise_no_fall(kind, rate_hz):
    events = feed(everyday(kind, rate_hz).acc_ms2(), rate_hz)

    assert FallEventKind.FALL_SUSPECTED not in kinds(events)


@pytest.mark.parametrize("lead_s", [0.0, 0.02, 0.13, 0.37, 0.5, 0.81, 0.98])
def test_a_fall_split_across_frame_boundaries_is_detected_wherever_it_lands(lead_s):
    events = feed(fall(50, lead_s=lead_s).acc_ms2(), 50)

    assert kinds(events) == STAGES
    assert abs((events[0].ts - T0).total_seconds() - (lead_s + FALL_IMPACT_S)) <= 0.03


@pytest.mark.parametrize("seed", range(6))
def test_a_device_worn_another_way_up_still_detects_the_fall_and_nothing_else(seed):
    axis = tuple(np.random.default_rng(seed).normal(size=3))
    mount = rotation(axis, 40.0 + 25.0 * seed)

    assert kinds(feed(fall(50).acc_ms2(mount), 50)) == STAGES
    assert FallEventKind.FALL_SUSPECTED not in kinds(feed(everyday("jumping", 50).acc_ms2(mount), 50))


def test_the_same_result_whichever_device_axis_carries_gravity():
    upright_on_y = rotation((1.0, 0.0, 0.0), -90.0)  # gravity on -y at rest, as on the SisFall device
    assert kinds(feed(fall(100).acc_ms2(upright_on_y), 100)) == STAGES


def test_a_bouncing_fall_is_suspected_only_once():
    body = fall(50, after_s=20.0).pulse(FALL_IMPACT_S + 1.3, 0.1, 3.5).pulse(FALL_IMPACT_S + 4.0, 0.1, 2.5)
    events = feed(body.acc_ms2(), 50)

    assert kinds(events).count(FallEventKind.FALL_SUSPECTED) == 1


def test_a_second_fall_after_the_refractory_period_is_suspected_again():
    first, second = fall(50, after_s=35.0).acc_ms2(), fall(50).acc_ms2()
    events = feed(np.concatenate((first, second)), 50)

    assert kinds(events).count(FallEventKind.FALL_SUSPECTED) == 2


def test_no_motion_for_the_configured_time_without_an_impact_is_a_man_down():
    params = replace(DEFAULT_FALL_PARAMS, no_motion_s=20.0)
    body = Body(50, 60.0).walk(0.0, 10.0).tilt(10.0, 1.5, 80.0)  # walks, lies down slowly, stays still
    events = feed(body.acc_ms2(), 50, FallDetector(params))

    assert kinds(events) == [FallEventKind.NO_MOTION]
    still_from_s = (events[0].ts - T0).total_seconds() - 20.0
    assert 10.0 <= still_from_s <= 13.0


def test_no_motion_defaults_to_two_minutes_and_is_raised_once_per_still_period():
    still = Body(50, 200.0).acc_ms2()
    events = feed(still, 50)

    assert kinds(events) == [FallEventKind.NO_MOTION]
    assert events[0].ts == T0 + timedelta(seconds=120)


def test_moving_again_rearms_the_no_motion_alarm():
    params = replace(DEFAULT_FALL_PARAMS, no_motion_s=10.0)
    body = Body(50, 40.0).walk(15.0, 20.0)
    events = feed(body.acc_ms2(), 50, FallDetector(params))

    assert kinds(events) == [FallEventKind.NO_MOTION, FallEventKind.NO_MOTION]
    assert events[0].ts == T0 + timedelta(seconds=10)
    assert timedelta(seconds=30) <= events[1].ts - T0 <= timedelta(seconds=31)  # still again from about 20 s


def test_lying_still_after_a_suspected_fall_is_not_a_second_alarm():
    events = feed(fall(50, after_s=150.0).acc_ms2(), 50)

    assert kinds(events) == STAGES


def test_a_gap_in_the_frames_restarts_the_stream_without_losing_the_next_fall():
    detector = FallDetector()
    feed(everyday("walking", 50).acc_ms2(), 50, detector)
    events = feed(fall(50).acc_ms2(), 50, detector, start=T0 + timedelta(seconds=300))

    assert kinds(events) == STAGES


@pytest.mark.parametrize("rate_hz", [20, 50, 100])
def test_frame_timestamps_jittered_by_a_few_milliseconds_do_not_matter(rate_hz):
    acc, jitter_s = fall(rate_hz).acc_ms2(), np.random.default_rng(3).uniform(-0.005, 0.005, 20)
    detector, events = FallDetector(), []
    for k in range(0, len(acc), rate_hz):
        ts = T0 + timedelta(seconds=k / rate_hz + jitter_s[k // rate_hz])
        events += detector.update(ts, acc[k : k + rate_hz], None, rate_hz)

    assert kinds(events) == STAGES


@pytest.mark.parametrize("lost", [9, 10])
def test_a_frame_lost_after_the_impact_is_bridged_and_the_fall_still_suspected(lost):
    acc, detector, events = fall(50).acc_ms2(), FallDetector(), []
    for k in range(0, len(acc), 50):
        if k // 50 != lost:
            events += detector.update(T0 + timedelta(seconds=k / 50), acc[k : k + 50], None, 50)

    assert FallEventKind.FALL_SUSPECTED in kinds(events)


def test_a_repeated_frame_is_ignored():
    acc = fall(50).acc_ms2()
    detector = FallDetector()
    feed(acc[:300], 50, detector)
    assert detector.update(T0 + timedelta(seconds=2), acc[100:150], None, 50) == []
    events = feed(acc[300:], 50, detector, start=T0 + timedelta(seconds=6))

    assert kinds(events) == STAGES


def test_the_streaming_detector_judges_what_the_offline_measure_sees():
    candidates = trial_candidates(fall(50).acc_ms2(), 50)
    at_impact = [m for t, m in candidates if abs(t - FALL_IMPACT_S) < 0.05]

    assert len(at_impact) == 1
    assert at_impact[0].tilt_deg > 80
    assert at_impact[0].peak_g > 5


def test_an_acceleration_that_is_not_three_axes_is_refused():
    with pytest.raises(ValueError, match=r"\(n, 3\)"):
        FallDetector().update(T0, np.zeros((50, 2)), None, 50)


def test_the_shipped_parameter_file_holds_the_defaults():
    document = json.loads(PARAMS_FILE.read_text())

    assert FallParams.from_dict(document) == DEFAULT_FALL_PARAMS
    assert document["fitted"]["method"]
    assert FallParams.from_dict(DEFAULT_FALL_PARAMS.to_dict()) == DEFAULT_FALL_PARAMS


def test_a_scorecard_with_a_missing_table_is_refused():
    with pytest.raises(ValueError, match="one table per feature"):
        replace(DEFAULT_FALL_PARAMS, scorecard_edges=((1.0,), (2.0,)))
