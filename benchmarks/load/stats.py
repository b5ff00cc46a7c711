"""Small statistics for the report: percentiles, the trend of a series, per-minute summaries, /proc readings."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

_TICKS_PER_S = os.sysconf("SC_CLK_TCK")
_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


def percentile(values: Sequence[float], pct: float) -> float | None:
    """Linear-interpolated percentile (the "linear" method of numpy/Excel); None for no values."""
    if not values:
        return None
    ranked = sorted(values)
    pos = (len(ranked) - 1) * pct / 100
    low, high = math.floor(pos), math.ceil(pos)
    return ranked[low] + (ranked[high] - ranked[low]) * (pos - low)


def slope(points: Sequence[tuple[float, float]]) -> float | None:
    """Least-squares slope dy/dx of (x, y) points; None for fewer than two distinct x."""
    if len(points) < 2:
        return None
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    if sxx == 0:
        return None
    return sum((x - mx) * (y - my) for x, y in points) / sxx


def second_half_slope(points: Sequence[tuple[float, float]]) -> float | None:
    """The trend over the second half of a run (the first half includes the warm-up)."""
    if not points:
        return None
    mid = (points[0][0] + points[-1][0]) / 2
    return slope([p for p in points if p[0] >= mid])


def per_minute(points: Sequence[tuple[float, float]]) -> list[dict[str, float | int]]:
    """Min / median / max of y for each whole minute of x (seconds since the start)."""
    buckets: dict[int, list[float]] = {}
    for x, y in points:
        buckets.setdefault(int(x // 60), []).append(y)
    return [{"minute": m, "min": round(min(ys), 3), "median": round(percentile(ys, 50) or 0.0, 3),
             "max": round(max(ys), 3)} for m, ys in sorted(buckets.items())]  # fmt: skip


def proc_cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of one process (/proc/<pid>/stat, proc(5)); None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / _TICKS_PER_S


def proc_rss_bytes(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE_BYTES
    except (OSError, IndexError, ValueError):
        return None


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (PostgreSQL's backends are the postmaster's)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if stat.read_text().rsplit(")", 1)[1].split()[1] == str(pid):
                found.append(int(stat.parent.name))
        except (OSError, IndexError):
            continue
    return found
