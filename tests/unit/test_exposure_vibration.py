import math
from dataclasses import astuple

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.exposure.vibration import (
    HavDose,
    WbvDose,
    accumulate_hav,
    accumulate_wbv,
    hav_a8_ms2,
    hav_points,
    judge_hav,
    judge_wbv,
    time_to_reach_a8,
    wbv_a8_axes_ms2,
    wbv_a8_ms2,
)

H = 3600.0

ahv = st.floats(min_value=0.0, max_value=30.0)
aw = st.floats(min_value=0.0, max_value=3.0)
durations_s = st.floats(min_value=0.5, max_value=4 * H)
hav_records = st.lists(st.tuples(ahv, durations_s), min_size=1, max_size=40)
wbv_records = st.lists(st.tuples(st.tuples(aw, aw, aw), durations_s), min_size=1, max_size=40)


def _fold_hav(recs: list[tuple[float, float]]) -> HavDose:
    dose = HavDose()
    for a, t in recs:
        dose = dose.add(a, t)
    return dose


def _fold_wbv(recs: list[tuple[tuple[float, float, float], float]]) -> WbvDose:
    dose = WbvDose()
    for a, t in recs:
        dose = dose.add(a, t)
    return dose


def _close(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return all(math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12) for x, y in zip(a, b, strict=True))


def test_a_5_ms2_tool_for_2_hours_is_an_a8_of_2_5_and_100_points():
    dose = HavDose().add(5.0, 2 * H)
    assert hav_a8_ms2(dose) == pytest.approx(5.0 * math.sqrt(2 / 8))
    assert hav_a8_ms2(dose) == pytest.approx(2.5)
    assert hav_points(dose) == pytest.approx(100.0)


def test_2_5_ms2_for_8_hours_is_100_points_and_5_ms2_for_8_hours_is_400():
    assert hav_points(HavDose().add(2.5, 8 * H)) == pytest.approx(100.0)
    assert hav_points(HavDose().add(5.0, 8 * H)) == pytest.approx(400.0)


def test_several_tools_combine_as_root_sum_of_squares():
    dose = HavDose().add(4.0, 3 * H).add(6.0, 1 * H)
    assert hav_a8_ms2(dose) == pytest.approx(math.sqrt((4.0**2 * 3 + 6.0**2 * 1) / 8))


def test_points_are_100_times_the_square_of_a8_over_the_action_value():
    dose = HavDose().add(7.3, 1.7 * H)
    assert hav_points(dose) == pytest.approx(100 * (hav_a8_ms2(dose) / 2.5) ** 2)


def test_hav_action_is_reached_at_2_5_and_limit_exceeded_above_5():
    at_action = judge_hav(HavDose().add(2.5, 8 * H))
    assert at_action.action_reached and not at_action.limit_exceeded
    assert not judge_hav(HavDose().add(5.0, 8 * H)).limit_exceeded
    assert judge_hav(HavDose().add(5.1, 8 * H)).limit_exceeded


def test_time_left_before_the_hav_limit_at_the_current_tool():
    dose = HavDose().add(5.0, 2 * H)
    assert time_to_reach_a8(dose, 5.0) == pytest.approx(6 * H)
    assert time_to_reach_a8(dose, 10.0, target_ms2=2.5) == 0.0
    assert time_to_reach_a8(dose, 0.0) is None


def test_projected_trigger_time_brings_a8_exactly_to_the_target():
    dose = HavDose().add(3.0, 1 * H)
    t = time_to_reach_a8(dose, 8.0, target_ms2=2.5)
    assert t is not None
    assert hav_a8_ms2(dose.add(8.0, t)) == pytest.approx(2.5)


def test_hav_frames_accumulate_like_records_and_skip_missing_values():
    dose = accumulate_hav([5.0, np.nan, 3.0], [1.0, 1.0, 2.0])
    assert _close((dose.sum_a2t_m2s3, dose.seconds), (25.0 + 18.0, 3.0))
    with pytest.raises(ValueError):
        HavDose().add(-1.0, 1.0)


def test_wbv_horizontal_axes_are_weighted_1_4():
    dose = WbvDose().add((0.5, 0.0, 0.6), 8 * H)
    assert wbv_a8_axes_ms2(dose) == pytest.approx((1.4 * 0.5, 0.0, 0.6))
    assert wbv_a8_ms2(dose) == pytest.approx(0.7)


