from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from services.separation import (
    GRAVITY_MS2,
    BladeGuard,
    BladeGuardParams,
    SafetyState,
    SeparationParams,
    SpeedSupervisor,
    allowed_speed_ms,
    nearest_other_m,
    protective_distance_m,
    tilt_deg,
)

# T_r 0.1 s, T_s 0.3 s, C 0.2 m, Z_d 0.1 m, Z_r 0.05 m, v_h 1.6 m/s
PARAMS = SeparationParams()
STOPPED_SP_M = 0.99  # 1.6·(0.1 + 0.3) + 0.2 + 0.1 + 0.05


def supervisor(**kwargs: float) -> SpeedSupervisor:
    return SpeedSupervisor(PARAMS, v_max_ms=1.7, resume_margin_m=0.3, resume_hold_s=1.0, **kwargs)


def test_protective_distance_matches_hand_computed_values():
    assert protective_distance_m(0.0, PARAMS) == pytest.approx(STOPPED_SP_M)
    # + v·T_r (0.1) + v·T_s/2 (0.15) at 1 m/s
    assert protective_distance_m(1.0, PARAMS) == pytest.approx(1.24)
    assert protective_distance_m(-1.0, PARAMS) == pytest.approx(1.24)
    # 1.6·(0.05 + 0.5) + 1.2·0.05 + 1.2·0.5/2 + 0.5 + 0 + 0 = 0.88 + 0.06 + 0.3 + 0.5
    other = SeparationParams(reaction_time_s=0.05, stopping_time_s=0.5, intrusion_distance_m=0.5,
                             position_uncertainty_human_m=0.0, position_uncertainty_robot_m=0.0)  # fmt: skip
    assert protective_distance_m(1.2, other) == pytest.approx(1.74)


def test_allowed_speed_inverts_the_protective_distance():
    assert allowed_speed_ms(1.24, PARAMS, v_max_ms=1.7) == pytest.approx(1.0)
    assert allowed_speed_ms(1.115, PARAMS, v_max_ms=1.7) == pytest.approx(0.5)
    assert allowed_speed_ms(100.0, PARAMS, v_max_ms=1.7) == 1.7
    for speed_ms in (0.1, 0.7, 1.3):
        assert allowed_speed_ms(protective_distance_m(speed_ms, PARAMS), PARAMS, 1.7) == pytest.approx(speed_ms)


def test_a_stopped_robot_too_close_is_allowed_no_speed():
    assert allowed_speed_ms(STOPPED_SP_M, PARAMS, 1.7) == 0.0
    assert allowed_speed_ms(0.3, PARAMS, 1.7) == 0.0
    assert allowed_speed_ms(math.nan, PARAMS, 1.7) == 0.0


def test_further_is_never_slower():
    distances_m = np.linspace(0.0, 6.0, 601)
    speeds_ms = [allowed_speed_ms(float(d), PARAMS, 1.7) for d in distances_m]
    assert all(b >= a for a, b in itertools.pairwise(speeds_ms))
    for d, v in zip(distances_m, speeds_ms, strict=True):
        assert protective_distance_m(v, PARAMS) <= d + 1e-9 or v == 0.0


def test_invalid_params_are_refused():
    with pytest.raises(ValueError, match="stopping_time_s"):
        SeparationParams(stopping_time_s=-0.1)


def test_robot_slows_as_the_worker_approaches_and_stops_before_protective_distance():
    sup = supervisor()
    previous_scale = 1.0
    for i, d in enumerate(np.linspace(6.0, 0.3, 58)):
        decision = sup.update(float(d), 1.0, now_s=i * 0.1)
        assert decision.scale <= previous_scale
        assert protective_distance_m(decision.scale * 1.0, PARAMS) <= d or decision.scale == 0.0
        if d <= STOPPED_SP_M:
            assert decision.state is SafetyState.PROTECTIVE_STOP
            assert decision.scale == 0.0
        previous_scale = decision.scale
    assert sup.update(1.115, 1.0, now_s=0.0).scale == 0.0  # still stopped


def test_slow_scale_is_allowed_over_requested():
    decision = supervisor().update(1.115, 1.0, now_s=0.0)
    assert decision.state is SafetyState.SLOW
    assert decision.scale == pytest.approx(0.5)
    assert supervisor().update(None, 1.0, now_s=0.0).state is SafetyState.NORMAL
    assert supervisor().update(None, 3.4, now_s=0.0).scale == pytest.approx(0.5)  # capped at v_max
    assert supervisor().update(1.0, 0.0, now_s=0.0).state is SafetyState.NORMAL


def test_oscillating_distance_near_protective_distance_stops_once_without_flicker():
    sup = supervisor()
    states = [sup.update(STOPPED_SP_M + (0.05 if i % 2 else -0.05), 1.0, now_s=i * 0.1).state for i in range(100)]
    assert states.count(SafetyState.PROTECTIVE_STOP) == 100


