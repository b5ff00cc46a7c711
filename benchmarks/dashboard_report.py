"""Statistics and the Markdown report of the dashboard benchmark (``benchmarks/bench_dashboard.py``).

The samples come from ``dashboard_probe.js``; several runs of one size are pooled, summarised as
percentiles, and set beside the baseline's with their ratio.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

FRAME_BUDGET_MS = 1000 / 60  # headless Chromium draws at 60 Hz
SECTION = "## Dashboard at 10,000 agents (browser)"
# (label, key path, digits, unit): the table's rows, in order; each also gets its ratio target / baseline.
ROWS: list[tuple[str, tuple[str, ...], int, str]] = [
    ("frame interval p50", ("frame_ms", "p50"), 1, " ms"),
    ("frame interval p95", ("frame_ms", "p95"), 1, " ms"),
    ("frame interval p99", ("frame_ms", "p99"), 1, " ms"),
    ("frame interval max", ("frame_ms", "max"), 1, " ms"),
    ("frames per second", ("fps",), 1, ""),
    ("late frames (> 25 ms)", ("late_frames_pct",), 2, " %"),
    ("long tasks (count)", ("long_tasks",), 0, ""),
    ("main thread in long tasks", ("main_thread_busy_pct",), 1, " %"),
    ("long animation frames, blocking time", ("long_frame_blocking_ms",), 0, " ms"),
    ("`agents.changed` sent per second", ("agents_messages_sent_per_s",), 2, ""),
    ("`agents.changed` drawn per second", ("agents_messages_per_s",), 2, ""),
    ("update latency p50 (message → painted)", ("update_latency_ms", "p50"), 1, " ms"),
    ("update latency p95", ("update_latency_ms", "p95"), 1, " ms"),
    ("update latency max", ("update_latency_ms", "max"), 1, " ms"),
    ("end to end p50 (server send → painted)", ("end_to_end_ms", "p50"), 1, " ms"),
    ("end to end p95", ("end_to_end_ms", "p95"), 1, " ms"),
    ("alert latency p50 (message → in the feed)", ("alert_latency_ms", "p50"), 1, " ms"),
    ("alert latency p95", ("alert_latency_ms", "p95"), 1, " ms"),
    ("alert latency max", ("alert_latency_ms", "max"), 1, " ms"),
    ("`agents.changed` message size", ("agents_message_bytes",), 0, " B"),
    ("load to live (snapshot drawn), worst run", ("load_ms",), 0, " ms"),
    ("JS heap after GC", ("js_heap_bytes",), 0, " B"),
    ("DOM elements", ("dom_nodes",), 0, ""),
    ("agent tiles in the DOM", ("agent_tiles",), 0, ""),
]
RATIOS = {"frame_p95": ("frame_ms", "p95"), "frame_p99": ("frame_ms", "p99"),
          "update_latency_p50": ("update_latency_ms", "p50"), "update_latency_p95": ("update_latency_ms", "p95"),
          "end_to_end_p95": ("end_to_end_ms", "p95"), "alert_latency_p95": ("alert_latency_ms", "p95"),
          "js_heap": ("js_heap_bytes",), "dom_nodes": ("dom_nodes",)}  # fmt: skip


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return float(ordered[int(min(rank, len(ordered))) - 1])


def pooled(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One set of samples from several runs of the same size (their windows put end to end)."""
    def concat(key: str) -> list[Any] | None:
        parts = [run["raw"][key] for run in runs]
        return None if any(part is None for part in parts) else [item for part in parts for item in part]

    return {
        "window_ms": sum(run["raw"]["window_ms"] for run in runs),
        "frames": concat("frames"), "updates": concat("updates"), "alerts": concat("alerts"),
        "alerts_not_shown": sum(run["raw"]["alerts_not_shown"] for run in runs),
        "long_tasks": concat("long_tasks"), "long_frames": concat("long_frames"),
    }  # fmt: skip


def stats(values: Sequence[float]) -> dict[str, float | None]:
    return {"p50": percentile(values, 50), "p95": percentile(values, 95), "p99": percentile(values, 99),
            "max": max(values) if values else None}  # fmt: skip


