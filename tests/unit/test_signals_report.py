"""The weak signals' delivery helpers: the report's week, the CSV and PDF, who may read which signal."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest

from gateway.api.routes_signals import may_read, shown_subject
from gateway.db.signals_queries import Subject, noise_lex_at_ear_db, slowdown_distances_m, utc_bounds
from gateway.reports import signals_report
from gateway.reports.pdf_signals import signals_pdf
from services.access import Principal, Role, pseudonym
from services.signals.model import DayValue, Signal, SubjectKind

KEY = b"k" * 32
AGENT_SUBJECT = Subject("Jeanne Martin", "paris", "crew-1")


def signal(kind: SubjectKind = SubjectKind.AGENT, subject_id: str = "a1", flagged: bool = True) -> Signal:
    series = tuple(DayValue(date(2026, 11, 1) + timedelta(days=i), 60.0 + (10 if i > 20 else 0)) for i in range(30))
    return Signal("resting_hr_drift", kind, subject_id, "resting_hr_bpm", "bpm", "up", 60.0, 70.0, 5.0, 0.99,
                  flagged, date(2026, 11, 25) if flagged else None, 1, "Resting heart rate, up.", series)  # fmt: skip


def test_an_iso_week_is_its_monday_to_sunday_and_the_report_reads_eight_weeks():
    assert signals_report.week_period("2026-W48") == (date(2026, 11, 23), date(2026, 11, 29))
    start, end = signals_report.report_span("2026-W48")
    assert end == date(2026, 11, 29) and (end - start).days + 1 == 56 and start.weekday() == 0
    for bad in ("2026-48", "2026-W54", "26-W01"):
        with pytest.raises(ValueError):
            signals_report.week_period(bad)


def test_the_csv_has_one_row_per_signal_with_its_figures():
    items = [signals_report.signal_json(signal(), "a1", "Jeanne"), signals_report.signal_json(
        signal(SubjectKind.CREW, "crew-1", flagged=False), "crew-1", "Round 1")]  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(signals_report.signals_csv(items).decode("utf-8-sig"))))
    expected = [("a1", "true", "30"), ("crew-1", "false", "30")]
    assert [(r["subject_id"], r["flagged"], r["days"]) for r in rows] == expected
    assert rows[0]["first_flagged"] == "2026-11-25" and rows[1]["first_flagged"] == ""


def test_flagged_signals_come_first():
    quiet = signals_report.signal_json(signal(SubjectKind.CREW, "c", flagged=False), "c", None)
    loud = signals_report.signal_json(signal(SubjectKind.CREW, "d"), "d", None)
    assert [i["subject_id"] for i in signals_report.ordered([quiet, loud])] == ["d", "c"]


def test_a_supervisor_never_reads_individual_or_site_signals_and_only_their_crews():
    sup = Principal("s", Role.SUPERVISOR, frozenset({"crew-1"}))
    assert not may_read(sup, signal(), AGENT_SUBJECT, ())
    assert not may_read(sup, signal(SubjectKind.SITE, "paris"), Subject("Paris", "paris", None), ())
    assert may_read(sup, signal(SubjectKind.CREW, "crew-1"), Subject("R1", "paris", "crew-1"), ())
    assert not may_read(sup, signal(SubjectKind.CREW, "crew-2"), Subject("R2", "paris", "crew-2"), ())
    assert may_read(sup, signal(SubjectKind.ROBOT, "r1"), Subject("follower r1", "paris", "crew-1"), ())
    assert not may_read(sup, signal(SubjectKind.ROBOT, "r2"), Subject("follower r2", "paris", "crew-2"), ())


def test_an_officer_reads_individual_signals_of_the_sites_they_are_named_for():
    officer = Principal("o", Role.SAFETY_OFFICER)
    assert may_read(officer, signal(SubjectKind.CREW, "crew-9"), None, ())
    assert not may_read(officer, signal(), AGENT_SUBJECT, ())
    assert not may_read(officer, signal(), AGENT_SUBJECT, {"lyon"})
    assert may_read(officer, signal(), AGENT_SUBJECT, {"paris"})


def test_an_agent_reads_only_their_own_signals_and_machines_nothing():
    me = Principal("u", Role.AGENT, agent_id="a1")
    assert may_read(me, signal(), AGENT_SUBJECT, ())
    assert not may_read(me, signal(subject_id="a2"), AGENT_SUBJECT, ())
    assert not may_read(me, signal(SubjectKind.CREW, "crew-1"), None, ())
    assert not may_read(Principal("d", Role.DEVICE), signal(SubjectKind.CREW, "crew-1"), None, ())


def test_an_agent_is_pseudonymised_for_officers_without_names():
    alias = pseudonym("a1", KEY)
    assert shown_subject(Principal("o", Role.SAFETY_OFFICER), signal(), AGENT_SUBJECT, KEY) == (alias, alias)
    named = Principal("o", Role.SAFETY_OFFICER, names_allowed=True)
    assert shown_subject(named, signal(), AGENT_SUBJECT, KEY) == ("a1", "Jeanne Martin")
    crew = Subject("Round 1", "paris", "crew-1")
    assert shown_subject(Principal("o", Role.SAFETY_OFFICER), signal(SubjectKind.CREW, "crew-1"), crew, KEY) == (
        "crew-1", "Round 1")  # fmt: skip


def test_noise_is_judged_at_the_ear_and_absent_without_measurement():
    row = {"noise_sum_t_10pow": 28800 * 10**8.5, "noise_s": 28800.0, "lcpeak_max_db": None, "peaks_over_135": 0,
           "hearing_attenuation_db": 0.0, "task": "collector_walking", "acclimatised": True}  # fmt: skip
    assert noise_lex_at_ear_db(row) == pytest.approx(85.0)
    assert noise_lex_at_ear_db({**row, "hearing_attenuation_db": 10.0}) < 85.0  # type: ignore[operator]
    assert noise_lex_at_ear_db({**row, "noise_s": 0.0, "noise_sum_t_10pow": 0.0}) is None


def test_a_slowdown_zone_is_wider_than_the_separation_distance_and_local_days_follow_the_time_zone():
    zones = slowdown_distances_m()
    assert zones["mower_m"] > zones["robot_m"] > zones["follower_m"] > 0
    from zoneinfo import ZoneInfo

    start, end = utc_bounds(date(2026, 10, 25), date(2026, 10, 25), ZoneInfo("Europe/Paris"))
    assert (end - start) == timedelta(hours=25)  # the day summer time ends


def test_the_pdf_explains_the_signals_then_plots_each_flagged_one():
    items = [signals_report.signal_json(signal(subject_id=f"a{i}"), f"a{i}", None) for i in range(4)]
    body = {"items": items, "min_group_size": 5, "withheld": 2}
    generated = datetime(2026, 11, 30, 8, tzinfo=UTC)
    pdf = signals_pdf("crew-1", "2026-W48", (date(2026, 11, 23), date(2026, 11, 29)), body, generated_at=generated)
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") == 3
    empty = signals_pdf("crew-1", "2026-W48", (date(2026, 11, 23), date(2026, 11, 29)),
                        {"items": [], "min_group_size": 5, "withheld": 0}, "en", generated_at=generated)  # fmt: skip
    assert empty.startswith(b"%PDF")
