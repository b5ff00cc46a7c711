"""The load benchmark's baselines (Node-RED flow, naive Python) through the real Mosquitto into TimescaleDB.

The Node-RED tests need `scripts/install-node-red.sh` (run by `make install`): they fail, not skip, when
it has not run, so a machine that cannot run the benchmark's baseline is noticed.
"""

from __future__ import annotations

import os
import uuid
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path

import orjson
import paho.mqtt.client as mqtt
import psycopg
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from benchmarks.baselines import INSTALL_SCRIPT, Baseline, Kind, available, running_baseline
from gateway.mqtt.accounts import AccountKind, BrokerAuthFiles, MqttAccount, mosquitto_hash, new_password
from gateway.runtime.mosquitto import MosquittoBroker
from gateway.runtime.ports import free_port
from simulations.crew import CrewSimulator
from simulations.roster import make_roster
from tests.gateway_harness import Publisher
from tests.helpers import wait_until

pytestmark = pytest.mark.integration

AGENTS = 20
START = datetime(2026, 6, 3, 7, 30, tzinfo=UTC)


def encoded_frames(seconds: range) -> list[bytes]:
    """Real contract frames (all sections, 50-sample IMU) of 20 agents, one per agent and second."""
    sim = CrewSimulator(make_roster(AGENTS, 0, seed=5), seed=5, start=START)
    return [payload for t in seconds for payload in sim.encoded_frames_at(t)]


def publish(publisher: Publisher, payloads: list[bytes]) -> None:
    for payload in payloads:
        publisher.raw(f"vigie/v1/wearables/{orjson.loads(payload)['device_id']}/frame", payload)


def stored_once(baseline: Baseline, database_url: str) -> tuple[int, int]:
    """(rows, distinct (device_id, seq)) of the baseline's table."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute(f"SELECT count(*), count(DISTINCT (device_id, seq)) FROM {baseline.table}").fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def baseline_on(kind: Kind, broker: MosquittoBroker, database_url: str, workdir: Path, username: str | None = None,
                password: str | None = None) -> AbstractContextManager[Baseline]:  # fmt: skip
    return running_baseline(kind, mqtt_host=broker.host, mqtt_port=broker.port, mqtt_username=username,
                            mqtt_password=password, database_url=database_url,
                            client_id=f"baseline-{uuid.uuid4().hex[:8]}", workdir=workdir)  # fmt: skip


@pytest.fixture(params=["nodered", "naive"])
def kind(request: pytest.FixtureRequest) -> Kind:
    kind: Kind = request.param
    if not available(kind):
        pytest.fail(f"the {kind} baseline is not installed: run `make install` (or `bash {INSTALL_SCRIPT}`)")
    return kind


def test_every_published_frame_is_stored_exactly_once(kind: Kind, broker: MosquittoBroker, database_url: str,
                                                      publisher: Publisher, tmp_path: Path):  # fmt: skip
    payloads = encoded_frames(range(10))
    assert len(payloads) == 200
    with baseline_on(kind, broker, database_url, tmp_path / kind) as baseline:
        assert baseline.ready()
        publish(publisher, payloads)
        wait_until(lambda: baseline.stored() >= 200, timeout_s=30, message=f"{kind} stored 200 frames")
        assert stored_once(baseline, database_url) == (200, 200)
        with psycopg.connect(database_url) as conn:
            row = conn.execute(f"SELECT count(*) FILTER (WHERE jsonb_array_length(imu->'acc_ms2') = 50), "
                               f"count(laeq_db), count(hr_bpm) FROM {baseline.table}").fetchone()  # fmt: skip
        assert row == (200, 200, 200)


def test_frames_published_while_the_consumer_is_stopped_are_stored_after_it_restarts(
    kind: Kind, broker: MosquittoBroker, database_url: str, publisher: Publisher, tmp_path: Path
):
    payloads = encoded_frames(range(20))
    with baseline_on(kind, broker, database_url, tmp_path / kind) as baseline:
        publish(publisher, payloads[:200])
        wait_until(lambda: baseline.stored() == 200, timeout_s=30, message=f"{kind} stored the first 200 frames")
        first_pid = baseline.pid
        with baseline.paused():
            assert not baseline.ready()
            publish(publisher, payloads[200:])  # the broker queues these for the stopped consumer's session
            assert baseline.stored() == 200
        assert baseline.ready() and baseline.pid != first_pid
        wait_until(lambda: baseline.stored() >= 400, timeout_s=30, message=f"{kind} stored the queued frames")
        assert stored_once(baseline, database_url) == (400, 400)


def test_a_finished_baseline_leaves_no_process_and_no_session_on_the_broker(
    kind: Kind, broker: MosquittoBroker, database_url: str, tmp_path: Path
):
    with baseline_on(kind, broker, database_url, tmp_path / kind) as baseline:
        pid, client_id = baseline.pid, baseline.client_id
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)
    # A session left behind would queue the rest of the benchmark's load for a consumer that is gone.
    flags: list[mqtt.ConnectFlags] = []
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    client.on_connect = lambda client, userdata, connect_flags, reason_code, properties: flags.append(connect_flags)
    client.connect(broker.host, broker.port, clean_start=False)
    client.loop_start()
    try:
        wait_until(lambda: flags, timeout_s=5, message="CONNACK")
    finally:
        client.disconnect()
        client.loop_stop()
    assert not flags[0].session_present


def test_a_baseline_reads_through_its_own_broker_account_and_acl(kind: Kind, database_url: str, tmp_path: Path):
    passwords = {"baseline-reader": new_password(), "sim-fleet": new_password()}
    auth = BrokerAuthFiles(tmp_path / "auth")
    auth.write([MqttAccount("baseline-reader", AccountKind.MONITOR, mosquitto_hash(passwords["baseline-reader"])),
                MqttAccount("sim-fleet", AccountKind.FLEET, mosquitto_hash(passwords["sim-fleet"]))])  # fmt: skip
    with MosquittoBroker(tmp_path / "mosquitto", free_port(), auth=auth) as broker:
        publisher = Publisher(broker.host, broker.port, "sim-fleet", passwords["sim-fleet"])
        try:
            with baseline_on(kind, broker, database_url, tmp_path / kind, "baseline-reader",
                             passwords["baseline-reader"]) as baseline:
                publish(publisher, encoded_frames(range(2)))
                wait_until(lambda: baseline.stored() == 2 * AGENTS, timeout_s=30, message=f"{kind} stored 40 frames")
            with pytest.raises(ConnectionError, match="refused"), baseline_on(
                kind, broker, database_url, tmp_path / "refused", "baseline-reader", "wrong"
            ):
                pass
        finally:
            publisher.close()