def test_resumes_only_after_clearance_held_for_hold_time():
    sup = supervisor()
    assert sup.update(0.5, 1.0, now_s=0.0).state is SafetyState.PROTECTIVE_STOP
    clear_m = STOPPED_SP_M + 0.3 + 0.01
    assert sup.update(clear_m, 1.0, now_s=1.0).state is SafetyState.PROTECTIVE_STOP  # clearance starts
    assert sup.update(clear_m, 1.0, now_s=1.9).state is SafetyState.PROTECTIVE_STOP
    assert sup.update(STOPPED_SP_M + 0.2, 1.0, now_s=1.95).state is SafetyState.PROTECTIVE_STOP  # restarts
    assert sup.update(clear_m, 1.0, now_s=2.0).state is SafetyState.PROTECTIVE_STOP
    assert sup.update(clear_m, 1.0, now_s=2.99).state is SafetyState.PROTECTIVE_STOP
    resumed = sup.update(clear_m, 1.0, now_s=3.0)
    assert resumed.state is SafetyState.NORMAL  # 1.30 m > S_p(1 m/s) = 1.24 m
    assert resumed.scale == 1.0


def test_nobody_in_sight_counts_as_clear_for_resume():
    sup = supervisor()
    sup.update(0.5, 1.0, now_s=0.0)
    assert sup.update(None, 1.0, now_s=0.1).scale == 0.0
    assert sup.update(None, 1.0, now_s=1.1).state is SafetyState.NORMAL


def test_silent_sensors_stop_and_then_need_the_hold_time():
    sup = supervisor()
    decision = sup.update(None, 1.0, now_s=0.0, sensors_ok=False)
    assert decision.state is SafetyState.PROTECTIVE_STOP
    assert decision.reason == "sensors silent"
    assert sup.update(None, 1.0, now_s=0.5).scale == 0.0
    assert sup.update(None, 1.0, now_s=1.5).scale == 1.0


def test_estop_latches_until_reset_with_button_released():
    sup = supervisor()
    sup.estop(True)
    assert sup.update(None, 1.0, now_s=0.0).state is SafetyState.ESTOP
    assert sup.reset_estop() is False  # still pressed
    sup.estop(False)
    assert sup.update(None, 1.0, now_s=1.0).state is SafetyState.ESTOP  # releasing alone does not unlatch
    assert sup.update(None, 1.0, now_s=100.0).scale == 0.0
    assert sup.reset_estop() is True
    assert not sup.estop_latched
    assert sup.update(None, 1.0, now_s=100.0).state is SafetyState.PROTECTIVE_STOP  # waits out the hold
    assert sup.update(None, 1.0, now_s=101.0).state is SafetyState.NORMAL


def tilted(angle_deg: float) -> tuple[float, float, float]:
    """Specific force at rest with the robot pitched by `angle_deg`."""
    a = math.radians(angle_deg)
    return (GRAVITY_MS2 * math.sin(a), 0.0, GRAVITY_MS2 * math.cos(a))


UPRIGHT = tilted(0.0)
LIFTED = (0.0, 0.0, 0.3 * GRAVITY_MS2)  # carried up and away: vertical specific force far below g


def cleared_guard(**kwargs: float | bool) -> BladeGuard:
    guard = BladeGuard(BladeGuardParams(**kwargs))  # type: ignore[arg-type]
    guard.update(UPRIGHT, 0.0)
    assert guard.update(UPRIGHT, 1.0).blade_allowed
    return guard


@pytest.mark.parametrize("angle_deg", [0.0, 10.0, 25.0, 40.0, 90.0, 180.0])
def test_tilt_is_the_angle_between_gravity_and_the_z_axis(angle_deg):
    assert tilt_deg(tilted(angle_deg)) == pytest.approx(angle_deg)
    a = math.radians(angle_deg)  # roll gives the same tilt as pitch, and the magnitude does not matter
    assert tilt_deg((0.0, -3 * math.sin(a), 3 * math.cos(a))) == pytest.approx(angle_deg)


def test_tilt_of_free_fall_or_invalid_sample_is_nan():
    assert math.isnan(tilt_deg((0.0, 0.0, 0.0)))
    assert math.isnan(tilt_deg((math.nan, 0.0, 9.8)))


def test_blade_is_held_off_until_the_first_upright_samples_have_held():
    guard = BladeGuard()
    assert guard.update(UPRIGHT, 0.0) == (False, True, "holding before resume (no IMU sample yet)")
    assert guard.update(UPRIGHT, 0.99).stop
    assert guard.update(UPRIGHT, 1.0) == (True, False, "upright")


def test_tilt_past_the_stop_angle_stops_at_once():
    guard = cleared_guard()
    assert guard.update(tilted(24.0), 2.0).blade_allowed
    blade_allowed, stop, reason = guard.update(tilted(26.0), 2.01)
    assert (blade_allowed, stop) == (False, True) and "tilt 26" in reason


