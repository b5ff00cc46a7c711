"""The weak-signal benchmark: a tiny run returns every figure, and its doc writer keeps to its markers."""

from __future__ import annotations

from pathlib import Path

from benchmarks import bench_signals


def test_a_tiny_run_returns_every_key() -> None:
    result = bench_signals.run_benchmark(agents=40, days=120, seeds=[7], drifts_per_kind=1)
    for key in ("detection_rate", "median_days_to_detection", "false_flags_per_100_agent_months", "per_kind",
                "seeds", "tuning_seeds", "sizes", "runtime_s", "targets", "injected_drifts"):
        assert key in result
    assert 0.0 <= result["detection_rate"] <= 1.0
    assert result["injected_drifts"] >= 10  # a kind with no eligible subject (no vibrating crew) is skipped
    assert "| figure | measured | target |" in bench_signals.markdown(result)


def test_doc_writer_replaces_only_between_its_markers(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text(f"# Benchmarks\n\nbefore\n\n{bench_signals.START}\nold figures\n{bench_signals.END}\n\nafter\n",
                   encoding="utf-8")
    bench_signals.write_section(doc, "new figures")
    text = doc.read_text(encoding="utf-8")
    assert "old figures" not in text and "new figures" in text
    assert text.startswith("# Benchmarks\n\nbefore\n\n") and text.endswith("\n\nafter\n")


def test_doc_writer_appends_its_markers_when_absent(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\nother section\n", encoding="utf-8")
    bench_signals.write_section(doc, "figures")
    text = doc.read_text(encoding="utf-8")
    assert text.startswith("# Benchmarks\n\nother section\n")
    assert text.rstrip().endswith(f"{bench_signals.START}\nfigures\n{bench_signals.END}")
