"""The reports' short labels in French and English, and the language-dependent formatting they share.

The numbers, dates and times are formatted by services/i18n_format.py (the weak signals' sentences write them the
same way); they are re-exported here for the reports.
"""

from __future__ import annotations

from services.i18n_format import (
    LANGS,
    Lang,
    check_lang,
    limit,
    local_time,
    long_date,
    num,
    period_text,
    short_date,
)

__all__ = [
    "LANGS", "Lang", "check_lang", "label", "limit", "local_time", "long_date", "num", "period_text", "short_date",
]  # fmt: skip

_LABELS: dict[str, tuple[str, str]] = {
    "agent": ("Agent", "Agent"),
    "days": ("Jours", "Days"),
    "lex_max": ("L_EX,8h\nmax\ndB(A)", "L_EX,8h\nmax\ndB(A)"),
    "dose_max": ("Dose\nmax\n%", "Dose\nmax\n%"),
    "hav_max": ("Vibr. MB\nA(8) max\nm/s²", "HAV\nA(8) max\nm/s²"),
    "points_max": ("Points\nHSE\nmax", "HSE\npoints\nmax"),
    "wbgt_max": ("WBGT\nmax\n°C", "WBGT\nmax\n°C"),
    "over_ref": ("WBGT\n> réf.\nmin", "WBGT\n> ref.\nmin"),
    "lifts": ("Soulevés", "Lifts"),
    "tonnage": ("Tonnage\nt", "Tonnage\nt"),
    "avoided": ("Évité\nt", "Avoided\nt"),
    "nights": ("Nuits", "Nights"),
    "flags": ("Seuils (jours)", "Thresholds (days)"),
    "flag_group": (
        "Seuils : nombre de jours (légende sous le tableau)",
        "Thresholds: number of days (key below the table)",
    ),
    "no_data": ("Pas de données", "No data"),
    "no_days": ("Aucune journée d'exposition sur la période.", "No exposure day in the period."),
    "period": ("Période", "Period"),
    "generated": ("Généré le", "Generated"),
    "page": ("page", "page"),
    "crew": ("Équipe", "Crew"),
    "agents": ("agents", "agents"),
    "summary": ("Synthèse par agent", "Summary by agent"),
    "summary_cont": ("Synthèse par agent (suite)", "Summary by agent (continued)"),
    "lex_axis": ("L_EX,8h dB(A)", "L_EX,8h dB(A)"),
    "lex_title": ("Bruit : L_EX,8h par jour", "Noise: daily L_EX,8h"),
    "lex_bar": ("sans protection", "unprotected"),
    "lex_ear_bar": ("à l'oreille", "at the ear"),
    "lower_action": ("action inf.", "lower action"),
    "upper_action": ("action sup.", "upper action"),
    "limit_ear": ("limite (à l'oreille)", "limit (at the ear)"),
    "hav_title": ("Vibrations main-bras : A(8) par jour", "Hand-arm vibration: daily A(8)"),
    "hav_axis": ("A(8) m/s²", "A(8) m/s²"),
    "points_axis": ("points HSE", "HSE points"),
    "action": ("action", "action"),
    "limit": ("limite", "limit"),
    "wbgt_title": (
        "Chaleur : WBGT max et référence ISO 7243 (en rouge : minutes au-dessus)",
        "Heat: WBGT max and ISO 7243 reference (red: minutes over it)",
    ),
    "wbgt_axis": ("WBGT °C", "WBGT °C"),
    "wbgt_measured": ("mesuré", "measured"),
    "wbgt_estimated": ("estimé", "estimated"),
    "wbgt_ref": ("référence", "reference"),
    "lift_title": ("Manutention : tonnage par jour", "Manual handling: daily tonnage"),
    "lift_axis": ("tonnage t", "tonnage t"),
    "tonnage_bar": ("porté", "carried"),
    "avoided_bar": ("évité (robot, exosquelette)", "avoided (robot, exoskeleton)"),
    "indicator": ("indicateur", "indicator"),
    "date_axis": ("date (jour local, Europe/Paris)", "date (local day, Europe/Paris)"),
    "factor": ("Facteur", "Factor"),
    "amount": ("Cumul", "Amount"),
    "threshold": ("Seuil", "Threshold"),
    "share": ("Part du seuil", "Share of threshold"),
    "reached": ("Atteint", "Reached"),
    "yes": ("oui", "yes"),
    "no": ("non", "no"),
    "annual_title": ("Déclaration annuelle D4163-2", "D4163-2 annual statement"),
    "year": ("Année", "Year"),
    "statement_method": ("Méthode du registre", "Ledger method"),
    "pseudonymised": ("(pseudonymisé)", "(pseudonymised)"),
}


def label(key: str, lang: Lang) -> str:
    """The short label ``key`` in ``lang`` (KeyError for an unknown key: a typo should fail the tests)."""
    fr, en = _LABELS[key]
    return fr if lang == "fr" else en
