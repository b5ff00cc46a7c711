import math
from dataclasses import astuple
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.exposure.heat import (
    HeatDay,
    MetabolicClass,
    Provenance,
    Task,
    metabolic_rate_w,
    wbgt_bom_c,
    wbgt_c,
    wbgt_c_array,
    wbgt_ref_c,
    wet_bulb_stull_c,
)
from services.exposure.heat_strain import (
    BULLER_B0_BPM,
    BULLER_B1_BPM_PER_C,
    BULLER_B2_BPM_PER_C2,
    BULLER_GAMMA_C2,
    CoreTempFilter,
    core_temp_series_c,
    hr_from_core_temp_bpm,
    physiological_strain_index,
)

T0 = datetime(2026, 7, 15, 6, 0, tzinfo=UTC)


def _steady_core_temp_c(hr_bpm: float) -> float:
    """The CT whose modelled heart rate is ``hr_bpm``: the root of b2·CT² + b1·CT + (b0 − HR) below the vertex."""
    a, b, c = BULLER_B2_BPM_PER_C2, BULLER_B1_BPM_PER_C, BULLER_B0_BPM - hr_bpm
    return (-b + math.sqrt(b * b - 4 * a * c)) / (2 * a)


def test_stull_reproduces_his_worked_example():
    # Stull (2011): T = 20 °C, RH = 50 % gives Tw = 13.7 °C.
    assert float(wet_bulb_stull_c(20.0, 50.0)) == pytest.approx(13.7, abs=0.05)


def test_bom_wbgt_at_30_c_and_50_pct():
    e_hpa = 0.5 * 6.105 * math.exp(17.27 * 30.0 / (237.7 + 30.0))
    expected = 0.567 * 30.0 + 0.393 * e_hpa + 3.94
    assert float(wbgt_bom_c(30.0, 50.0)) == pytest.approx(expected)
    assert expected == pytest.approx(29.26, abs=0.01)
    estimated = wbgt_c(30.0, 50.0)
    assert estimated is not None
    assert estimated[0] == pytest.approx(expected)
    assert estimated[1] is Provenance.ESTIMATED


def test_with_a_globe_the_iso_7243_outdoor_formula_is_used_and_labelled_measured():
    tw = float(wet_bulb_stull_c(30.0, 50.0))
    result = wbgt_c(30.0, 50.0, globe_temp_c=45.0)
    assert result is not None
    assert result[0] == pytest.approx(0.7 * tw + 0.2 * 45.0 + 0.1 * 30.0)
    assert result[1] is Provenance.MEASURED


def test_without_humidity_there_is_no_wbgt():
    assert wbgt_c(30.0, None, 45.0) is None
    assert wbgt_c(30.0, math.nan) is None


def test_wbgt_is_vectorised_and_labels_each_value():
    wbgt, measured = wbgt_c_array([30.0, 30.0, 25.0], [50.0, 50.0, np.nan], [45.0, np.nan, 40.0])
    assert measured.tolist() == [True, False, False]
    assert wbgt[0] == pytest.approx(wbgt_c(30.0, 50.0, 45.0)[0])  # type: ignore[index]
    assert wbgt[1] == pytest.approx(float(wbgt_bom_c(30.0, 50.0)))
    assert math.isnan(wbgt[2])
    no_globe, none_measured = wbgt_c_array([20.0, 35.0], [40.0, 60.0])
    assert not none_measured.any()
    assert no_globe == pytest.approx(wbgt_bom_c([20.0, 35.0], [40.0, 60.0]))


def test_iso_7243_reference_at_300_w():
    assert wbgt_ref_c(300.0) == pytest.approx(56.7 - 11.5 * math.log10(300.0))
    assert wbgt_ref_c(300.0) == pytest.approx(28.2, abs=0.05)
    assert wbgt_ref_c(300.0, acclimatised=False) == pytest.approx(59.9 - 14.1 * math.log10(300.0))
    assert wbgt_ref_c(300.0, acclimatised=False) < wbgt_ref_c(300.0)
    with pytest.raises(ValueError):
        wbgt_ref_c(0.0)


