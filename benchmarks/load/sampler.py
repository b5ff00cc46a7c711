"""Every few seconds during a run: the gateway's ingest lag and queue, the backlog, CPU and memory per process group.

Lag has three readings, as each tells something the others do not: the gateway's own gauge
(``vigie_ingest_lag_seconds``: storage time minus device time of the newest stored frame), the database's
(``now() - max(ts)`` of stored frames, the same idea measured from outside, and the only one left when ingest
runs in workers without HTTP), and the backlog (frames published minus frames stored: what waits in the broker
and the gateway's queue). A flat backlog is the clearest sign that the gateway keeps up.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg

from benchmarks.load import stats

PidsOf = Callable[[], list[int]]


class CpuMeter:
    """CPU % (of one core) and resident memory of named groups of processes, between two calls."""

    def __init__(self, groups: dict[str, PidsOf]) -> None:
        self.groups = groups
        self._last: dict[int, float] = {}
        self._at = time.monotonic()

    def sample(self) -> dict[str, dict[str, float]]:
        now = time.monotonic()
        interval = max(1e-6, now - self._at)
        seen: dict[int, float] = {}
        out = {}
        for name, pids_of in self.groups.items():
            used, rss = 0.0, 0
            for pid in pids_of():
                cpu = stats.proc_cpu_s(pid)
                if cpu is None:
                    continue
                seen[pid] = cpu
                used += cpu - self._last.get(pid, cpu if not self._last else 0.0)
                rss += stats.proc_rss_bytes(pid) or 0
            out[name] = {"cpu_pct": round(100 * used / interval, 1), "rss_mb": round(rss / 2**20, 1)}
        self._last, self._at = seen, now
        return out


@dataclass
class Sample:
    t_s: float
    published: int
    stored: int | None
    gateway_lag_s: float | None
    queue_depth: float | None
    db_lag_s: float | None
    cpu: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def backlog(self) -> int | None:
        return None if self.stored is None else self.published - self.stored


class Sampler(threading.Thread):
    def __init__(self, interval_s: float, database_url: str, metrics: Callable[[], dict[str, float]],
                 published: Callable[[], int], cpu: CpuMeter,
                 on_sample: Callable[[Sample], None] = lambda _s: None) -> None:  # fmt: skip
        super().__init__(name="bench-sampler", daemon=True)
        self.interval_s = interval_s
        self.database_url = database_url
        self.metrics = metrics
        self.published = published
        self.cpu = cpu
        self.samples: list[Sample] = []
        self.on_sample = on_sample
        self.started_at = time.time()
        self.stopping = threading.Event()

    def run(self) -> None:
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            self.cpu.sample()
            while not self.stopping.wait(self.interval_s):
                self.samples.append(self.take(conn))
                self.on_sample(self.samples[-1])

    def take(self, conn: psycopg.Connection[Any]) -> Sample:
        published = self.published()
        m = self.metrics()
        # This run's frames only (ts from its first second): earlier runs' frames must not read as lag.
        row = conn.execute("SELECT extract(epoch FROM now() - max(ts)) FROM frames WHERE ts >= to_timestamp(%s)",
                           (self.started_at - 1,)).fetchone()  # fmt: skip
        stored = m.get("vigie_frames_stored_total")
        return Sample(round(time.time() - self.started_at, 2), published, None if stored is None else int(stored),
                      m.get("vigie_ingest_lag_seconds"), m.get("vigie_ingest_queue_depth"),
                      float(row[0]) if row and row[0] is not None else None, self.cpu.sample())  # fmt: skip

    def stop(self) -> None:
        self.stopping.set()
        self.join(10)


def lag_summary(samples: list[Sample], flat_s_per_min: float) -> dict[str, Any]:
    """Per-minute min/median/max of each lag reading, the second half's trend, and whether it is flat."""
    out: dict[str, Any] = {"flat_threshold_s_per_min": flat_s_per_min}
    series = {
        "gateway_lag_s": [(s.t_s, s.gateway_lag_s) for s in samples if s.gateway_lag_s is not None],
        "db_lag_s": [(s.t_s, s.db_lag_s) for s in samples if s.db_lag_s is not None],
        "backlog_frames": [(s.t_s, float(s.backlog)) for s in samples if s.backlog is not None],
        "queue_depth": [(s.t_s, s.queue_depth) for s in samples if s.queue_depth is not None],
    }
    for name, points in series.items():
        trend = stats.second_half_slope(points)
        out[name] = {"per_minute": stats.per_minute(points),
                     "second_half_slope_per_min": None if trend is None else round(trend * 60, 4)}  # fmt: skip
    lag_trend = out["db_lag_s"]["second_half_slope_per_min"]
    out["flat"] = lag_trend is not None and lag_trend <= flat_s_per_min
    return out


def cpu_summary(samples: list[Sample], skip_s: float = 10.0) -> dict[str, dict[str, float | None]]:
    """Mean and max CPU % and max memory per group over the samples after the first ``skip_s`` (warm-up)."""
    steady = [s for s in samples if s.t_s >= skip_s] or samples
    groups = sorted({g for s in steady for g in s.cpu})
    out = {}
    for g in groups:
        cpu = [s.cpu[g]["cpu_pct"] for s in steady if g in s.cpu]
        rss = [s.cpu[g]["rss_mb"] for s in steady if g in s.cpu]
        out[g] = {"cpu_pct_mean": round(sum(cpu) / len(cpu), 1) if cpu else None,
                  "cpu_pct_max": max(cpu, default=None), "rss_mb_max": max(rss, default=None)}  # fmt: skip
    return out
