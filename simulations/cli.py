"""``vigie simulate``: publish a simulated crew and its robots to a broker, optionally seeding the gateway.

``add_arguments`` and ``run`` are the seam ``gateway.cli`` wires into the ``vigie`` console script; the
same flags work as ``python -m simulations``.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType

from simulations import incidents
from simulations.crew import CrewSimulator
from simulations.publisher import (
    OFFLINE,
    ONLINE,
    Batch,
    BrokerAddress,
    MqttPublisher,
    PublishStats,
    run_schedule,
    schedule,
    status_messages,
)
from simulations.robots import RobotSimulator
from simulations.roster import make_roster
from simulations.seed import SeedError, seed_roster
from simulations.timebase import parse_rfc3339, utc_second

log = logging.getLogger(__name__)
DEFAULT_STATE_DIR = Path(".vigie")


def _incident(text: str) -> incidents.IncidentSpec:
    try:
        return incidents.parse_incident(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _start(text: str) -> datetime:
    try:
        return parse_rfc3339(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--start: {exc}") from exc


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the ``simulate`` flags on ``parser`` (a subparser of ``vigie``, or a standalone parser)."""
    crew = parser.add_argument_group("crew")
    crew.add_argument("--agents", type=int, default=16, help="wearers, in crews of 8 (default 16)")
    crew.add_argument("--robots", type=int, default=2, help="robots spread over the crews (default 2)")
    crew.add_argument("--seed", type=int, default=1, help="same seed, same roster and same shift (default 1)")
    crew.add_argument("--duration", type=float, default=600.0,
                      help="simulated seconds to publish; 0 = until interrupted (default 600)")
    crew.add_argument("--speedup", type=float, default=1.0,
                      help="simulated seconds per wall second; 0 = as fast as the broker takes them")
    crew.add_argument("--start", type=_start, default=None,
                      help="RFC 3339 instant of the first frame (default: now, UTC; earlier with --speedup > 1 "
                           "so the last frame is not in the future)")
    crew.add_argument("--imu-rate-hz", type=float, default=50.0, help="IMU samples per frame (default 50)")
    crew.add_argument("--robot-rate-hz", type=float, default=2.0, help="robot states per second (default 2)")
    scripted = parser.add_argument_group("scripted incidents (AGENT is a 0-based index, an agent or device id)")
    scripted.add_argument("--sos", type=_incident, action="append", default=[], metavar="AGENT@SECONDS",
                          help="the agent's frame at that second carries sos=true (repeatable)")
    scripted.add_argument("--fall", type=_incident, action="append", default=[], metavar="AGENT@SECONDS",
                          help="the agent falls during that second and lies still for 120 s (repeatable)")
    where = parser.add_argument_group("where to publish")
    target = where.add_mutually_exclusive_group()
    target.add_argument("--mqtt-url", default=None, help="mqtt://host:port of the broker")
    target.add_argument("--state-dir", type=Path, default=None,
                        help=f"a running stack's directory with endpoints.json (default {DEFAULT_STATE_DIR})")
    where.add_argument("--api-url", default=None, help="gateway HTTP API for seeding (default: from state dir)")
    where.add_argument("--seed-api", action=argparse.BooleanOptionalAction, default=None,
                       help="register agents, assignments and robots first (default: when the API is known)")
    where.add_argument("--dry-run", action="store_true",
                       help="generate and serialise everything, publish nothing, print throughput")


@dataclass(frozen=True, slots=True)
class Endpoints:
    mqtt_url: str
    http_url: str | None
    token: str | None = None  # bearer token for seeding through the API


def resolve_endpoints(args: argparse.Namespace) -> Endpoints:
    """``--mqtt-url`` wins; else ``<state-dir>/endpoints.json`` (``vigie up`` writes it); else localhost."""
    if args.mqtt_url:
        return Endpoints(args.mqtt_url, args.api_url, os.environ.get("VIGIE_TOKEN"))
    state_dir: Path = args.state_dir or DEFAULT_STATE_DIR
    path = state_dir / "endpoints.json"
    if not path.exists():
        if args.state_dir is not None:
            raise SystemExit(f"vigie simulate: {path} not found (is the stack up? `vigie up`)")
        return Endpoints("mqtt://127.0.0.1:1883", args.api_url, os.environ.get("VIGIE_TOKEN"))
    data = json.loads(path.read_text(encoding="utf-8"))
    # `vigie up` gives the simulator a fleet account (it publishes for every simulated wearable and robot).
    account = data.get("mqtt_credentials", {}).get("simulator")
    login = f"{account['username']}:{account['password']}@" if account else ""
    return Endpoints(f"mqtt://{login}{data['mqtt_host']}:{data['mqtt_port']}", args.api_url or data.get("http_url"),
                     os.environ.get("VIGIE_TOKEN") or data.get("admin_token"))


