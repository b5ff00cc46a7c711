"""The wearer's device: SOS, battery, offline, lone-worker check-ins, late frames and per-crew thresholds."""

from __future__ import annotations

from datetime import timedelta

from services.alerts import Severity, SubjectType
from services.detection import Clear, Raise
from services.model import DeviceLink
from tests.unit.test_detection_support import Wearable, clears, engine, named, of_rule, raises


def test_an_sos_held_for_three_seconds_raises_one_critical_alert():
    wearable = Wearable(engine())
    out = wearable.run(10, battery_pct=80.0)
    out += wearable.run(3, sos=True)
    out += wearable.run(5)
    (sos,) = raises(out, "sos")
    assert sos.draft.severity is Severity.CRITICAL
    assert (sos.draft.subject_type, sos.draft.subject_id, sos.draft.device_id) == (SubjectType.AGENT, "agent-07",
                                                                                   "wear-0001")  # fmt: skip
    assert sos.draft.message == "SOS button pressed"
    assert not sos.draft.late


def test_each_new_press_of_sos_raises_again_and_data_never_clear_it():
    wearable = Wearable(engine())
    out = wearable.run(2, sos=True) + wearable.run(20) + wearable.run(1, sos=True) + wearable.run(600)
    assert named(out) == [("raise", "sos"), ("raise", "sos")]


def test_sos_from_a_device_nobody_wears_is_raised_on_the_device():
    wearable = Wearable(engine(), agent_id=None)
    (sos,) = wearable.send(sos=True)
    assert isinstance(sos, Raise)
    assert (sos.draft.subject_type, sos.draft.subject_id) == (SubjectType.DEVICE, "wear-0001")


def test_low_battery_raises_at_15_pct_and_clears_only_at_25_pct():
    wearable = Wearable(engine())
    out = []
    for battery_pct in (18.0, 16.0, 15.0, 14.0, 16.0, 15.0, 20.0, 24.9, 15.0, 24.0):
        out += of_rule(wearable.send(battery_pct=battery_pct), "wearable_battery_low")
    assert named(out) == [("raise", "wearable_battery_low")]
    assert isinstance(out[0], Raise) and out[0].details == {"battery_pct": 15.0}
    (cleared,) = wearable.send(battery_pct=25.0)
    assert isinstance(cleared, Clear) and cleared.reason == "battery back to 25 %"
    assert named(wearable.send(battery_pct=15.0)) == [("raise", "wearable_battery_low")]


def test_last_will_raises_offline_and_the_first_live_frame_clears_it():
    detection = engine()
    wearable = Wearable(detection)
    wearable.run(30)
    lost_at = wearable.received_at + timedelta(seconds=2)
    (offline,) = detection.on_link("wear-0001", "agent-07", DeviceLink.OFFLINE, lost_at)
    assert isinstance(offline, Raise)
    assert offline.draft.rule == "wearable_offline" and offline.details["cause"] == "last_will"
    assert detection.tick(lost_at + timedelta(minutes=5)) == []  # already raised: silence adds nothing
    assert detection.on_link("wear-0001", "agent-07", DeviceLink.ONLINE, lost_at + timedelta(minutes=6)) == []
    wearable.skip(6 * 60)
    (cleared,) = wearable.send()
    assert isinstance(cleared, Clear) and cleared.rule == "wearable_offline" and cleared.reason == "frames resumed"


def test_sixty_seconds_without_a_frame_raise_offline_once_and_frames_resuming_clear_it():
    detection = engine()
    wearable = Wearable(detection)
    wearable.run(10)
    last = wearable.received_at
    assert detection.tick(last + timedelta(seconds=59)) == []
    (offline,) = detection.tick(last + timedelta(seconds=60))
    assert isinstance(offline, Raise) and offline.draft.rule == "wearable_offline"
    assert offline.draft.severity is Severity.WARNING and offline.details["cause"] == "silence"
    assert detection.tick(last + timedelta(seconds=120)) == []
    wearable.skip(110)
    assert named(wearable.send()) == [("clear", "wearable_offline")]
    assert detection.tick(wearable.received_at + timedelta(seconds=30)) == []


def test_late_frames_raise_marked_late_but_start_no_timer():
    detection = engine()
    wearable = Wearable(detection)
    out = wearable.run(5, late=True, battery_pct=12.0)
    out += wearable.send(late=True, sos=True)
    assert [(name, o.draft.late) for name, o in zip(named(out), out, strict=True) if isinstance(o, Raise)] == [
        (("raise", "wearable_battery_low"), True),
        (("raise", "sos"), True),
    ]
    # An hour of backlog, then nothing: the device never went silent *live*, so no offline alert.
    assert detection.tick(wearable.ts + timedelta(hours=1, minutes=10)) == []


def test_a_frame_older_than_the_newest_counts_for_sos_only():
    detection = engine()
    wearable = Wearable(detection)
    wearable.run(5, battery_pct=80.0)
    wearable.ts -= timedelta(seconds=3)  # redelivered out of order
    out = wearable.send(battery_pct=5.0, sos=True)
    assert named(out) == [("raise", "sos")]


def test_a_lone_worker_who_does_not_check_in_for_30_min_raises_and_checking_in_clears():
    detection = engine(crews={"parks-solo": {"lone_worker": True}})
    wearable = Wearable(detection, crew_id="parks-solo")
    wearable.send(checkin=True)
    start = wearable.received_at
    by_minute = {}
    for minute in range(1, 36):
        wearable.run(60)
        by_minute[minute] = named(detection.tick(start + timedelta(minutes=minute)))
    assert {m: o for m, o in by_minute.items() if o} == {30: [("raise", "missed_checkin")]}
    assert named(wearable.send(checkin=True)) == [("clear", "missed_checkin")]
    wearable.run(29 * 60)
    assert detection.tick(wearable.received_at) == []


def test_crews_working_together_need_no_check_in():
    detection = engine()
    wearable = Wearable(detection, crew_id="collection-north")
    out = []
    for _ in range(45):
        out += wearable.run(60, imu=None)
        out += detection.tick(wearable.received_at)
    assert out == []


def test_a_crew_override_changes_only_that_crews_threshold():
    spare_battery = {"wearable_battery_raise_pct": 30.0, "wearable_battery_clear_pct": 40.0}
    detection = engine(crews={"far-from-depot": spare_battery})
    site = Wearable(detection, device_id="wear-0001", agent_id="agent-01", crew_id="collection-north")
    crew = Wearable(detection, device_id="wear-0002", agent_id="agent-02", crew_id="far-from-depot")
    assert site.send(battery_pct=28.0) == []
    assert named(crew.send(battery_pct=28.0)) == [("raise", "wearable_battery_low")]
    assert crew.send(battery_pct=35.0) == []
    assert named(crew.send(battery_pct=40.0)) == [("clear", "wearable_battery_low")]


def test_offline_alerts_follow_the_agent_and_clear_on_them():
    detection = engine()
    wearable = Wearable(detection)
    wearable.run(3)
    (offline,) = detection.tick(wearable.received_at + timedelta(minutes=2))
    assert isinstance(offline, Raise) and offline.key == ("agent", "agent-07", "wearable_offline")
    wearable.skip(120)
    (cleared,) = clears(wearable.send(), "wearable_offline")
    assert cleared.key == ("agent", "agent-07", "wearable_offline")
