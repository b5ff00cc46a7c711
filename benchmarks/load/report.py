"""The load benchmark's report: the machine it ran on, and its section of docs/benchmarks.md.

The section lives between two HTML comments, ``<!-- bench-load:start -->`` and ``<!-- bench-load:end -->``;
writing it replaces only what is between them (or appends both at the end), so the other benchmarks'
sections of the same file stay as they are.
"""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from benchmarks.doc_section import write_between

START = "<!-- bench-load:start -->"
END = "<!-- bench-load:end -->"


def write_section(path: Path, body: str) -> None:
    """Replace what lies between this benchmark's markers in ``path`` (append markers and section if absent)."""
    write_between(path, START, END, body)


def _version(argv: list[str]) -> str | None:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    out = (done.stdout or done.stderr).strip().splitlines()
    return out[0] if out else None


def machine(database_url: str | None = None) -> dict[str, Any]:
    """nproc, CPU model, memory, load average, and the versions of everything on the measured path."""
    import paho.mqtt

    from gateway.runtime.mosquitto import find_mosquitto

    cpu = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                    if line.startswith("model name")), "")  # fmt: skip
    mem_kb = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), 0)  # fmt: skip
    info: dict[str, Any] = {
        "nproc": os.cpu_count(), "cpu": cpu, "memory_gb": round(mem_kb / 2**20, 1),
        "python": platform.python_version(), "paho_mqtt": paho.mqtt.__version__,
        "mosquitto": (_version([str(find_mosquitto()), "-h"]) or "").removeprefix("mosquitto version ") or None,
    }  # fmt: skip
    if database_url:
        import psycopg

        with psycopg.connect(database_url) as conn:
            info["postgresql"] = str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
            row = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'").fetchone()
            info["timescaledb"] = row[0] if row else None
    return info


def _fmt(value: Any, unit: str = "", digits: int = 0) -> str:
    if value is None:
        return "–"
    if isinstance(value, float | int):
        return f"{value:,.{digits}f}{unit}"
    return f"{value}{unit}"


def _yes(ok: bool | None) -> str:
    return "–" if ok is None else ("**met**" if ok else "**not met**")


def markdown(report: dict[str, Any]) -> str:
    """The section of docs/benchmarks.md for one run's JSON report."""
    m = report["machine"]
    lines = [
        "## Load: wearables and robots through Mosquitto → gateway → TimescaleDB",
        "",
        f"Measured {report['measured_at']} on commit `{report['code']}` with:",
        "",
        f"```\n{report['command']}\n```",
        "",
        f"Machine: {m['nproc']} cores ({m['cpu']}), {m['memory_gb']} GB, load average {m['load_avg'][0]} before"
        f" and {m['load_avg'][1]} after; Mosquitto {m.get('mosquitto')}, PostgreSQL {m.get('postgresql')},"
        f" TimescaleDB {m.get('timescaledb')}, Python {m['python']}, paho-mqtt {m['paho_mqtt']}. The load"
        " generator, the broker, the database and the gateway share these cores.",
        "",
    ]
    lines += _sustained_lines(report.get("sustained") or [])
    lines += _drain_lines(report.get("drain"))
    lines += ["", "### Targets", "", "| target | measured | |", "| --- | --- | --- |"]
    for t in report.get("targets", []):
        lines.append(f"| {t['target']} | {t['measured']} | {_yes(t['met'])} |")
    notes = report.get("notes") or []
    if notes:
        lines += ["", *[f"- {n}" for n in notes]]
    return "\n".join(lines) + "\n"


def _sustained_lines(runs: list[dict[str, Any]]) -> list[str]:
    if not runs:
        return []
    lines = ["### Sustained (real rate: 1 frame/s per wearable, 50 Hz IMU; robots at 10 Hz)", "",
             "| wearables + robots | duration | generator kept up | frames/s stored | IMU samples/s | lag (DB) median"
             " / max | lag trend, 2nd half | backlog max | stored = published | alert p50 / p95 / p99 (probes) |"
             " gateway CPU mean / max | gateway RSS max |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    for r in runs:
        lag, alerts, gw = r["lag"], r["alert_latency_ms"], r["cpu"].get("gateway", {})
        db = [p for p in lag["db_lag_s"]["per_minute"]]
        med = sorted(p["median"] for p in db)[len(db) // 2] if db else None
        worst = max((p["max"] for p in db), default=None)
        backlog = max((p["max"] for p in lag["backlog_frames"]["per_minute"]), default=None)
        lines.append(
            f"| {r['wearables']:,} + {r['robots']} | {r['duration_s']:.0f} s"
            f" | {'yes' if r['publisher']['kept_up'] else 'NO'}"
            f" | {_fmt(r['frames_per_s'])} | {_fmt(r['imu_samples_per_s'])} | {_fmt(med, ' s', 1)} /"
            f" {_fmt(worst, ' s', 1)} | {_fmt(lag['db_lag_s']['second_half_slope_per_min'], ' s/min', 2)}"
            f" ({'flat' if lag['flat'] else 'growing'}) | {_fmt(backlog)} | {'yes' if r['all_stored'] else 'NO'}"
            f" | {_fmt(alerts['p50'])} / {_fmt(alerts['p95'])} / {_fmt(alerts['p99'])} ms ({alerts['measured']}"
            f"/{alerts['probes']}) | {_fmt(gw.get('cpu_pct_mean'), ' %')} / {_fmt(gw.get('cpu_pct_max'), ' %')}"
            f" | {_fmt(gw.get('rss_mb_max'), ' MB')} |"
        )  # fmt: skip
    last = runs[-1]
    lines += ["", "CPU (% of one core, mean over the run) per process group at the largest size: "
              + ", ".join(f"{g} {_fmt(v['cpu_pct_mean'], ' %')}" for g, v in last["cpu"].items()) + "."]  # fmt: skip
    size = last.get("db_bytes_per_agent_day") or {}
    if size:
        lines += ["", "Storage per agent-day (8-h shift, 28,800 frames), from the tables' growth during the run: "
                  + ", ".join(f"{tier} {_fmt(v / 2**20 if v is not None else None, ' MiB', 2)}"
                              for tier, v in size.items()) + "."]  # fmt: skip
    return lines


def _drain_lines(drain: dict[str, Any] | None) -> list[str]:
    if not drain:
        return []
    lines = ["", f"### Capacity (drain of {drain['frames']:,} queued frames, {drain['devices']:,} devices)", "",
             "| consumer | frames/s | IMU samples/s | 10→90 % | complete | consumer CPU s |",
             "| --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    for r in drain["results"]:
        error = f" {r['error']}" if r.get("error") else ""
        lines.append(f"| {r['consumer']} | {_fmt(r['frames_per_s'])} | {_fmt(r['imu_samples_per_s'])} |"
                     f" {_fmt(r['seconds_10_to_90'], ' s', 1)} | {'yes' if r['complete'] else 'NO'} |"
                     f" {_fmt(r['consumer_cpu_s'], '', 1)} |{error}")  # fmt: skip
    ratios = drain.get("ratios") or {}
    if ratios:
        lines += ["", "Ratios: " + ", ".join(f"{k} **{_fmt(v, '×', 2)}**" for k, v in ratios.items()) + "."]
    return lines
