"""Heat: strain (PSI, estimated core temperature) and WBGT above the ISO 7243 reference, with hysteresis."""

from __future__ import annotations

from services.alerts import Severity
from services.detection import Clear, Raise
from services.exposure import heat
from services.model import Environment
from tests.unit.test_detection_support import ScriptedCoreTemp, Wearable, engine, named

RH_PCT = 40.0


def air_temp_for_wbgt(wbgt_c: float) -> float:
    """The shade air temperature (at 40 % RH, no globe) whose estimated WBGT is ``wbgt_c``, by bisection."""
    low, high = -10.0, 50.0
    for _ in range(60):
        mid = (low + high) / 2
        value = heat.wbgt_c(mid, RH_PCT)
        assert value is not None
        low, high = (mid, high) if value[0] < wbgt_c else (low, mid)
    return (low + high) / 2


def minutes_of(wearable: Wearable, minutes: int, **sections) -> list[list[tuple[str, str]]]:
    """Stream ``minutes`` minutes of 1-s frames; the outcomes of each minute."""
    return [named(wearable.run(60, **sections)) for _ in range(minutes)]


def test_heat_strain_raises_at_psi_7_and_clears_only_back_at_psi_5():
    # Per minute: (estimated core temperature, mean heart rate) of a collector on a hot afternoon round.
    minutes = [(37.5, 120), (38.0, 150), (38.2, 160), (38.3, 165), (38.4, 170),  # PSI 3.1 5.5 6.4 6.8 7.3
               (38.3, 150), (38.4, 172), (38.1, 140),  # PSI 6.1 7.3 5.3: between the thresholds
               (38.0, 130), (37.9, 120)]  # fmt: skip  # PSI 4.6: back to work
    detection = engine(core_temp=lambda: ScriptedCoreTemp(tuple(ct for ct, _ in minutes)))
    wearable = Wearable(detection)
    out = [named(wearable.run(60, hr_bpm=float(hr))) for _, hr in minutes]
    # A minute is judged when the next one starts: the 5th minute (PSI 7.3) at the start of the 6th.
    judged = {i: o for i, o in enumerate(out, start=1) if o}
    assert judged == {6: [("raise", "heat_strain")], 10: [("clear", "heat_strain")]}


def test_the_raise_says_psi_and_core_temperature():
    detection = engine(core_temp=lambda: ScriptedCoreTemp((38.4,)))
    wearable = Wearable(detection)
    wearable.run(60, hr_bpm=170.0)
    (strain,) = wearable.send(hr_bpm=170.0)
    assert isinstance(strain, Raise)
    assert strain.draft.severity is Severity.WARNING
    assert strain.draft.message == "Heat strain: PSI 7.3, estimated core temperature 38.4 °C — stop, cool down, drink"
    assert strain.details["core_temp_c"] == 38.4 and strain.details["hr_bpm_1min"] == 170.0


def test_core_temperature_alone_raises_at_38_5_and_clears_at_38_0():
    script = (38.5, 38.3, 38.6, 38.1, 38.0)  # with a heart rate of 100: PSI stays under 5
    detection = engine(core_temp=lambda: ScriptedCoreTemp(script))
    wearable = Wearable(detection)
    out = minutes_of(wearable, len(script) + 1, hr_bpm=100.0)
    assert out == [[], [("raise", "heat_strain")], [], [], [], [("clear", "heat_strain")]]


def test_an_hour_at_160_bpm_raises_heat_strain_and_a_rest_in_the_shade_clears_it():
    detection = engine()  # the real Buller et al. (2013) filter
    wearable = Wearable(detection)
    work = minutes_of(wearable, 70, hr_bpm=160.0)
    rest = minutes_of(wearable, 90, hr_bpm=85.0)
    raised = [i for i, o in enumerate(work) if o == [("raise", "heat_strain")]]
    cleared = [i for i, o in enumerate(rest) if o == [("clear", "heat_strain")]]
    assert len(raised) == 1 and 30 <= raised[0] <= 60
    assert len(cleared) == 1
    assert sum(map(len, work + rest)) == 2


def test_implausible_heart_rates_are_ignored():
    detection = engine(core_temp=lambda: ScriptedCoreTemp((37.0,)))
    wearable = Wearable(detection)
    assert minutes_of(wearable, 5, hr_bpm=255.0) == [[]] * 5


def test_wbgt_over_the_reference_for_15_minutes_raises_and_clears_after_10_minutes_1_degree_below():
    ref_c = 28.0  # an acclimatised collector handling bins (ISO 7243 annex A)
    detection = engine()
    wearable = Wearable(detection, wbgt_ref_c=ref_c)
    hot, mild, cool = (Environment(air_temp_for_wbgt(ref_c + d), RH_PCT) for d in (0.6, -0.5, -1.5))
    out = minutes_of(wearable, 15, env=hot)
    assert out == [[]] * 15
    (raised,) = wearable.send(env=hot)  # the 15th minute is judged at the start of the 16th
    assert isinstance(raised, Raise) and raised.draft.rule == "wbgt_over_reference"
    assert "28.0 °C for 15 min" in raised.draft.message
    wearable.run(59, env=hot)
    # Half a degree below the reference is not back to normal: no clear, however long.
    assert minutes_of(wearable, 20, env=mild) == [[]] * 20
    between = minutes_of(wearable, 9, env=cool) + minutes_of(wearable, 3, env=hot)
    assert between == [[]] * 12  # 9 cool minutes then a hot spell: the cool run restarts
    out = minutes_of(wearable, 11, env=cool)
    assert {i: o for i, o in enumerate(out, start=1) if o} == {11: [("clear", "wbgt_over_reference")]}


def test_wbgt_minutes_must_be_consecutive():
    ref_c = 28.0
    detection = engine()
    wearable = Wearable(detection, wbgt_ref_c=ref_c)
    hot = Environment(air_temp_for_wbgt(ref_c + 1.0), RH_PCT)
    out = minutes_of(wearable, 10, env=hot)
    out += minutes_of(wearable, 1)  # a minute without the environment sensor
    out += minutes_of(wearable, 10, env=hot)
    assert out == [[]] * 21


def test_wbgt_clear_reason_names_the_margin():
    ref_c = 26.0
    detection = engine(crews={"c": {"wbgt_over_raise_min": 2.0, "wbgt_clear_min": 2.0}})
    wearable = Wearable(detection, crew_id="c", wbgt_ref_c=ref_c)
    hot, cool = Environment(air_temp_for_wbgt(29.0), RH_PCT), Environment(air_temp_for_wbgt(24.0), RH_PCT)
    out = wearable.run(180, env=hot) + wearable.run(121, env=cool)
    assert named(out) == [("raise", "wbgt_over_reference"), ("clear", "wbgt_over_reference")]
    assert isinstance(out[1], Clear) and out[1].reason == "WBGT 1.0 °C or more below the reference for 2 min"
