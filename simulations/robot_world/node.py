"""``EmbeddedSimulator``: the kinematic world (``world.py``) behind the same ROS 2 topics Gazebo + ros_gz_bridge
would give (``robot_nodes.topics.SIMULATED``), plus ``/people``, a perfect person detector, and, when the robot
follows a worker (``leader``), ``/leader``, a perfect tracker of that worker.

Two ways to run it. Lock-step (``real_time`` false, for tests): nothing moves until ``step(n)`` is called,
which advances the world by ``n × dt_s`` and publishes every topic after each step, ``/clock`` included, so
nodes running with ``use_sim_time`` see exactly the simulated time the test drives. Real time: a wall timer
calls ``step(1)`` every ``dt_s``. Message stamps are always simulated time.
"""

from __future__ import annotations

import argparse
import logging
import math
import threading
from typing import Any

import rclpy
from builtin_interfaces.msg import Time
from geometry_msgs.msg import PointStamped, Pose, PoseArray, Twist
from nav_msgs.msg import Odometry
from rclpy.context import Context
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.publisher import Publisher
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import BatteryState, JointState, LaserScan

from robot_nodes import topics
from robot_nodes.qos import qos
from robot_nodes.topics import TopicSpec
from simulations.robot_world.world import World

log = logging.getLogger(__name__)
WHEEL_JOINTS = ("left_wheel_joint", "right_wheel_joint")
ODOM_FRAME, BASE_FRAME, LIDAR_FRAME, WORLD_FRAME = "odom", "base_link", "lidar_link", "world"


