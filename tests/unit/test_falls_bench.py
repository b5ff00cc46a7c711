"""``vigie bench falls`` on a synthetic .npz in the SisFall dev-split format, and on the real one when present."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from gateway import bench_falls
from services.falls import DEFAULT_FALL_PARAMS, FallParams
from tests.unit.test_falls_support import everyday, fall

SISFALL_DEV = Path(__file__).resolve().parents[2] / ".." / "shared" / "datasets" / "falls" / "sisfall_dev.npz"
KEYS = {"trials", "falls", "sensitivity", "specificity", "false_alarms_per_hour", "latency_s_median", "subjects",
        "rate_hz", "detector_version"}  # fmt: skip


def write_synthetic_npz(path: Path, rate_hz: float = 50.0) -> Path:
    """Three subjects, each with two falls and three everyday recordings, gyroscope columns included."""
    names, trials = [], []
    for s, subject in enumerate(("SA01", "SA02", "SE01")):
        for r, lead_s in enumerate((0.2 * s, 0.5 + 0.2 * s)):
            names.append((f"F01_{subject}_R{r + 1:02d}", subject, "F01", True))
            trials.append(fall(rate_hz, lead_s=lead_s, after_s=6.0).acc_ms2())
        for code, kind in (("D01", "walking"), ("D19", "jumping"), ("D10", "sitting down hard")):
            names.append((f"{code}_{subject}_R01", subject, code, False))
            trials.append(everyday(kind, rate_hz).acc_ms2())
    lengths = np.array([len(t) for t in trials], dtype=np.int64)
    data = np.concatenate([np.column_stack([t, np.zeros_like(t)]) for t in trials]).astype(np.float32)
    meta = {"source": "synthetic", "rate_hz": rate_hz, "split": "test", "subjects": ["SA01", "SA02", "SE01"]}
    np.savez(path, data=data, offsets=np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths=lengths,
             names=np.array([n[0] for n in names]), subject=np.array([n[1] for n in names]),
             activity=np.array([n[2] for n in names]), is_fall=np.array([n[3] for n in names]),
             meta=json.dumps(meta))  # fmt: skip
    return path


def bench(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, object]:
    parser = argparse.ArgumentParser()
    bench_falls.add_arguments(parser)
    assert bench_falls.run(parser.parse_args(list(argv))) == 0
    report: dict[str, object] = json.loads(capsys.readouterr().out)
    return report


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_synthetic_npz(tmp_path_factory.mktemp("falls") / "synthetic.npz")


def test_the_benchmark_reports_every_figure_on_a_synthetic_recording_set(synthetic, capsys):
    report = bench(capsys, "--data", str(synthetic), "--jobs", "1")

    assert report.keys() >= KEYS
    assert (report["trials"], report["falls"], report["subjects"]) == (15, 6, ["SA01", "SA02", "SE01"])
    assert (report["sensitivity"], report["specificity"], report["false_alarms_per_hour"]) == (1.0, 1.0, 0.0)
    assert 2.0 <= float(report["latency_s_median"]) <= 3.0  # type: ignore[arg-type]


def test_the_benchmark_resamples_to_another_rate_first(synthetic, capsys):
    report = bench(capsys, "--data", str(synthetic), "--rate-hz", "200", "--subjects", "SA01,SE01")

    assert (report["rate_hz"], report["trials"], report["sensitivity"], report["specificity"]) == (200.0, 10, 1.0, 1.0)


def test_leave_one_subject_out_fits_inside_each_fold(synthetic, capsys):
    report = bench(capsys, "--data", str(synthetic), "--cv", "loso", "--jobs", "2")

    assert report["cv"] == "loso"
    assert report["params"] == "fitted inside each fold"
    assert report.keys() >= KEYS


def test_fitted_params_are_written_with_how_they_were_fitted(synthetic, capsys, tmp_path):
    out = tmp_path / "params.json"
    report = bench(capsys, "--data", str(synthetic), "--subjects", "SA01,SA02", "--fit-out", str(out))
    document = json.loads(out.read_text())

    assert document["fitted"]["subjects"] == ["SA01", "SA02"]
    assert FallParams.from_dict(document) != DEFAULT_FALL_PARAMS
    assert report["params"] == str(out)
    assert bench(capsys, "--data", str(synthetic), "--params", str(out))["sensitivity"] == 1.0


SOURCES = ["synthetic", *(["sisfall_dev"] if SISFALL_DEV.exists() else [])]


@pytest.mark.parametrize("source", SOURCES)
def test_the_benchmark_on_two_subjects_returns_every_figure(source, synthetic, capsys):
    data, subjects = (synthetic, "SA01,SE01") if source == "synthetic" else (SISFALL_DEV, "SA01,SE01")
    report = bench(capsys, "--data", str(data), "--subjects", subjects)

    assert report.keys() >= KEYS
    assert report["subjects"] == ["SA01", "SE01"]
    assert float(report["sensitivity"]) >= 0.95  # type: ignore[arg-type]
    assert float(report["specificity"]) >= 0.97  # type: ignore[arg-type]
