"""Speed and separation monitor: a velocity filter between ``/cmd_vel_nav`` and ``/cmd_vel``.

Callbacks convert ROS messages to distances and call the pure ``services.separation.SpeedSupervisor``
(ISO/TS 15066 §5.5.4); the maths lives there.

Choices made here:
- ``/scan`` returns are treated as possible humans (conservative: an unclassified obstacle may be a worker
  crouching behind a bin) unless ``scan_as_human`` is false. Returns below ``scan_min_valid_m`` (the robot's
  own body, dust on the window) and non-finite ranges are ignored.
- A source counts only while fresh (``sensor_timeout_s``, 0.5 s). When neither ``/scan`` nor ``/people`` is
  fresh, the watchdog timer orders a protective stop (fail safe); the stop is left with the usual hysteresis.
- ``/estop`` true latches the e-stop. It is reset by setting the parameter ``estop_reset`` to true
  (``ros2 param set /safety_monitor estop_reset true``) once ``/estop`` is false; the robot then waits out a
  protective-stop hold before moving.
- Mower (``robot_kind: mower`` with ``blade_stop_on_tilt`` or ``blade_stop_on_lift``): ``/imu`` feeds the pure
  ``services.separation.BladeGuard``; on tilt or lift the drive gets a protective stop and the latched
  ``/blade`` goes false; after the guard's held clearance ``/blade`` returns to ``blade_on``. ``/blade`` is
  false from start-up until upright IMU samples have held (fail safe). Other robots ignore ``/imu``.
- Follower (``follows_leader``): ``/leader`` (the person it follows, from its tracker, in the frame of
  ``/people``) is used for statistics only. While ``/leader`` and ``/people`` are both fresh, the monitor publishes
  on ``/safety/nearest_other_human`` the nearest person outside ``leader_association_radius_m`` of the leader
  (NaN: nobody else); without a fresh leader it publishes nothing there, and the bridge leaves the field out.
  The speed decision is untouched: the leader is a person like any other (ISO/TS 15066 §5.5.4).
- The other robot-profile parameters (payload, lift counts) are declared here so a profile file is checked
  against one node; the monitor does not use them.

Run: ``vigie-safety-monitor --ros-args --params-file robot_nodes/profiles/follower.yaml``.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import rclpy
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from geometry_msgs.msg import PointStamped, PoseArray, Twist
from rcl_interfaces.msg import ParameterDescriptor  # type: ignore[import-untyped, unused-ignore]
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.publisher import Publisher
from sensor_msgs.msg import Imu, LaserScan
from std_msgs.msg import Bool, Float32

from robot_nodes import topics
from robot_nodes.qos import qos
from services.separation import (
    LEADER_ASSOCIATION_RADIUS_M,
    BladeDecision,
    BladeGuard,
    BladeGuardParams,
    Decision,
    SafetyState,
    SeparationParams,
    SpeedSupervisor,
    nearest_other_m,
    protective_distance_m,
)

logger = logging.getLogger(__name__)

NODE_NAME = "safety_monitor"

_PARAMETERS: dict[str, tuple[Any, str]] = {
    "robot_id": ("robot-unknown", "Robot id in diagnostics and logs"),
    "robot_kind": ("follower", "follower | mower | exoskeleton"),
    "v_max_ms": (1.0, "Maximum linear speed passed through (m/s)"),
    "reaction_time_s": (0.1, "T_r: sensing to braking command (s), ISO/TS 15066 §5.5.4"),
    "stopping_time_s": (0.3, "T_s: worst-case stopping time at v_max (s), ISO 10218-1 Annex B"),
    "intrusion_distance_m": (0.2, "C: intrusion distance (m), ISO 13855"),
    "position_uncertainty_human_m": (0.1, "Z_d: human position uncertainty of the sensor (m)"),
    "position_uncertainty_robot_m": (0.05, "Z_r: robot position uncertainty (m)"),
    "human_speed_ms": (1.6, "v_h: approach speed of a human (m/s), ISO 13855"),
    "resume_margin_m": (0.3, "Distance above S_p(0) required before resuming (m)"),
    "resume_hold_s": (1.0, "Time the resume margin must hold before resuming (s)"),
    "scan_min_valid_m": (0.1, "Laser returns closer than this are ignored (robot body, dust) (m)"),
    "scan_as_human": (True, "Treat every laser return as a possible human (conservative)"),
    "sensor_timeout_s": (0.5, "Protective stop when /scan and /people are both older than this (s)"),
    "watchdog_period_s": (0.05, "Period of the sensor watchdog and nearest-human check (s)"),
    "diagnostics_period_s": (1.0, "Period of /diagnostics (s)"),
    "estop_reset": (False, "Set true to reset a latched e-stop once /estop is false"),
    "payload_max_kg": (0.0, "Follower: rated payload (kg)"),
    "follows_leader": (False, "Follower: publish the nearest person other than /leader (statistics only)"),
    "leader_association_radius_m": (LEADER_ASSOCIATION_RADIUS_M, "Follower: people this close to /leader are it (m)"),
    "blade_on": (False, "Mower: blade engaged; /blade is true only when this is and the guard allows it"),
    "blade_stop_on_lift": (True, "Mower: stop blade and drive when lifted (from /imu)"),
    "blade_stop_on_tilt": (True, "Mower: stop blade and drive when tilted (from /imu)"),
    "tilt_stop_deg": (25.0, "Mower: tilt angle that stops blade and drive (deg), EN 50636-2-107 practice"),
    "lift_count_max_per_shift": (0, "Exoskeleton: assisted lifts per shift before an alert"),
    "assisted_kg": (0.0, "Exoskeleton: load the suit assists per lift (kg)"),
}


class SafetyMonitor(Node):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(NODE_NAME, **kwargs)
        for name, (default, description) in _PARAMETERS.items():
            self.declare_parameter(name, default, ParameterDescriptor(description=description))
        self._robot_id = self._param_str("robot_id")
        self._supervisor = SpeedSupervisor(
            SeparationParams(
                reaction_time_s=self._param_float("reaction_time_s"),
                stopping_time_s=self._param_float("stopping_time_s"),
                intrusion_distance_m=self._param_float("intrusion_distance_m"),
                position_uncertainty_human_m=self._param_float("position_uncertainty_human_m"),
                position_uncertainty_robot_m=self._param_float("position_uncertainty_robot_m"),
                human_speed_ms=self._param_float("human_speed_ms"),
            ),
            v_max_ms=self._param_float("v_max_ms"),
            resume_margin_m=self._param_float("resume_margin_m"),
            resume_hold_s=self._param_float("resume_hold_s"),
        )
        self._scan_min_valid_m = self._param_float("scan_min_valid_m")
        self._scan_as_human = bool(self.get_parameter("scan_as_human").value)
        self._sensor_timeout_s = self._param_float("sensor_timeout_s")
        # Per source: (nearest distance or None for nobody, receive time in s).
        self._people: tuple[float | None, float] | None = None
        self._scan: tuple[float | None, float] | None = None
        self._people_xy: list[tuple[float, float]] = []
        self._people_frame = ""
        # The header stamp (s) of the last /scan and /people taken into the decision: a lock-step driver (the
        # embedded simulator's tests) waits for a step's readings here before it sends the step's velocity command.
        self.sensor_stamps_s: dict[str, float] = {}
        self._requested = Twist()
        self._decision = Decision(0.0, SafetyState.PROTECTIVE_STOP, "starting")
        self._protective_stop: bool | None = None

        self._cmd_pub = self.create_publisher(Twist, topics.CMD_VEL.name, qos(topics.CMD_VEL))
        self._stop_pub = self.create_publisher(Bool, topics.PROTECTIVE_STOP.name, qos(topics.PROTECTIVE_STOP))
        self._nearest_pub = self.create_publisher(Float32, topics.NEAREST_HUMAN.name, qos(topics.NEAREST_HUMAN))
        self._diag_pub = self.create_publisher(DiagnosticArray, topics.DIAGNOSTICS.name, qos(topics.DIAGNOSTICS))
        self.create_subscription(Twist, topics.CMD_VEL_NAV.name, self._on_cmd_vel_nav, qos(topics.CMD_VEL_NAV))
        self.create_subscription(LaserScan, topics.SCAN.name, self._on_scan, qos(topics.SCAN))
        self.create_subscription(PoseArray, topics.PEOPLE.name, self._on_people, qos(topics.PEOPLE))
        self.create_subscription(Bool, topics.ESTOP.name, self._on_estop, qos(topics.ESTOP))
        # A gateway pause (a worker down near the robot) arrives through the telemetry bridge on /pause and
        # holds /cmd_vel at zero here, downstream of every velocity source, until it is lifted.
        self._paused = False
        self.create_subscription(Bool, topics.PAUSE.name, self._on_pause, qos(topics.PAUSE))
        # A follower that tells its leader apart reports the nearest OTHER person (statistics only).
        self._leader: tuple[tuple[float, float], float, str] | None = None  # (x, y), receive time s, frame
        self._leader_radius_m = self._param_float("leader_association_radius_m")
        self._nearest_other_pub: Publisher[Float32] | None = None
        if bool(self.get_parameter("follows_leader").value):
            self._nearest_other_pub = self.create_publisher(Float32, topics.NEAREST_OTHER_HUMAN.name,
                                                            qos(topics.NEAREST_OTHER_HUMAN))  # fmt: skip
            self.create_subscription(PointStamped, topics.LEADER.name, self._on_leader, qos(topics.LEADER))
        self._blade_guard: BladeGuard | None = None
        self._blade: BladeDecision | None = None
        self._blade_on: bool | None = None
        self._imu_at_s: float | None = None
        stop_on_tilt = bool(self.get_parameter("blade_stop_on_tilt").value)
        stop_on_lift = bool(self.get_parameter("blade_stop_on_lift").value)
        if self._param_str("robot_kind") == "mower" and (stop_on_tilt or stop_on_lift):
            self._blade_guard = BladeGuard(BladeGuardParams(
                tilt_stop_deg=self._param_float("tilt_stop_deg"), stop_on_tilt=stop_on_tilt, stop_on_lift=stop_on_lift,
            ))  # fmt: skip
            self._blade_pub = self.create_publisher(Bool, topics.BLADE.name, qos(topics.BLADE))
            self._publish_blade(False)  # no IMU sample yet
            self.create_subscription(Imu, topics.IMU.name, self._on_imu, qos(topics.IMU))
        self.add_post_set_parameters_callback(self._on_parameters_set)
        self.create_timer(self._param_float("watchdog_period_s"), self._on_watchdog)
        self.create_timer(self._param_float("diagnostics_period_s"), self._publish_diagnostics)
        self._evaluate(publish_cmd=False)
        self.get_logger().info(
            f"{self._robot_id} ({self._param_str('robot_kind')}): v_max {self._supervisor.v_max_ms:.2f} m/s, "
            f"stop at S_p(0) = {protective_distance_m(0.0, self._supervisor.params):.2f} m"
        )

    def _param_float(self, name: str) -> float:
        return float(self.get_parameter(name).value)

    def _param_str(self, name: str) -> str:
        return str(self.get_parameter(name).value)

    def _now_s(self) -> float:
        return float(self.get_clock().now().nanoseconds) / 1e9

    def _on_cmd_vel_nav(self, msg: Twist) -> None:
        self._requested = msg
        self._evaluate(publish_cmd=True)

    def _on_people(self, msg: PoseArray) -> None:
        distances = [math.hypot(p.position.x, p.position.y) for p in msg.poses]
        self._people = (min(distances) if distances else None, self._now_s())
        self._people_xy = [(p.position.x, p.position.y) for p in msg.poses]
        self._people_frame = msg.header.frame_id
        self.sensor_stamps_s[topics.PEOPLE.name] = _stamp_s(msg.header.stamp)
        self._publish_nearest()
        self._publish_nearest_other()
        self._evaluate(publish_cmd=False)

    def _on_scan(self, msg: LaserScan) -> None:
        low_m = max(self._scan_min_valid_m, float(msg.range_min))
        valid = [r for r in msg.ranges if math.isfinite(r) and low_m <= r <= msg.range_max]
        self._scan = (min(valid) if valid and self._scan_as_human else None, self._now_s())
        self.sensor_stamps_s[topics.SCAN.name] = _stamp_s(msg.header.stamp)
        self._evaluate(publish_cmd=False)

    def _on_leader(self, msg: PointStamped) -> None:
        x, y = msg.point.x, msg.point.y
        if math.isfinite(x) and math.isfinite(y):  # a tracker's NaN: no leader, let the last one go stale
            self._leader = ((x, y), self._now_s(), msg.header.frame_id)
            self._publish_nearest_other()

    def _publish_nearest_other(self) -> None:
        """Only while both the leader and the people are fresh: otherwise the robot cannot say who is who."""
        if self._nearest_other_pub is None or self._leader is None or not self._fresh(self._people):
            return
        leader_xy, leader_at_s, leader_frame = self._leader
        if self._now_s() - leader_at_s > self._sensor_timeout_s:  # the same freshness rule as the sensors
            return
        if leader_frame and self._people_frame and leader_frame != self._people_frame:
            # No tf here: positions in two frames cannot be compared, so say nothing (the gateway counts everyone).
            self.get_logger().warning(f"{self._robot_id}: /leader in {leader_frame!r}, /people in "
                                      f"{self._people_frame!r}: no nearest other person", once=True)  # fmt: skip
            return
        # /people only, as /safety/nearest_human: laser returns (bins, parked cars) are possible humans for the
        # speed decision, not detected persons, and the nearest OTHER person can never be nearer than the nearest.
        other = nearest_other_m(self._people_xy, leader_xy, association_radius_m=self._leader_radius_m)
        self._nearest_other_pub.publish(Float32(data=math.nan if other is None else other))

    def _on_pause(self, msg: Bool) -> None:
        self._paused = bool(msg.data)
        self._cmd_pub.publish(_scaled(self._requested, 0.0 if self._paused else self._decision.scale))

    def _on_imu(self, msg: Imu) -> None:
        assert self._blade_guard is not None
        a = msg.linear_acceleration
        self._imu_at_s = self._now_s()
        blade = self._blade_guard.update((a.x, a.y, a.z), self._imu_at_s)
        if self._blade is None or blade.stop != self._blade.stop:
            state = "stop" if blade.stop else "clear"
            self.get_logger().info(f"{self._robot_id}: blade guard {state} ({blade.reason})")
        self._blade = blade
        self._publish_blade(blade.blade_allowed and bool(self.get_parameter("blade_on").value))
        self._evaluate(publish_cmd=False)

    def _publish_blade(self, on: bool) -> None:
        if on != self._blade_on:
            self._blade_on = on
            self._blade_pub.publish(Bool(data=on))

    def _on_estop(self, msg: Bool) -> None:
        self._supervisor.estop(bool(msg.data))
        if msg.data:
            self.get_logger().warning(f"{self._robot_id}: e-stop pressed, latched")
        self._evaluate(publish_cmd=False)

    def _on_parameters_set(self, params: list[Parameter[Any]]) -> None:
        if any(p.name == "estop_reset" and p.value for p in params):
            if self._supervisor.reset_estop():
                self.get_logger().info(f"{self._robot_id}: e-stop reset")
            else:
                self.get_logger().warning(f"{self._robot_id}: e-stop reset refused, /estop still pressed")
            self._evaluate(publish_cmd=False)

    def _on_watchdog(self) -> None:
        if not self._sensors_fresh():
            self._publish_nearest()
        imu_silent = self._imu_at_s is None or self._now_s() - self._imu_at_s > self._sensor_timeout_s
        if self._blade_guard is not None and self._blade is not None and imu_silent:
            # A silent IMU cannot vouch that the mower is on the ground: blade off, stop, and make the guard
            # wait out its clearance hold again once samples return.
            self.get_logger().warning(f"{self._robot_id}: IMU silent, blade off")
            self._blade_guard = BladeGuard(self._blade_guard.params)
            self._blade = None
            self._publish_blade(False)
        self._evaluate(publish_cmd=False)

    def _fresh(self, source: tuple[float | None, float] | None) -> bool:
        return source is not None and self._now_s() - source[1] <= self._sensor_timeout_s

    def _sensors_fresh(self) -> bool:
        return self._fresh(self._people) or self._fresh(self._scan)

    def _nearest_m(self) -> float | None:
        distances = [s[0] for s in (self._people, self._scan) if s is not None and self._fresh(s) and s[0] is not None]
        return min(distances) if distances else None

    def _publish_nearest(self) -> None:
        nearest = self._people[0] if self._people is not None and self._fresh(self._people) else None
        self._nearest_pub.publish(Float32(data=math.nan if nearest is None else nearest))

    def _evaluate(self, *, publish_cmd: bool) -> None:
        """Re-decide on every input; a new stop also zeroes /cmd_vel at once, not at the next command."""
        twist = self._requested
        decision = self._supervisor.update(self._nearest_m(), self._requested_speed_ms(), self._now_s(),
                                           sensors_ok=self._sensors_fresh())  # fmt: skip
        if self._blade_guard is not None and (self._blade is None or self._blade.stop):
            reason = self._blade.reason if self._blade is not None else "no IMU sample yet"
            decision = Decision(0.0, SafetyState.PROTECTIVE_STOP, f"blade guard: {reason}")
        stopped = decision.state in (SafetyState.PROTECTIVE_STOP, SafetyState.ESTOP)
        if decision.state != self._decision.state:
            self.get_logger().info(f"{self._robot_id}: {self._decision.state} -> {decision.state} ({decision.reason})")
        newly_stopped = stopped and self._decision.scale > 0
        self._decision = decision
        if stopped != self._protective_stop:
            self._protective_stop = stopped
            self._stop_pub.publish(Bool(data=stopped))
        if publish_cmd or newly_stopped:
            self._cmd_pub.publish(_scaled(twist, 0.0 if self._paused else decision.scale))

    def _publish_diagnostics(self) -> None:
        level = {
            SafetyState.NORMAL: DiagnosticStatus.OK,
            SafetyState.SLOW: DiagnosticStatus.OK,
            SafetyState.PROTECTIVE_STOP: DiagnosticStatus.WARN,
            SafetyState.ESTOP: DiagnosticStatus.ERROR,
        }
        nearest = self._nearest_m()
        speed_ms, params = self._requested_speed_ms(), self._supervisor.params
        values = {
            "state": str(self._decision.state),
            "reason": self._decision.reason,
            "scale": f"{self._decision.scale:.3f}",
            "nearest_m": "none" if nearest is None else f"{nearest:.3f}",
            "protective_distance_m": f"{protective_distance_m(self._decision.scale * speed_ms, params):.3f}",
            "estop_latched": str(self._supervisor.estop_latched).lower(),
            "v_max_ms": f"{self._supervisor.v_max_ms:.2f}",
        }  # fmt: skip
        if self._blade_guard is not None:
            values["blade_on"] = str(bool(self._blade_on)).lower()
        status = DiagnosticStatus(
            level=level[self._decision.state],
            name=f"{NODE_NAME}: speed and separation",
            message=self._decision.reason,
            hardware_id=self._robot_id,
            values=[KeyValue(key=k, value=v) for k, v in values.items()],
        )
        array = DiagnosticArray(status=[status])
        array.header.stamp = self.get_clock().now().to_msg()
        self._diag_pub.publish(array)

    def _requested_speed_ms(self) -> float:
        return math.hypot(self._requested.linear.x, self._requested.linear.y)


def _stamp_s(stamp: Any) -> float:
    """A ``builtin_interfaces/Time`` header stamp in seconds."""
    return float(stamp.sec) + float(stamp.nanosec) * 1e-9


def _scaled(twist: Twist, scale: float) -> Twist:
    """Scale linear and angular parts alike, so the path's curvature is kept while slowing."""
    out = Twist()
    out.linear.x, out.linear.y, out.linear.z = (scale * twist.linear.x, scale * twist.linear.y,
                                                scale * twist.linear.z)  # fmt: skip
    out.angular.x, out.angular.y, out.angular.z = (scale * twist.angular.x, scale * twist.angular.y,
                                                   scale * twist.angular.z)  # fmt: skip
    return out


def main(args: list[str] | None = None) -> None:
    rclpy.init(args=args)
    node = SafetyMonitor()
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()


if __name__ == "__main__":
    main()
