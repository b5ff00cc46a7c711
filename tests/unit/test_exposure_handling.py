import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.exposure.handling import (
    Coupling,
    HandlingDay,
    frequency_multiplier,
    lifting_index,
    recommended_weight_limit_kg,
)

IDEAL = {"h_cm": 25.0, "v_cm": 75.0, "d_cm": 25.0, "a_deg": 0.0, "frequency_per_min": 0.2, "duration_h": 1.0}


def test_an_ideal_lift_allows_the_load_constant_of_23_kg():
    assert recommended_weight_limit_kg(**IDEAL, coupling=Coupling.GOOD) == pytest.approx(23.0)
    assert lifting_index(23.0, 23.0) == pytest.approx(1.0)


def test_a_bin_lift_from_low_and_far_follows_the_multipliers():
    rwl = recommended_weight_limit_kg(40.0, 30.0, 50.0, 30.0, 2.0, 1.5, Coupling.FAIR)
    expected = (
        23.0
        * (25.0 / 40.0)
        * (1 - 0.003 * abs(30.0 - 75.0))
        * (0.82 + 4.5 / 50.0)
        * (1 - 0.0032 * 30.0)
        * 0.84  # FM: 2 lifts/min, ≤ 2 h, V < 75 cm
        * 0.95  # CM: fair, V < 75 cm
    )
    assert rwl == pytest.approx(expected)
    assert lifting_index(15.0, rwl) == pytest.approx(15.0 / expected)
    assert lifting_index(15.0, rwl) > 1.0


def test_short_distances_and_close_loads_are_not_rewarded_beyond_the_ideal():
    close = recommended_weight_limit_kg(10.0, 75.0, 5.0, 0.0, 0.1, 0.5, Coupling.GOOD)
    assert close == pytest.approx(23.0)


@pytest.mark.parametrize(
    ("change", "value"),
    [("h_cm", 64.0), ("v_cm", 176.0), ("d_cm", 176.0), ("a_deg", 136.0), ("frequency_per_min", 16.0)],
)
def test_out_of_range_geometry_or_frequency_allows_no_load(change, value):
    rwl = recommended_weight_limit_kg(**{**IDEAL, change: value}, coupling=Coupling.GOOD)
    assert rwl == 0.0
    assert math.isinf(lifting_index(5.0, rwl))


def test_frequency_multiplier_table_lookups():
    assert frequency_multiplier(0.05, 0.5, 75.0) == 1.0
    assert frequency_multiplier(1.0, 8.0, 30.0) == 0.75
    assert frequency_multiplier(9.0, 8.0, 30.0) == 0.0
    assert frequency_multiplier(9.0, 8.0, 80.0) == 0.15
    assert frequency_multiplier(13.0, 1.0, 30.0) == 0.0
    assert frequency_multiplier(13.0, 1.0, 80.0) == 0.34


def test_between_tabulated_frequencies_the_more_frequent_row_is_used():
    assert frequency_multiplier(2.5, 1.0, 75.0) == frequency_multiplier(3.0, 1.0, 75.0) == 0.88


def test_longer_work_lowers_the_frequency_multiplier():
    assert (
        frequency_multiplier(4.0, 1.0, 50.0)
        > frequency_multiplier(4.0, 2.0, 50.0)
        > frequency_multiplier(4.0, 8.0, 50.0)
    )


def test_the_equation_does_not_cover_shifts_beyond_8_hours():
    with pytest.raises(ValueError):
        frequency_multiplier(1.0, 9.0, 75.0)


def test_coupling_multipliers():
    base = {**IDEAL, "v_cm": 50.0}
    good = recommended_weight_limit_kg(**base, coupling=Coupling.GOOD)
    assert recommended_weight_limit_kg(**base, coupling=Coupling.FAIR) == pytest.approx(0.95 * good)
    assert recommended_weight_limit_kg(**base, coupling=Coupling.POOR) == pytest.approx(0.90 * good)
    high = {**IDEAL, "v_cm": 100.0}
    assert recommended_weight_limit_kg(**high, coupling=Coupling.FAIR) == pytest.approx(
        recommended_weight_limit_kg(**high, coupling=Coupling.GOOD)
    )


def test_lifts_are_classed_at_15_and_25_kg():
    day = HandlingDay().add(3, 14.9).add(2, 15.0).add(1, 25.0).add(4, 30.0)
    assert (day.lifts, day.lifts_ge_15kg, day.lifts_ge_25kg) == (10, 7, 5)
    assert day.tonnage_kg == pytest.approx(3 * 14.9 + 2 * 15.0 + 25.0 + 4 * 30.0)


def test_tonnage_share_of_the_7_5_tonne_indicator():
    assert HandlingDay().add(500, 15.0).tonnage_share == pytest.approx(1.0)


def test_load_carried_by_a_robot_is_avoided_not_lifted():
    day = HandlingDay().add(0, 0.0, avoided_kg=120.0).add(1, 10.0)
    assert day.avoided_kg == 120.0
    assert day.tonnage_kg == 10.0
    with pytest.raises(ValueError):
        HandlingDay().add(-1, 10.0)


lift_records = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=5),
        st.floats(min_value=0.0, max_value=60.0),
        st.floats(min_value=0.0, max_value=200.0),
    ),
    max_size=30,
)


def _fold(recs: list[tuple[int, float, float]]) -> HandlingDay:
    day = HandlingDay()
    for count, load, avoided in recs:
        day = day.add(count, load, avoided)
    return day


def _same(a: HandlingDay, b: HandlingDay) -> bool:
    return (a.lifts, a.lifts_ge_15kg, a.lifts_ge_25kg) == (b.lifts, b.lifts_ge_15kg, b.lifts_ge_25kg) and all(
        math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9)
        for x, y in ((a.tonnage_kg, b.tonnage_kg), (a.avoided_kg, b.avoided_kg))
    )


@given(lift_records, st.randoms(use_true_random=False))
def test_handling_day_does_not_depend_on_order(recs, rnd):
    shuffled = list(recs)
    rnd.shuffle(shuffled)
    assert _same(_fold(recs), _fold(shuffled))


@given(lift_records, lift_records, lift_records)
def test_handling_merge_is_commutative_and_associative(a, b, c):
    da, db, dc = _fold(a), _fold(b), _fold(c)
    assert _same(da.merge(db), db.merge(da))
    assert _same(da.merge(db).merge(dc), da.merge(db.merge(dc)))


@given(
    st.floats(min_value=0.0, max_value=70.0),
    st.floats(min_value=0.0, max_value=180.0),
    st.floats(min_value=0.0, max_value=180.0),
    st.floats(min_value=0.0, max_value=140.0),
    st.floats(min_value=0.0, max_value=16.0),
    st.floats(min_value=0.0, max_value=8.0),
    st.sampled_from(list(Coupling)),
)
def test_rwl_never_exceeds_the_load_constant(h, v, d, a, f, duration, coupling):
    assert 0.0 <= recommended_weight_limit_kg(h, v, d, a, f, duration, coupling) <= 23.0 + 1e-9
