"""Exposure reports: the CSV a spreadsheet opens safely, the methods text, the per-agent summary; and the
builders of API-shaped test data that ``test_reports_pdf`` shares."""

from __future__ import annotations

import csv
import io
import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from gateway.reports.csv_report import COLUMNS, exposure_csv
from gateway.reports.methods import annual_methods, exposure_methods
from gateway.reports.summary import by_agent, summarise

GENERATED_AT = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))


def _provenance(method: str, *devices: str) -> dict[str, Any]:
    return {"method": method, "devices": list(devices)}


def exposure_day(rng: random.Random, agent: int, day: date, crew: str = "crew-01") -> dict[str, Any]:
    """One agent-day shaped exactly as the API returns it, with plausible random values."""
    lex = round(rng.uniform(72.0, 92.0), 1)
    attenuation = 20.0
    a8 = round(rng.uniform(0.5, 5.8), 2)
    wbv = round(rng.uniform(0.1, 1.3), 2)
    wbgt, ref = round(rng.uniform(12.0, 31.0), 1), round(rng.uniform(25.0, 29.0), 1)
    tonnage = round(rng.uniform(800.0, 9000.0), 1)
    night_h = rng.choice([0.0, 0.0, 0.0, 1.5])
    return {
        "agent_id": f"agent-{agent:04d}",
        "agent_name": f"Agent {agent} é",
        "crew_id": crew,
        "date": day.isoformat(),
        "worked_h": 7.5,
        "first_seen": f"{day.isoformat()}T05:02:00Z",
        "last_seen": f"{day.isoformat()}T12:40:00Z",
        "noise": {
            "lex_8h_dba": lex,
            "lex_8h_at_ear_dba": round(lex - attenuation, 1),
            "dose_pct": round(100 * 10 ** ((lex - 85) / 10), 1),
            "lcpeak_max_dbc": round(rng.uniform(110, 141), 1),
            "peaks_over_135": rng.randint(0, 3),
            "peaks_over_135_at_ear": 0,
            "measured_h": 7.4,
            "attenuation_db": attenuation,
            "lower_action_reached": lex >= 80,
            "upper_action_reached": lex >= 85,
            "limit_exceeded": False,
            "provenance": _provenance("sensed", f"wear-{agent:04d}"),
        },
        "hav": {
            "a8_ms2": a8,
            "points": round(100 * (a8 / 2.5) ** 2, 1),
            "exposure_h": 1.2,
            "tools": ["trimmer-3"],
            "action_reached": a8 >= 2.5,
            "limit_exceeded": a8 > 5.0,
            "provenance": _provenance("tool-based", "trimmer-3"),
        },
        "wbv": {
            "a8_ms2": wbv,
            "exposure_h": 0.5,
            "action_reached": wbv >= 0.5,
            "limit_exceeded": wbv > 1.15,
            "provenance": _provenance("sensed", f"wear-{agent:04d}"),
        },
        "heat": {
            "wbgt_max_c": wbgt,
            "wbgt_provenance": rng.choice(["measured", "estimated", "mixed"]),
            "wbgt_ref_c": ref,
            "minutes_over_ref": 12.0 if wbgt > ref else 0.0,
            "hours_over_30c": 0.0,
            "hours_under_5c": 0.0,
            "psi_max": 2.1,
            "core_temp_max_c": 37.6,
            "provenance": _provenance("estimated", f"wear-{agent:04d}"),
        },
        "lifting": {
            "count": 120,
            "over_15kg": 30,
            "over_25kg": 2,
            "tonnage_kg": tonnage,
            "tonnage_share": tonnage / 7500,
            "avoided_kg": 300.0,
            "provenance": _provenance("sensed", f"wear-{agent:04d}", "robot-01"),
        },
        "night": {"worked": night_h >= 1.0, "night_h": night_h},
    }


def crew_month(
    agents: int, days: int, seed: int = 7, nulls: bool = True, first: date = NOVEMBER[0]
) -> list[dict[str, Any]]:
    """``agents`` × ``days`` weekdays from ``first`` (weekends off, within 31 days); some sections null if ``nulls``."""
    rng = random.Random(seed)
    workdays = [d for d in (first + timedelta(n) for n in range(31)) if d.weekday() < 5][:days]
    out = [exposure_day(rng, a, d, crew=f"crew-{a % 3 + 1:02d}") for a in range(1, agents + 1) for d in workdays]
    if nulls:
        for day in rng.sample(out, len(out) // 5):
            day[rng.choice(["noise", "hav", "wbv", "heat", "lifting", "night"])] = None
        out[0] |= dict.fromkeys(("noise", "hav", "wbv", "heat", "lifting", "night", "first_seen", "last_seen"))
    return out


def annual_statement(name: str | None = "Chloé B.") -> dict[str, Any]:
    def factor(amount: float, threshold: float, unit: str) -> dict[str, Any]:
        return {
            "amount": amount,
            "threshold": threshold,
            "unit": unit,
            "share": amount / threshold,
            "reached": amount >= threshold,
        }

    return {
        "agent_id": "agent-0001",
        "agent_name": name,
        "year": 2026,
        "days": 212,
        "factors": {
            "noise_hours": factor(620.5, 600, "h"),
            "peaks": factor(14, 120, "peaks"),
            "extreme_temp_hours": factor(80.0, 900, "h"),
            "nights": factor(0, 100, "nights"),
        },
        "factors_reached": ["noise"],
        "method": "Derived from the exposure ledger (test).",
    }


def _rows(data: bytes, delimiter: str = ",") -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 BOM expected for Excel"
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=delimiter))


