"""A follower behind its collector, end to end over real rclpy and a real broker, in lock-step:
simulated world (/people, /leader) → safety monitor → telemetry bridge → MQTT robot state.

The robot stands still (navigation asks for nothing) while the test places the workers: the state's
``nearest_human_m`` counts the leader, ``nearest_other_human_m`` everyone else.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from gateway.runtime.mosquitto import MosquittoBroker
from robot_nodes.telemetry_bridge import state_topic
from simulations.robot_world.world import Pose2D, World, WorldSpec
from tests.helpers import wait_until
from tests.robot_harness import RobotStack, robot_stack

pytestmark = [pytest.mark.integration, pytest.mark.timeout(30)]

LEADER_AHEAD_M = 1.5  # the collector stands just ahead, within the follower's slow-down zone (2 × S_p)
FLOAT32_TOL_M = 1e-5  # distances travel as std_msgs/Float32


class States:
    """Every robot state the broker delivers for one robot, decoded."""

    def __init__(self, broker: MosquittoBroker, robot_id: str) -> None:
        self._states: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"states-{uuid.uuid4().hex[:8]}")
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.connect(broker.host, broker.port)
        self.client.subscribe(state_topic(robot_id), qos=1)
        self.client.loop_start()
        assert subscribed.wait(5), "no SUBACK"

    def _on_message(self, _c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        with self._lock:
            self._states.append(json.loads(message.payload))

    def count(self) -> int:
        with self._lock:
            return len(self._states)

    def since(self, index: int) -> list[dict[str, Any]]:
        with self._lock:
            return self._states[index:]

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def follower(broker: MosquittoBroker) -> Iterator[tuple[RobotStack, States]]:
    spec = WorldSpec("yard", [], Pose2D(0.0, 0.0, 0.0), [(0.0, 0.0)], (-30.0, 30.0, -10.0, 10.0))
    world = World(spec, seed=4, n_workers=2, approach_probability=0.0, leader=0)
    leader, other = world.workers
    # Each worker stands at its only waypoint; the other one is out of the lidar's 12 m range for now.
    leader.x_m, leader.y_m, leader.waypoints = LEADER_AHEAD_M, 0.0, [(LEADER_AHEAD_M, 0.0)]
    other.x_m, other.y_m, other.waypoints = -25.0, 0.0, [(-25.0, 0.0)]
    with robot_stack(world, broker.url, follows_leader=True) as robot:
        states = States(broker, robot.robot_id)
        try:
            yield robot, states
        finally:
            states.close()


def settle(robot: RobotStack, states: States, steps: int = 5) -> dict[str, Any]:
    """Step the world and return the last state the bridge built after the steps (10 Hz: one per step)."""
    before = states.count()
    robot.step(steps)
    later = wait_until(lambda: states.since(before + steps - 1), timeout_s=5, message="no state after the steps")
    return later[-1]


def test_a_follower_reports_its_leader_as_nearest_and_nobody_else_then_the_other_worker(follower):
    robot, states = follower
    alone = settle(robot, states)
    assert alone["nearest_human_m"] == pytest.approx(LEADER_AHEAD_M, abs=FLOAT32_TOL_M)
    assert "nearest_other_human_m" in alone and alone["nearest_other_human_m"] is None

    other = robot.world.workers[1]
    other.x_m, other.y_m, other.waypoints = 0.0, -2.0, [(0.0, -2.0)]  # a co-worker 2 m to the robot's right
    both = settle(robot, states)
    assert both["nearest_human_m"] == pytest.approx(LEADER_AHEAD_M, abs=FLOAT32_TOL_M)
    assert both["nearest_other_human_m"] == pytest.approx(2.0, abs=FLOAT32_TOL_M)