def _stamp(t_s: float) -> Time:
    ns = round(t_s * 1e9)
    return Time(sec=ns // 1_000_000_000, nanosec=ns % 1_000_000_000)


def _yaw_quaternion(pose: Pose, yaw_rad: float) -> None:
    pose.orientation.z = math.sin(yaw_rad / 2)
    pose.orientation.w = math.cos(yaw_rad / 2)


class EmbeddedSimulator(Node):
    """One robot in a kinematic world, publishing the simulator's share of the topic contract."""

    def __init__(self, world: World | None = None, *, node_name: str = "embedded_simulator",
                 namespace: str = "", context: Context | None = None) -> None:
        super().__init__(node_name, namespace=namespace, context=context)
        self.declare_parameter("world", "street", _describe("street or park (ignored if a World is given)"))
        self.declare_parameter("seed", 0, _describe("seed for workers' behaviour"))
        self.declare_parameter("workers", 2, _describe("number of simulated workers"))
        self.declare_parameter("dt_s", 0.1, _describe("simulation step, seconds"))
        self.declare_parameter("real_time", False, _describe("step on a wall timer instead of step(n) calls"))
        self.declare_parameter("leader", -1, _describe("worker the robot follows, published on /leader; -1: none"
                                                       " (ignored if a World is given)"))
        self.dt_s = float(self.get_parameter("dt_s").value)
        if self.dt_s <= 0:
            raise ValueError("dt_s must be > 0")
        self.world = world or World.named(str(self.get_parameter("world").value),
                                          seed=int(self.get_parameter("seed").value),
                                          n_workers=int(self.get_parameter("workers").value),
                                          leader=_leader(int(self.get_parameter("leader").value)))
        self._lock = threading.Lock()  # /cmd_vel arrives on the executor, step() may run on the test's thread

        def pub(spec: TopicSpec, msg_type: type) -> Publisher[Any]:
            # Relative names (no leading slash) so an optional robot namespace applies; /clock stays global.
            return self.create_publisher(msg_type, spec.name.lstrip("/"), qos(spec))

        self._clock_pub = self.create_publisher(Clock, topics.CLOCK.name, qos(topics.CLOCK))
        self._odom = pub(topics.ODOM, Odometry)
        self._scan = pub(topics.SCAN, LaserScan)
        self._joints = pub(topics.JOINT_STATES, JointState)
        self._battery = pub(topics.BATTERY_STATE, BatteryState)
        self._truth = pub(topics.PEOPLE_GROUND_TRUTH, PoseArray)
        self._people = pub(topics.PEOPLE, PoseArray)
        self._leader = pub(topics.LEADER, PointStamped)
        self.create_subscription(Twist, topics.CMD_VEL.name.lstrip("/"), self._on_cmd_vel, qos(topics.CMD_VEL))
        self.cmd_count = 0
        if bool(self.get_parameter("real_time").value):
            self.create_timer(self.dt_s, lambda: self.step(1))

    def _on_cmd_vel(self, msg: Twist) -> None:
        with self._lock:
            self.world.robot.command(msg.linear.x, msg.angular.z)
            self.cmd_count += 1

    @property
    def sim_time_s(self) -> float:
        return self.world.t_s

    def step(self, n: int = 1) -> None:
        """Advance the world ``n`` steps of ``dt_s``, publishing every topic after each."""
        for _ in range(n):
            with self._lock:
                self.world.step(self.dt_s)
            self.publish_all()

    def publish_all(self) -> None:
        w = self.world
        stamp = _stamp(w.t_s)
        self._clock_pub.publish(Clock(clock=stamp))
        self._odom.publish(self._odometry(stamp))
        self._scan.publish(self._laser_scan(stamp))
        self._joints.publish(self._joint_state(stamp))
        self._battery.publish(self._battery_state(stamp))
        self._truth.publish(self._pose_array(stamp, WORLD_FRAME, w.people_xy().tolist()))
        leader = w.leader_in_robot_frame()
        if leader is not None:  # before /people, so a monitor pairs each detection with this step's leader
            self._leader.publish(self._point(stamp, BASE_FRAME, leader))
        self._people.publish(self._pose_array(stamp, BASE_FRAME, w.people_in_robot_frame().tolist()))

    def _odometry(self, stamp: Time) -> Odometry:
        r = self.world.robot
        msg = Odometry()
        msg.header.stamp, msg.header.frame_id, msg.child_frame_id = stamp, ODOM_FRAME, BASE_FRAME
        msg.pose.pose.position.x, msg.pose.pose.position.y = r.pose.x_m, r.pose.y_m
        _yaw_quaternion(msg.pose.pose, r.pose.yaw_rad)
        msg.twist.twist.linear.x, msg.twist.twist.angular.z = r.speed_ms, r.yaw_rate_rads
        return msg

    def _laser_scan(self, stamp: Time) -> LaserScan:
        lidar = self.world.lidar
        msg = LaserScan()
        msg.header.stamp, msg.header.frame_id = stamp, LIDAR_FRAME
        msg.angle_min, msg.angle_max = lidar.angle_min_rad, lidar.angle_max_rad
        msg.angle_increment = lidar.angle_increment_rad
        msg.scan_time = 1.0 / lidar.update_rate_hz
        msg.range_min, msg.range_max = lidar.range_min_m, lidar.range_max_m
        msg.ranges = self.world.scan().astype("float32").tolist()
        return msg

    def _joint_state(self, stamp: Time) -> JointState:
        r = self.world.robot
        msg = JointState()
        msg.header.stamp = stamp
        msg.name = list(WHEEL_JOINTS)
        msg.position = r.wheel_angles_rad.tolist()
        msg.velocity = list(r.wheel_speeds_rads)
        return msg

    def _battery_state(self, stamp: Time) -> BatteryState:
        r = self.world.robot
        spec = r.battery
        msg = BatteryState()
        msg.header.stamp = stamp
        msg.voltage = spec.voltage_v
        msg.current = -r.power_w / spec.voltage_v  # negative: discharging (sensor_msgs/BatteryState)
        msg.charge, msg.capacity, msg.design_capacity = r.charge_ah, spec.capacity_ah, spec.capacity_ah
        msg.percentage = r.battery_fraction
        msg.power_supply_status = BatteryState.POWER_SUPPLY_STATUS_DISCHARGING
        msg.power_supply_technology = BatteryState.POWER_SUPPLY_TECHNOLOGY_LION
        msg.present = True
        return msg

    @staticmethod
    def _pose_array(stamp: Time, frame_id: str, xy: list[list[float]]) -> PoseArray:
        msg = PoseArray()
        msg.header.stamp, msg.header.frame_id = stamp, frame_id
        for x, y in xy:
            pose = Pose()
            pose.position.x, pose.position.y = x, y
            pose.orientation.w = 1.0
            msg.poses.append(pose)
        return msg

    @staticmethod
    def _point(stamp: Time, frame_id: str, xy: tuple[float, float]) -> PointStamped:
        msg = PointStamped()
        msg.header.stamp, msg.header.frame_id = stamp, frame_id
        msg.point.x, msg.point.y = xy
        return msg


def _leader(index: int) -> int | None:
    return None if index < 0 else index


def _describe(text: str) -> object:
    from rcl_interfaces.msg import ParameterDescriptor

    return ParameterDescriptor(description=text)


def main(argv: list[str] | None = None) -> int:
    """Run the simulator in real time (``python -m simulations.robot_world``); ROS arguments pass through."""
    parser = argparse.ArgumentParser(prog="python -m simulations.robot_world", description=__doc__)
    parser.add_argument("--namespace", default="", help="robot namespace, e.g. /follower_1")
    parser.add_argument("--mqtt", default=None, help="also publish the workers' wearable frames to mqtt://host:port")
    args, ros_args = parser.parse_known_args(argv)
    logging.basicConfig(level=logging.INFO)
    rclpy.init(args=["prog", "--ros-args", "-p", "real_time:=true", *ros_args])
    node = EmbeddedSimulator(namespace=args.namespace)
    wearables = None
    if args.mqtt:
        from simulations.robot_world.wearables import WearableBridge

        bridge = wearables = WearableBridge.connect(node.world, args.mqtt)

        def publish_wearables() -> None:
            bridge.publish_second(node.world)

        node.create_timer(1.0, publish_wearables)
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if wearables is not None:
            wearables.close()
        node.destroy_node()
        rclpy.try_shutdown()
    return 0
