from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import jsonschema
import pytest

from services.robot_telemetry import (
    Command,
    InvalidCommand,
    PauseCommand,
    PauseLatch,
    ReplayBuffer,
    StateBuilder,
    faults_from_diagnostics,
    parse_command,
    rfc3339_utc,
    yaw_from_quaternion,
)

SCHEMA = json.loads(Path("gateway/contract/robot_state.schema.json").read_text(encoding="utf-8"))
NOW = datetime(2026, 11, 26, 8, 15, 2, 500_000, tzinfo=UTC)


def full_builder() -> StateBuilder:
    b = StateBuilder("robot-01", "follower", first_seq=10)
    b.set_odometry(12.5, -3.0, 1.2, 1.1)
    b.set_battery_pct(77.0)
    b.set_estop(False)
    b.set_protective_stop(True)
    b.set_nearest_human_m(1.4)
    b.set_payload_kg(60.0)
    b.set_faults(["lidar: timeout"])
    return b


def test_state_carries_every_input_in_contract_v1_shape() -> None:
    state = full_builder().build(NOW)
    assert state == {
        "v": 1, "robot_id": "robot-01", "seq": 10, "ts": "2026-11-26T08:15:02.500Z", "kind": "follower",
        "pose": {"x_m": 12.5, "y_m": -3.0, "yaw_rad": 1.2}, "speed_ms": 1.1, "battery_pct": 77.0,
        "mode": "auto", "estop": False, "protective_stop": True, "nearest_human_m": 1.4, "payload_kg": 60.0,
        "faults": ["lidar: timeout"],
    }  # fmt: skip
    jsonschema.validate(state, SCHEMA)


def test_state_before_any_input_is_still_valid() -> None:
    state = StateBuilder("robot-01", "mower").build(NOW)
    assert "pose" not in state and "battery_pct" not in state
    assert state["nearest_human_m"] is None and state["faults"] == []
    jsonschema.validate(state, SCHEMA)


def test_seq_strictly_increases() -> None:
    b = full_builder()
    seqs = [b.build(NOW)["seq"] for _ in range(5)]
    assert seqs == [10, 11, 12, 13, 14]


def test_ts_is_utc_with_z_and_naive_times_are_refused() -> None:
    paris = timezone(timedelta(hours=1))
    assert rfc3339_utc(datetime(2026, 11, 26, 9, 0, tzinfo=paris)) == "2026-11-26T08:00:00.000Z"
    with pytest.raises(ValueError, match="naive"):
        rfc3339_utc(datetime(2026, 11, 26, 9, 0))  # noqa: DTZ001


def test_out_of_range_inputs_are_clamped_or_left_out_not_sent_invalid() -> None:
    b = StateBuilder("robot-01", "follower")
    b.set_odometry(2e6, -2e6, 10.0, 50.0)
    b.set_battery_pct(float("nan"))
    b.set_nearest_human_m(float("inf"))
    b.set_payload_kg(-3.0)
    b.set_faults([f"f{i}" + "x" * 200 for i in range(40)])
    state = b.build(NOW)
    jsonschema.validate(state, SCHEMA)
    assert state["pose"]["x_m"] == 1e6 and state["speed_ms"] == 20.0
    assert abs(state["pose"]["yaw_rad"]) <= math.pi
    assert "battery_pct" not in state and state["nearest_human_m"] is None and state["payload_kg"] == 0.0
    assert len(state["faults"]) == 32 and all(len(f) == 128 for f in state["faults"])


def test_a_nan_pose_keeps_the_previous_pose() -> None:
    b = full_builder()
    b.set_odometry(float("nan"), 0.0, 0.0, 0.0)
    assert b.build(NOW)["pose"]["x_m"] == 12.5


def test_paused_robot_reports_mode_paused() -> None:
    assert full_builder().build(NOW, paused=True)["mode"] == "paused"


def test_yaw_from_quaternion() -> None:
    assert yaw_from_quaternion(0.0, 0.0, 0.0, 1.0) == 0.0
    half = math.pi / 4
    assert yaw_from_quaternion(0.0, 0.0, math.sin(half), math.cos(half)) == pytest.approx(math.pi / 2)


def test_only_errors_and_stale_diagnostics_are_faults() -> None:
    assert faults_from_diagnostics([(0, "ok", ""), (1, "warm", "hot"), (2, "lidar", "timeout"), (3, "imu", "")]) == [
        "lidar: timeout",
        "imu",
    ]


def test_replay_buffer_yields_in_order() -> None:
    buf: ReplayBuffer[int] = ReplayBuffer(10)
    for i in range(5):
        buf.append(i)
    assert list(buf.drain()) == [0, 1, 2, 3, 4]
    assert len(buf) == 0 and buf.dropped == 0


def test_full_replay_buffer_drops_the_oldest_and_counts_it() -> None:
    buf: ReplayBuffer[int] = ReplayBuffer(3)
    for i in range(5):
        buf.append(i)
    assert buf.dropped == 2
    assert list(buf.drain()) == [2, 3, 4]


def test_replay_buffer_stopped_early_keeps_the_rest_in_order() -> None:
    buf: ReplayBuffer[int] = ReplayBuffer(5)
    for i in range(4):
        buf.append(i)
    it = buf.drain()
    assert next(it) == 0
    assert list(buf.drain()) == [1, 2, 3]


def test_replay_buffer_needs_room_for_one() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        ReplayBuffer[int](0)


