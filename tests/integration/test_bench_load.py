"""A tiny real run of the load benchmark: its bookkeeping must be right before its figures mean anything."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from benchmarks.baselines.session import BrokerAccount, discard_session, open_session
from benchmarks.load import ceiling, report, rig, sustained
from benchmarks.load.drain import CEILING, drain_ceiling, drain_vigie, preload

WEARABLES, ROBOTS = 20, 2


@pytest.fixture(scope="module")
def services() -> Iterator[rig.Services]:
    workdir = rig.make_workdir(None)
    services = rig.start_services(workdir, fast_unsafe=True)
    try:
        rig.register_roster(services.database_url, WEARABLES, ROBOTS, datetime.now(UTC) - timedelta(hours=1))
        yield services
    finally:
        services.stop()
        rig.remove_workdir(workdir)


def test_a_small_sustained_run_stores_every_frame_and_times_every_probe(services: rig.Services) -> None:
    plan = sustained.Plan(WEARABLES, ROBOTS, duration_s=15, publishers=1, probe_interval_s=3.0,
                          sample_interval_s=2.0)  # fmt: skip
    result = sustained.run(services, plan)

    assert result["frames_published"] == WEARABLES * 15
    assert result["frames_stored"] == result["frames_published"] and result["all_stored"]
    assert result["robot_states_stored"] == result["robot_states_published"] == ROBOTS * 10 * 15
    alerts = result["alert_latency_ms"]
    assert alerts["probes"] == 3 and alerts["published"] == 3
    assert alerts["measured"] == 3, f"alerts never received for {alerts['missing']}"
    assert all(alerts[k] is not None and alerts[k] > 0 for k in ("p50", "p95", "p99"))
    for key in ("frames_per_s", "imu_samples_per_s", "lag", "cpu", "db_bytes_per_agent_day", "publisher",
                "drain_after_s"):  # fmt: skip
        assert key in result
    assert result["lag"]["db_lag_s"]["per_minute"], "the lag was never sampled"
    assert result["lag"]["backlog_frames"]["per_minute"], "the gateway's /metrics were never read"
    assert {"gateway", "broker", "postgres", "publishers"} <= set(result["cpu"])
    assert result["db_bytes_per_agent_day"]["frames (per second)"] > 0


def test_a_drain_stores_every_queued_frame(services: rig.Services, tmp_path: Path) -> None:
    last = int(datetime.now(UTC).timestamp()) - 1
    result = drain_vigie(services, 1, WEARABLES, list(range(last - 9, last + 1)), publishers=1, timeout_s=120)

    assert result.complete and result.frames == WEARABLES * 10
    assert result.frames_per_s is not None and result.frames_per_s > 0


def test_the_ceiling_consumer_receives_every_queued_frame_and_leaves_no_session(services: rig.Services,
                                                                                tmp_path: Path) -> None:
    last = int(datetime.now(UTC).timestamp()) - 1
    result = drain_ceiling(services, tmp_path, WEARABLES, list(range(last - 9, last + 1)), publishers=1,
                           timeout_s=120)  # fmt: skip

    assert result.consumer == CEILING and result.complete and result.frames == WEARABLES * 10
    assert result.frames_per_s is not None and result.frames_per_s > 0
    assert result.consumer_cpu_s is not None and result.consumer_cpu_s > 0
    assert "connected to the broker" in (tmp_path / "ceiling-paho.log").read_text()
    # Its session was discarded: a second drain starts from an empty queue and counts only its own frames.
    again = drain_ceiling(services, tmp_path, WEARABLES, list(range(last - 19, last - 9)), publishers=1,
                          timeout_s=120)  # fmt: skip
    assert again.complete and again.frames == WEARABLES * 10


def test_the_gmqtt_ceiling_acknowledges_every_frame_so_none_is_delivered_twice(services: rig.Services,
                                                                              tmp_path: Path) -> None:
    user, password = services.gateway_mqtt
    broker = BrokerAccount(services.mqtt_host, services.mqtt_port, user, password)
    open_session(broker, "test-ceiling-gmqtt")
    last = int(datetime.now(UTC).timestamp()) - 1
    frames = preload(services, WEARABLES, list(range(last - 29, last - 19)), publishers=1)
    env = dict(os.environ, VIGIE_MQTT_PASSWORD=password or "")

    def consume(count_file: Path, until: int | None, for_s: float) -> int:
        process = subprocess.Popen([sys.executable, "-m", "benchmarks.load.ceiling", "--client", "gmqtt",
                                    "--mqtt-url", f"mqtt://{services.mqtt_host}:{services.mqtt_port}",
                                    "--mqtt-username", user, "--client-id", "test-ceiling-gmqtt",
                                    "--count-file", str(count_file)], env=env)  # fmt: skip
        try:
            deadline = time.monotonic() + for_s
            while time.monotonic() < deadline and (until is None or ceiling.read_count(count_file) < until):
                time.sleep(0.1)
        finally:
            process.terminate()
            process.wait(10)
        return ceiling.read_count(count_file)

    try:
        assert consume(tmp_path / "first.count", frames, 60) == frames
        # The same session again: an unacknowledged frame would be delivered a second time (MQTT 5.0 §4.4).
        assert consume(tmp_path / "again.count", None, 3) == 0
    finally:
        discard_session(broker, "test-ceiling-gmqtt")


def test_the_report_renders_with_every_section(services: rig.Services, tmp_path: Path) -> None:
    plan = sustained.Plan(5, 1, duration_s=8, publishers=1, probe_interval_s=2.0, sample_interval_s=2.0)
    run = sustained.run(services, plan)
    info = report.machine(services.database_url) | {"load_avg": [0.1, 0.2]}
    drain = {"frames": 10, "devices": 1, "ratios": {"Vigie / nodered": 6.0},
             "results": [{"consumer": "vigie (1 worker)", "frames_per_s": 100.0, "imu_samples_per_s": 5000.0,
                          "seconds_10_to_90": 0.1, "complete": True, "consumer_cpu_s": 1.0}]}  # fmt: skip
    text = report.markdown({"command": "vigie bench load --quick", "code": "abc", "measured_at": "now",
                            "machine": info, "sustained": [run], "drain": drain,
                            "targets": [{"target": "t", "measured": "m", "met": True}], "notes": ["n"]})  # fmt: skip
    assert "| 5 + 1 | 8 s |" in text and "Vigie / nodered **6.00×**" in text and info["timescaledb"]
