"""The load benchmark's own parts: payloads it patches, its statistics, and the docs section it writes."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from benchmarks.load import payloads, report, stats
from benchmarks.load.publisher import split
from benchmarks.load.sustained import Plan, probe_plan
from gateway.mqtt.codec import decode_frame, decode_robot_state
from services.falls import FallDetector


def test_patched_frame_is_a_valid_contract_frame_with_its_seq_and_ts() -> None:
    second = int(time.time()) - 3
    device = payloads.device_id(42)
    body = payloads.wearable_template(device, 42).render(payloads.wearable_seq(second),
                                                         payloads.rfc3339_ms(second).encode())  # fmt: skip
    frame = decode_frame(body, device, datetime.now(UTC))
    assert frame.seq == payloads.wearable_seq(second)
    assert frame.ts == datetime.fromtimestamp(second, UTC)
    assert frame.imu is not None and frame.imu.acc_ms2.shape == (50, 3) and frame.imu.gyr_rads is not None
    for section in (frame.noise, frame.env, frame.hav, frame.wbv, frame.lift, frame.gps, frame.hr_bpm,
                    frame.battery_pct):  # fmt: skip
        assert section is not None
    assert not frame.sos


def test_patching_changes_only_seq_and_ts() -> None:
    template = payloads.wearable_template(payloads.device_id(1), 1)
    a = orjson.loads(template.render(payloads.wearable_seq(1_800_000_000), payloads.rfc3339_ms(1_800_000_000).encode()))
    b = orjson.loads(template.render(payloads.wearable_seq(1_800_000_001), payloads.rfc3339_ms(1_800_000_001).encode()))
    assert {k for k in a if a[k] != b[k]} == {"seq", "ts"}
    assert b["ts"] == "2027-01-15T08:00:01.000Z"


def test_patched_robot_state_is_valid_at_tenths_of_a_second() -> None:
    now = time.time()
    tenth = int(now * 10) - 5
    robot = payloads.robot_id(3)
    body = payloads.robot_template(robot, 3).render(payloads.robot_seq(tenth), payloads.rfc3339_ms(tenth / 10).encode())
    state = decode_robot_state(body, robot, datetime.now(UTC))
    assert state.seq == payloads.robot_seq(tenth)
    assert abs(state.ts.timestamp() - tenth / 10) < 1e-3
    assert state.pose is not None and state.nearest_human_m is None


def test_a_value_that_does_not_fit_the_fixed_width_is_refused() -> None:
    template = payloads.wearable_template(payloads.device_id(0), 0)
    with pytest.raises(ValueError, match="fixed widths"):
        template.render(123, payloads.rfc3339_ms(time.time()).encode())


def test_the_probe_frame_presses_sos() -> None:
    second = int(time.time()) - 2
    frame = decode_frame(payloads.sos_frame(payloads.device_id(5), 5, second), payloads.device_id(5), datetime.now(UTC))
    assert frame.sos and frame.seq == payloads.wearable_seq(second)


def test_the_walking_template_never_looks_like_a_fall_or_a_still_body() -> None:
    # Ten minutes of the repeated template: no fall, no man-down, as the run's only alerts must be its probes.
    body = payloads.wearable_template(payloads.device_id(9), 9).render(payloads.wearable_seq(0 + 10**9),
                                                                       payloads.rfc3339_ms(10**9).encode())  # fmt: skip
    imu = decode_frame(body, payloads.device_id(9), datetime.fromtimestamp(10**9, UTC)).imu
    assert imu is not None
    detector, start = FallDetector(), datetime(2026, 1, 1, tzinfo=UTC)
    events = [e for s in range(600) for e in detector.update(start + timedelta(seconds=s), imu.acc_ms2,
                                                             imu.gyr_rads, imu.rate_hz)]  # fmt: skip
    assert events == []


def test_rfc3339_ms_is_always_24_characters() -> None:
    for t in (0.0, 1_800_000_000.9996, 1_764_147_599.25):
        assert len(payloads.rfc3339_ms(t)) == 24
    assert payloads.rfc3339_ms(1_764_147_599.25) == "2025-11-26T08:59:59.250Z"


def test_percentile_interpolates_between_ranks() -> None:
    assert stats.percentile([], 50) is None
    assert stats.percentile([3.0], 99) == 3.0
    assert stats.percentile([1, 2, 3, 4], 50) == 2.5
    assert stats.percentile(list(range(101)), 99) == pytest.approx(99.0)


def test_slope_of_a_flat_series_is_zero_and_of_a_ramp_its_rate() -> None:
    assert stats.slope([(t, 1.5) for t in range(10)]) == 0.0
    assert stats.slope([(t, 2.0 * t + 1) for t in range(10)]) == pytest.approx(2.0)
    assert stats.slope([(1.0, 1.0)]) is None
    # The second half only: a warm-up spike at the start does not make a flat run look like a growing one.
    points = [(t, 10.0 if t < 3 else 1.0) for t in range(20)]
    assert stats.second_half_slope(points) == 0.0


def test_per_minute_summaries() -> None:
    points = [(0, 1.0), (30, 3.0), (59, 2.0), (60, 5.0)]
    assert stats.per_minute(points) == [{"minute": 0, "min": 1.0, "median": 2.0, "max": 3.0},
                                        {"minute": 1, "min": 5.0, "median": 5.0, "max": 5.0}]  # fmt: skip


def test_probes_fall_on_distinct_devices_inside_the_run() -> None:
    probes = probe_plan(Plan(wearables=10_000, robots=100, duration_s=600, publishers=2, probe_interval_s=5))
    assert len(probes) >= 100
    assert all(5 <= s <= 597 for s in probes.values())
    small = probe_plan(Plan(wearables=20, robots=2, duration_s=15, publishers=1, probe_interval_s=3))
    assert len(small) == 3 and len(set(small)) == 3


def test_split_deals_every_device_once() -> None:
    parts = split(10, 3)
    assert sorted(i for p in parts for i in p) == list(range(10))


def test_docs_section_replaces_only_what_is_between_its_markers(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\n## Falls\nkept\n\n" + report.START + "\nold figures\n" + report.END
                   + "\n\n## Dashboard\nalso kept\n")  # fmt: skip
    report.write_section(doc, "## Load\nnew figures\n")
    text = doc.read_text()
    assert "old figures" not in text and "new figures" in text
    assert text.startswith("# Benchmarks\n\n## Falls\nkept\n\n")
    assert text.endswith(report.END + "\n\n## Dashboard\nalso kept\n")


def test_docs_section_is_appended_with_its_markers_when_absent(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\n## Falls\nkept\n")
    report.write_section(doc, "## Load\nfigures\n")
    report.write_section(doc, "## Load\nfigures again\n")
    text = doc.read_text()
    assert text.count(report.START) == 1 and text.count(report.END) == 1
    assert text.startswith("# Benchmarks\n\n## Falls\nkept\n\n" + report.START)
    assert "figures again" in text and "figures\n" not in text.replace("figures again\n", "")