def pause(alert_id: str | None) -> Command:
    return Command(PauseCommand.PAUSE, "worker too close", alert_id)


def resume(alert_id: str | None) -> Command:
    return Command(PauseCommand.RESUME, "resolved", alert_id)


def test_pause_then_resume_of_the_same_alert() -> None:
    latch = PauseLatch()
    assert latch.apply(pause("a1")) is True and latch.paused
    assert latch.apply(resume("a1")) is True and not latch.paused


def test_resume_for_another_alert_keeps_the_pause() -> None:
    latch = PauseLatch()
    latch.apply(pause("a1"))
    assert latch.apply(resume("a0")) is False
    assert latch.paused


def test_robot_moves_again_only_when_every_pause_is_resumed() -> None:
    latch = PauseLatch()
    latch.apply(pause("a1"))
    assert latch.apply(pause("a2")) is False
    latch.apply(resume("a1"))
    assert latch.paused and latch.reasons == ["worker too close"]
    latch.apply(resume("a2"))
    assert not latch.paused


def test_repeated_pause_is_idempotent() -> None:
    latch = PauseLatch()
    latch.apply(pause(None))
    latch.apply(pause(None))
    latch.apply(resume(None))
    assert not latch.paused


def test_parse_command() -> None:
    assert parse_command(b'{"cmd":"pause","reason":"fall","alert_id":"42"}') == Command(
        PauseCommand.PAUSE, "fall", "42"
    )
    assert parse_command(b'{"cmd":"resume","alert_id":7}') == Command(PauseCommand.RESUME, "", "7")


@pytest.mark.parametrize(
    "payload", [b"not json", b"[1]", b'{"cmd":"dance"}', b'{"reason":"x"}', b'{"cmd":"pause","alert_id":[1]}']
)
def test_bad_commands_are_refused(payload: bytes) -> None:
    with pytest.raises(InvalidCommand):
        parse_command(payload)


def test_pose_carries_lat_lon_from_the_map_origin_with_the_simulators_formula() -> None:
    from services.robot_telemetry import local_to_latlon
    from simulations.crew import local_to_latlon as crew_local_to_latlon

    b = StateBuilder("robot-01", "follower", origin_deg=(48.8566, 2.3522))
    b.set_odometry(120.0, -35.0, 0.0, 0.0)
    pose = b.build(NOW)["pose"]
    lat, lon = crew_local_to_latlon(48.8566, 2.3522, 120.0, -35.0)
    assert pose["lat"] == pytest.approx(float(lat), abs=1e-12) and pose["lon"] == pytest.approx(float(lon), abs=1e-12)
    assert local_to_latlon(48.8566, 2.3522, 0.0, 0.0) == (48.8566, 2.3522)
    jsonschema.validate(b.build(NOW), SCHEMA)


def test_a_nan_origin_sends_no_lat_lon() -> None:
    b = StateBuilder("robot-01", "follower", origin_deg=(math.nan, math.nan))
    b.set_odometry(1.0, 2.0, 0.0, 0.0)
    assert set(b.build(NOW)["pose"]) == {"x_m", "y_m", "yaw_rad"}


def test_a_fresh_nearest_other_person_is_sent_alongside_the_nearest_of_all() -> None:
    b = full_builder()
    b.set_nearest_other_human_m(3.2, at_s=100.0)
    state = b.build(NOW, clock_s=100.5)
    assert state["nearest_human_m"] == 1.4 and state["nearest_other_human_m"] == 3.2
    jsonschema.validate(state, SCHEMA)


@pytest.mark.parametrize("nobody", [None, math.nan, math.inf, -1.0])
def test_nobody_but_the_leader_is_null(nobody: float | None) -> None:
    b = full_builder()
    b.set_nearest_other_human_m(nobody, at_s=100.0)
    state = b.build(NOW, clock_s=100.0)
    assert "nearest_other_human_m" in state and state["nearest_other_human_m"] is None
    jsonschema.validate(state, SCHEMA)


def test_a_far_nearest_other_person_is_clamped_to_the_contract_range() -> None:
    b = full_builder()
    b.set_nearest_other_human_m(5000.0, at_s=100.0)
    assert b.build(NOW, clock_s=100.0)["nearest_other_human_m"] == 1000.0


def test_nearest_other_person_is_absent_until_received_and_once_stale() -> None:
    b = full_builder()
    assert "nearest_other_human_m" not in b.build(NOW, clock_s=100.0)  # a mower, or a follower without its leader
    b.set_nearest_other_human_m(2.0, at_s=100.0)
    assert b.build(NOW, clock_s=101.0)["nearest_other_human_m"] == 2.0  # exactly the 1 s limit
    state = b.build(NOW, clock_s=101.01)  # the monitor stopped: it lost the leader
    assert "nearest_other_human_m" not in state
    jsonschema.validate(state, SCHEMA)
    b.set_nearest_other_human_m(math.nan, at_s=101.5)
    assert b.build(NOW, clock_s=101.6)["nearest_other_human_m"] is None  # tracked again, nobody else


def test_nearest_other_person_age_defaults_to_the_state_time() -> None:
    b = StateBuilder("robot-01", "follower", nearest_other_max_age_s=0.5)
    b.set_nearest_other_human_m(2.0, at_s=NOW.timestamp())
    assert b.build(NOW + timedelta(seconds=0.4))["nearest_other_human_m"] == 2.0
    assert "nearest_other_human_m" not in b.build(NOW + timedelta(seconds=0.6))