def default_start(now: datetime, duration_s: int | None, speedup: float) -> datetime:
    """Now, or early enough that a sped-up run's last frame is not stamped in the future.

    Simulated time outruns the wall clock when ``speedup`` > 1, and the gateway refuses frames stamped
    more than a few minutes ahead; starting in the past makes the run end at about the present instead.
    """
    if speedup == 1 or 0 < speedup < 1:
        return now
    if duration_s is None:
        log.warning("--speedup %g without --duration: frame timestamps will run ahead of the clock", speedup)
        return now
    lead_s = duration_s * (1 - 1 / speedup) if speedup > 0 else duration_s
    return now - timedelta(seconds=math.ceil(lead_s))


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT/SIGTERM end the run cleanly, so every wearable gets its emulated ``offline`` Will."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        log.info("signal %d: stopping after the current batch", signum)
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run(args: argparse.Namespace) -> int:
    """Run ``vigie simulate``; returns the process exit status."""
    duration_s = None if args.duration <= 0 else math.ceil(args.duration)
    start = utc_second(args.start or default_start(datetime.now(UTC), duration_s, args.speedup))
    roster = make_roster(args.agents, args.robots, args.seed)
    try:
        scripted = incidents.resolve(roster, args.sos, args.fall)
    except KeyError as exc:
        print(f"vigie simulate: unknown agent {exc}", file=sys.stderr)
        return 2
    crew = CrewSimulator(roster, seed=args.seed, start=start, incidents=scripted, imu_rate_hz=args.imu_rate_hz)
    robots = RobotSimulator(roster, seed=args.seed, start=start, incidents=scripted, rate_hz=args.robot_rate_hz)
    batches = schedule(crew, robots, duration_s)
    if args.dry_run:
        if duration_s is None:
            print("vigie simulate: --dry-run needs a --duration", file=sys.stderr)
            return 2
        return _dry_run(batches)

    endpoints = resolve_endpoints(args)
    if args.seed_api or (args.seed_api is None and endpoints.http_url):
        if not endpoints.http_url:
            print("vigie simulate: --seed-api needs --api-url or a --state-dir with http_url", file=sys.stderr)
            return 2
        try:
            seed_roster(endpoints.http_url, roster, valid_from=start, token=endpoints.token)
        except SeedError as exc:
            print(f"vigie simulate: seeding failed: {exc}", file=sys.stderr)
            return 1

    devices = [a.device_id for a in roster.agents]
    publisher = MqttPublisher(BrokerAddress.from_url(endpoints.mqtt_url), will_device_id=devices[0],
                              announce=status_messages(devices, ONLINE))
    try:
        publisher.connect()
    except ConnectionError as exc:
        print(f"vigie simulate: {exc}", file=sys.stderr)
        return 1
    log.info("simulating %d agents and %d robots from %s (seed %d, speedup %g)",
             len(roster.agents), len(roster.robots), start.isoformat(), args.seed, args.speedup)
    stop = threading.Event()
    stats = PublishStats()
    with _stop_on_signals(stop):
        try:
            stats = run_schedule(batches, publisher, speedup=args.speedup, stop=stop)
        except (ConnectionError, TimeoutError) as exc:
            print(f"vigie simulate: broker lost: {exc}", file=sys.stderr)
            return 1
        finally:
            _say_goodbye(publisher, devices)
    print(f"vigie simulate: published {stats.frames} frames and {stats.robot_states} robot states "
          f"({stats.payload_bytes / 1e6:.1f} MB) in {stats.wall_s:.1f} s; max lag {stats.max_lag_s:.2f} s",
          file=sys.stderr)
    return 0


def _say_goodbye(publisher: MqttPublisher, devices: list[str]) -> None:
    """The emulated per-device Will: retained ``offline`` for every wearable, acknowledged, then disconnect."""
    try:
        for message in status_messages(devices, OFFLINE):
            publisher.publish(message, timeout_s=5.0)
        publisher.flush(timeout_s=5.0)
    except (ConnectionError, TimeoutError) as exc:
        log.warning("could not mark %d wearables offline: %s", len(devices), exc)
    finally:
        publisher.close()


def _dry_run(batches: Iterator[Batch]) -> int:
    began = time.perf_counter()
    frames = states = size = 0
    for batch in batches:
        frames += batch.frames
        states += batch.robot_states
        size += sum(len(m.payload) for m in batch.messages)
    elapsed = time.perf_counter() - began
    print(f"vigie simulate --dry-run: {frames} frames, {states} robot states, {size / 1e6:.1f} MB "
          f"generated and serialised in {elapsed:.2f} s", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simulations", description=__doc__)
    add_arguments(parser)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return run(parser.parse_args(argv))
