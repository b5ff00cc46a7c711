"""Properties of the engine over random interleavings of frames, robot states, links and ticks.

Whatever the data, a rule never raises twice for a subject without its episode ending in between (the SOS
button excepted: every press raises); clears, cancels and confirmations only concern open episodes; nothing
that comes from history (late frames) or from the clock is marked live when it is not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.detection import ConfigResolver, Confirm, DetectionEngine, Outcome, Raise
from services.falls import FallEvent, FallEventKind
from services.model import DeviceLink, Environment, Frame, Lift, Noise, Received, RobotState
from tests.unit.test_detection_support import T0, CheckinFrame, still_imu, walking_imu

CREWS = {
    "site": {},
    # Short timers so that random sequences of a few minutes reach them.
    "solo": {"lone_worker": True, "checkin_interval_s": 90.0, "no_motion_raise_s": 20.0, "offline_after_s": 15.0,
             "fall_cancel_window_s": 10.0, "wbgt_over_raise_min": 1.0, "wbgt_clear_min": 1.0,
             "noise_quiet_clear_s": 20.0, "lift_clear_quiet_s": 30.0},
}  # fmt: skip
STILL, WALKING = still_imu(), walking_imu()


@dataclass
class FrameOp:
    device: str
    agent: str | None
    crew: str
    dt_s: float
    late: bool
    backdate_s: float
    sections: dict[str, Any]
    sos: bool
    cancel: bool
    checkin: bool
    events: list[FallEventKind]
    wbgt_ref_c: float | None
    hav_points: float | None


@dataclass
class RobotOp:
    robot: str
    kind: str
    dt_s: float
    late: bool
    fields: dict[str, Any]


@dataclass
class LinkOp:
    device: str
    agent: str | None
    link: DeviceLink
    dt_s: float


@dataclass
class TickOp:
    dt_s: float


maybe = st.none().__or__
sections = st.fixed_dictionaries(
    {},
    optional={
        "battery_pct": st.floats(0, 100),
        "noise": st.builds(Noise, st.floats(60, 110), maybe(st.floats(100, 145))),
        "hr_bpm": st.floats(40, 210),
        "lift": st.builds(Lift, st.integers(0, 3), st.floats(0, 40)),
        "env": st.builds(Environment, st.floats(15, 45), st.floats(10, 90)),
        "imu": st.sampled_from([STILL, WALKING]),
    },
)
frame_ops = st.builds(
    FrameOp,
    device=st.sampled_from(["wear-01", "wear-02"]),
    agent=st.sampled_from(["agent-01", "agent-02", None]),
    crew=st.sampled_from(list(CREWS)),
    dt_s=st.floats(0, 5),
    late=st.booleans(),
    backdate_s=st.sampled_from([0.0, 0.0, 0.0, 3.0]),
    sections=sections,
    sos=st.booleans(),
    cancel=st.booleans(),
    checkin=st.booleans(),
    events=st.lists(st.sampled_from(list(FallEventKind)), max_size=2),
    wbgt_ref_c=maybe(st.floats(22, 33)),
    hav_points=maybe(st.floats(0, 500)),
)
robot_ops = st.builds(
    RobotOp,
    robot=st.sampled_from(["mower-01", "follower-01"]),
    kind=st.sampled_from(["mower", "follower"]),
    dt_s=st.floats(0, 5),
    late=st.booleans(),
    fields=st.fixed_dictionaries(
        {},
        optional={
            "estop": maybe(st.booleans()),
            "protective_stop": maybe(st.booleans()),
            "nearest_human_m": maybe(st.floats(0, 6)),
            "faults": st.sampled_from([(), ("lidar_blocked",), ("lidar_blocked", "bumper")]),
            "battery_pct": st.floats(0, 100),
        },
    ),
)
link_ops = st.builds(LinkOp, st.sampled_from(["wear-01", "wear-02"]), st.sampled_from(["agent-01", None]),
                     st.sampled_from(list(DeviceLink)), st.floats(0, 30))  # fmt: skip
tick_ops = st.builds(TickOp, st.floats(0, 120))
operations = st.lists(st.one_of(frame_ops, frame_ops, robot_ops, link_ops, tick_ops), max_size=120)


@dataclass
class FakeCoreTemp:
    """Follows the heart rate closely (36.8 °C at 60 bpm to 38.9 °C at 210), so heat strain swings both ways."""

    ct_c: float = 37.1

    def step(self, hr_bpm: float | None, ts: datetime | None = None) -> FakeCoreTemp:
        return self if hr_bpm is None else FakeCoreTemp(36.8 + (hr_bpm - 60.0) / 70.0)


@dataclass
class EventFeed:
    """A fall-detector factory: every detector returns the events the test queued for the next frame."""

    queued: list[FallEvent] = field(default_factory=list)

    def __call__(self) -> EventFeed:
        return self

    def update(self, ts: datetime, acc_ms2: Any, gyr_rads: Any, rate_hz: float) -> list[FallEvent]:
        events, self.queued = self.queued, []
        return events


@dataclass
class Episodes:
    """The gateway's view: which (subject, rule) alerts are open, checking every outcome against it."""

    open: set[tuple[str, str, str]] = field(default_factory=set)
    confirmed: list[tuple[str, str, str]] = field(default_factory=list)

    def apply(self, outcomes: list[Outcome]) -> None:
        for o in outcomes:
            if o.key[2] == "sos":
                assert isinstance(o, Raise), o
            elif isinstance(o, Raise):
                assert o.key not in self.open, f"raised twice without a clear: {o.key}"
                self.open.add(o.key)
            elif isinstance(o, Confirm):
                assert o.key in self.open, f"confirmed a closed episode: {o.key}"
                self.confirmed.append(o.key)
            else:
                assert o.key in self.open, f"ended a closed episode: {o}"
                self.open.remove(o.key)


