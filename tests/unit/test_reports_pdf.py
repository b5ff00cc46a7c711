"""Exposure PDFs: the expected pages, none of them blank, a footer on each, whatever sections are null."""

from __future__ import annotations

import random
import shutil
import subprocess
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib.image import imread

from gateway.reports import pdf_report
from gateway.reports.pdf_report import annual_pdf, exposure_pdf
from tests.unit.test_reports import GENERATED_AT, NOVEMBER, annual_statement, crew_month, exposure_day

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None, reason="poppler-utils not installed"
)


def _page_images(pdf: bytes, tmp_path: Path) -> list[np.ndarray[Any, Any]]:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(path), str(tmp_path / "page")], check=True, timeout=60)
    return [imread(p) for p in sorted(tmp_path.glob("page-*.png"))]


def _text(pdf: bytes, page: int) -> str:
    cmd = ["pdftotext", "-f", str(page), "-l", str(page), "-", "-"]
    return subprocess.run(cmd, input=pdf, capture_output=True, check=True, timeout=60).stdout.decode()


def _assert_not_blank(image: np.ndarray[Any, Any]) -> None:
    """Something besides the footer is drawn: the page above its bottom 8 % is not uniformly white."""
    body = image[: int(image.shape[0] * 0.92), :, :3].mean(axis=2)
    assert body.std() > 0.02
    assert (body < 0.9).mean() > 0.003, "at least 0.3 % of the page above the footer is ink"


@needs_poppler
def test_exposure_pdf_has_a_summary_a_page_per_agent_and_the_methods(tmp_path: Path) -> None:
    pdf = exposure_pdf("Exposition — équipe test", NOVEMBER, crew_month(agents=3, days=6), generated_at=GENERATED_AT)
    assert pdf.startswith(b"%PDF")
    pages = _page_images(pdf, tmp_path)
    assert len(pages) == 1 + 3 + 1
    for page in pages:
        _assert_not_blank(page)
    assert all(f"agent-000{i}" in _text(pdf, 1) for i in (1, 2, 3))
    assert "agent-0002" in _text(pdf, 3)
    assert "ISO 9612" in _text(pdf, 5)


@needs_poppler
def test_exposure_pdf_survives_an_agent_without_any_section(tmp_path: Path) -> None:
    rng = random.Random(1)
    empty = exposure_day(rng, 9, date(2026, 11, 3))
    empty |= dict.fromkeys(("noise", "hav", "wbv", "heat", "lifting", "night"))
    pdf = exposure_pdf("Vide", NOVEMBER, [empty], lang="en", generated_at=GENERATED_AT)
    pages = _page_images(pdf, tmp_path)
    assert len(pages) == 3
    assert _text(pdf, 2).count("No data") == 4


@needs_poppler
def test_every_page_has_the_footer(tmp_path: Path) -> None:
    pdf = exposure_pdf("Rapport pied", NOVEMBER, crew_month(agents=2, days=3), generated_at=GENERATED_AT)
    for page in range(1, 5):
        out = _text(pdf, page)
        assert "Rapport pied" in out and f"page {page}/4" in out
        assert "01/11/2026 – 30/11/2026" in out and "01/12/2026 09:30 (UTC+1)" in out


def test_exposure_pdf_is_reproducible_for_the_same_data_and_time() -> None:
    days = crew_month(agents=2, days=3)
    assert exposure_pdf("R", NOVEMBER, days, generated_at=GENERATED_AT) == exposure_pdf(
        "R", NOVEMBER, list(reversed(days)), generated_at=GENERATED_AT
    )


def test_exposure_pdf_refuses_days_outside_the_period_and_naive_times() -> None:
    days = crew_month(agents=1, days=2)
    with pytest.raises(ValueError, match="outside the period"):
        exposure_pdf("R", (date(2026, 11, 3), date(2026, 11, 30)), days, generated_at=GENERATED_AT)
    with pytest.raises(ValueError, match="timezone-aware"):
        exposure_pdf("R", NOVEMBER, days, generated_at=datetime(2026, 12, 1))  # noqa: DTZ001


@needs_poppler
def test_an_empty_period_renders_a_cover_and_the_methods(tmp_path: Path) -> None:
    pages = _page_images(exposure_pdf("Rien", NOVEMBER, [], generated_at=GENERATED_AT), tmp_path)
    assert len(pages) == 2
    for page in pages:
        _assert_not_blank(page)


@needs_poppler
def test_a_large_crew_continues_the_summary_on_further_pages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf_report, "ROWS_ON_COVER", 2)
    monkeypatch.setattr(pdf_report, "ROWS_PER_PAGE", 2)
    days = crew_month(agents=5, days=1, nulls=False)
    pdf = exposure_pdf("Grande équipe", NOVEMBER, days, generated_at=GENERATED_AT)
    assert len(_page_images(pdf, tmp_path)) == 1 + 2 + 5 + 1
    assert "agent-0005" in _text(pdf, 3) and "agent-0005" not in _text(pdf, 2)


@needs_poppler
@pytest.mark.parametrize(("lang", "name"), [("fr", "Chloé B."), ("en", None)])
def test_annual_pdf_is_one_full_page(tmp_path: Path, lang: str, name: str | None) -> None:
    pdf = annual_pdf(annual_statement(name), lang=lang, generated_at=GENERATED_AT)
    pages = _page_images(pdf, tmp_path)
    assert len(pages) == 1
    _assert_not_blank(pages[0])
    text = _text(pdf, 1)
    assert "D4163-2" in text and ("Chloé B." in text if name else "agent-0001" in text)
