"""Ledger increments: additive, order-independent, one frame counted once, agent by assignment."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from services import ledger
from services.exposure.heat import Task
from services.model import Environment, Frame, HandArmVibration, Lift, Noise, Received

PARIS = ZoneInfo("Europe/Paris")
T0 = datetime(2026, 7, 1, 6, 0, tzinfo=UTC)  # 08:00 in Paris


def received(i: int, agent: str | None = "agent-1", **sections: object) -> Received:
    return Received(Frame("wear-1", i, T0 + timedelta(seconds=i), **sections), T0, agent)  # type: ignore[arg-type]


def test_an_unassigned_frame_adds_nothing_to_anyones_day():
    assert ledger.frame_delta(received(0, agent=None, noise=Noise(95.0)), ledger.DEFAULT_PROFILE, PARIS) is None


def test_a_frame_adds_one_second_of_each_exposure_it_carries():
    frame = received(0, noise=Noise(90.0, 140.0), hav=HandArmVibration(5.0, 0.5, "trimmer"), lift=Lift(2, 20.0),
                     env=Environment(32.0, 40.0))  # fmt: skip
    delta = ledger.frame_delta(frame, ledger.ExposureProfile(hearing_attenuation_db=10.0), PARIS)
    assert delta is not None
    assert delta.worked_s == 1.0 and delta.day.isoformat() == "2026-07-01"
    assert delta.noise.sum_t_10pow == 10**9.0 and delta.noise.peaks_over_135 == 1
    assert delta.peaks_over_135_at_ear == 0  # 140 - 10 dB of protection = 130 dB(C) at the ear
    assert delta.hav.sum_a2t_m2s3 == 25.0 * 0.5 and delta.tool_ids == frozenset({"trimmer"})
    assert (delta.handling.lifts, delta.handling.lifts_ge_15kg, delta.handling.tonnage_kg) == (2, 2, 40.0)
    assert delta.heat.seconds_temp_ge_30 == 1.0 and delta.heat.wbgt_max_c is not None


def test_the_heat_reference_follows_the_agents_task():
    light = ledger.ExposureProfile(task=Task.DRIVING_TRUCK)
    heavy = ledger.ExposureProfile(task=Task.COLLECTOR_HANDLING_BINS)
    assert light.wbgt_ref_c > heavy.wbgt_ref_c


def test_frames_after_local_midnight_go_to_the_next_local_day():
    late_evening = Received(Frame("wear-1", 1, datetime(2026, 7, 1, 21, 59, 59, tzinfo=UTC)), T0, "agent-1")
    after_midnight = Received(Frame("wear-1", 2, datetime(2026, 7, 1, 22, 0, 0, tzinfo=UTC)), T0, "agent-1")
    days = sorted(d.day.isoformat() for d in ledger.day_deltas([late_evening, after_midnight], {}, PARIS))
    assert days == ["2026-07-01", "2026-07-02"]


LEVELS = st.lists(st.floats(min_value=40, max_value=120, allow_nan=False), min_size=1, max_size=40)


@settings(max_examples=50)
@given(LEVELS, st.randoms(use_true_random=False))
def test_the_days_increment_does_not_depend_on_frame_order(levels, rnd):
    frames = [received(i, noise=Noise(level)) for i, level in enumerate(levels)]
    shuffled = frames[:]
    rnd.shuffle(shuffled)
    (a,) = ledger.day_deltas(frames, {}, PARIS)
    (b,) = ledger.day_deltas(shuffled, {}, PARIS)
    assert math.isclose(a.noise.sum_t_10pow, b.noise.sum_t_10pow, rel_tol=1e-9)
    assert (a.worked_s, a.first_ts, a.last_ts) == (b.worked_s, b.first_ts, b.last_ts)


def test_rises_of_robot_payload_are_load_the_agent_did_not_carry():
    t = [T0 + timedelta(seconds=i) for i in range(5)]
    states = [("r1", t[1], 20.0), ("r1", t[0], 10.0), ("r1", t[2], 5.0), ("r1", t[3], 35.0), ("r2", t[4], 50.0)]
    rises = ledger.payload_increments(states, {"r1": 0.0})
    assert rises == [("r1", t[0], 10.0), ("r1", t[1], 10.0), ("r1", t[3], 30.0)]


def test_heat_strain_rises_with_sustained_effort_and_ignores_input_order():
    minutes = [(T0 + timedelta(minutes=i), 160.0) for i in range(90)]
    strain = ledger.heat_strain_for_day(list(reversed(minutes)))
    assert strain.core_temp_max_c is not None and strain.core_temp_max_c > 38.0
    assert strain.psi_max is not None and strain.psi_max > 6.0
    assert ledger.heat_strain_for_day([]) == ledger.HeatStrain(None, None)


def test_a_lift_with_known_geometry_records_its_niosh_lifting_index():
    from services.model import LiftGeometry

    ideal = LiftGeometry(h_cm=25, v_cm=75, d_cm=25, a_deg=0, coupling="good", freq_per_min=0.2, duration_h=1)
    delta = ledger.frame_delta(received(0, lift=Lift(1, 23.0, ideal)), ledger.DEFAULT_PROFILE, PARIS)
    assert delta is not None and delta.lifting_index_max is not None
    assert math.isclose(delta.lifting_index_max, 1.0, rel_tol=0.02)  # 23 kg at the ideal RWL of 23 kg
    plain = ledger.frame_delta(received(1, lift=Lift(1, 23.0)), ledger.DEFAULT_PROFILE, PARIS)
    assert plain is not None and plain.lifting_index_max is None
