"""The crew simulator speaks contract v1 and behaves like a crew: specification by example."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from jsonschema import Draft202012Validator

from simulations.agents import Activity
from simulations.crew import CrewSimulator
from simulations.incidents import Incidents, IncidentSpec, parse_incident, resolve
from simulations.robots import RobotSimulator
from simulations.roster import RobotKind, Team, make_roster

CONTRACT = Path(__file__).resolve().parents[2] / "gateway" / "contract"
START = datetime(2026, 6, 3, 7, 30, tzinfo=UTC)
SEED = 11
DURATION_S = 46
FALLER, FALL_S = 0, 8  # agent-0001 is the collector robot-01 follows
SOS_AGENT, SOS_S = 9, 5
ROSTER = make_roster(16, 6, SEED)  # crew-01 collectors (0-7), crew-02 gardeners (8-15)
Payload = dict[str, Any]
INCIDENTS = Incidents(sos=frozenset({(SOS_AGENT, SOS_S)}), falls=frozenset({(FALLER, FALL_S)}))


def _validator(name: str) -> Draft202012Validator:
    schema = json.loads((CONTRACT / name).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _assert_rfc3339_utc(ts: str) -> None:
    # jsonschema only checks "date-time" when rfc3339-validator is installed: check it here regardless.
    assert ts.endswith("Z")
    assert datetime.fromisoformat(ts).utcoffset() == timedelta(0)


@pytest.fixture(scope="module")
def frames() -> list[list[Payload]]:
    """frames[t][agent] for a 46-s shift with one fall and one SOS."""
    sim = CrewSimulator(ROSTER, seed=SEED, start=START, incidents=INCIDENTS)
    return [sim.frames_at(t) for t in range(DURATION_S)]


@pytest.fixture(scope="module")
def robot_states() -> list[list[Payload]]:
    sim = RobotSimulator(ROSTER, seed=SEED, start=START, incidents=INCIDENTS, rate_hz=2.0)
    return [sim.states_at(k / 2) for k in range(2 * DURATION_S)]


def _acc(frame: Payload) -> np.ndarray:
    return np.asarray(frame["imu"]["acc_ms2"])


def _gyr(frame: Payload) -> np.ndarray:
    return np.asarray(frame["imu"]["gyr_rads"])


def test_every_frame_matches_the_contract_schema(frames):
    validator = _validator("frame.schema.json")
    checked = [f for second in frames[:15] for f in second]  # all agents, incidents included; IMU is slow
    for frame in checked:
        errors = [e.message for e in validator.iter_errors(frame)]
        assert not errors, (frame["device_id"], frame["ts"], errors[:3])
        _assert_rfc3339_utc(frame["ts"])
        assert orjson.loads(orjson.dumps(frame)) == frame  # plain JSON types, not numpy scalars
        assert len(frame["imu"]["acc_ms2"]) == len(frame["imu"]["gyr_rads"]) == frame["imu"]["rate_hz"] == 50
    sections = {key for f in checked for key in f} | {key for f in checked for key in f["env"]}
    assert {"hav", "lift", "wbv", "globe_temp_c", "sos", "cancel", "gps", "noise"} <= sections


def test_every_robot_state_matches_the_contract_schema(robot_states):
    validator = _validator("robot_state.schema.json")
    for state in (s for tick in robot_states for s in tick):
        errors = [e.message for e in validator.iter_errors(state)]
        assert not errors, (state["robot_id"], state["ts"], errors[:3])
        assert orjson.loads(orjson.dumps(state)) == state  # plain JSON types, not numpy scalars
        _assert_rfc3339_utc(state["ts"])
    assert {s["kind"] for s in robot_states[0]} == {"follower", "mower", "exoskeleton"}


def test_seq_strictly_increases_per_device_and_per_robot(frames, robot_states):
    for stream in (frames, robot_states):
        seqs = np.array([[m["seq"] for m in tick] for tick in stream])
        assert (np.diff(seqs, axis=0) > 0).all()


def test_frames_are_stamped_at_the_start_of_each_second_and_robots_at_2_hz(frames, robot_states):
    assert {f["ts"] for f in frames[0]} == {"2026-06-03T07:30:00.000Z"}
    assert {f["ts"] for f in frames[45]} == {"2026-06-03T07:30:45.000Z"}
    assert {s["ts"] for s in robot_states[3]} == {"2026-06-03T07:30:01.500Z"}


def test_same_seed_replays_the_same_shift_and_another_seed_does_not(frames):
    again = CrewSimulator(ROSTER, seed=SEED, start=START, incidents=INCIDENTS)
    assert [again.frames_at(t) for t in range(DURATION_S)] == frames
    other = CrewSimulator(ROSTER, seed=SEED + 1, start=START, incidents=INCIDENTS)
    assert other.frames_at(3) != frames[3]


def test_a_second_renders_the_same_whether_or_not_earlier_seconds_were_rendered(frames):
    sim = CrewSimulator(ROSTER, seed=SEED, start=START, incidents=INCIDENTS)
    assert sim.frames_at(30) == frames[30]
    assert sim.frames_at(12) == frames[12]  # going back replays from the start


def test_encoded_frames_are_the_frames_as_json(frames):
    sim = CrewSimulator(ROSTER, seed=SEED, start=START, incidents=INCIDENTS)
    assert sim.encoded_frames_at(FALL_S) == [orjson.dumps(f) for f in frames[FALL_S]]


def test_scripted_fall_shows_impact_then_lying_still(frames):
    fall = _acc(frames[FALL_S][FALLER])
    norm = np.linalg.norm(fall, axis=1)
    impact = int(norm.argmax())
    assert norm[impact] > 25
    before = norm[:impact]
    free_fall = before < 3.0
    assert free_fall[-15:-2].sum() >= 10  # ~0.3 s near weightless just before the impact
    for t in range(FALL_S + 1, FALL_S + 31):
        acc, gyr = _acc(frames[t][FALLER]), _gyr(frames[t][FALLER])
        mean = acc.mean(axis=0)
        assert abs(mean[2]) < 1.0 and np.hypot(mean[0], mean[1]) > 9.0  # gravity on a horizontal axis
        assert np.linalg.norm(acc, axis=1).std() < 0.1 and np.abs(gyr).max() < 0.1  # lying still
    hr = [frames[t][FALLER]["hr_bpm"] for t in range(DURATION_S)]
    assert max(hr[FALL_S:FALL_S + 10]) >= hr[FALL_S - 1] + 15  # the fright shows in the heart rate


def test_sos_appears_exactly_at_the_scripted_second(frames):
    raised = [(t, k) for t, second in enumerate(frames) for k, f in enumerate(second) if f["sos"]]
    assert raised == [(SOS_S, SOS_AGENT)]
    assert not any(f["cancel"] for second in frames for f in second)


def test_standing_still_reads_gravity_on_the_vertical_axis_and_walking_shows_a_2_hz_gait():
    sim = CrewSimulator(ROSTER, seed=SEED, start=START)
    walking_peaks, resting_means = [], []
    for t in range(120):
        second = sim.frames_at(t)
        for k in np.flatnonzero(sim.model.activity == Activity.WALKING):
            norm = np.linalg.norm(_acc(second[k]), axis=1)
            spectrum = np.abs(np.fft.rfft(norm - norm.mean()))
            walking_peaks.append(np.fft.rfftfreq(50, 1 / 50)[spectrum.argmax()])
        resting_means += [_acc(second[k]).mean(axis=0) for k in np.flatnonzero(sim.model.activity
                                                                               == Activity.RESTING)]
    assert walking_peaks and resting_means
    assert 1.6 <= float(np.median(walking_peaks)) <= 2.2
    assert np.allclose(np.mean(resting_means, axis=0), [0, 0, 9.81], atol=0.1)


def test_noise_heart_rate_and_skin_temperature_stay_plausible(frames):
    sim = CrewSimulator(ROSTER, seed=SEED, start=START, incidents=INCIDENTS)
    for t, second in enumerate(frames):
        sim.model.advance_to(t)
        for agent, f, act in zip(ROSTER.agents, second, sim.model.activity, strict=True):
            laeq, peak = f["noise"]["laeq_db"], f["noise"]["lcpeak_db"]
            if agent.team is Team.COLLECTORS and act != Activity.TOOL:
                assert 65 <= laeq <= 90  # street traffic and the truck (a blower, even idling, is louder)
            assert 45 <= laeq <= 105 and laeq < peak <= 140
            assert 45 <= f["hr_bpm"] <= 190 and 30 <= f["skin_temp_c"] <= 38
            assert 48.80 < f["gps"]["lat"] < 48.90 and 2.28 < f["gps"]["lon"] < 2.42


def test_collectors_lift_bins_of_5_to_40_kg_and_gardeners_trigger_tools(frames):
    lifts = [(agent.team, f["lift"]) for second in frames for agent, f in zip(ROSTER.agents, second,
                                                                               strict=True) if "lift" in f]
    assert any(team is Team.COLLECTORS for team, _ in lifts)
    assert all(1 <= lift["count"] <= 2 and 5 <= lift["load_kg"] <= 40 for _, lift in lifts)
    hav = [f["hav"] for second in frames for f in second[8:] if "hav" in f]
    assert hav and all(0 < h["trigger_s"] <= 1 and 1 <= h["ahv_ms2"] <= 8 for h in hav)


def test_wearable_battery_drains_slowly(frames):
    battery = np.array([[f["battery_pct"] for f in second] for second in frames])
    assert (np.diff(battery, axis=0) <= 0).all()
    assert (battery[0] - battery[-1] < 0.05).all()


def test_follower_keeps_to_its_speed_and_payload_limits_and_waits_by_a_fallen_collector(robot_states):
    follower = [s for tick in robot_states for s in tick if s["robot_id"] == "robot-01"]
    assert ROSTER.robots[0].kind is RobotKind.FOLLOWER and ROSTER.robots[0].companion_index == FALLER
    assert all(0 <= s["speed_ms"] <= 1.7 and 0 <= s["payload_kg"] <= 150 for s in follower)
    after_fall = follower[2 * FALL_S + 2:]
    assert all(s["mode"] == "paused" and s["speed_ms"] == 0 for s in after_fall)


def test_mower_stops_whenever_someone_is_within_3_m(robot_states):
    mowers = [s for tick in robot_states for s in tick if s["kind"] == "mower"]
    assert mowers
    for s in mowers:
        if s["nearest_human_m"] < 3.0:
            assert s["protective_stop"] and s["speed_ms"] == 0
        else:
            assert s["mode"] == "mow" and 0 < s["speed_ms"] <= 0.5


def test_exoskeleton_moves_with_its_wearer():
    sim = RobotSimulator(ROSTER, seed=SEED, start=START)
    exo = next(r for r in ROSTER.robots if r.kind is RobotKind.EXOSKELETON)
    for k in range(40):
        state = next(s for s in sim.states_at(k / 2) if s["robot_id"] == exo.robot_id)
        assert state["nearest_human_m"] is None and state["mode"] in {"assist", "idle", "paused"}
        assert state["pose"]["x_m"] == pytest.approx(sim.model.pos_m[exo.companion_index, 0]
                                                     - sim.model.vel_ms[exo.companion_index, 0] * (1 - k % 2 / 2),
                                                     abs=1e-3)


def test_roster_has_stable_ids_crews_of_eight_and_alternating_teams():
    roster = make_roster(20, 4, seed=5)
    assert [a.agent_id for a in roster.agents][:2] == ["agent-0001", "agent-0002"]
    assert roster.agents[19].device_id == "wear-0020"
    assert [(c.crew_id, c.team, len(c.agent_indices)) for c in roster.crews] == [
        ("crew-01", Team.COLLECTORS, 8), ("crew-02", Team.GARDENERS, 8), ("crew-03", Team.COLLECTORS, 4)]
    assert [(r.robot_id, r.kind) for r in roster.robots] == [
        ("robot-01", RobotKind.FOLLOWER), ("robot-02", RobotKind.MOWER), ("robot-03", RobotKind.FOLLOWER),
        ("robot-04", RobotKind.EXOSKELETON)]
    assert all(a.display_name[-1] == "." for a in roster.agents)
    assert make_roster(20, 4, seed=5) == roster and make_roster(20, 4, seed=6) != roster


def test_incidents_name_agents_by_index_or_id():
    assert parse_incident("3@120") == IncidentSpec("3", 120)
    resolved = resolve(ROSTER, [parse_incident("agent-0004@7")], [parse_incident("wear-0002@9")])
    assert resolved.sos == {(3, 7)} and resolved.falls == {(1, 9)}
    with pytest.raises(ValueError, match="AGENT_INDEX@SECONDS"):
        parse_incident("3")
    with pytest.raises(KeyError):
        resolve(ROSTER, [parse_incident("99@1")], [])
