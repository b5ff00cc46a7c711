"""Ledger rows → the public exposure JSON (per day and per year), through the domain's exposure maths.

Nothing here is recomputed from raw telemetry: a row of ``exposure_days`` holds the day's sums, and the
levels (LEX,8h, A(8), points, judgements) are closed-form functions of those sums.
"""

from __future__ import annotations

from typing import Any

from services.exposure import annual, noise, vibration
from services.exposure.handling import DAILY_TONNAGE_INDICATOR_KG
from services.exposure.heat import HeatDay
from services.exposure.noise import NoiseDose
from services.exposure.vibration import HavDose, WbvDose
from services.ledger import ExposureProfile

H = 3600.0


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def _provenance(method: str, row: dict[str, Any]) -> dict[str, Any]:
    return {"method": method, "devices": list(row["device_ids"])}


def day_json(row: dict[str, Any], profile: ExposureProfile, agent_name: str | None) -> dict[str, Any]:
    """One agent-day of the ledger as the API and reports show it."""
    dose = NoiseDose(row["noise_sum_t_10pow"], row["noise_s"], row["lcpeak_max_db"], row["peaks_over_135"])
    lex = noise.lex_8h_db(dose) if dose.seconds > 0 else None
    attenuation_db = profile.hearing_attenuation_db
    judged = noise.judge_noise(lex, dose.lcpeak_max_db, attenuation_db)
    hav = HavDose(row["hav_sum_a2t"], row["hav_s"])
    hav_judged = vibration.judge_hav(hav)
    wbv = WbvDose(row["wbv_sum_x"], row["wbv_sum_y"], row["wbv_sum_z"], row["wbv_s"])
    wbv_judged = vibration.judge_wbv(wbv)
    heat = HeatDay(wbgt_max_c=row["wbgt_max_c"], seconds_wbgt_measured=row["wbgt_measured_s"],
                   seconds_wbgt_estimated=row["wbgt_estimated_s"])  # fmt: skip
    wbgt_provenance = heat.provenance.value if heat.provenance else None
    return {
        "agent_id": row["agent_id"], "agent_name": agent_name, "crew_id": row.get("crew_id"),
        "date": row["day"].isoformat(), "worked_h": _round(row["worked_s"] / H),
        "first_seen": row["first_ts"].isoformat() if row["first_ts"] else None,
        "last_seen": row["last_ts"].isoformat() if row["last_ts"] else None,
        "noise": {
            "lex_8h_dba": _round(lex), "lex_8h_at_ear_dba": _round(judged.lex_8h_at_ear_db),
            "dose_pct": _round(noise.dose_pct(lex)) if lex is not None else None,
            "lcpeak_max_dbc": _round(dose.lcpeak_max_db), "peaks_over_135": dose.peaks_over_135,
            "peaks_over_135_at_ear": row["peaks_over_135_at_ear"], "measured_h": _round(dose.seconds / H),
            "attenuation_db": attenuation_db, "lower_action_reached": judged.lower_action,
            "upper_action_reached": judged.upper_action, "limit_exceeded": judged.limit,
            "provenance": _provenance("sensed" if dose.seconds else "none", row),
        },
        "hav": {
            "a8_ms2": _round(hav_judged.a8_ms2) if hav.seconds else None,
            "points": _round(vibration.hav_points(hav), 1), "exposure_h": _round(hav.seconds / H),
            "tools": list(row["tool_ids"]), "action_reached": hav_judged.action_reached,
            "limit_exceeded": hav_judged.limit_exceeded,
            "provenance": _provenance("tool-based" if hav.seconds else "none", row),
        },
        "wbv": {
            "a8_ms2": _round(wbv_judged.a8_ms2) if wbv.seconds else None, "exposure_h": _round(wbv.seconds / H),
            "action_reached": wbv_judged.action_reached, "limit_exceeded": wbv_judged.limit_exceeded,
            "provenance": _provenance("sensed" if wbv.seconds else "none", row),
        },
        "heat": {
            "wbgt_max_c": _round(row["wbgt_max_c"], 1), "wbgt_provenance": wbgt_provenance,
            "wbgt_ref_c": _round(profile.wbgt_ref_c, 1), "minutes_over_ref": _round(row["heat_s_over_ref"] / 60, 1),
            "hours_over_30c": _round(row["temp_ge_30_s"] / H), "hours_under_5c": _round(row["temp_le_5_s"] / H),
            "psi_max": _round(row["psi_max"], 1), "core_temp_max_c": _round(row["core_temp_max_c"]),
            "provenance": _provenance(wbgt_provenance or "none", row),
        },
        "lifting": {
            "count": row["lifts"], "over_15kg": row["lifts_ge_15kg"], "over_25kg": row["lifts_ge_25kg"],
            "tonnage_kg": _round(row["tonnage_kg"], 1),
            "tonnage_share": _round(row["tonnage_kg"] / DAILY_TONNAGE_INDICATOR_KG, 3),
            "avoided_kg": _round(row["avoided_kg"], 1),
            "niosh_lifting_index_max": _round(row["lifting_index_max"]),
            "provenance": _provenance("sensed" if row["lifts"] else "none", row),
        },
        "night": {"worked": row["night_s"] >= 3600.0, "night_h": _round(row["night_s"] / H)},
    }  # fmt: skip


def day_summary(row: dict[str, Any], profile: ExposureProfile) -> annual.DaySummary:
    dose = NoiseDose(row["noise_sum_t_10pow"], row["noise_s"], row["lcpeak_max_db"], row["peaks_over_135"])
    lex = noise.lex_8h_db(dose) if dose.seconds > 0 else None
    at_ear = noise.at_ear_db(lex, profile.hearing_attenuation_db) if lex is not None else None
    return annual.DaySummary(
        day=row["day"], worked_s=row["worked_s"], lex_8h_at_ear_db=at_ear,
        peaks_ge_135=row["peaks_over_135_at_ear"], temp_extreme_s=row["temp_ge_30_s"] + row["temp_le_5_s"],
        night_s=row["night_s"],
    )  # fmt: skip


def annual_json(agent_id: str, agent_name: str | None, year: int, rows: list[dict[str, Any]],
                profile: ExposureProfile) -> dict[str, Any]:  # fmt: skip
    """The D4163-2 annual statement of one agent (thresholds judged at the ear where protection applies)."""
    statement = annual.annual_statement(year, [day_summary(r, profile) for r in rows if r["day"].year == year])
    factors = {
        name: {"amount": round(t.amount, 2), "threshold": t.threshold, "unit": t.unit,
               "share": round(t.share, 4), "reached": t.reached}
        for name, t in (("noise_hours", statement.noise_hours), ("peaks", statement.peaks),
                        ("extreme_temp_hours", statement.extreme_temp_hours), ("nights", statement.nights))
    }  # fmt: skip
    return {
        "agent_id": agent_id, "agent_name": agent_name, "year": year, "days": statement.days,
        "factors": factors, "factors_reached": list(statement.factors_reached),
        "method": (
            "Code du travail D4163-2: hours worked on days with LEX,8h at the ear ≥ 81 dB(A); LCpeak ≥ 135 dB(C) "
            "at the ear; hours at ≤ 5 °C or ≥ 30 °C; nights with ≥ 1 h worked between 00:00 and 05:00 "
            f"(threshold {annual.night_threshold_nights(year)} nights for {year}). From the exposure ledger."
        ),
    }  # fmt: skip

