"""The reports benchmark's pieces that need no database: the binary COPY encoder, the generators, the doc writer."""

from __future__ import annotations

import struct
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np

from benchmarks import synthetic_year as sy
from benchmarks.bench_reports_doc import END, START, write_section
from gateway.db.rollups import COLUMNS as ROLLUP_COLUMNS
from gateway.db.rollups import minute_sums
from services.model import Frame, Noise, Received

HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8


def test_binary_copy_matches_the_postgresql_wire_format_with_nulls() -> None:
    ts = np.array(["2000-01-01T00:00:01"], dtype="datetime64[us]")
    got = sy.encode_copy([
        sy.Column("int4", np.array([7])), sy.Column("float8", np.array([np.nan])), sy.Column("text", np.array([b"ab"])),
        sy.Column("date", np.array(["2000-01-03"], dtype="datetime64[D]")), sy.Column("timestamptz", ts),
        sy.Column("text", np.array([b""])),
    ])  # fmt: skip
    row = (struct.pack(">h", 6) + struct.pack(">ii", 4, 7) + struct.pack(">i", -1) + struct.pack(">i", 2) + b"ab"
           + struct.pack(">ii", 4, 2) + struct.pack(">iq", 8, 1_000_000) + struct.pack(">i", -1))  # fmt: skip
    assert got == HEADER + row + b"\xff\xff"


def test_a_one_element_text_array_is_encoded_as_postgresql_reads_it() -> None:
    column = sy.text_array_1(np.array([b"wear-1"]))
    assert column.lengths is not None and int(column.lengths[0]) == 24 + 6
    raw = np.asarray(column.values, dtype=np.uint8)[0].tobytes()
    assert raw == struct.pack(">iiiiii", 1, 0, 25, 1, 1, 6) + b"wear-1"


def test_the_synthetic_ledger_year_is_plausible() -> None:
    rng = np.random.default_rng(1)
    columns = dict(zip(sy.LEDGER_COLUMNS, sy.ledger_year(rng, 0, 40, 2025, 225), strict=True))
    days = np.asarray(columns["day"].values)
    assert len(days) == 40 * 225
    assert np.all((days >= np.datetime64("2025-01-01")) & (days <= np.datetime64("2025-12-31")))
    weekday = (days.astype(np.int64) + 3) % 7
    assert np.all(weekday < 5)
    worked_h = np.asarray(columns["worked_s"].values) / 3600
    assert worked_h.min() >= 4 and worked_h.max() <= 9.5
    lex = 10 * np.log10(np.asarray(columns["noise_sum_t_10pow"].values) / 28_800)
    assert 70 < np.median(lex) < 90 and lex.max() < 110
    hav_s = np.asarray(columns["hav_s"].values)
    assert 0.15 < np.mean(hav_s > 0) < 0.5  # about a third of the agents use vibrating tools
    ids = np.asarray(columns["agent_id"].values)
    assert len(set(zip(ids.tolist(), days.tolist(), strict=True))) == len(days)  # one row per agent-day
    assert len(sy.encode_copy(list(columns.values()))) > 40 * 225 * 100


def test_sample_frames_cover_a_whole_shift_second_by_second() -> None:
    columns = dict(zip(sy.FRAME_COLUMNS, sy.frames_day(np.random.default_rng(2), b"agent-1", b"wear-1",
                                                        date(2025, 3, 3)), strict=True))  # fmt: skip
    ts = np.asarray(columns["ts"].values)
    assert len(ts) == 28_800 and np.all(np.diff(ts) == np.timedelta64(1, "s"))
    assert len(set(np.asarray(columns["seq"].values).tolist())) == 28_800


def test_minute_sums_add_each_agents_frames_of_a_minute_and_skip_unworn_ones() -> None:
    t = datetime(2025, 3, 3, 8, 0, 10, tzinfo=UTC)
    frames = [Received(Frame("w1", i, t.replace(second=10 + i), noise=Noise(90.0)), t, "a1") for i in range(3)]
    frames.append(Received(Frame("w2", 0, t, noise=Noise(100.0)), t, None))
    sums = minute_sums(frames)
    assert set(sums) == set(ROLLUP_COLUMNS)
    assert sums["agent_id"] == ["a1"] and sums["minute"] == [t.replace(second=0)]
    assert sums["worked_s"] == [3] and sums["noise_s"] == [3]
    assert abs(sums["noise_sum_t_10pow"][0] / (3 * 10**9.0) - 1) < 1e-6
    assert sums["hr_n"] == [0] and sums["hr_max_bpm"] == [None] and sums["wbgt_max_c"] == [None]


def test_the_section_writer_replaces_only_between_its_markers(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text(f"# Benchmarks\n\n## Falls\n\nkept\n\n{START}\nold figures\n{END}\n\n## Load\n\nkept too\n")
    write_section(doc, "## Reports\n\nnew figures\n")
    text = doc.read_text()
    assert "old figures" not in text and "new figures" in text
    assert text.startswith("# Benchmarks\n\n## Falls\n\nkept\n\n") and text.endswith("\n\n## Load\n\nkept too\n")
    assert text.count(START) == text.count(END) == 1


def test_the_section_writer_appends_its_markers_when_absent(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\n## Falls\n\nkept\n")
    write_section(doc, "## Reports\n\nfigures\n")
    write_section(doc, "## Reports\n\nfigures again\n")
    text = doc.read_text()
    assert text.startswith("# Benchmarks\n\n## Falls\n\nkept\n\n" + START)
    assert text.count(START) == 1 and text.count("figures") == 1 and "figures again" in text