def test_csv_has_one_row_per_agent_day_under_a_flat_header() -> None:
    days = crew_month(agents=3, days=5)
    data = exposure_csv(days)
    header = data.decode("utf-8-sig").split("\r\n", 1)[0]
    assert header.split(",") == list(COLUMNS)
    assert {"noise_lex_8h_dba", "hav_points", "heat_wbgt_provenance", "lifting_devices", "night_worked"} <= set(COLUMNS)
    rows = _rows(data)
    assert len(rows) == 15
    assert [(r["agent_id"], r["date"]) for r in rows] == sorted((d["agent_id"], d["date"]) for d in days)


def test_csv_values_round_trip_through_the_csv_module() -> None:
    days = crew_month(agents=2, days=3, nulls=False)
    day = days[4]
    row = next(r for r in _rows(exposure_csv(days)) if (r["agent_id"], r["date"]) == (day["agent_id"], day["date"]))
    assert float(row["noise_lex_8h_dba"]) == day["noise"]["lex_8h_dba"]
    assert float(row["hav_points"]) == day["hav"]["points"]
    assert row["noise_lower_action_reached"] == str(day["noise"]["lower_action_reached"]).lower()
    assert row["lifting_devices"] == f"{day['agent_id'].replace('agent', 'wear')}|robot-01"
    assert row["agent_name"] == day["agent_name"]
    assert row["first_seen"] == day["first_seen"]


def test_csv_null_sections_are_empty_cells() -> None:
    days = crew_month(agents=1, days=2)
    row = _rows(exposure_csv(days))[0]
    assert row["date"] == days[0]["date"]
    assert all(row[c] == "" for c in COLUMNS if c.startswith(("noise_", "hav_", "wbv_", "heat_", "lifting_", "night_")))
    assert row["first_seen"] == ""


def test_csv_text_cells_cannot_become_formulas() -> None:
    day = crew_month(agents=1, days=1, nulls=False)[0]
    day |= {"agent_name": '=HYPERLINK("http://evil","x")', "crew_id": "+1+1", "agent_id": "@SUM(A1)"}
    day["hav"]["tools"] = ["-2+3"]
    day["wbv"]["a8_ms2"] = -0.0
    row = _rows(exposure_csv([day]))[0]
    assert row["agent_name"] == '\'=HYPERLINK("http://evil","x")'
    assert row["crew_id"] == "'+1+1"
    assert row["agent_id"] == "'@SUM(A1)"
    assert row["hav_tools"] == "'-2+3"
    assert row["wbv_a8_ms2"] == "-0.0", "numbers are never prefixed"


def test_csv_excel_fr_dialect_uses_semicolons_and_decimal_commas() -> None:
    days = crew_month(agents=1, days=1, nulls=False)
    rows = _rows(exposure_csv(days, dialect="excel-fr"), delimiter=";")
    assert rows[0]["noise_lex_8h_dba"] == str(days[0]["noise"]["lex_8h_dba"]).replace(".", ",")
    assert rows[0]["worked_h"] == "7,5"


def test_methods_exist_in_both_languages_and_quote_the_ledger_thresholds() -> None:
    for methods in (exposure_methods, annual_methods):
        fr, en = methods("fr"), methods("en")
        assert len(fr.sections) == len(en.sections) and len(fr.caveats) == len(en.caveats)
    assert "87 dB(A)" in exposure_methods("fr").plain() and "7,5 t" in exposure_methods("fr").plain()
    assert "7.5 t" in exposure_methods("en").plain() and "ISO 9612" in exposure_methods("en").plain()
    with pytest.raises(ValueError):
        exposure_methods("de")


def test_the_summary_counts_the_days_each_threshold_was_reached_as_the_api_judged_them() -> None:
    days = crew_month(agents=1, days=4, nulls=False)
    for day, lex in zip(days, (79.9, 80.0, 86.0, 95.0), strict=True):
        day["noise"] |= {"lex_8h_dba": lex, "lower_action_reached": lex >= 80, "upper_action_reached": lex >= 85}
    days[3]["noise"]["limit_exceeded"] = True
    days[3]["hav"] = None
    summary = summarise(by_agent(days)["agent-0001"])
    flags = dict(summary.flag_days)
    assert (flags["N1"], flags["N2"], flags["NL"]) == (3, 2, 1)
    assert summary.any_limit
    assert summary.lex_max_dba == 95.0
    assert summary.hav_a8_max_ms2 == max(d["hav"]["a8_ms2"] for d in days[:3])
    assert summary.days == 4 and summary.worked_h == 30.0
