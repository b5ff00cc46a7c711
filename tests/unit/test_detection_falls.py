"""Falls and man-down: the wearer's 30-s cancel window, the man-down alarm, motionless wearers, buffered falls."""

from __future__ import annotations

from datetime import timedelta

from services.alerts import Severity
from services.detection import Cancel, Clear, ConfigResolver, Confirm, DetectionEngine, Raise, RuleConfig
from services.falls import FallEvent, FallEventKind
from tests.unit.test_detection_support import ScriptedFalls, Wearable, engine, named, raises, still_imu, walking_imu


def setup_fall(config: RuleConfig | None = None):
    falls = ScriptedFalls()
    detection = engine(config, falls=falls)
    wearable = Wearable(detection)
    wearable.run(20, imu=walking_imu())
    suspected_ts = falls.fall_at(wearable.ts + timedelta(seconds=2))
    out = wearable.run(8, imu=still_imu())  # impact at +2 s, suspected at +7 s
    return detection, wearable, suspected_ts, out


def test_a_suspected_fall_raises_a_warning_with_its_stages_and_peak():
    _, _, suspected_ts, out = setup_fall()
    (fall,) = raises(out, "fall")
    assert named(out) == [("raise", "fall")]
    assert fall.draft.severity is Severity.WARNING
    assert fall.draft.source_ts == suspected_ts
    assert fall.draft.message == "Fall suspected: waiting 30 s for the wearer to cancel"
    assert fall.details["impact_ts"] == (suspected_ts - timedelta(seconds=5)).isoformat()
    assert fall.details["lying_ts"] == (suspected_ts - timedelta(seconds=4)).isoformat()
    assert fall.details["inactive_ts"] == (suspected_ts - timedelta(seconds=2)).isoformat()
    assert fall.details["peak_acc_ms2"] == 38.0
    assert fall.details["cancel_window_s"] == 30.0


def test_cancel_within_30_s_resolves_the_fall_as_a_false_alarm_by_the_wearer():
    detection, wearable, _, _ = setup_fall()
    raised_at = wearable.received_at
    assert wearable.run(15, imu=still_imu()) == []
    (cancel,) = wearable.send(imu=walking_imu(), cancel=True)
    assert isinstance(cancel, Cancel)
    assert (cancel.rule, cancel.by, cancel.subject_id) == ("fall", "agent-07", "agent-07")
    assert detection.tick(raised_at + timedelta(seconds=45)) == []


def test_no_cancel_within_30_s_confirms_the_man_down_alarm():
    detection, wearable, _, _ = setup_fall()
    raised_at = wearable.received_at
    assert detection.tick(raised_at + timedelta(seconds=29.9)) == []
    (confirm,) = detection.tick(raised_at + timedelta(seconds=30))
    assert isinstance(confirm, Confirm)
    assert (confirm.rule, confirm.severity) == ("fall", Severity.CRITICAL)
    assert confirm.message == "Man down: fall not cancelled within 30 s"
    assert confirm.at == raised_at + timedelta(seconds=30)
    assert detection.tick(raised_at + timedelta(seconds=31)) == []


def test_a_cancel_after_the_alarm_clears_it_for_a_person_to_resolve():
    detection, wearable, _, _ = setup_fall()
    detection.tick(wearable.received_at + timedelta(seconds=30))
    wearable.skip(40)
    (cleared,) = wearable.send(imu=still_imu(), cancel=True)
    assert isinstance(cleared, Clear) and cleared.rule == "fall"
    assert cleared.reason == "the wearer pressed cancel after the man-down alarm"


def test_a_cancel_arriving_after_the_window_confirms_first_even_between_ticks():
    _, wearable, _, _ = setup_fall()
    wearable.skip(30)  # no frame and no tick during the window
    assert named(wearable.send(imu=still_imu(), cancel=True)) == [("confirm", "fall"), ("clear", "fall")]


def test_frames_arriving_after_the_window_confirm_it_without_waiting_for_a_tick():
    _, wearable, _, _ = setup_fall()
    out = wearable.run(31, imu=still_imu())
    assert named(out) == [("confirm", "fall")]


def test_a_confirmed_fall_clears_once_the_wearer_walks_again():
    detection, wearable, _, _ = setup_fall()
    detection.tick(wearable.received_at + timedelta(seconds=30))
    wearable.skip(30)
    out = wearable.run(10, imu=walking_imu())
    assert named(out) == [("clear", "fall")]
    assert isinstance(out[0], Clear) and out[0].reason == "the wearer is moving again after the man-down alarm"


def test_a_second_suspicion_while_the_fall_is_open_is_not_raised_again():
    falls = ScriptedFalls()
    wearable = Wearable(engine(falls=falls))
    falls.fall_at(wearable.ts)
    falls.fall_at(wearable.ts + timedelta(seconds=12))
    out = wearable.run(20, imu=still_imu())
    assert named(out) == [("raise", "fall")]