def where_time_went(long_frames: list[dict[str, Any]] | None, top: int = 6) -> list[dict[str, Any]]:
    """The scripts that took the most time inside long animation frames, and those frames' style and layout."""
    if not long_frames:
        return []
    totals: dict[str, float] = {"(style and layout of the frame)": 0.0}
    for entry in long_frames:
        totals["(style and layout of the frame)"] += entry["style_layout_ms"] or 0.0
        for script in entry["scripts"]:
            key = f"{script['source']} via {script['invoker']}"
            totals[key] = totals.get(key, 0.0) + script["duration_ms"]
    ranked = sorted(totals.items(), key=lambda item: item[1], reverse=True)[:top]
    return [{"what": what, "ms": round(ms)} for what, ms in ranked if ms > 0]


def summarise(runs: list[dict[str, Any]], sent_per_s: float) -> dict[str, Any]:
    raw = pooled(runs)
    frames = raw["frames"]
    # At 60 Hz a frame that took more than 1.5 budgets missed at least one display refresh.
    late = [interval for interval in frames if interval > 1.5 * FRAME_BUDGET_MS]
    agents = [u for u in raw["updates"] if u["type"] == "agents.changed"]
    alerts = [a["latency_ms"] for a in raw["alerts"]]
    window_s = raw["window_ms"] / 1000

    def total(entries: list[dict[str, Any]] | None, field: str) -> float | None:
        return None if entries is None else round(sum(entry[field] or 0 for entry in entries))

    return {
        "load_ms": max(run["load_ms"] for run in runs),
        "window_s": round(window_s, 2),
        "frames": len(frames),
        "fps": round(len(frames) / window_s, 1) if window_s else None,
        "frame_ms": stats(frames),
        "late_frames_pct": round(100 * len(late) / len(frames), 2) if frames else None,
        "long_tasks": None if raw["long_tasks"] is None else len(raw["long_tasks"]),
        "long_task_ms": total(raw["long_tasks"], "duration_ms"),
        "long_frames": None if raw["long_frames"] is None else len(raw["long_frames"]),
        "long_frame_blocking_ms": total(raw["long_frames"], "blocking_ms"),
        "main_thread_busy_pct": (None if raw["long_tasks"] is None else
                                 round(100 * sum(t["duration_ms"] for t in raw["long_tasks"]) / raw["window_ms"], 1)),
        "agents_messages_per_s": round(len(agents) / window_s, 2) if window_s else None,
        "agents_messages_sent_per_s": round(sent_per_s, 2),
        "agents_message_bytes": max((u["size"] for u in agents), default=0),
        "update_latency_ms": stats([u["latency_ms"] for u in agents]),
        # From the server's send to the painted frame: adds what waited in the socket while the page was busy.
        "end_to_end_ms": stats([u["latency_ms"] + u["transport_ms"] for u in agents]),
        "alerts": len(alerts),
        "alert_latency_ms": stats(alerts),
        "alerts_not_shown": raw["alerts_not_shown"],
        "where_time_went": where_time_went(raw["long_frames"]),
        **runs[-1]["footprint"],
        "page_errors": [error for run in runs for error in run["errors"]],
    }  # fmt: skip


def ratio(target: float | None, baseline: float | None) -> float | None:
    if target is None or baseline is None or baseline == 0:
        return None
    return round(target / baseline, 2)


