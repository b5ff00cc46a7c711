"""Weak signals as the API and the weekly report show them: JSON items, the report's week, the CSV.

Pure: signals (services/signals/model.py) and their subjects' labels in, dicts and bytes out. Each item's
``meaning`` is written in the reader's language by services/signals/meanings.py. The PDF is drawn by
gateway/reports/pdf_signals.py from the same items.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from gateway.reports.i18n import Lang
from services.signals.meanings import meaning
from services.signals.model import Signal
from services.signals.review import Review

BASELINE_WEEKS = 8
"""The weekly report reads this many weeks up to the end of its week: the baseline needs the weeks before."""

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")

CSV_COLUMNS = (
    "kind", "subject_kind", "subject_id", "subject_label", "metric", "unit", "direction", "baseline", "recent",
    "effect_size", "confidence", "flagged", "first_flagged", "group_size", "days", "meaning", "ref",
    "review_outcome", "reviewed_by", "reviewed_at", "review_note",
)  # fmt: skip


def week_period(week: str) -> tuple[date, date]:
    """An ISO 8601 week ``YYYY-Www`` as its Monday and Sunday; ValueError for anything else."""
    match = _WEEK.match(week)
    if match is None:
        raise ValueError(f"week must be YYYY-Www (ISO 8601), got {week!r}")
    year, number = int(match[1]), int(match[2])
    try:
        monday = date.fromisocalendar(year, number, 1)
    except ValueError as exc:
        raise ValueError(f"no week {number} in {year}") from exc
    return monday, monday + timedelta(days=6)


def report_span(week: str) -> tuple[date, date]:
    """The days the weekly report reads: BASELINE_WEEKS weeks ending on the week's Sunday."""
    _, sunday = week_period(week)
    return sunday - timedelta(weeks=BASELINE_WEEKS) + timedelta(days=1), sunday


def _round(value: float, digits: int = 3) -> float:
    return round(float(value), digits)


def signal_json(signal: Signal, subject_id: str, subject_label: str | None, lang: Lang, ref: str | None = None,
                review: Review | None = None) -> dict[str, Any]:  # fmt: skip
    """One signal as ``GET /api/v1/signals`` returns it; the subject as the caller may see it, the meaning in
    ``lang``; a flagged signal's ``ref`` (services/signals/review.py) and its follow-up, if one was recorded."""
    return {
        "kind": signal.kind, "subject_kind": signal.subject_kind.value, "subject_id": subject_id,
        "subject_label": subject_label, "metric": signal.metric, "unit": signal.unit, "direction": signal.direction,
        "baseline": _round(signal.baseline), "recent": _round(signal.recent),
        "effect_size": _round(signal.effect_size, 2), "confidence": _round(signal.confidence),
        "flagged": signal.flagged,
        "first_flagged": signal.first_flagged.isoformat() if signal.first_flagged else None,
        "group_size": signal.group_size, "meaning": meaning(signal, lang),
        "series": [{"day": p.day.isoformat(), "value": _round(p.value)} for p in signal.series],
        "ref": ref, "review": None if review is None else review_json(review),
    }  # fmt: skip


def review_json(review: Review) -> dict[str, Any]:
    return {"outcome": review.outcome.value, "note": review.note, "by": review.reviewed_by,
            "at": review.reviewed_at.isoformat()}  # fmt: skip


def ordered(items: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Flagged first, then by how far they moved: what a safety officer should read first (not a ranking of
    people: individual signals are shown only to the agent and the site's named readers)."""
    return sorted(items, key=lambda i: (not i["flagged"], -abs(i["effect_size"]), i["kind"], i["subject_id"]))


def signals_csv(items: Sequence[Mapping[str, Any]]) -> bytes:
    """One row per signal (UTF-8 with BOM, so spreadsheet programs read the accents)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for item in items:
        review = item.get("review") or {}
        row = {**item, "days": len(item["series"]), "first_flagged": item["first_flagged"] or "",
               "ref": item.get("ref") or "", "review_outcome": review.get("outcome", ""),
               "reviewed_by": review.get("by", ""), "reviewed_at": review.get("at", ""),
               "review_note": review.get("note", "")}  # fmt: skip
        writer.writerow(["true" if row[c] is True else "false" if row[c] is False else row[c] for c in CSV_COLUMNS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
