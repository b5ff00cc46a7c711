"""``vigie simulate``: flags, endpoints, the publish schedule, and a real run against Mosquitto."""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import orjson
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from gateway.runtime.mosquitto import MosquittoBroker
from gateway.runtime.ports import free_port
from simulations import cli
from simulations.crew import CrewSimulator
from simulations.publisher import BrokerAddress, schedule
from simulations.robots import RobotSimulator
from simulations.roster import make_roster


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_flags_have_demo_defaults_and_accept_what_vigie_up_passes():
    args = _args("--agents", "24", "--duration", "28800.0", "--sos", "3@60", "--fall", "agent-0002@90",
                 "--fall", "5@120", "--start", "2026-06-03T07:30:00Z", "--no-seed-api")
    assert args.duration == 28800.0 and args.speedup == 1.0 and args.robots == 2 and args.seed_api is False
    assert [(f.agent, f.t_s) for f in args.fall] == [("agent-0002", 90), ("5", 120)]
    assert args.start == datetime(2026, 6, 3, 7, 30, tzinfo=UTC)
    with pytest.raises(SystemExit):
        _args("--sos", "3@soon")
    with pytest.raises(SystemExit):
        _args("--mqtt-url", "mqtt://a:1", "--state-dir", "x")


def test_endpoints_come_from_the_state_dir_that_vigie_up_wrote(tmp_path):
    (tmp_path / "endpoints.json").write_text(json.dumps({
        "http_url": "http://127.0.0.1:8765", "mqtt_host": "127.0.0.1", "mqtt_port": 18830,
        "database_url": "postgresql://x"}))
    endpoints = cli.resolve_endpoints(_args("--state-dir", str(tmp_path)))
    assert endpoints == cli.Endpoints("mqtt://127.0.0.1:18830", "http://127.0.0.1:8765")
    assert cli.resolve_endpoints(_args("--mqtt-url", "mqtt://b:1884")) == cli.Endpoints("mqtt://b:1884", None)
    with pytest.raises(SystemExit, match=r"endpoints\.json"):
        cli.resolve_endpoints(_args("--state-dir", str(tmp_path / "missing")))
    assert BrokerAddress.from_url("mqtt://u:p@broker:1884") == BrokerAddress("broker", 1884, "u", "p")


def test_a_sped_up_run_starts_in_the_past_so_no_frame_is_stamped_in_the_future():
    now = datetime(2026, 6, 3, 12, 0, tzinfo=UTC)
    assert cli.default_start(now, 3600, 1.0) == now
    assert cli.default_start(now, 3600, 10.0) == now - timedelta(seconds=3240)  # ends 6 min from now
    assert cli.default_start(now, 3600, 0.0) == now - timedelta(seconds=3600)
    assert cli.default_start(now, None, 10.0) == now


def test_schedule_sends_robot_states_at_their_instant_and_a_frame_once_its_second_is_over():
    roster = make_roster(2, 1, seed=1)
    start = datetime(2026, 6, 3, 7, 30, tzinfo=UTC)
    batches = list(schedule(CrewSimulator(roster, seed=1, start=start),
                            RobotSimulator(roster, seed=1, start=start), duration_s=2))
    assert [(b.at_s, b.frames, b.robot_states) for b in batches] == [
        (0.0, 0, 1), (0.5, 0, 1), (1, 2, 0), (1.0, 0, 1), (1.5, 0, 1), (2, 2, 0)]
    frame = batches[2].messages[1]
    assert frame.topic == "vigie/v1/wearables/wear-0002/frame" and not frame.retain
    assert orjson.loads(frame.payload)["ts"] == "2026-06-03T07:30:00.000Z"
    assert batches[0].messages[0].topic == "vigie/v1/robots/robot-01/state"


def test_dry_run_generates_without_a_broker(capsys):
    assert cli.run(_args("--agents", "10", "--robots", "2", "--duration", "5", "--dry-run")) == 0
    assert "50 frames, 20 robot states" in capsys.readouterr().err


def test_an_incident_for_an_unknown_agent_is_a_usage_error(capsys):
    assert cli.run(_args("--agents", "4", "--fall", "agent-0009@5", "--dry-run", "--duration", "5")) == 2
    assert "unknown agent" in capsys.readouterr().err


@pytest.fixture
def mosquitto(tmp_path):
    """The project's private broker (Mosquitto is installed by ``make``), on a free port."""
    with MosquittoBroker(tmp_path / "mosquitto", free_port()) as broker:
        yield broker.port


class _Recorder:
    def __init__(self, port: int, topic: str) -> None:
        self.messages: dict[str, list[bytes]] = defaultdict(list)
        self.subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(topic, qos=1)
        self.client.on_subscribe = lambda c, u, mid, rcs, p: self.subscribed.set()
        self.client.on_message = lambda c, u, m: self.messages[m.topic].append(bytes(m.payload))
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert self.subscribed.wait(5)

    def wait_for(self, predicate, timeout_s: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout_s
        while not predicate():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.mark.integration
def test_a_run_publishes_every_frame_and_state_then_leaves_each_wearable_offline(mosquitto):
    live = _Recorder(mosquitto, "vigie/v1/#")
    try:
        code = cli.run(_args("--mqtt-url", f"mqtt://127.0.0.1:{mosquitto}", "--agents", "3", "--robots", "2",
                             "--duration", "3", "--speedup", "0", "--no-seed-api", "--sos", "1@2"))
        assert code == 0
        frame_topics = [f"vigie/v1/wearables/wear-000{i}/frame" for i in (1, 2, 3)]
        assert live.wait_for(lambda: all(len(live.messages[t]) == 3 for t in frame_topics))
        frames = [orjson.loads(p) for p in live.messages[frame_topics[1]]]
        assert [f["sos"] for f in frames] == [False, False, True]
        assert frames[0]["seq"] < frames[1]["seq"] < frames[2]["seq"]
        assert len(live.messages["vigie/v1/robots/robot-01/state"]) == 6
        assert live.messages["vigie/v1/wearables/wear-0001/status"][:1] == [b"online"]
    finally:
        live.close()
    retained = _Recorder(mosquitto, "vigie/v1/wearables/+/status")
    try:
        assert retained.wait_for(lambda: len(retained.messages) == 3)
        assert all(payloads == [b"offline"] for payloads in retained.messages.values())
    finally:
        retained.close()