def test_harder_work_lowers_the_reference():
    refs = [wbgt_ref_c(c.metabolic_w) for c in MetabolicClass]
    assert refs == sorted(refs, reverse=True)


def test_typical_task_rates_follow_iso_8996_classes():
    assert metabolic_rate_w(Task.COLLECTOR_HANDLING_BINS) == pytest.approx(230 * 1.8)
    assert metabolic_rate_w(Task.COLLECTOR_WALKING) == pytest.approx(165 * 1.8)
    assert metabolic_rate_w(Task.DRIVING_TRUCK) < metabolic_rate_w(Task.GARDENER_WEEDING_HOEING)
    assert all(100.0 < metabolic_rate_w(task) < 600.0 for task in Task)


def test_heat_day_counts_seconds_at_or_beyond_the_d4163_2_temperatures():
    day = HeatDay()
    for temp in (4.9, 5.0, 5.1, 29.9, 30.0, 31.0):
        day = day.add(temp)
    assert day.seconds_temp_le_5 == 2.0
    assert day.seconds_temp_ge_30 == 2.0
    assert day.seconds_temp_extreme == 4.0
    assert day.provenance is None


def test_heat_day_counts_seconds_over_the_reference_and_keeps_maxima():
    ref = wbgt_ref_c(300.0)
    day = (
        HeatDay()
        .add(30.0, wbgt=(ref + 1.0, Provenance.ESTIMATED), wbgt_ref_c=ref, psi=2.0)
        .add(30.0, wbgt=(ref, Provenance.ESTIMATED), wbgt_ref_c=ref, psi=4.5)
        .add(30.0, 60.0, wbgt=(ref - 3.0, Provenance.ESTIMATED), wbgt_ref_c=ref)
    )
    assert day.seconds_over_ref == 1.0
    assert day.wbgt_max_c == ref + 1.0
    assert day.psi_max == 4.5


def test_heat_day_provenance_is_mixed_when_both_kinds_were_used():
    measured = HeatDay().add(25.0, wbgt=(24.0, Provenance.MEASURED))
    estimated = HeatDay().add(25.0, wbgt=(23.0, Provenance.ESTIMATED))
    assert measured.provenance is Provenance.MEASURED
    assert estimated.provenance is Provenance.ESTIMATED
    assert measured.merge(estimated).provenance is Provenance.MIXED


heat_records = st.lists(
    st.tuples(
        st.floats(min_value=-10.0, max_value=45.0),
        st.none() | st.tuples(st.floats(min_value=5.0, max_value=40.0), st.sampled_from(list(Provenance)[:2])),
        st.none() | st.floats(min_value=0.0, max_value=10.0),
    ),
    max_size=30,
)


def _fold_heat(recs: list[tuple[float, tuple[float, Provenance] | None, float | None]]) -> HeatDay:
    day = HeatDay()
    for temp, wbgt, psi in recs:
        day = day.add(temp, wbgt=wbgt, wbgt_ref_c=28.0, psi=psi)
    return day


@given(heat_records, st.randoms(use_true_random=False))
def test_heat_day_does_not_depend_on_order(recs, rnd):
    shuffled = list(recs)
    rnd.shuffle(shuffled)
    assert astuple(_fold_heat(recs)) == astuple(_fold_heat(shuffled))


@given(heat_records, heat_records, heat_records)
def test_heat_day_merge_is_commutative_and_associative(a, b, c):
    da, db, dc = _fold_heat(a), _fold_heat(b), _fold_heat(c)
    assert da.merge(db) == db.merge(da)
    assert da.merge(db).merge(dc) == da.merge(db.merge(dc))
    assert da.merge(HeatDay()) == da


def test_core_temperature_stays_at_37_1_when_heart_rate_matches_it():
    hr = hr_from_core_temp_bpm(37.1)
    assert core_temp_series_c([hr] * 120)[-1] == pytest.approx(37.1, abs=1e-9)