def play(ops: list[Any], episodes: Episodes) -> None:
    feed = EventFeed()
    engine = DetectionEngine(ConfigResolver(crew_overrides=CREWS).config_for, feed, FakeCoreTemp)
    now = T0
    for seq, op in enumerate(ops):
        now += timedelta(seconds=op.dt_s)
        if isinstance(op, FrameOp):
            ts = now - timedelta(seconds=op.backdate_s + (3600 if op.late else 0.3))
            feed.queued = [FallEvent(kind, ts + timedelta(seconds=0.5), peak_acc_ms2=30.0) for kind in op.events]
            if op.checkin:
                frame: Frame = CheckinFrame(op.device, seq, ts, sos=op.sos, cancel=op.cancel, checkin=True,
                                            **op.sections)  # fmt: skip
            else:
                frame = Frame(op.device, seq, ts, sos=op.sos, cancel=op.cancel, **op.sections)
            out = engine.on_frame(Received(frame, now, op.agent, op.late), op.crew, op.wbgt_ref_c, op.hav_points)
            assert all(o.draft.late == op.late for o in out if isinstance(o, Raise)), "a frame's lateness"
        elif isinstance(op, RobotOp):
            state = RobotState(op.robot, seq, now, op.kind, **op.fields)
            out = engine.on_robot_state(state, op.late, "solo")
        elif isinstance(op, LinkOp):
            out = engine.on_link(op.device, op.agent, op.link, now)
        else:
            out = engine.tick(now)
            assert not any(o.draft.late for o in out if isinstance(o, Raise)), "the clock raises live alerts only"
        episodes.apply(out)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations)
def test_no_rule_raises_twice_for_a_subject_without_a_clear_in_between(ops):
    play(ops, Episodes())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(frame_ops.map(lambda op: FrameOp(**{**op.__dict__, "late": True})), tick_ops), max_size=80))
def test_late_frames_alone_never_confirm_a_fall_nor_raise_a_timer_rule(ops):
    episodes = Episodes()
    play(ops, episodes)
    assert not [key for key in episodes.confirmed if key[2] == "fall"]
    assert not [key for key in episodes.open if key[2] in {"wearable_offline", "missed_checkin"}]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(15.01, 24.99), min_size=1, max_size=60))
def test_a_wearable_battery_hovering_between_15_and_25_pct_after_a_raise_never_flickers(levels):
    engine = DetectionEngine(ConfigResolver().config_for, EventFeed(), FakeCoreTemp)
    frames = [Frame("wear-01", i, T0 + timedelta(seconds=i), battery_pct=p)
              for i, p in enumerate([10.0, *levels])]  # fmt: skip
    outcomes = [o for f in frames for o in engine.on_frame(Received(f, f.ts, "agent-01"), None, None, None)]
    assert [(type(o).__name__, o.key[2]) for o in outcomes] == [("Raise", "wearable_battery_low")]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(3.0, 3.49), min_size=1, max_size=60))
def test_a_person_hovering_at_the_mowers_separation_distance_never_flickers(distances_m):
    engine = DetectionEngine(ConfigResolver().config_for, EventFeed(), FakeCoreTemp)
    states = [RobotState("mower-01", i, T0 + timedelta(seconds=i), "mower", protective_stop=True, nearest_human_m=d)
              for i, d in enumerate([1.0, *distances_m])]  # fmt: skip
    outcomes = [o for s in states for o in engine.on_robot_state(s, False, None)]
    assert [(type(o).__name__, o.key[2]) for o in outcomes] == [("Raise", "robot_protective_stop")]
