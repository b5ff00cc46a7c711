"""Noise peaks, hand-arm vibration points and heavy lifting during the shift."""

from __future__ import annotations

from services.alerts import Severity
from services.detection import Clear, Confirm, Raise
from services.model import Lift, Noise
from tests.unit.test_detection_support import Wearable, engine, named


def test_a_135_dbc_peak_raises_once_and_five_quiet_minutes_clear_it():
    wearable = Wearable(engine())
    out = wearable.run(30, noise=Noise(82.0, 118.0))
    assert out == []
    (peak,) = wearable.send(noise=Noise(96.0, 136.5))  # a bin lid slammed by the lifter
    assert isinstance(peak, Raise) and peak.draft.rule == "noise_peak"
    assert peak.draft.message == "Noise peak 136 dB(C) reaches the R4431-2 lower action value: check hearing protection"
    assert peak.details == {"lcpeak_db": 136.5}
    for lcpeak_db in (134.0, 136.0, 131.0, 138.0, 130.0):  # between the quiet level and beyond: no flicker
        assert wearable.send(noise=Noise(90.0, lcpeak_db)) == []
    assert wearable.run(299, noise=Noise(82.0, 125.0)) == []
    (cleared,) = wearable.send(noise=Noise(82.0, 125.0))
    assert isinstance(cleared, Clear) and cleared.reason == "no peak at or above 130 dB(C) for 300 s"


def test_a_frame_without_a_peak_judges_nothing_about_peaks():
    wearable = Wearable(engine())
    assert wearable.run(10, noise=Noise(88.0)) == []


def test_hav_points_warn_at_300_escalate_at_400_and_re_arm_on_a_new_day():
    wearable = Wearable(engine())
    out = []
    for points in (120.0, 250.0, 299.0, 300.0, 320.0, 380.0, 400.0, 410.0, 430.0):
        wearable.hav_points_today = points
        out += wearable.send()
    assert named(out) == [("raise", "hav_limit_approaching"), ("confirm", "hav_limit_approaching")]
    warn, limit = out
    assert isinstance(warn, Raise) and warn.draft.severity is Severity.WARNING
    assert isinstance(limit, Confirm) and limit.severity is Severity.CRITICAL
    assert "5 m/s² limit value is reached" in limit.message
    wearable.hav_points_today = 0.0  # the next local day
    assert named(wearable.send()) == [("clear", "hav_limit_approaching")]
    wearable.hav_points_today = 405.0
    (straight_to_limit,) = wearable.send()
    assert isinstance(straight_to_limit, Raise) and straight_to_limit.draft.severity is Severity.CRITICAL


def test_a_single_27_kg_lift_raises_and_a_quarter_hour_without_one_clears():
    wearable = Wearable(engine())
    wearable.run(60)
    (lift,) = wearable.send(lift=Lift(1, 27.0))  # a green-waste bag far too heavy
    assert isinstance(lift, Raise) and lift.draft.rule == "lifting_overload"
    assert lift.draft.message == "Lift of 27 kg: above the NF X35-109 25 kg maximum"
    assert wearable.run(899) == []
    assert named(wearable.send()) == [("clear", "lifting_overload")]


def test_twelve_lifts_of_15_kg_or_more_in_an_hour_raise_and_the_rate_must_halve_to_clear():
    wearable = Wearable(engine())
    out = []
    for _ in range(12):  # one 18-kg bin every 4 minutes
        out += wearable.send(lift=Lift(1, 18.0))
        out += wearable.run(239)
    assert named(out) == [("raise", "lifting_overload")]
    assert isinstance(out[0], Raise) and out[0].details["heavy_lifts_last_hour"] == 12
    out = []
    for _ in range(6):  # slowing down to one every 10 minutes: the hourly count falls from 12 towards 6
        out += wearable.send(lift=Lift(1, 18.0))
        out += wearable.run(599)
    assert named(out) == [("clear", "lifting_overload")]


def test_light_lifts_do_not_count():
    wearable = Wearable(engine())
    out = []
    for _ in range(40):
        out += wearable.send(lift=Lift(2, 12.0))
        out += wearable.run(59)
    assert out == []
