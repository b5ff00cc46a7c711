"""The ROS 2 topic contract shared by the robot nodes, the embedded simulator and the Gazebo bridge.

Names and types are what ``ros_gz_bridge`` publishes for the same world (``simulations/gazebo``), so the
nodes run unchanged against Gazebo or the embedded simulator. QoS is chosen per topic on purpose: sensor
streams best effort with a shallow queue (a late scan is useless), commands and safety state reliable, the
e-stop latched (transient local) so a node started later still learns it is pressed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Reliability(StrEnum):
    RELIABLE = "reliable"
    BEST_EFFORT = "best_effort"


class Durability(StrEnum):
    VOLATILE = "volatile"
    TRANSIENT_LOCAL = "transient_local"


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: str
    msg_type: str  # "package/msg/Type", as ros_gz_bridge and ros2 topic name them
    reliability: Reliability = Reliability.RELIABLE
    durability: Durability = Durability.VOLATILE
    depth: int = 10


CLOCK = TopicSpec("/clock", "rosgraph_msgs/msg/Clock", Reliability.BEST_EFFORT, depth=1)
CMD_VEL = TopicSpec("/cmd_vel", "geometry_msgs/msg/Twist")
CMD_VEL_NAV = TopicSpec("/cmd_vel_nav", "geometry_msgs/msg/Twist")
ODOM = TopicSpec("/odom", "nav_msgs/msg/Odometry", Reliability.BEST_EFFORT, depth=5)
SCAN = TopicSpec("/scan", "sensor_msgs/msg/LaserScan", Reliability.BEST_EFFORT, depth=5)
JOINT_STATES = TopicSpec("/joint_states", "sensor_msgs/msg/JointState", Reliability.BEST_EFFORT, depth=5)
BATTERY_STATE = TopicSpec("/battery_state", "sensor_msgs/msg/BatteryState")
PEOPLE = TopicSpec("/people", "geometry_msgs/msg/PoseArray", Reliability.BEST_EFFORT, depth=5)
PEOPLE_GROUND_TRUTH = TopicSpec("/sim/people_ground_truth", "geometry_msgs/msg/PoseArray")
ESTOP = TopicSpec("/estop", "std_msgs/msg/Bool", durability=Durability.TRANSIENT_LOCAL, depth=1)
PROTECTIVE_STOP = TopicSpec("/safety/protective_stop", "std_msgs/msg/Bool",
                            durability=Durability.TRANSIENT_LOCAL, depth=1)  # fmt: skip
NEAREST_HUMAN = TopicSpec("/safety/nearest_human", "std_msgs/msg/Float32", Reliability.BEST_EFFORT, depth=1)
LEADER = TopicSpec("/leader", "geometry_msgs/msg/PointStamped", Reliability.BEST_EFFORT, depth=5)
"""Follower: the person it follows, from its person tracker, in the frame of ``/people`` (the robot's)."""
NEAREST_OTHER_HUMAN = TopicSpec("/safety/nearest_other_human", "std_msgs/msg/Float32", Reliability.BEST_EFFORT,
                                depth=1)  # fmt: skip
"""Follower, only while its leader is tracked: nearest person other than the leader (m), NaN for nobody else."""
DIAGNOSTICS = TopicSpec("/diagnostics", "diagnostic_msgs/msg/DiagnosticArray")
PAYLOAD = TopicSpec("/payload_kg", "std_msgs/msg/Float32")
PAUSE = TopicSpec("/pause", "std_msgs/msg/Bool", durability=Durability.TRANSIENT_LOCAL, depth=1)
"""Set by the telemetry bridge on a gateway ``pause`` command; the safety monitor holds the robot stopped."""
FAULTS = TopicSpec("/faults", "diagnostic_msgs/msg/DiagnosticArray")
IMU = TopicSpec("/imu", "sensor_msgs/msg/Imu", Reliability.BEST_EFFORT, depth=5)
BLADE = TopicSpec("/blade", "std_msgs/msg/Bool", durability=Durability.TRANSIENT_LOCAL, depth=1)
"""Mower blade motor enable, set by the safety monitor; latched so a motor driver started later learns it."""

SIMULATED = (CLOCK, CMD_VEL, ODOM, SCAN, JOINT_STATES, BATTERY_STATE, PEOPLE_GROUND_TRUTH)
"""What the embedded simulator publishes (and subscribes to: ``/cmd_vel``), as ros_gz_bridge would."""
