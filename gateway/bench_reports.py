"""``vigie bench reports``: report queries on a synthetic year and bytes per agent-day of each storage tier.

The benchmark itself lives in ``benchmarks/bench_reports.py`` (it needs the repository checkout, like the
dashboard benchmark); it is imported only when the command runs, so the gateway never loads it otherwise.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--crews", type=int, default=200)
    parser.add_argument("--days", type=int, default=225, help="working days per agent in the year")
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--sample-agents", type=int, default=5, help="agents with per-second frames")
    parser.add_argument("--sample-days", type=int, default=5, help="days of per-second frames per sample agent")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--jobs", type=int, default=2, help="processes building the annual statements")
    parser.add_argument("--out", type=Path, help="Markdown file whose bench-reports section is replaced")


def run(args: argparse.Namespace) -> int:
    try:
        from benchmarks import bench_reports
    except ImportError as exc:
        raise SystemExit("vigie bench reports needs the repository checkout (benchmarks/ is not installed)") from exc
    return bench_reports.run(args)