def test_tilt_clears_only_below_the_hysteresis_angle_for_the_hold_time():
    guard = cleared_guard()
    guard.update(tilted(40.0), 2.0)
    for i in range(20):  # hovering between 20 and 25 deg: stays stopped
        assert guard.update(tilted(22.0), 2.1 + i * 0.1).stop
    assert guard.update(tilted(19.0), 5.0).stop
    assert guard.update(tilted(19.0), 5.99).stop
    assert guard.update(tilted(19.0), 6.0).blade_allowed


def test_a_bump_shorter_than_the_lift_time_does_not_stop():
    guard = cleared_guard()
    assert not guard.update(LIFTED, 2.0).stop
    assert not guard.update(LIFTED, 2.19).stop  # under 0.2 s: a bump, not a lift
    assert not guard.update(UPRIGHT, 2.25).stop


def test_a_lift_longer_than_the_lift_time_stops_and_clears_after_the_hold():
    guard = cleared_guard()
    guard.update(LIFTED, 2.0)
    blade_allowed, stop, reason = guard.update(LIFTED, 2.25)
    assert (blade_allowed, stop) == (False, True) and reason.startswith("lifted")
    assert guard.update(UPRIGHT, 3.0).stop
    assert guard.update(LIFTED, 3.5).stop  # put down and picked up again: hold restarts
    assert guard.update(UPRIGHT, 3.6).stop
    assert guard.update(UPRIGHT, 4.59).stop
    assert guard.update(UPRIGHT, 4.61).blade_allowed


def test_disabled_flags_ignore_tilt_or_lift():
    no_tilt = cleared_guard(stop_on_tilt=False)
    assert not no_tilt.update(tilted(40.0), 2.0).stop
    no_lift = cleared_guard(stop_on_lift=False)
    no_lift.update(LIFTED, 2.0)
    assert not no_lift.update(LIFTED, 3.0).stop


def test_free_fall_stops_the_blade():
    guard = cleared_guard(stop_on_tilt=False, stop_on_lift=False)
    assert guard.update((0.0, 0.0, 0.0), 2.0).stop


@pytest.mark.parametrize("kwargs", [{"tilt_stop_deg": 0.0}, {"tilt_clear_margin_deg": 30.0}, {"lift_min_s": -1.0},
                                    {"clear_hold_s": math.inf}])  # fmt: skip
def test_invalid_blade_guard_params_are_refused(kwargs):
    with pytest.raises(ValueError):
        BladeGuardParams(**kwargs)


LEADER_M = (1.2, 0.0)  # the collector the follower walks behind, 1.2 m ahead (robot frame)


def test_leader_alone_leaves_nobody_else():
    assert nearest_other_m([LEADER_M], LEADER_M) is None
    assert nearest_other_m([], LEADER_M) is None


def test_leader_plus_another_person_gives_the_other_persons_distance():
    # The detector's point for the leader is 0.1 m off the tracker's; the co-worker is 3 m to the right.
    assert nearest_other_m([(1.25, 0.1), (0.0, -3.0)], LEADER_M) == pytest.approx(3.0)


def test_another_person_nearer_than_the_leader_is_reported():
    assert nearest_other_m([LEADER_M, (0.6, 0.8)], LEADER_M) == pytest.approx(1.0)


def test_scan_returns_on_the_leaders_legs_are_the_leader():
    legs = [(1.0, 0.15), (1.45, -0.2), (1.2, 0.55)]  # mid-stride, both legs and a swinging arm
    assert nearest_other_m([LEADER_M], LEADER_M, scan_xy=legs) is None


def test_a_scan_return_outside_the_association_radius_counts():
    far_return = (1.2, 0.7)  # 0.7 m beside the leader: someone (or something) else
    nearest_m = nearest_other_m([LEADER_M], LEADER_M, scan_xy=[(1.0, 0.15), far_return])
    assert nearest_m == pytest.approx(math.hypot(*far_return))


def test_the_association_radius_is_a_parameter_and_its_boundary_is_the_leader():
    beside_m = (1.2, 0.5)
    assert nearest_other_m([beside_m], LEADER_M) is None  # within the default 0.6 m
    assert nearest_other_m([beside_m], LEADER_M, association_radius_m=0.3) == pytest.approx(math.hypot(*beside_m))
    assert nearest_other_m([(1.2, 0.5)], LEADER_M, association_radius_m=0.5) is None  # boundary included


def test_non_finite_points_are_ignored_and_bad_inputs_refused():
    assert nearest_other_m([(math.nan, 1.0), (math.inf, 0.0)], LEADER_M) is None
    with pytest.raises(ValueError, match="association_radius_m"):
        nearest_other_m([], LEADER_M, association_radius_m=-0.1)
    with pytest.raises(ValueError, match="leader_xy"):
        nearest_other_m([], (math.nan, 0.0))
