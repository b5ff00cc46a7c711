"""Robots: emergency stop, protective stop with a person inside the separation distance, faults, battery."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from services.alerts import Severity, SubjectType
from services.detection import Clear, DetectionEngine, Outcome, Raise
from services.model import RobotState
from tests.unit.test_detection_support import T0, engine, named


@dataclass
class Robot:
    """A robot bridge publishing a state a second."""

    engine: DetectionEngine
    robot_id: str = "mower-02"
    kind: str = "mower"
    crew_id: str | None = "parks-east"
    ts: datetime = T0
    seq: int = 0
    base: dict[str, Any] = field(default_factory=lambda: {"battery_pct": 80.0, "estop": False,
                                                          "protective_stop": False})  # fmt: skip

    def send(self, *, late: bool = False, **fields: Any) -> list[Outcome]:
        state = RobotState(self.robot_id, self.seq, self.ts, self.kind, **{**self.base, **fields})
        self.ts, self.seq = self.ts + timedelta(seconds=1), self.seq + 1
        return self.engine.on_robot_state(state, late, self.crew_id)


def test_an_emergency_stop_raises_critical_until_released():
    robot = Robot(engine(), "follower-01", "follower")
    assert robot.send() == []
    (estop,) = robot.send(estop=True)
    assert isinstance(estop, Raise)
    assert (estop.draft.rule, estop.draft.severity) == ("robot_estop", Severity.CRITICAL)
    assert (estop.draft.subject_type, estop.draft.subject_id, estop.draft.robot_id) == (
        SubjectType.ROBOT, "follower-01", "follower-01")  # fmt: skip
    assert robot.send(estop=True) == [] and robot.send(estop=None) == []
    assert named(robot.send(estop=False)) == [("clear", "robot_estop")]


def test_a_protective_stop_with_a_gardener_inside_the_mowers_3_m_raises_and_clears_beyond_3_5_m():
    robot = Robot(engine())
    assert robot.send(nearest_human_m=6.0) == []
    (stop,) = robot.send(protective_stop=True, nearest_human_m=2.1)
    assert isinstance(stop, Raise) and stop.draft.rule == "robot_protective_stop"
    assert stop.details == {"kind": "mower", "nearest_human_m": 2.1, "separation_m": 3.0}
    for distance_m in (2.9, 3.1, 3.4, 2.5):  # hovering around the distance: no flicker
        assert robot.send(protective_stop=True, nearest_human_m=distance_m) == []
    (cleared,) = robot.send(protective_stop=True, nearest_human_m=3.6)
    assert isinstance(cleared, Clear) and cleared.reason == "nobody inside the separation distance"


def test_a_protective_stop_ends_the_alert_when_the_robot_resumes():
    robot = Robot(engine(), "follower-01", "follower")
    assert named(robot.send(protective_stop=True, nearest_human_m=0.3)) == [("raise", "robot_protective_stop")]
    assert named(robot.send(protective_stop=False, nearest_human_m=0.3)) == [("clear", "robot_protective_stop")]


def test_a_protective_stop_with_nobody_near_is_not_a_near_miss():
    robot = Robot(engine(), "follower-01", "follower")
    assert robot.send(protective_stop=True, nearest_human_m=None) == []
    assert robot.send(protective_stop=True, nearest_human_m=1.2) == []  # beyond the follower's 0.5 m


def test_faults_raise_once_and_clear_when_none_is_reported():
    robot = Robot(engine())
    (fault,) = robot.send(faults=("blade_motor_overcurrent",))
    assert isinstance(fault, Raise) and fault.details["faults"] == ("blade_motor_overcurrent",)
    assert robot.send(faults=("blade_motor_overcurrent", "gps_degraded")) == []
    assert named(robot.send(faults=())) == [("clear", "robot_fault")]


def test_robot_battery_low_at_20_pct_clears_at_30_pct():
    robot = Robot(engine())
    out = []
    for battery_pct in (25.0, 21.0, 20.0, 19.0, 24.0, 20.0, 29.9, 30.0, 27.0):
        out += robot.send(battery_pct=battery_pct)
    assert named(out) == [("raise", "robot_battery_low"), ("clear", "robot_battery_low")]
    assert isinstance(out[0], Raise) and out[0].draft.severity is Severity.INFO


def test_a_late_robot_state_raises_marked_late_and_an_older_one_is_ignored():
    robot = Robot(engine())
    (estop,) = robot.send(late=True, estop=True)
    assert isinstance(estop, Raise) and estop.draft.late
    robot.ts -= timedelta(seconds=5)
    assert robot.send(estop=False) == []  # older than the newest state judged


def test_a_crew_override_changes_the_mowers_separation_distance():
    detection = engine(crews={"parks-east": {"mower_separation_m": 5.0}})
    east, west = Robot(detection, "mower-02"), Robot(detection, "mower-03", crew_id="parks-west")
    assert named(east.send(protective_stop=True, nearest_human_m=4.0)) == [("raise", "robot_protective_stop")]
    assert west.send(protective_stop=True, nearest_human_m=4.0) == []
