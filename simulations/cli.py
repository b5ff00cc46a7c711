"""``vigie simulate``: publish a simulated crew and its robots to a broker, optionally seeding the gateway.

``add_arguments`` and ``run`` are the seam ``gateway.cli`` wires into the ``vigie`` console script; the
same flags work as ``python -m simulations``. ``--drift`` injects ground-truth drifts into the frames from a
simulated day on (``drift_model``), ``--days`` publishes several past working days instead of one continuous
run, and ``--history-days`` describes the weeks before day 0 that ``vigie up`` writes into its demo database
(``simulations.history``; with ``--dry-run``, what the weak signals would flag on them).
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
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from types import FrameType
from typing import TypeVar

from simulations import drift_model, incidents, scenario
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
    schedule_days,
    status_messages,
)
from simulations.robots import RobotSimulator
from simulations.roster import Roster
from simulations.scenario import Scenario
from simulations.seed import SeedError, seed_roster
from simulations.timebase import parse_rfc3339, utc_second

log = logging.getLogger(__name__)
DEFAULT_STATE_DIR = Path(".vigie")
T = TypeVar("T")


def _argument(parse: Callable[[str], T], message: str = "{exc}") -> Callable[[str], T]:
    """``parse`` as an argparse ``type``: its ValueError becomes argparse's usage error, worded by ``message``."""

    def convert(text: str) -> T:
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(message.format(exc=exc, text=text)) from exc

    return convert


_incident = _argument(incidents.parse_incident)
_start = _argument(parse_rfc3339, "--start: {exc}")
_drift = _argument(drift_model.parse_drift)
_local_time = _argument(scenario.parse_time, "expected HH:MM, got {text!r}")


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
    weeks = parser.add_argument_group("injected drifts and simulated weeks (weak signals, docs/signals.md)")
    weeks.add_argument("--drift", type=_drift, action="append", default=[], metavar="KIND:SUBJECT@DAY[:SIZE]",
                       help=f"from calendar day DAY after day 0 (negative: before it; or a date), change the "
                            f"frames, ramping up over a week (repeatable). KIND: {', '.join(drift_model.KINDS)}; "
                            "SUBJECT: an agent (index or id), a crew (crew-02) or a robot (robot-01); SIZE: bpm, "
                            "°C, or the near-miss factor (default: the weak-signal benchmark's)")
    weeks.add_argument("--days", type=int, default=0,
                       help="publish N past working days (shifts), the last ending before now (or from --start's "
                            "day), instead of one continuous run; nights and weekends are skipped")
    weeks.add_argument("--shift-start", type=_local_time, default=clock_time(12, 30), metavar="HH:MM",
                       help="local start of each simulated shift (default 12:30, Europe/Paris)")
    weeks.add_argument("--shift-h", type=float, default=2.5, help="hours of each simulated shift (default 2.5)")
    weeks.add_argument("--history-days", type=int, default=0,
                       help="calendar days before day 0 that `vigie up` writes into its demo database as the "
                            "gateway would have recorded them (never published: frames over 30 days old are "
                            "refused); with --dry-run, print what the weak signals flag on them")
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


def run_window(args: argparse.Namespace, now: datetime) -> tuple[int | None, datetime]:
    """(duration in whole seconds or None for endless, first instant) of a run of these flags started at ``now``:
    the simulator's and, for the history it writes before, ``vigie up``'s (``scenario.build`` needs both to agree)."""
    duration_s = None if args.duration <= 0 else math.ceil(args.duration)
    return duration_s, utc_second(args.start or default_start(now, duration_s, args.speedup))


