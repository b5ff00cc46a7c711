"""The dashboard benchmark's own logic: its synthetic site speaks the gateway's public JSON, and its report
replaces only its own section of docs/benchmarks.md. (The browser part runs in ``make bench``.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.dashboard_report import SECTION, markdown, percentile, summarise, write_section
from benchmarks.synthetic_site import CREW_SIZE, LAT_MAX, LAT_MIN, LON_MAX, LON_MIN, SyntheticSite
from gateway.db.alerts_store import row_json

AGENT_KEYS = {"agent_id", "display_name", "crew_id", "site_id", "device_id", "last_seen", "status", "hr_bpm",
              "battery_pct", "open_alerts", "position", "exposure_today"}  # fmt: skip
EXPOSURE_KEYS = {"day", "worked_s", "noise_dose_pct", "noise_dose_projected_pct", "hav_points",
                 "hav_points_projected", "psi_max", "wbgt_max_c", "lifts", "tonnage_kg"}  # fmt: skip
TIME_COLUMNS = {"raised_at", "source_ts", "last_seen_ts", "acknowledged_at", "resolved_at", "cleared_at"}


def test_every_agent_reports_each_second_with_the_public_shape() -> None:
    site = SyntheticSite(250, n_robots=10)
    now = datetime.now(UTC)
    messages = site.tick(now)
    (agents,) = [m["items"] for m in messages if m["type"] == "agents.changed"]
    assert len(agents) == 250
    assert all(set(agent) == AGENT_KEYS and set(agent["exposure_today"]) == EXPOSURE_KEYS for agent in agents)
    assert {agent["crew_id"] for agent in agents} == {crew["crew_id"] for crew in site.crews}
    later = site.tick(now + timedelta(seconds=1))
    (again,) = [m["items"] for m in later if m["type"] == "agents.changed"]
    assert all(a["last_seen"] != b["last_seen"] for a, b in zip(agents, again, strict=True))


def test_a_position_is_sent_only_for_agents_with_an_open_alert() -> None:
    site = SyntheticSite(120)
    agents = site.agents(datetime.now(UTC))
    alerted = {alert["agent_id"] for alert in site.open_alerts()}
    assert alerted
    for agent in agents:
        assert (agent["position"] is not None) == (agent["agent_id"] in alerted)
        assert (agent["status"] == "alert") == (agent["agent_id"] in alerted)


def test_crews_of_twelve_have_closed_areas_inside_the_city() -> None:
    site = SyntheticSite(100)
    assert [crew["agents"] for crew in site.crews] == [CREW_SIZE] * 8 + [4]
    for crew in site.crews:
        ring = crew["area"]["coordinates"][0]
        assert crew["area"]["type"] == "Polygon" and ring[0] == ring[-1]
        assert all(LON_MIN <= lon <= LON_MAX and LAT_MIN <= lat <= LAT_MAX for lon, lat in ring)


def test_synthetic_alerts_are_what_the_gateway_would_send() -> None:
    for alert in SyntheticSite(60).open_alerts():
        row = {key: datetime.fromisoformat(value) if key in TIME_COLUMNS and value else value
               for key, value in alert.items()}  # fmt: skip
        assert row_json(row) == alert


def test_alerts_are_raised_then_acknowledged_then_resolved() -> None:
    site = SyntheticSite(60, alert_every_s=2)
    now = datetime.now(UTC)
    seen: dict[str, list[str]] = {}
    for second in range(30):
        for message in site.tick(now + timedelta(seconds=second)):
            if message["type"].startswith("alert."):
                seen.setdefault(message["alert"]["alert_id"], []).append(message["alert"]["status"])
    first_live = next(statuses for statuses in seen.values() if statuses[0] == "raised")
    assert first_live == ["raised", "acknowledged", "resolved"]


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 95) == 95.0
    assert percentile(values, 100) == 100.0
    assert percentile([7.0], 99) == 7.0
    assert percentile([], 50) is None


def test_the_report_replaces_only_its_own_section(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    falls = "# Benchmarks\n\n## Fall detection (SisFall dev split)\n\nSensitivity 98.76 %.\n"
    later = "## Another benchmark\n\nKept.\n"
    doc.write_text(falls)

    write_section(doc, f"{SECTION}\n\nfirst run\n")
    assert doc.read_text() == f"{falls}\n{SECTION}\n\nfirst run\n"

    doc.write_text(f"{falls}\n{SECTION}\n\nfirst run\n\n{later}")
    write_section(doc, f"{SECTION}\n\nsecond run\n")
    assert doc.read_text() == f"{falls}\n{SECTION}\n\nsecond run\n\n{later}"


def _run(frames: list[float], latencies_ms: list[float], heap_bytes: int) -> dict[str, Any]:
    """One run's samples as the page probe returns them."""
    updates = [{"type": "agents.changed", "latency_ms": ms, "transport_ms": 5.0, "size": 1000} for ms in latencies_ms]
    raw = {"window_ms": 10_000.0, "frames": frames, "updates": updates, "alerts": [{"latency_ms": 20.0}],
           "alerts_not_shown": 0, "long_tasks": [{"at": 1.0, "duration_ms": 80.0, "blocking_ms": None}],
           "long_frames": [{"at": 1.0, "duration_ms": 90.0, "blocking_ms": 40.0, "style_layout_ms": 30.0,
                            "scripts": [{"source": "crew.js:draw", "invoker": "FrameRequestCallback",
                                         "duration_ms": 50.0, "forced_layout_ms": 0.0}]}]}  # fmt: skip
    footprint = {"js_heap_bytes": heap_bytes, "dom_nodes": 100, "agent_tiles": 10, "alert_items": 1, "canvases": 1}
    return {"raw": raw, "footprint": footprint, "load_ms": 900, "errors": []}


