"""One sustained run: N wearables and M robots at their real rates for D seconds, with SOS probes.

The gateway is started fresh for the run (its detectors and ledgers start empty, as at the start of a shift);
the broker and the database are the rig's. After the last publish the run waits until every frame
published is stored (bounded): ``drain_after_s`` is how long the gateway needed to catch up, a run that
kept up needs only its batch delay.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from benchmarks.load import payloads, sampler, stats
from benchmarks.load.probes import AlertListener, latencies_ms
from benchmarks.load.publisher import Fleet, Job, split
from benchmarks.load.rig import Gateway, Services, table_bytes

log = logging.getLogger(__name__)
SHIFT_FRAMES = 8 * 3600  # frames per agent-day: one 8-h shift at one frame a second
MINUTES_PER_SHIFT = 8 * 60
# Tiers of storage, by table: per-second rows, per-minute roll-ups (when the schema has them), the ledger.
# Raw IMU (kept around events only) is left out: it grows with the number of events, which the probes inflate.
TIERS = {"frames (per second)": "frames", "frame_minutes (per minute)": "frame_minutes",
         "exposure ledger": "exposure_days"}  # fmt: skip
# A publisher that falls this far behind its schedule sends a bursty load, not the one asked for.
KEPT_UP_P99_S = 0.5


@dataclass(frozen=True)
class Plan:
    wearables: int
    robots: int
    duration_s: int
    publishers: int
    probe_interval_s: float
    workers: int = 1
    sample_interval_s: float = 5.0
    flat_s_per_min: float = 0.1
    drain_timeout_s: float = 300.0
    # Called off when the database lags this far behind: the gateway has visibly not kept up, and going on
    # would only pile the load up in the broker's memory (10,000 frames/s is 26 MB/s).
    give_up_lag_s: float = 60.0


def probe_plan(plan: Plan) -> dict[int, int]:
    """device index -> second of the run of its SOS: one probe every ``probe_interval_s`` after a 5-s warm-up,
    on distinct devices spread over the fleet (each raises a new alert), none in the last 3 s."""
    first, last = 5, plan.duration_s - 3
    count = min(plan.wearables, max(0, int((last - first) / plan.probe_interval_s) + 1))
    stride = max(1, plan.wearables // max(1, count))
    return {(k * stride + 7) % plan.wearables: first + int(k * plan.probe_interval_s) for k in range(count)}


def _sizes(conn: psycopg.Connection[Any]) -> dict[str, int | None]:
    return {tier: table_bytes(conn, table) for tier, table in TIERS.items()}


def _count(conn: psycopg.Connection[Any], table: str, since: str) -> int:
    query = sql.SQL("SELECT count(*) FROM {} WHERE ts >= %s").format(sql.Identifier(table))
    row = conn.execute(query, (since,)).fetchone()
    return int(row[0]) if row else 0


def _rows(conn: psycopg.Connection[Any], table: str) -> int | None:
    if table_bytes(conn, table) is None:
        return None
    row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()
    return int(row[0]) if row else 0


def run(services: Services, plan: Plan) -> dict[str, Any]:
    gateway = Gateway(services, workers=plan.workers)
    gateway.start()
    listener = AlertListener(gateway.url.replace("http", "ws", 1) + "/api/v1/live", services.admin_token())
    listener.start()
    if not listener.ready.wait(30):
        gateway.stop()
        raise RuntimeError(f"the live feed did not accept the admin token: {listener.error}")
    probes = probe_plan(plan)
    user, password = services.fleet_mqtt
    jobs = [Job(k, services.mqtt_host, services.mqtt_port, user, password, w, r, plan.wearables, plan.robots,
                plan.duration_s, {i: s for i, s in probes.items() if i in set(w)})
            for k, (w, r) in enumerate(zip(split(plan.wearables, plan.publishers),
                                           split(plan.robots, plan.publishers), strict=True))]  # fmt: skip
    fleet = Fleet(jobs)
    meter = sampler.CpuMeter({"gateway": lambda: gateway.pids, "broker": lambda: _broker_pids(services),
                              "postgres": lambda: _postgres_pids(services),
                              "publishers": lambda: fleet.pids})  # fmt: skip
    metrics = gateway.metrics
    conn = psycopg.connect(services.database_url, autocommit=True)
    try:
        sizes_before, rows_before = _sizes(conn), {t: _rows(conn, t) for t in ("frame_minutes", "exposure_days")}
        stored_before = int(gateway.metrics().get("vigie_frames_stored_total", 0))
        called_off: list[float] = []
        give_up = _give_up(plan, fleet, called_off)
        samples = sampler.Sampler(plan.sample_interval_s, services.database_url, metrics,
                                  lambda: fleet.published()[0] + stored_before, meter, give_up)  # fmt: skip
        start_at = fleet.start()
        samples.started_at = start_at
        samples.start()
        outcomes = fleet.join(plan.duration_s + 180)
        fleet.stop.set()  # publishing is over: what follows is catching up, not a reason to call anything off
        published_at = time.time()
        frames = sum(o.frames for o in outcomes)
        robot_states = sum(o.robot_states for o in outcomes)
        since = payloads.rfc3339_ms(start_at - 1)
        deadline = time.monotonic() + (30.0 if called_off else plan.drain_timeout_s)
        stored = _wait_stored(conn, since, frames, deadline)
        drain_after_s = time.time() - published_at
        time.sleep(2.0)  # the last probes' alerts
        samples.stop()
        listener.stop()
        robots_stored = _count(conn, "robot_states", since)
        sizes_after = _sizes(conn)
        rows_after = {t: _rows(conn, t) for t in ("frame_minutes", "exposure_days")}
    finally:
        conn.close()
        gateway.stop()
        gateway.discard_sessions()
    published_probes = fleet.probe_times()
    # Stored over the time it took: the publishing time plus any catching up after it.
    span_s = max(1.0, published_at - start_at + (drain_after_s if stored else 0.0))
    lat, missing = latencies_ms(published_probes, listener.received)
    behind_p99 = max((o.behind_p99_s for o in outcomes), default=0.0)
    errors = [o.error for o in outcomes if o.error]
    return {
        "wearables": plan.wearables, "robots": plan.robots, "duration_s": plan.duration_s,
        "called_off_at_s": called_off[0] if called_off else None,
        "published_s": round(published_at - start_at, 1),
        "workers": plan.workers, "publishers": plan.publishers,
        "frames_published": frames, "frames_stored": stored, "all_stored": stored == frames,
        "robot_states_published": robot_states, "robot_states_stored": robots_stored,
        "frames_per_s": round(stored / span_s, 1),
        "imu_samples_per_s": round(stored * payloads.IMU_RATE_HZ / span_s),
        "robot_states_per_s": round(robots_stored / span_s, 1),
        "drain_after_s": round(drain_after_s, 2),
        "publisher": {"kept_up": behind_p99 <= KEPT_UP_P99_S and not errors,
                      "behind_p99_s": round(behind_p99, 3),
                      "behind_max_s": round(max((o.behind_max_s for o in outcomes), default=0.0), 3),
                      "frames_per_s": round(frames / max(1.0, published_at - start_at), 1),
                      "cpu_s": round(sum(o.cpu_s for o in outcomes), 1), "errors": errors},
        "alert_latency_ms": {"probes": len(probes), "published": len(published_probes), "measured": len(lat),
                             "missing": missing[:20], "p50": _r(stats.percentile(lat, 50)),
                             "p95": _r(stats.percentile(lat, 95)), "p99": _r(stats.percentile(lat, 99)),
                             "max": _r(max(lat, default=None))},
        "lag": sampler.lag_summary(samples.samples, plan.flat_s_per_min),
        "cpu": sampler.cpu_summary(samples.samples),
        "db_bytes_per_agent_day": _per_agent_day(sizes_before, sizes_after, rows_before, rows_after,
                                                 stored, plan.wearables),
        "live_messages": listener.messages,
    }  # fmt: skip


def _give_up(plan: Plan, fleet: Fleet, called_off: list[float]) -> Callable[[sampler.Sample], None]:
    def check(sample: sampler.Sample) -> None:
        late = sample.db_lag_s if sample.db_lag_s is not None else sample.t_s  # nothing stored yet: all late
        if late > plan.give_up_lag_s and not called_off and not fleet.stop.is_set():
            log.warning("lag %.0f s > %.0f s at t=%.0f s: calling the run off", late, plan.give_up_lag_s, sample.t_s)
            called_off.append(sample.t_s)
            fleet.stop.set()

    return check


def _wait_stored(conn: psycopg.Connection[Any], since: str, frames: int, deadline: float) -> int:
    stored = _count(conn, "frames", since)
    while stored < frames and time.monotonic() < deadline:
        time.sleep(0.5)
        stored = _count(conn, "frames", since)
    return stored


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _per_agent_day(before: dict[str, int | None], after: dict[str, int | None], rows_before: dict[str, int | None],
                   rows_after: dict[str, int | None], frames: int, agents: int) -> dict[str, float | None]:  # fmt: skip
    """Bytes per agent-day for each tier present: per-second tables scale with frames (× 28,800 a shift);
    per-minute roll-ups with their rows (× 480 a shift); the ledger is one row per agent and day."""
    out: dict[str, float | None] = {}
    for tier, table in TIERS.items():
        b, a = before.get(tier), after.get(tier)
        if a is None or b is None or frames == 0:
            continue
        grown = a - b
        if table == "frame_minutes":
            rows = (rows_after.get(table) or 0) - (rows_before.get(table) or 0)
            out[tier] = round(grown / rows * MINUTES_PER_SHIFT) if rows > 0 else None
        elif table == "exposure_days":
            out[tier] = round(a / max(1, rows_after.get(table) or 0)) if rows_after.get(table) else None
        else:
            out[tier] = round(grown / frames * SHIFT_FRAMES)
    return out


def _broker_pids(services: Services) -> list[int]:
    try:
        return [int(services.broker.pid_file.read_text().split()[0])]
    except (OSError, ValueError, IndexError):
        return []


def _postgres_pids(services: Services) -> list[int]:
    pid = services.postmaster_pid()
    return [pid, *stats.children(pid)] if pid else []
