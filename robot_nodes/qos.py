"""rclpy QoS profiles from the topic contract (imports rclpy: robot side only)."""

from __future__ import annotations

from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

from robot_nodes.topics import Durability, Reliability, TopicSpec


def qos(spec: TopicSpec) -> QoSProfile:
    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=spec.depth,
        reliability=ReliabilityPolicy.RELIABLE if spec.reliability is Reliability.RELIABLE
        else ReliabilityPolicy.BEST_EFFORT,
        durability=DurabilityPolicy.TRANSIENT_LOCAL if spec.durability is Durability.TRANSIENT_LOCAL
        else DurabilityPolicy.VOLATILE,
    )  # fmt: skip
