"""The hot-path benchmark's section says what was compared with what, and flags differing events."""

from __future__ import annotations

from pathlib import Path

from benchmarks import bench_hotpath
from benchmarks.doc_section import write_between

CODEC = {"frame_bytes": 2591, "decode_frame_us": 43.1, "orjson_loads_frame_us": 13.5, "frame_ratio_to_orjson": 3.19,
         "robot_state_bytes": 309, "decode_robot_state_us": 8.5, "orjson_loads_robot_state_us": 1.3,
         "robot_state_ratio_to_orjson": 6.54}  # fmt: skip
FALLS = {"devices": 1000, "seconds": 20, "bank_us_per_frame": 21.3, "per_device_us_per_frame": 66.3, "speedup": 3.1,
         "same_events": True}  # fmt: skip


def test_the_section_gives_each_step_its_baseline_and_ratio(tmp_path: Path) -> None:
    text = bench_hotpath.markdown(CODEC, FALLS, (1.0, 1.0, 1.0))

    assert "| decode a full frame (2,591 B, msgspec, every rule) | 43.1 µs" in text
    assert "bare `orjson.loads`, no validation: 13.5 µs | 3.19× |" in text
    assert "3.1× faster (same events: yes)" in text
    out = tmp_path / "b.md"
    write_between(out, bench_hotpath.START, bench_hotpath.END, text)
    assert out.read_text().count(bench_hotpath.START) == 1


def test_events_that_differ_are_shown_as_such() -> None:
    assert "same events: NO" in bench_hotpath.markdown(CODEC, FALLS | {"same_events": False}, (1.0, 1.0, 1.0))