def run(args: argparse.Namespace) -> int:
    """Run ``vigie simulate``; returns the process exit status."""
    now = datetime.now(UTC)
    duration_s, start = run_window(args, now)
    try:
        sc = scenario.build(args, now, start)
        scripted = incidents.resolve(sc.roster, args.sos, args.fall)
    except KeyError as exc:
        print(f"vigie simulate: unknown agent, crew or robot {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"vigie simulate: {exc}", file=sys.stderr)
        return 2
    roster = sc.roster
    if sc.run_days:
        start, duration_s = sc.run_days[0].start, sc.shifts.duration_s * len(sc.run_days)
        batches = schedule_days(_days(sc, args, scripted), sc.shifts.duration_s)
    else:
        batches = schedule(*_simulators(sc, args, start, scripted), duration_s)
    for truth in sc.drifts.injected(roster):
        log.info("drift injected: %s on %s %s from %s (%s)", truth.kind, truth.subject_kind.value, truth.subject_id,
                 truth.start.isoformat(), truth.detail)  # fmt: skip
    if args.dry_run:
        if sc.history_days:
            return _dry_history(sc, args)
        if duration_s is None:
            print("vigie simulate: --dry-run needs a --duration", file=sys.stderr)
            return 2
        return _dry_run(batches)
    if sc.history_days:
        log.warning("--history-days: the %d past days are not published (the gateway refuses frames over 30 days "
                    "old); `vigie up` writes them into its demo database", len(sc.history_days))  # fmt: skip
    return _publish(args, roster, start, batches)


def _publish(args: argparse.Namespace, roster: Roster, start: datetime, batches: Iterator[Batch]) -> int:
    """Seed the gateway (when its API is known), then publish ``batches`` in time; the process exit status."""
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


def _simulators(sc: Scenario, args: argparse.Namespace, start: datetime, scripted: incidents.Incidents,
                day_index: int = 0) -> tuple[CrewSimulator, RobotSimulator]:  # fmt: skip
    return (CrewSimulator(sc.roster, seed=args.seed, start=start, incidents=scripted, imu_rate_hz=args.imu_rate_hz,
                          drifts=sc.drifts, day_index=day_index),
            RobotSimulator(sc.roster, seed=args.seed, start=start, incidents=scripted, rate_hz=args.robot_rate_hz,
                           drifts=sc.drifts, day_index=day_index))  # fmt: skip


def _days(sc: Scenario, args: argparse.Namespace, scripted: incidents.Incidents
          ) -> Iterable[tuple[CrewSimulator, RobotSimulator]]:  # fmt: skip
    """One crew and robot simulator per simulated day, built as the day comes (scripted incidents on day 0)."""
    for n, day in enumerate(sc.run_days):
        yield _simulators(sc, args, day.start, scripted if n == 0 else incidents.Incidents(), day.index)


def _dry_history(sc: Scenario, args: argparse.Namespace) -> int:
    """Generate the history, run the weak signals on it (``services.signals.detect``) and print what they flag."""
    from services.signals.detect import detect
    from simulations.history import generate

    began = time.perf_counter()
    history = generate(sc.roster, seed=args.seed, days=sc.history_days, shift_s=sc.shifts.duration_s,
                       drifts=sc.drifts, robot_rate_hz=args.robot_rate_hz)  # fmt: skip
    agent_days, robot_days, heat = history.signal_inputs(sc.roster)
    until: date = sc.history_days[-1].date
    flagged = sorted((s.subject_kind.value, s.subject_id, s.kind) for s in
                     detect(agent_days, robot_days, heat, until=until) if s.flagged)  # fmt: skip
    print(f"vigie simulate --dry-run: {len(sc.history_days)} days of history ({sc.history_days[0].date} to {until}), "
          f"{len(agent_days)} agent-days, {len(history.heat_alerts)} heat-strain alerts, generated in "
          f"{time.perf_counter() - began:.1f} s", file=sys.stderr)  # fmt: skip
    for truth in history.drifts:
        print(f"  injected: {truth.kind} on {truth.subject_kind.value} {truth.subject_id} from {truth.start}",
              file=sys.stderr)  # fmt: skip
    for kind, subject, what in flagged:
        print(f"  flagged:  {what} on {kind} {subject}", file=sys.stderr)
    return 0


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
