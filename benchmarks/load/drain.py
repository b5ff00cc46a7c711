"""Capacity, measured the same way for every consumer: drain a queue of K frames left at the broker.

On two shared cores a paced run mixes the consumer's speed with the load generator's; a drain does not.
The consumer first connects once (so the broker knows its persistent session and subscription), is stopped,
K frames are published for it while it is away (the broker keeps them: ``max_queued_messages 0``), then it
starts again and the time it takes to store them is the figure: the rate between 10 % and 90 % stored, so
neither its start-up nor the last partial batch counts. Every consumer gets byte-identical frames (same
devices, seconds and templates); each Vigie run gets frames of seconds it has not seen, as a real backlog
would be, so nothing is skipped as a duplicate. The frames are dated the seconds just before the publication
(so the gateway flags them late, as it would after an outage).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import psycopg

from benchmarks.load import payloads
from benchmarks.load.publisher import Fleet, Job, split
from benchmarks.load.rig import Gateway, Services, create_database
from benchmarks.load.stats import proc_cpu_s

log = logging.getLogger(__name__)
REPO_ROOT = Path(__file__).resolve().parents[2]
CEILINGS = {"paho": "paho, no work (ceiling)", "gmqtt": "gmqtt, no work (ceiling)"}
CEILING = CEILINGS["paho"]


class Consumer(Protocol):
    pid: int

    def stored(self) -> int: ...
    def ready(self) -> bool: ...


@dataclass
class DrainResult:
    consumer: str
    frames: int
    frames_per_s: float | None
    imu_samples_per_s: float | None
    seconds_10_to_90: float | None
    complete: bool
    consumer_cpu_s: float | None = None
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {k: (round(v, 2) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


def preload(services: Services, devices: int, seconds: list[int], publishers: int) -> int:
    """Publish ``devices`` × ``len(seconds)`` frames as fast as the broker takes them; returns how many."""
    user, password = services.fleet_mqtt
    jobs = [Job(k, services.mqtt_host, services.mqtt_port, user, password, part, [], devices, 0,
                burst_seconds=seconds) for k, part in enumerate(split(devices, publishers)) if part]  # fmt: skip
    fleet = Fleet(jobs)
    fleet.start(lead_s=0.0)
    outcomes = fleet.join(600)
    errors = [o.error for o in outcomes if o.error]
    if errors:
        raise RuntimeError(f"preload failed: {errors}")
    return sum(o.acked for o in outcomes)


def time_drain(stored: Callable[[], int], target: int, timeout_s: float, stall_s: float = 45.0
               ) -> tuple[float | None, bool]:  # fmt: skip
    """Seconds from 10 % to 90 % of ``target`` stored (polling every 0.1 s), and whether all of it was.

    Gives up after ``timeout_s``, or after ``stall_s`` without progress (a consumer that crashed or cannot
    connect must not hang the benchmark)."""
    t10 = t90 = None
    deadline = time.monotonic() + timeout_s
    count, last_count, last_change = 0, -1, time.monotonic()
    while time.monotonic() < deadline:
        count = stored()
        now = time.monotonic()
        if count != last_count:
            last_count, last_change = count, now
        elif now - last_change > stall_s:
            log.warning("drain stalled at %d of %d frames for %.0f s: giving up", count, target, stall_s)
            break
        if t10 is None and count >= 0.1 * target:
            t10 = now
        if t90 is None and count >= 0.9 * target:
            t90 = now
        if count >= target:
            break
        time.sleep(0.1)
    return (None if t10 is None or t90 is None else max(1e-3, t90 - t10)), count >= target


def _result(name: str, frames: int, span_s: float | None, complete: bool, cpu_s: float | None) -> DrainResult:
    rate = None if span_s is None else 0.8 * frames / span_s
    return DrainResult(name, frames, rate, None if rate is None else rate * payloads.IMU_RATE_HZ, span_s, complete,
                       cpu_s)  # fmt: skip


def vigie_stored(database_url: str, first: int, last: int) -> Callable[[], int]:
    lo, hi = payloads.rfc3339_ms(first), payloads.rfc3339_ms(last)

    def count() -> int:
        with psycopg.connect(database_url, autocommit=True) as conn:
            row = conn.execute("SELECT count(*) FROM frames WHERE ts BETWEEN %s AND %s", (lo, hi)).fetchone()
        return int(row[0]) if row else 0

    return count


def drain_vigie(services: Services, workers: int, devices: int, seconds: list[int], publishers: int,
                timeout_s: float = 600) -> DrainResult:  # fmt: skip
    name = f"vigie ({workers} worker{'s' if workers > 1 else ''})"
    gateway = Gateway(services, workers=workers)
    try:
        gateway.start()
        time.sleep(2.0)  # subscribed: the session now exists at the broker
    finally:
        gateway.stop()
    frames = preload(services, devices, seconds, publishers)
    count = vigie_stored(services.database_url, seconds[0], seconds[-1])
    gateway = Gateway(services, workers=workers, client_id=gateway.client_id)  # the session holding the frames
    try:
        # Counting starts at spawn: ingest begins in the lifespan, before /healthz answers.
        gateway.start(wait=False)
        span, complete = time_drain(count, frames, timeout_s)
        # Fresh processes: all their CPU time is this drain's (start-up included, as for the baselines).
        cpu = sum(proc_cpu_s(p) or 0.0 for p in gateway.pids)
    finally:
        gateway.stop()
        gateway.discard_sessions()
    return _result(name, frames, span, complete, cpu)


def drain_baseline(services: Services, name: str, workdir: Path, devices: int, seconds: list[int],
                   publishers: int, timeout_s: float = 600) -> DrainResult:  # fmt: skip
    """The same drain for a baseline of ``benchmarks.baselines`` (its own database in the same cluster).

    Built from that package's parts rather than ``running_baseline``: its session is opened (subscribed, so
    the broker queues for it from then on), the frames are published, and only then is the consumer started.
    """
    from benchmarks.baselines import TABLES, Baseline
    from benchmarks.baselines.session import BrokerAccount, discard_session, open_session
    from benchmarks.baselines.table import recreate_table

    url = create_database(services, f"bench_{name}")
    # The gateway's account: a consumer of every frame (the fleet account may only publish them).
    user, password = services.gateway_mqtt
    broker = BrokerAccount(services.mqtt_host, services.mqtt_port, user, password)
    client_id = f"bench-{name}"
    workdir.mkdir(parents=True, exist_ok=True)
    recreate_table(url, TABLES[name])  # type: ignore[index]
    open_session(broker, client_id)
    baseline = Baseline(name, broker, url, client_id, workdir)  # type: ignore[arg-type]
    try:
        frames = preload(services, devices, seconds, publishers)
        # Started in a thread so that counting starts at once: it drains from its first connection on.
        starter = threading.Thread(target=baseline.start, kwargs={"timeout_s": 120}, name=f"start-{name}",
                                   daemon=True)  # fmt: skip
        starter.start()
        span, complete = time_drain(baseline.stored, frames, timeout_s)
        starter.join(120)
        cpu = proc_cpu_s(baseline.pid)  # a fresh process: all of its CPU time is this drain's (start-up included)
    finally:
        baseline.stop()
        discard_session(broker, client_id)
    return _result(name, frames, span, complete, cpu)


def drain_ceiling(services: Services, workdir: Path, devices: int, seconds: list[int], publishers: int,
                  timeout_s: float = 600, client: str = "paho") -> DrainResult:  # fmt: skip
    """The same drain for ``benchmarks.load.ceiling``: the MQTT client receiving and acknowledging, nothing else."""
    from benchmarks.baselines.session import BrokerAccount, discard_session, open_session
    from benchmarks.load import ceiling

    user, password = services.gateway_mqtt
    broker = BrokerAccount(services.mqtt_host, services.mqtt_port, user, password)
    client_id = f"bench-ceiling-{client}"
    workdir.mkdir(parents=True, exist_ok=True)
    count_file = workdir / f"ceiling-{client}.count"
    count_file.unlink(missing_ok=True)
    open_session(broker, client_id)
    env = dict(os.environ, VIGIE_MQTT_PASSWORD=password or "")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    process: subprocess.Popen[bytes] | None = None
    try:
        frames = preload(services, devices, seconds, publishers)
        with (workdir / f"ceiling-{client}.log").open("ab") as log_file:
            process = subprocess.Popen([sys.executable, "-m", "benchmarks.load.ceiling",
                                        "--mqtt-url", f"mqtt://{services.mqtt_host}:{services.mqtt_port}",
                                        "--mqtt-username", user, "--client-id", client_id,
                                        "--count-file", str(count_file), "--client", client],
                                       cwd=REPO_ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)  # fmt: skip
        span, complete = time_drain(lambda: ceiling.read_count(count_file), frames, timeout_s)
        cpu = proc_cpu_s(process.pid)  # a fresh process: all of its CPU time is this drain's
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        discard_session(broker, client_id)
    return _result(CEILINGS[client], frames, span, complete, cpu)


def _wait(predicate: Callable[[], bool], timeout_s: float, message: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(message)
        time.sleep(0.2)