@pytest.mark.parametrize("hr_bpm", [100.0, 120.0, 150.0])
def test_constant_heart_rate_converges_to_the_models_steady_state(hr_bpm):
    series = core_temp_series_c([hr_bpm] * 600)
    assert series[-1] == pytest.approx(_steady_core_temp_c(hr_bpm), abs=0.01)
    assert np.all(np.diff(series) >= 0.0)


def test_higher_heart_rate_gives_higher_core_temperature():
    low, high = core_temp_series_c([100.0] * 60), core_temp_series_c([140.0] * 60)
    assert np.all(high > low)


def test_first_update_follows_the_kalman_equations():
    v_prior = 0.0 + BULLER_GAMMA_C2
    c = 2 * BULLER_B2_BPM_PER_C2 * 37.1 + BULLER_B1_BPM_PER_C
    k = v_prior * c / (c * c * v_prior + 18.88**2)
    state = CoreTempFilter().step(150.0)
    assert state.ct_c == pytest.approx(37.1 + k * (150.0 - hr_from_core_temp_bpm(37.1)))
    assert state.variance_c2 == pytest.approx((1 - k * c) * v_prior)


def test_missing_minutes_only_grow_the_uncertainty():
    state = CoreTempFilter(ct_c=37.6, variance_c2=0.01, last_ts=T0)
    gap = state.step(math.nan, T0 + timedelta(minutes=1))
    assert gap.ct_c == 37.6
    assert gap.variance_c2 == pytest.approx(0.01 + BULLER_GAMMA_C2)
    later = state.step(None, T0 + timedelta(minutes=10))
    assert later.variance_c2 == pytest.approx(0.01 + 10 * BULLER_GAMMA_C2)
    assert later.last_ts == T0 + timedelta(minutes=10)
    assert core_temp_series_c([np.nan, np.nan])[-1] == 37.1


def test_minutes_must_come_in_order():
    state = CoreTempFilter().step(100.0, T0)
    with pytest.raises(ValueError):
        state.step(100.0, T0)
    assert state.step(100.0).last_ts == T0 + timedelta(minutes=1)


def test_a_series_can_resume_from_a_saved_state():
    whole = core_temp_series_c([130.0] * 90)
    first = core_temp_series_c([130.0] * 30)
    resumed = CoreTempFilter()
    for _ in range(30):
        resumed = resumed.step(130.0)
    assert first[-1] == pytest.approx(resumed.ct_c)
    assert core_temp_series_c([130.0] * 60, start=resumed)[-1] == pytest.approx(whole[-1])


def test_psi_is_0_at_baseline_and_10_at_39_5_c_and_180_bpm():
    assert physiological_strain_index(37.1, 70.0) == 0.0
    assert physiological_strain_index(39.5, 180.0) == pytest.approx(10.0)
    assert physiological_strain_index(38.3, 125.0) == pytest.approx(5.0)


def test_psi_is_clipped_and_uses_the_agents_baseline():
    assert physiological_strain_index(36.5, 60.0) == 0.0
    assert physiological_strain_index(40.5, 195.0) == 10.0
    assert physiological_strain_index(37.5, 60.0, core_temp_0_c=37.0, hr_0_bpm=60.0) == pytest.approx(5 * 0.5 / 2.5)
    with pytest.raises(ValueError):
        physiological_strain_index(38.0, 100.0, core_temp_0_c=39.5)


def test_one_frames_wbgt_equals_the_vectorised_wbgt_over_the_whole_range() -> None:
    import itertools

    import numpy as np

    from services.exposure.heat import wbgt_c, wbgt_c_array

    temps = np.linspace(-20, 50, 36)
    rhs = np.linspace(5, 99, 25)
    for globe in (None, 15.0, 45.0, float("nan")):
        for t, rh in itertools.product(temps, rhs):
            one = wbgt_c(float(t), float(rh), globe)
            many, measured = wbgt_c_array(t, rh, np.nan if globe is None else globe)
            assert one is not None
            assert one[0] == pytest.approx(float(many), rel=1e-12, abs=1e-12)
            assert (one[1] == "measured") == bool(measured)
