"""The summary table of the exposure PDF: one row per agent with the period's maxima and totals, then one narrow
column per threshold code holding the number of days it was reached (the API's judgements, counted).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from matplotlib.figure import Figure

from gateway.reports.i18n import Lang, label, limit, num
from gateway.reports.pdf_layout import (
    ACTION_BG,
    INDICATOR_BG,
    LIMIT_BG,
    MUTED,
    PAGE_W_IN,
    Column,
    clip,
    draw_table,
    text,
)
from gateway.reports.summary import FLAG_ORDER, AgentSummary
from services.exposure.handling import DAILY_TONNAGE_INDICATOR_KG
from services.exposure.noise import LIMIT_LEX_DBA, LIMIT_PEAK_DBC, LOWER_ACTION_LEX_DBA, UPPER_ACTION_LEX_DBA
from services.exposure.vibration import HAV_ACTION_A8_MS2, HAV_LIMIT_A8_MS2, WBV_ACTION_A8_MS2, WBV_LIMIT_A8_MS2

_COLUMNS: tuple[tuple[str, float, Literal["left", "right"]], ...] = (
    ("agent", 1.25, "left"),
    ("days", 0.34, "right"),
    ("lex_max", 0.45, "right"),
    ("dose_max", 0.38, "right"),
    ("hav_max", 0.48, "right"),
    ("points_max", 0.46, "right"),
    ("wbgt_max", 0.38, "right"),
    ("over_ref", 0.38, "right"),
    ("lifts", 0.46, "right"),
    ("tonnage", 0.44, "right"),
    ("avoided", 0.44, "right"),
    ("nights", 0.36, "right"),
)
_FLAG_W_IN = 0.2
_FLAG_BG = {"NL": LIMIT_BG, "VL": LIMIT_BG, "WL": LIMIT_BG, "H": INDICATOR_BG, "T": INDICATOR_BG}


def summary_table(fig: Figure, rows: Sequence[AgentSummary], lang: Lang, top_in: float, heading: str) -> None:
    """Agents' maxima and totals, then one narrow column per threshold code with the days it was reached."""
    columns = [Column(label(key, lang), width, align) for key, width, align in _COLUMNS]
    columns += [Column(code, _FLAG_W_IN, "center") for code in FLAG_ORDER]
    left = (PAGE_W_IN - sum(c.width_in for c in columns)) / 2
    text(fig, left, top_in, heading, 10, "bold")
    text(fig, PAGE_W_IN - left, top_in, label("flag_group", lang), 6, ha="right", color=MUTED)
    cells: list[list[str]] = []
    backgrounds: list[list[str | None]] = []
    for a in rows:
        flags = dict(a.flag_days)
        cells.append(
            [
                clip(f"{a.display_name} ({a.agent_id})" if a.agent_name else a.agent_id, 28),
                str(a.days),
                num(a.lex_max_dba, 1, lang),
                num(a.dose_max_pct, 0, lang),
                num(a.hav_a8_max_ms2, 2, lang),
                num(a.hav_points_max, 0, lang),
                num(a.wbgt_max_c, 1, lang),
                num(a.minutes_over_ref, 0, lang),
                str(a.lifts),
                num(a.tonnage_kg / 1000, 1, lang),
                num(a.avoided_kg / 1000, 1, lang),
                str(a.nights),
                *(str(flags[code]) if code in flags else "" for code in FLAG_ORDER),
            ]
        )
        flag_bg = [_FLAG_BG.get(code, ACTION_BG) if code in flags else None for code in FLAG_ORDER]
        no_bg: list[str | None] = [None] * len(_COLUMNS)
        backgrounds.append(no_bg + flag_bg)
    bottom = draw_table(fig, columns, cells, top_in + 0.12, backgrounds, header_h_in=0.42, left_in=left)
    for i, line in enumerate(_flag_legend(lang)):
        text(fig, left, bottom + 0.2 + i * 0.13, line, 6, color=MUTED)


def _flag_legend(lang: Lang) -> list[str]:
    fr = lang == "fr"

    def n(value: float) -> str:
        return limit(value, lang)

    days = "Seuils (jours où ils sont atteints) : " if fr else "Thresholds (days they were reached): "
    return [
        days
        + (
            f"N1 / N2 bruit, valeur d'action inférieure / supérieure atteinte ({n(LOWER_ACTION_LEX_DBA)} / "
            f"{n(UPPER_ACTION_LEX_DBA)} dB(A) ou crête) ; NL valeur limite dépassée à l'oreille "
            f"({n(LIMIT_LEX_DBA)} dB(A) ou {n(LIMIT_PEAK_DBC)} dB(C))."
            if fr
            else f"N1 / N2 noise lower / upper action value reached ({n(LOWER_ACTION_LEX_DBA)} / "
            f"{n(UPPER_ACTION_LEX_DBA)} dB(A) or peak); NL limit value exceeded at the ear "
            f"({n(LIMIT_LEX_DBA)} dB(A) or {n(LIMIT_PEAK_DBC)} dB(C))."
        ),
        (
            f"V1 / VL vibrations main-bras A(8) ≥ {n(HAV_ACTION_A8_MS2)} / > {n(HAV_LIMIT_A8_MS2)} m/s² ; "
            f"W1 / WL corps entier ≥ {n(WBV_ACTION_A8_MS2)} / > {n(WBV_LIMIT_A8_MS2)} m/s² ; H WBGT au-dessus de la "
            f"référence ; T tonnage ≥ {n(DAILY_TONNAGE_INDICATOR_KG / 1000)} t."
            if fr
            else f"V1 / VL hand-arm A(8) ≥ {n(HAV_ACTION_A8_MS2)} / > {n(HAV_LIMIT_A8_MS2)} m/s²; W1 / WL whole-body "
            f"≥ {n(WBV_ACTION_A8_MS2)} / > {n(WBV_LIMIT_A8_MS2)} m/s²; H WBGT over the reference; T tonnage ≥ "
            f"{n(DAILY_TONNAGE_INDICATOR_KG / 1000)} t."
        ),
    ]
