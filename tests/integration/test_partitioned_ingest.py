"""Two ingest workers sharing one stream (``vigie ingest`` partitions): every frame stored once, and each
device judged by one worker, so detections that need consecutive frames (a fall, then stillness) still work.

Real Mosquitto (MQTT 5 shared subscriptions) and TimescaleDB; the API runs apart (``run_ingest=False``), as in
the docker-compose deployment.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from gateway.ingest_main import IngestProcess
from gateway.mqtt import topics
from gateway.runtime.mosquitto import MosquittoBroker
from gateway.runtime.ports import free_port
from gateway.settings import Settings
from tests.gateway_harness import Publisher, RunningGateway, running_gateway
from tests.helpers import wait_until
from tests.integration.test_detection_rules import _fall_frames, frame

pytestmark = pytest.mark.integration


@contextmanager
def ingest_workers(mqtt_url: str, database_url: str, partitions: int,
                   **overrides: Any) -> Iterator[list[IngestProcess]]:  # fmt: skip
    """``partitions`` workers as ``vigie ingest`` runs them (here in threads of the test process)."""
    workers = []
    for k in range(partitions):
        settings = Settings(mqtt_url=mqtt_url, database_url=database_url, mode="demo", tick_interval_s=0.2,
                            mqtt_client_id=f"vigie-ingest-{k}-{uuid.uuid4().hex[:6]}", ingest_partitions=partitions,
                            ingest_partition=k, **overrides)  # fmt: skip
        workers.append(IngestProcess(settings, "127.0.0.1", free_port()))
    for worker in workers:
        worker.start()
    try:
        wait_until(lambda: all(_healthy(w) for w in workers), 20)
        yield workers
    finally:
        for worker in workers:
            worker.stop()


def _url(worker: IngestProcess) -> str:
    host, port = worker.server.server_address[:2]
    return f"http://{host!s}:{port}"


def _healthy(worker: IngestProcess) -> bool:
    try:
        return httpx.get(f"{_url(worker)}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _scalar(database_url: str, query: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(query).fetchone()
    return int(row[0]) if row else 0


def _forwarded(worker: IngestProcess) -> float:
    text = httpx.get(f"{_url(worker)}/metrics", timeout=2).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("vigie_ingest_forwarded_total{"))  # fmt: skip


def test_the_owner_of_an_id_is_stable_and_spreads_ids_over_partitions() -> None:
    ids = [f"wear-{n:05d}" for n in range(10_000)]
    owners = [topics.owner(i, 4) for i in ids]
    assert owners == [topics.owner(i, 4) for i in ids]
    assert all(2_300 < owners.count(k) < 2_700 for k in range(4))
    assert topics.owner("wear-00042", 1) == 0
    inner = "vigie/v1/wearables/wear-1/frame"
    assert topics.from_partition(topics.to_partition(3, inner)) == inner
    assert topics.from_partition(inner) is None


def test_a_partition_outside_the_workers_is_refused_at_startup() -> None:
    with pytest.raises(ValueError, match=r"ingest_partition 2 is not in 0\.\.1"):
        Settings(mode="demo", ingest_partitions=2, ingest_partition=2)


def test_two_workers_store_every_frame_once_and_each_device_keeps_its_detection_state(
    broker: MosquittoBroker, database_url: str, publisher: Publisher
) -> None:
    # An odd count: a broker dealing messages in turn (Mosquitto's $share is round robin) gives each device's
    # consecutive frames to alternating workers, which is what partitioning must undo.
    devices = [f"wear-p{n:02d}" for n in range(31)]
    fallers = devices[:6]
    with running_gateway(broker.url, database_url, run_ingest=False) as api:
        for device in fallers:
            api.assign(device, f"agent-{device}", crew_id="crew-05")
        with ingest_workers(broker.url, database_url, 2, late_after_s=60) as workers:
            t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=13)
            sent = 0
            # Interleaved as a city's devices are: one second of every device, then the next second.
            streams = {d: (_fall_frames(d, t0) if d in fallers else
                           [frame(d, k, t0 + timedelta(seconds=k), hr_bpm=90) for k in range(12)]) for d in devices}
            for k in range(max(len(s) for s in streams.values())):
                for stream in streams.values():
                    if k < len(stream):
                        publisher.frame(stream[k])
                        sent += 1
            wait_until(lambda: _scalar(database_url, "SELECT count(*) FROM frames") == sent, 20)
            falls = wait_until(lambda: _falls(api, fallers), 10)

            assert _scalar(database_url, "SELECT count(DISTINCT (device_id, seq)) FROM frames") == sent
            assert falls == {f"agent-{d}": 1 for d in fallers}  # each fall seen whole, once
            assert _forwarded(workers[0]) > 0  # the stream was shared and handed over (one process: one registry)
            # Each device's state lives on its owner only, whichever worker the broker dealt its frames to.
            tracked = [w.runtime.worker.tracked()[0] for w in workers]
            assert not tracked[0] & tracked[1]
            assert tracked[0] | tracked[1] == set(devices)
            assert all(topics.owner(d, 2) == k for k, mine in enumerate(tracked) for d in mine)
            assert _scalar(database_url, "SELECT count(*) FROM dead_letters") == 0


def _falls(api: RunningGateway, fallers: list[str]) -> dict[str, int] | None:
    items = api.get("/api/v1/alerts", rule="fall", limit=100)["items"]
    counts: dict[str, int] = {}
    for alert in items:
        counts[alert["agent_id"]] = counts.get(alert["agent_id"], 0) + 1
    return counts if len(counts) == len(fallers) else None


def test_a_device_offline_status_reaches_its_owner_whichever_worker_reads_it(
    broker: MosquittoBroker, database_url: str, publisher: Publisher
) -> None:
    devices = [f"wear-s{n:02d}" for n in range(8)]
    with ingest_workers(broker.url, database_url, 2):
        for device in devices:
            publisher.frame(frame(device, 1))
        wait_until(lambda: _scalar(database_url, "SELECT count(*) FROM frames") == len(devices), 10)
        for device in devices:
            publisher.raw(f"vigie/v1/wearables/{device}/status", b"offline", retain=True)
        query = "SELECT count(*) FROM devices WHERE link_status = 'offline'"
        wait_until(lambda: _scalar(database_url, query) == len(devices), 10)


def test_workers_hand_frames_over_under_the_gateway_account_of_a_secured_broker(
    tmp_path: Path, database_url: str
) -> None:
    # Every worker logs in as the gateway account: its ACL must let it write and read the partition topics
    # (a refused hand-over would leave frames unacknowledged forever).
    from gateway.db import mqtt_accounts
    from gateway.mqtt.accounts import AccountKind, BrokerAuthFiles

    with psycopg.connect(database_url) as conn:
        gateway_password = mqtt_accounts.issue_sync(conn, "vigie-gateway", AccountKind.GATEWAY)
        fleet_password = mqtt_accounts.issue_sync(conn, "vigie-fleet", AccountKind.FLEET)
        auth = BrokerAuthFiles(tmp_path / "auth")
        auth.write(mqtt_accounts.active_sync(conn))
    with MosquittoBroker(tmp_path / "mosquitto", free_port(), auth=auth) as broker:
        url = f"mqtt://vigie-gateway:{gateway_password}@{broker.host}:{broker.port}"
        publisher = Publisher(broker.host, broker.port, "vigie-fleet", fleet_password)
        try:
            with ingest_workers(url, database_url, 2) as workers:
                devices = [f"wear-t{n:02d}" for n in range(9)]
                for device in devices:
                    for seq in range(3):
                        publisher.frame(frame(device, seq, datetime.now(UTC) - timedelta(seconds=3 - seq)))
                wait_until(lambda: _scalar(database_url, "SELECT count(*) FROM frames") == 27, 15)
                assert _forwarded(workers[0]) > 0
        finally:
            publisher.close()
