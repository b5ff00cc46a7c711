import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.exposure.noise import (
    NoiseDose,
    NoiseThreshold,
    accumulate,
    at_ear_db,
    dose_pct,
    judge_noise,
    laeq_measured_db,
    lex_8h_db,
    time_to_reach,
)

H = 3600.0

levels_db = st.floats(min_value=30.0, max_value=140.0)
durations_s = st.floats(min_value=0.5, max_value=4 * H)
records = st.lists(st.tuples(levels_db, durations_s, st.none() | levels_db), min_size=1, max_size=40)


def _fold(recs: list[tuple[float, float, float | None]]) -> NoiseDose:
    dose = NoiseDose()
    for laeq, duration, peak in recs:
        dose = dose.add(laeq, duration, peak)
    return dose


def _same(a: NoiseDose, b: NoiseDose) -> bool:
    return (
        math.isclose(a.sum_t_10pow, b.sum_t_10pow, rel_tol=1e-9)
        and math.isclose(a.seconds, b.seconds, rel_tol=1e-9)
        and a.lcpeak_max_db == b.lcpeak_max_db
        and a.peaks_over_135 == b.peaks_over_135
    )


def test_four_hours_at_90_and_four_at_80_give_87_4_dba():
    dose = NoiseDose().add(90.0, 4 * H).add(80.0, 4 * H)
    expected = 10 * math.log10((4 * H * 10**9.0 + 4 * H * 10**8.0) / (8 * H))
    assert lex_8h_db(dose) == pytest.approx(expected)
    assert lex_8h_db(dose) == pytest.approx(87.4, abs=0.05)


def test_eight_hours_at_85_is_a_100_pct_dose():
    lex = lex_8h_db(NoiseDose().add(85.0, 8 * H))
    assert lex == pytest.approx(85.0)
    assert dose_pct(85.0) == pytest.approx(100.0)


def test_three_more_decibels_double_the_dose():
    assert dose_pct(88.0) == pytest.approx(100 * 10**0.3)
    assert dose_pct(80.0, criterion_db=80.0) == pytest.approx(100.0)


def test_two_hours_at_91_is_an_8_hour_exposure_of_85():
    assert lex_8h_db(NoiseDose().add(91.0, 2 * H)) == pytest.approx(91.0 + 10 * math.log10(2 / 8))


def test_laeq_over_the_measured_seconds_ignores_the_reference_duration():
    assert laeq_measured_db(NoiseDose().add(91.0, 2 * H)) == pytest.approx(91.0)


def test_a_day_without_noise_measurements_has_no_lex():
    assert lex_8h_db(NoiseDose()) is None
    assert laeq_measured_db(NoiseDose()) is None


def test_one_second_frames_accumulate_like_one_record():
    levels = np.full(3600, 88.0)
    assert _same(accumulate(levels), NoiseDose().add(88.0, 3600.0))


def test_frames_without_a_level_are_not_measured_seconds():
    dose = accumulate([85.0, np.nan, 85.0], 1.0, [120.0, 136.0, np.nan])
    assert dose.seconds == 2.0
    assert dose.lcpeak_max_db == 136.0
    assert dose.peaks_over_135 == 1


def test_peaks_at_or_above_135_dbc_are_counted():
    dose = NoiseDose().add(80.0, 1.0, 134.9).add(80.0, 1.0, 135.0).add(80.0, 1.0, 141.0).add(80.0, 1.0, None)
    assert dose.peaks_over_135 == 2
    assert dose.lcpeak_max_db == 141.0


def test_negative_durations_are_refused():
    with pytest.raises(ValueError):
        NoiseDose().add(80.0, -1.0)
    with pytest.raises(ValueError):
        accumulate([80.0], [-1.0])


def test_protector_attenuation_counts_for_limit_values_only():
    judged = judge_noise(lex_db=90.0, lcpeak_max_db=None, attenuation_db=10.0)
    assert judged.lex_8h_at_ear_db == 80.0
    assert judged.lower_action and judged.upper_action
    assert not judged.limit