def test_a_fall_in_buffered_data_raises_late_and_is_never_confirmed():
    falls = ScriptedFalls()
    detection = engine(falls=falls)
    wearable = Wearable(detection)
    falls.fall_at(wearable.ts + timedelta(seconds=10))
    out = wearable.run(20, imu=still_imu(), late=True)
    (fall,) = raises(out, "fall")
    assert fall.draft.late
    assert fall.draft.message == "Fall suspected in buffered data (the wearer had 30 s to cancel)"
    assert detection.tick(wearable.ts + timedelta(hours=2)) == []
    # The buffered data go on past the window without a cancel: the episode ends, for a person to check.
    out = wearable.run(30, imu=still_imu(), late=True)
    assert named(out) == [("clear", "fall")]
    assert isinstance(out[0], Clear) and "check on the wearer" in out[0].reason


def test_a_cancel_inside_buffered_data_cancels_the_buffered_fall():
    falls = ScriptedFalls()
    wearable = Wearable(engine(falls=falls))
    falls.fall_at(wearable.ts)
    wearable.run(15, imu=still_imu(), late=True)
    out = wearable.send(imu=still_imu(), late=True, cancel=True)
    assert named(out) == [("cancel", "fall")]


def test_a_motionless_wearer_raises_man_down_after_two_minutes_and_walking_clears_it():
    detection = engine()
    wearable = Wearable(detection)
    wearable.run(30, imu=walking_imu())
    timeline: dict[int, list[tuple[str, str]]] = {}
    still_from = wearable.received_at + timedelta(seconds=1)
    for second in range(1, 131):
        wearable.send(imu=still_imu(second))
        if found := named(detection.tick(wearable.received_at)):
            timeline[second] = found
    assert timeline == {121: [("raise", "man_down")]}  # still since the first still frame, 120 s before
    assert wearable.received_at - still_from == timedelta(seconds=129)
    assert wearable.run(4, imu=walking_imu()) == []  # one step is not getting up
    assert named(wearable.send(imu=walking_imu())) == [("clear", "man_down")]


def test_no_man_down_from_the_timer_while_a_fall_is_open():
    detection, wearable, _, _ = setup_fall(RuleConfig(no_motion_raise_s=20.0))
    out = []
    for _ in range(60):
        out += wearable.send(imu=still_imu())
        out += detection.tick(wearable.received_at)
    assert named(out) == [("confirm", "fall")]  # the confirmation is the man-down alarm


def test_the_detectors_no_motion_event_raises_man_down():
    falls = ScriptedFalls()
    wearable = Wearable(engine(falls=falls))
    falls.events.append(FallEvent(FallEventKind.NO_MOTION, wearable.ts + timedelta(seconds=3), detail="90 s still"))
    (man_down,) = wearable.run(5, imu=still_imu())
    assert isinstance(man_down, Raise)
    assert (man_down.draft.rule, man_down.draft.severity) == ("man_down", Severity.CRITICAL)


def test_a_still_device_that_goes_silent_is_offline_not_man_down():
    detection = engine()
    wearable = Wearable(detection)
    wearable.run(10, imu=still_imu())
    out = detection.tick(wearable.received_at + timedelta(seconds=150))
    assert named(out) == [("raise", "wearable_offline")]


def test_pressing_cancel_is_a_sign_of_life_for_the_no_motion_timer():
    detection = engine()
    wearable = Wearable(detection)
    wearable.run(100, imu=still_imu())
    wearable.send(imu=still_imu(), cancel=True)
    wearable.run(100, imu=still_imu())
    assert detection.tick(wearable.received_at) == []


def test_a_minute_of_walking_raises_nothing_with_the_real_fall_detector():
    detection = DetectionEngine(ConfigResolver().config_for)  # services.falls.FallDetector by default
    wearable = Wearable(detection)
    assert [o for i in range(60) for o in wearable.send(imu=walking_imu(i))] == []


def test_walking_frames_reach_the_detector_every_second():
    falls = ScriptedFalls()
    Wearable(engine(falls=falls)).run(60, imu=walking_imu())
    assert falls.updates == 60


def test_a_live_fall_after_a_buffered_one_is_raised_live():
    falls = ScriptedFalls()
    wearable = Wearable(engine(falls=falls))
    falls.fall_at(wearable.ts)
    assert named(wearable.run(10, imu=still_imu(), late=True)) == [("raise", "fall")]
    wearable.skip(60)
    falls.fall_at(wearable.ts - timedelta(seconds=5))  # suspected in the next live frame
    out = wearable.send(imu=still_imu())
    assert named(out) == [("clear", "fall"), ("raise", "fall")]
    assert isinstance(out[1], Raise) and not out[1].draft.late
