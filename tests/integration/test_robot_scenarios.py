"""End to end: simulated world → safety monitor → telemetry bridge → MQTT → gateway → robot command, in lock-step."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from gateway.runtime.mosquitto import MosquittoBroker
from services.separation import SeparationParams, protective_distance_m
from simulations.robot_world.world import BatterySpec, DiffDriveRobot, Pose2D, World, WorldSpec
from tests.gateway_harness import Publisher, running_gateway
from tests.helpers import wait_until
from tests.robot_harness import alerts, robot_stack

pytestmark = [pytest.mark.integration, pytest.mark.timeout(30)]

PARAMS = SeparationParams()  # the monitor's defaults
NAV_SPEED_MS = 1.0
LIDAR_TOL_M = 0.005


def open_ground() -> WorldSpec:
    """Nothing but the robot and the workers: every lidar return is a person."""
    return WorldSpec("yard", [], Pose2D(0.0, 0.0, 0.0), [(0.0, 0.0)], (-30.0, 30.0, -10.0, 10.0))


def robot_states(database_url: str, robot_id: str) -> list[dict[str, Any]]:
    with psycopg.connect(database_url) as conn:
        cur = conn.execute("SELECT seq, ts, protective_stop, nearest_human_m FROM robot_states"
                           " WHERE robot_id = %s ORDER BY seq, ts", (robot_id,))  # fmt: skip
        names = [c.name for c in cur.description or []]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def test_robot_slows_and_stops_before_protective_distance_as_a_worker_walks_at_it(
    broker: MosquittoBroker, database_url: str
) -> None:
    world = World(open_ground(), seed=1, n_workers=1, approach_probability=0.0)
    worker = world.workers[0]
    # Head-on, 0.3 m to the side of the robot's path: the worker walks past it and on.
    worker.x_m, worker.y_m, worker.speed_ms, worker.waypoints = 9.0, 0.3, 1.0, [(-20.0, 0.3)]
    with running_gateway(broker.url, database_url) as gateway, robot_stack(world, broker.url) as robot:
        robot.nav.speed_ms = NAV_SPEED_MS
        robot.step_until(lambda: robot.world.robot.pose.x_m > worker.x_m + 2, max_sim_s=20, message="worker not passed")
        samples = robot.samples
        moving = [s for s in samples if s.speed_ms > 0]
        assert max(s.speed_ms for s in moving) == pytest.approx(NAV_SPEED_MS)
        first_stop = next(i for i, s in enumerate(samples) if i and samples[i - 1].speed_ms > 0 and s.speed_ms == 0)
        slowed = [s for s in samples[:first_stop] if 0 < s.speed_ms < NAV_SPEED_MS - 1e-6]
        assert slowed, "the robot went from full speed to a stop without slowing"
        # The supervisor's contract: a speed is only commanded while the person is beyond S_p of that speed,
        # up to how far the 1° lidar ray nearest the worker's centre lands beyond the true surface (< 1 mm here).
        for before, after in itertools.pairwise(samples):
            if after.speed_ms > 0:
                assert before.nearest_surface_m >= protective_distance_m(after.speed_ms, PARAMS) - LIDAR_TOL_M, after
        assert samples[first_stop].nearest_surface_m > PARAMS.intrusion_distance_m, "stopped too late"

        alert = wait_until(lambda: alerts(gateway, "robot_protective_stop"), timeout_s=10,
                           message="no robot_protective_stop alert")[0]  # fmt: skip
        assert alert["robot_id"] == robot.robot_id
        closest_m = min(s.nearest_surface_m for s in samples) + 0.25  # /people reports the worker's centre
        assert closest_m <= alert["details"]["nearest_human_m"] < alert["details"]["separation_m"]


def test_a_fall_near_the_robot_pauses_it_until_the_alert_is_resolved(broker: MosquittoBroker,
                                                                     database_url: str) -> None:  # fmt: skip
    world = World(open_ground(), seed=2, n_workers=1, falls={0: 6.0}, approach_probability=0.0)
    worker = world.workers[0]
    worker.x_m, worker.y_m, worker.waypoints = 4.0, 2.5, [(4.0, 2.5)]  # at work beside the robot's path
    publisher = Publisher(broker.host, broker.port)
    try:
        with running_gateway(broker.url, database_url, late_after_s=120) as gateway, \
                robot_stack(world, broker.url, wearables=publisher) as robot:  # fmt: skip
            gateway.assign(worker.device_id, "agent-fall", valid_from="2020-01-01T00:00:00Z")
            robot.nav.speed_ms = 0.5
            alert = robot.step_until(lambda: alerts(gateway, "fall"), max_sim_s=30, message="no fall alert")[0]
            assert alert["robot_id"] == robot.robot_id
            wait_until(lambda: robot.nav.pauses[-1:] == [True], timeout_s=5, message="/pause not set")
            robot.step(10)
            assert all(s.speed_ms == 0 and s.nav_speed_ms == 0.5 for s in robot.samples[-9:])

            gateway.http.post(f"/api/v1/alerts/{alert['alert_id']}/resolve",
                              json={"by": "Inès", "reason": "real_incident"}).raise_for_status()  # fmt: skip
            wait_until(lambda: robot.nav.pauses[-1] is False, timeout_s=5, message="/pause not lifted")
            robot.step_until(lambda: robot.samples[-1].speed_ms > 0, max_sim_s=3, message="robot did not resume")
            assert robot.nav.pauses == [False, True, False]
    finally:
        publisher.close()


def test_estop_battery_and_a_60_s_link_cut_reach_the_gateway_without_loss(broker: MosquittoBroker,
                                                                          database_url: str) -> None:  # fmt: skip
    # 2 mAh: the idle drain (15 W at 24 V) takes it to 20 % in about 9 simulated seconds.
    tiny = DiffDriveRobot(Pose2D(), battery=BatterySpec(capacity_ah=0.002))
    world = World(open_ground(), seed=3, n_workers=0, robot=tiny)
    with running_gateway(broker.url, database_url) as gateway, \
            robot_stack(world, broker.url, bridge_rate_hz=2.0) as robot:  # fmt: skip
        robot.nav.press_estop()
        estop = robot.step_until(lambda: alerts(gateway, "robot_estop"), max_sim_s=10, message="no robot_estop")
        assert estop[0]["robot_id"] == robot.robot_id
        battery = robot.step_until(lambda: alerts(gateway, "robot_battery_low"), max_sim_s=20,
                                   message="no robot_battery_low")  # fmt: skip
        assert battery[0]["details"]["battery_pct"] <= 20

        broker.stop()
        wait_until(lambda: not robot.bridge.connected, timeout_s=5, message="bridge did not notice the cut")
        cut_at = datetime.now(UTC)
        buffered_before = len(robot.bridge.buffer)
        robot.step(600)  # 60 simulated seconds at dt 0.1 s: 120 states at 2 Hz
        buffered = len(robot.bridge.buffer) - buffered_before
        assert buffered == 120
        restored_at = datetime.now(UTC)
        broker.start()

        def all_stored() -> list[dict[str, Any]]:
            states = robot_states(database_url, robot.robot_id)
            during = [s for s in states if cut_at <= s["ts"] <= restored_at]
            return states if len(during) >= buffered else []

        states = wait_until(all_stored, timeout_s=15, interval_s=0.2, message="buffered states not stored")
        seqs = [s["seq"] for s in states]
        assert len(seqs) == len(set(seqs)), "a state stored twice"
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "a gap in seq"
        assert len([s for s in states if cut_at <= s["ts"] <= restored_at]) == buffered