def test_runs_of_one_size_are_pooled_and_the_report_gives_ratios_to_the_baseline() -> None:
    baseline = summarise([_run([16.7] * 599, [40.0] * 10, 1_000_000)], sent_per_s=1.0)
    target = summarise([_run([16.7] * 290 + [50.0] * 10, [100.0] * 5, 4_000_000),
                        _run([16.7] * 300, [300.0] * 5, 4_000_000)], sent_per_s=1.0)  # fmt: skip
    assert target["frames"] == 600 and target["window_s"] == 20.0
    assert target["late_frames_pct"] == round(100 * 10 / 600, 2)
    assert target["update_latency_ms"]["p50"] == 100.0 and target["update_latency_ms"]["max"] == 300.0
    assert target["end_to_end_ms"]["max"] == 305.0
    assert target["main_thread_busy_pct"] == 0.8  # 2 long tasks of 80 ms in 20 s
    assert target["where_time_went"][0] == {"what": "crew.js:draw via FrameRequestCallback", "ms": 100}
    for summary, agents in ((baseline, 100), (target, 10_000)):
        summary.update(agents=agents, robots=100, profile=None, server_build_ms_p50=12.0)

    report = {"code": "abc1234", "command": "python -m benchmarks.bench_dashboard", "measured_at": "now",
              "seconds": 20.0, "rounds": 2, "warmup_seconds": 4.0, "profile_seconds": 0.0,
              "machine": {"cores": 2, "cpu": "test", "chromium": "156", "python": "3.11", "load_avg_1min": [1.0, 1.0]},
              "baseline": baseline, "target": target}  # fmt: skip
    text = markdown(report)
    assert text.startswith(SECTION + "\n")
    assert "| | 100 agents (baseline) | 10,000 agents | ratio |" in text
    assert "| JS heap after GC | 1,000,000 B | 4,000,000 B | 4.00 |" in text
    assert "| update latency p50 (message → painted) | 40.0 ms | 100.0 ms | 2.50 |" in text
