"""The weak signals' delivery helpers: the report's week, the CSV and PDF, each in the report's language.

Who may read which signal is services/access.py's (tests/unit/test_access.py)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest

from gateway.db.signals_queries import noise_lex_at_ear_db, utc_bounds
from gateway.reports import signals_report
from gateway.reports.pdf_signals import MEANING_LINES, follow_up_line, meaning_lines, signals_pdf
from services.detection import RuleConfig
from services.i18n_format import LANGS
from services.signals.meanings import meaning
from services.signals.model import DayValue, Signal, SubjectKind
from services.signals.review import flag_key, make_review
from services.signals.robot_onsets import slowdown_zone_m
from tests.unit.test_signals_meanings import CASES


def signal(kind: SubjectKind = SubjectKind.AGENT, subject_id: str = "a1", flagged: bool = True) -> Signal:
    series = tuple(DayValue(date(2026, 11, 1) + timedelta(days=i), 60.0 + (10 if i > 20 else 0)) for i in range(30))
    return Signal("resting_hr_drift", kind, subject_id, "resting_hr_bpm", "bpm", "up", 60.0, 70.0, 5.0, 0.99,
                  flagged, date(2026, 11, 25) if flagged else None, 1, series)  # fmt: skip


def test_an_iso_week_is_its_monday_to_sunday_and_the_report_reads_eight_weeks():
    assert signals_report.week_period("2026-W48") == (date(2026, 11, 23), date(2026, 11, 29))
    start, end = signals_report.report_span("2026-W48")
    assert end == date(2026, 11, 29) and (end - start).days + 1 == 56 and start.weekday() == 0
    for bad in ("2026-48", "2026-W54", "26-W01"):
        with pytest.raises(ValueError):
            signals_report.week_period(bad)


def test_the_csv_has_one_row_per_signal_with_its_figures():
    items = [signals_report.signal_json(signal(), "a1", "Jeanne", "fr"), signals_report.signal_json(
        signal(SubjectKind.CREW, "crew-1", flagged=False), "crew-1", "Round 1", "fr")]  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(signals_report.signals_csv(items).decode("utf-8-sig"))))
    expected = [("a1", "true", "30"), ("crew-1", "false", "30")]
    assert [(r["subject_id"], r["flagged"], r["days"]) for r in rows] == expected
    assert rows[0]["first_flagged"] == "2026-11-25" and rows[1]["first_flagged"] == ""


def test_flagged_signals_come_first():
    quiet = signals_report.signal_json(signal(SubjectKind.CREW, "c", flagged=False), "c", None, "fr")
    loud = signals_report.signal_json(signal(SubjectKind.CREW, "d"), "d", None, "fr")
    assert [i["subject_id"] for i in signals_report.ordered([quiet, loud])] == ["d", "c"]


def test_the_csv_says_what_each_signal_means_in_the_report_language():
    french = signals_report.signals_csv([signals_report.signal_json(signal(), "a1", "Jeanne", "fr")])
    english = signals_report.signals_csv([signals_report.signal_json(signal(), "a1", "Jeanne", "en")])
    fr_row = next(csv.DictReader(io.StringIO(french.decode("utf-8-sig"))))
    en_row = next(csv.DictReader(io.StringIO(english.decode("utf-8-sig"))))
    assert fr_row["meaning"].startswith("Fréquence cardiaque de repos : 60,00 bpm en référence, 70,00 bpm")
    assert en_row["meaning"].startswith("Resting heart rate: 60.00 bpm at baseline, 70.00 bpm recently")
    assert {k: v for k, v in fr_row.items() if k != "meaning"} == {k: v for k, v in en_row.items() if k != "meaning"}


def test_a_french_pdf_meaning_is_whole_or_visibly_cut():
    long = "Une phrase de préventeur, assez longue pour tenir sur plusieurs lignes du panneau. " * 12
    lines = meaning_lines(long)
    assert len(lines) == MEANING_LINES and lines[-1].endswith(" …")
    for one, _, _ in CASES.values():  # every kind's sentence, with its facts, fits whole in either language
        for lang in LANGS:
            text = meaning(one, lang)
            assert " ".join(meaning_lines(text)) == text, (one.kind, lang)


def test_noise_is_judged_at_the_ear_and_absent_without_measurement():
    row = {"noise_sum_t_10pow": 28800 * 10**8.5, "noise_s": 28800.0, "lcpeak_max_db": None, "peaks_over_135": 0,
           "hearing_attenuation_db": 0.0, "task": "collector_walking", "acclimatised": True}  # fmt: skip
    assert noise_lex_at_ear_db(row) == pytest.approx(85.0)
    assert noise_lex_at_ear_db({**row, "hearing_attenuation_db": 10.0}) < 85.0  # type: ignore[operator]
    assert noise_lex_at_ear_db({**row, "noise_s": 0.0, "noise_sum_t_10pow": 0.0}) is None


def test_a_slowdown_zone_is_wider_than_the_separation_distance_and_local_days_follow_the_time_zone():
    zones_m = {kind: slowdown_zone_m(RuleConfig().separation_m(kind)) for kind in ("follower", "mower", "robot")}
    assert zones_m["mower"] > zones_m["robot"] > zones_m["follower"] > 0
    assert all(zones_m[kind] > RuleConfig().separation_m(kind) for kind in zones_m)
    from zoneinfo import ZoneInfo

    start, end = utc_bounds(date(2026, 10, 25), date(2026, 10, 25), ZoneInfo("Europe/Paris"))
    assert (end - start) == timedelta(hours=25)  # the day summer time ends


def test_the_pdf_explains_the_signals_then_plots_each_flagged_one():
    items = [signals_report.signal_json(signal(subject_id=f"a{i}"), f"a{i}", None, "fr") for i in range(4)]
    body = {"items": items, "min_group_size": 5, "withheld": 2}
    generated = datetime(2026, 11, 30, 8, tzinfo=UTC)
    pdf = signals_pdf("crew-1", "2026-W48", (date(2026, 11, 23), date(2026, 11, 29)), body, generated_at=generated)
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") == 3
    empty = signals_pdf("crew-1", "2026-W48", (date(2026, 11, 23), date(2026, 11, 29)),
                        {"items": [], "min_group_size": 5, "withheld": 0}, "en", generated_at=generated)  # fmt: skip
    assert empty.startswith(b"%PDF")


def test_a_flags_follow_up_is_in_its_csv_row_and_under_its_pdf_panel_in_the_report_language():
    sig = signal()
    key = flag_key(sig)
    assert key is not None
    review = make_review(key, "explained", "Nouvelle tournée,\n plus longue ; rien à changer.", "preventeur",
                         datetime(2026, 11, 27, 23, 30, tzinfo=UTC))  # fmt: skip
    reviewed = signals_report.signal_json(sig, "a1", None, "fr", "sig-" + "a" * 20, review)
    unreviewed = signals_report.signal_json(signal(subject_id="a2"), "a2", None, "fr", "sig-" + "b" * 20)
    rows = list(csv.DictReader(io.StringIO(signals_report.signals_csv([reviewed, unreviewed]).decode("utf-8-sig"))))
    assert (rows[0]["ref"], rows[0]["review_outcome"], rows[0]["reviewed_by"]) == ("sig-" + "a" * 20, "explained",
                                                                                   "preventeur")  # fmt: skip
    assert rows[0]["review_note"] == "Nouvelle tournée,\n plus longue ; rien à changer."
    assert (rows[1]["review_outcome"], rows[1]["reviewed_by"], rows[1]["review_note"]) == ("", "", "")

    # 23:30 UTC is the next day in Paris: the day a French reader would write.
    assert follow_up_line(reviewed, "fr") == ("Suivi : expliqué, sans mesure — preventeur, 28/11/2026 — "
                                              "Nouvelle tournée, plus longue ; rien à changer.")  # fmt: skip
    assert follow_up_line(reviewed, "en").startswith("Follow-up: explained, no measure needed — preventeur, ")
    assert follow_up_line(unreviewed, "fr") == "Suivi : aucun suivi enregistré pour ce signal levé."
    long_note = {**reviewed, "review": {**reviewed["review"], "note": "mesure " * 100}}
    assert len(follow_up_line(long_note, "fr")) <= 150 and follow_up_line(long_note, "fr").endswith(" …")