def test_wbv_a8_scales_each_axis_with_the_square_root_of_time():
    dose = WbvDose().add((0.0, 0.0, 0.8), 2 * H)
    assert wbv_a8_ms2(dose) == pytest.approx(0.8 * math.sqrt(2 / 8))


def test_wbv_action_and_limit_values():
    assert judge_wbv(WbvDose().add((0.0, 0.0, 0.5), 8 * H)).action_reached
    assert not judge_wbv(WbvDose().add((0.0, 0.0, 0.49), 8 * H)).action_reached
    assert not judge_wbv(WbvDose().add((0.0, 0.0, 1.15), 8 * H)).limit_exceeded
    assert judge_wbv(WbvDose().add((0.85, 0.0, 0.0), 8 * H)).limit_exceeded


def test_wbv_frames_accumulate_like_records_and_skip_rows_with_a_gap():
    frames = np.array([[0.1, 0.2, 0.3], [np.nan, 0.1, 0.1], [0.3, 0.2, 0.1]])
    dose = accumulate_wbv(frames, 1.0)
    expected = WbvDose().add((0.1, 0.2, 0.3), 1.0).add((0.3, 0.2, 0.1), 1.0)
    assert _close(
        (dose.sum_x_m2s3, dose.sum_y_m2s3, dose.sum_z_m2s3, dose.seconds),
        (expected.sum_x_m2s3, expected.sum_y_m2s3, expected.sum_z_m2s3, expected.seconds),
    )


@given(hav_records, st.randoms(use_true_random=False))
def test_hav_order_does_not_change_the_dose(recs, rnd):
    shuffled = list(recs)
    rnd.shuffle(shuffled)
    a, b = _fold_hav(recs), _fold_hav(shuffled)
    assert _close((a.sum_a2t_m2s3, a.seconds), (b.sum_a2t_m2s3, b.seconds))
    values, durations = zip(*recs, strict=True)
    v = accumulate_hav(values, durations)
    assert _close((v.sum_a2t_m2s3, v.seconds), (a.sum_a2t_m2s3, a.seconds))


@given(wbv_records, st.randoms(use_true_random=False))
def test_wbv_order_does_not_change_the_dose(recs, rnd):
    shuffled = list(recs)
    rnd.shuffle(shuffled)
    assert _close(wbv_a8_axes_ms2(_fold_wbv(recs)), wbv_a8_axes_ms2(_fold_wbv(shuffled)))
    values, durations = zip(*recs, strict=True)
    assert _close(wbv_a8_axes_ms2(accumulate_wbv(values, durations)), wbv_a8_axes_ms2(_fold_wbv(recs)))


@given(hav_records, hav_records, hav_records)
def test_hav_merge_is_commutative_and_associative(a, b, c):
    da, db, dc = _fold_hav(a), _fold_hav(b), _fold_hav(c)
    assert _close(astuple(da.merge(db)), astuple(db.merge(da)))
    assert _close(astuple(da.merge(db).merge(dc)), astuple(da.merge(db.merge(dc))))


@given(wbv_records, wbv_records, wbv_records)
def test_wbv_merge_is_commutative_and_associative(a, b, c):
    da, db, dc = _fold_wbv(a), _fold_wbv(b), _fold_wbv(c)
    assert _close(astuple(da.merge(db)), astuple(db.merge(da)))
    assert _close(astuple(da.merge(db).merge(dc)), astuple(da.merge(db.merge(dc))))


@given(hav_records, ahv, durations_s)
def test_more_hav_exposure_never_lowers_a8_or_points(recs, a, t):
    before, after = _fold_hav(recs), _fold_hav(recs).add(a, t)
    assert hav_a8_ms2(after) >= hav_a8_ms2(before)
    assert hav_points(after) >= hav_points(before)


@given(wbv_records, st.tuples(aw, aw, aw), durations_s)
def test_more_wbv_exposure_never_lowers_a8(recs, a, t):
    assert wbv_a8_ms2(_fold_wbv(recs).add(a, t)) >= wbv_a8_ms2(_fold_wbv(recs))


@given(hav_records, st.floats(min_value=0.01, max_value=100.0))
def test_scaling_trigger_time_by_k_scales_a8_by_root_k_and_points_by_k(recs, k):
    base, scaled = _fold_hav(recs), _fold_hav([(a, t * k) for a, t in recs])
    assert hav_a8_ms2(scaled) == pytest.approx(hav_a8_ms2(base) * math.sqrt(k), rel=1e-9, abs=1e-12)
    assert hav_points(scaled) == pytest.approx(hav_points(base) * k, rel=1e-9, abs=1e-12)