def test_the_limit_is_judged_at_the_ear():
    judged = judge_noise(lex_db=95.0, lcpeak_max_db=None, attenuation_db=5.0)
    assert judged.lex_8h_at_ear_db == 90.0
    assert NoiseThreshold.LIMIT_LEX in judged.reached
    assert not judge_noise(lex_db=87.0, lcpeak_max_db=None).limit


def test_peak_thresholds():
    assert judge_noise(None, 135.0).reached == {NoiseThreshold.LOWER_ACTION_PEAK}
    assert judge_noise(None, 137.0).reached == {NoiseThreshold.LOWER_ACTION_PEAK, NoiseThreshold.UPPER_ACTION_PEAK}
    assert NoiseThreshold.LIMIT_PEAK in judge_noise(None, 141.0).reached
    assert NoiseThreshold.LIMIT_PEAK not in judge_noise(None, 141.0, attenuation_db=5.0).reached


def test_a_day_without_levels_reaches_nothing():
    judged = judge_noise(None, None, 20.0)
    assert judged.reached == frozenset()
    assert judged.lex_8h_at_ear_db is None


def test_attenuation_never_takes_the_level_below_zero_nor_adds_to_it():
    assert at_ear_db(20.0, 30.0) == 0.0
    with pytest.raises(ValueError):
        at_ear_db(80.0, -3.0)


def test_four_hours_at_85_leave_four_more_hours_at_85():
    dose = NoiseDose().add(85.0, 4 * H)
    assert time_to_reach(dose, 85.0) == pytest.approx(4 * H)
    assert time_to_reach(dose, 88.0) == pytest.approx(4 * H / 10**0.3)


def test_projection_is_zero_once_reached_and_none_without_a_level():
    assert time_to_reach(NoiseDose().add(86.0, 8 * H), 70.0) == 0.0
    assert time_to_reach(NoiseDose(), None) is None
    assert time_to_reach(NoiseDose(), -math.inf) is None


def test_projected_seconds_bring_lex_exactly_to_the_target():
    dose = NoiseDose().add(82.0, 3 * H)
    t = time_to_reach(dose, 92.0, target_lex_db=85.0)
    assert t is not None
    assert lex_8h_db(dose.add(92.0, t)) == pytest.approx(85.0)


@given(records, st.randoms(use_true_random=False))
def test_order_does_not_change_the_dose(recs, rnd):
    shuffled = list(recs)
    rnd.shuffle(shuffled)
    assert _same(_fold(recs), _fold(shuffled))
    levels, durations, peaks = zip(*recs, strict=True)
    vector = accumulate(levels, durations, [np.nan if p is None else p for p in peaks])
    assert _same(vector, _fold(recs))


@given(records, records, records)
def test_merge_is_commutative_and_associative(a, b, c):
    da, db, dc = _fold(a), _fold(b), _fold(c)
    assert _same(da.merge(db), db.merge(da))
    assert _same(da.merge(db).merge(dc), da.merge(db.merge(dc)))
    assert _same(da.merge(NoiseDose()), da)


@given(records, levels_db, durations_s)
def test_more_exposure_never_lowers_lex(recs, laeq, duration):
    before = lex_8h_db(_fold(recs))
    after = lex_8h_db(_fold(recs).add(laeq, duration))
    assert before is not None and after is not None
    assert after >= before


@given(records, st.floats(min_value=0.01, max_value=100.0))
def test_scaling_durations_by_k_shifts_lex_by_10_lg_k(recs, k):
    base = lex_8h_db(_fold(recs))
    scaled = lex_8h_db(_fold([(laeq, duration * k, peak) for laeq, duration, peak in recs]))
    assert base is not None and scaled is not None
    assert scaled == pytest.approx(base + 10 * math.log10(k), abs=1e-9)