def _fmt(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def get(run: dict[str, Any], key: tuple[str, ...]) -> float | None:
    value: Any = run
    for part in key:
        value = value.get(part) if isinstance(value, dict) else None
    return value if isinstance(value, int | float) else None


def markdown(report: dict[str, Any]) -> str:
    base, target = report["baseline"], report["target"]
    m = report["machine"]
    n_base, n_target = base["agents"], target["agents"]
    table = [f"| | {n_base:,} agents (baseline) | {n_target:,} agents | ratio |", "| --- | --- | --- | --- |"]
    for label, key, digits, unit in ROWS:
        b, t = get(base, key), get(target, key)
        table.append(f"| {label} | {_fmt(b, digits)}{unit} | {_fmt(t, digits)}{unit} | {_fmt(ratio(t, b), 2)} |")
    loaf = "; ".join(f"`{item['what']}` {item['ms']:,} ms" for item in target["where_time_went"]) or "none"
    sampled = "; ".join(f"`{item['what']}` {item['busy_pct']} %" for item in target["profile"] or []) or "not sampled"

    lines = [
        SECTION, "",
        "What is measured: the real dashboard (`dashboards/static`, code "
        f"`{report['code']}`) in headless Chromium, driven over the DevTools protocol by `benchmarks/cdp.py` (not "
        "Playwright, whose Network domain copies every WebSocket frame on the page's main thread: about 200 ms "
        "per 4.6 MB message, which no supervisor's browser pays), against a synthetic site served by "
        "`benchmarks/fake_gateway.py` "
        "(a real HTTP server and WebSocket on the loopback): agents in crews of 12, each crew with a work area "
        f"around Paris, {target['robots']} robots in both runs, and every second one `agents.changed` message "
        "carrying *every* agent's new readings (the worst case: every wearable reports each second, and the "
        "gateway coalesces per second), one `robots.changed`, an `alert.raised` every 2 s, acknowledged after "
        "6 s and resolved after 20 s. `benchmarks/dashboard_probe.js`, injected before the page's scripts, "
        f"measures {report['seconds']:g} s per size, in {report['rounds']} round(s) alternating the two sizes "
        f"(each after a fresh load and a {report['warmup_seconds']:g} s warm-up), in the same browser.",
        "",
        "- frame interval: time between consecutive `requestAnimationFrame` callbacks. Headless Chromium draws at "
        "a fixed 60 Hz (16.7 ms) whatever the flags (`--disable-gpu-vsync --disable-frame-rate-limit` change "
        "nothing in Chromium 156 headless), so a frame interval over 25 ms is a missed refresh (*late frames*).",
        "- update latency: from the WebSocket `message` event of an `agents.changed` to the end of the first "
        "frame after it (a `requestAnimationFrame`, then a `MessageChannel` task, which runs after that "
        "frame's style, layout and paint): parsing, applying to the store, drawing. *End to end* adds the "
        "time from the server's send to the `message` event, which grows when the page cannot keep up and "
        "messages wait in the socket.",
        "- alert latency: from the `alert.raised` message event to the alert's `[data-alert-id]` element being "
        "in the feed (MutationObserver).",
        "- long tasks: main-thread tasks over 50 ms (`longtask`); long animation frames: Chromium's LoAF entries "
        "(blocking time summed, and their scripts by file and function). JS heap after a forced GC "
        "(`--enable-precise-memory-info --js-flags=--expose-gc`).",
        "- not measured: compositing and rasterisation off the main thread (software here, a GPU on a real "
        "screen), and a real display's refresh. The synthetic server runs on the same two cores as the browser.",
        "",
        "Absolute figures move with the machine's load (the load average below, with other jobs on the same "
        "two cores); the ratio column compares two sizes measured in the same run, alternately.",
        "",
        "```",
        report["command"],
        "```",
        "",
        f"Machine: {m['cores']} cores ({m['cpu'] or 'unknown CPU'}, shared with other jobs: load average "
        f"{m['load_avg_1min'][0]} before, {m['load_avg_1min'][1]} after), Chromium {m['chromium']}, "
        f"Python {m['python']}, viewport 1600×1000, software rendering (`--disable-gpu`). "
        f"Measured {report['measured_at']}.",
        "",
        *table,
        "",
        f"Where the main thread went at {n_target:,} agents: inside long animation frames, by entry point, {loaf}. "
        f"Sampled for {report['profile_seconds']:g} s after the window (CDP profiler, self time as a share of "
        f"the busy time): {sampled}.",
        "",
        f"Alerts measured: {base['alerts']} / {target['alerts']} (raised more than 2 s before the end and never "
        f"shown: {base['alerts_not_shown']} / {target['alerts_not_shown']}); page errors: "
        f"{len(base['page_errors'])} / {len(target['page_errors'])}. The synthetic server needs "
        f"{_fmt(target['server_build_ms_p50'], 0)} ms per second to build the {n_target:,}-agent messages. "
        f"Screenshots: `test-artifacts/bench-dashboard-{n_base}.png`, `test-artifacts/bench-dashboard-{n_target}.png`.",
    ]
    return "\n".join(lines) + "\n"


def write_section(path: Path, section: str) -> None:
    """Replaces this benchmark's section of ``path`` (up to the next ``## `` heading), or appends it."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == SECTION), None)
    if start is None:
        new_text = text.rstrip("\n") + "\n\n" + section
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        tail = "".join(lines[end:])
        new_text = "".join(lines[:start]) + section + ("\n" + tail if tail else "")
    path.write_text(new_text, encoding="utf-8")


