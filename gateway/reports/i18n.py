"""Language-dependent formatting shared by the reports: numbers, dates, times and short labels (fr, en).

Numbers are formatted here rather than through the C locale, which is process-global state.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from services.exposure.night import PARIS

Lang = Literal["fr", "en"]
LANGS: tuple[Lang, ...] = ("fr", "en")

_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def check_lang(lang: str) -> Lang:
    """``lang`` as a ``Lang``; ValueError for any other value (a report never silently falls back)."""
    if lang == "fr":
        return "fr"
    if lang == "en":
        return "en"
    raise ValueError(f"lang must be one of {LANGS}, got {lang!r}")


def num(value: float | None, digits: int = 1, lang: Lang = "fr", missing: str = "–") -> str:
    """``value`` with ``digits`` decimals, a decimal comma in French; ``missing`` for None."""
    if value is None:
        return missing
    text = f"{value:.{digits}f}"
    return text.replace(".", ",") if lang == "fr" else text


def limit(value: float, lang: Lang = "fr") -> str:
    """A threshold constant as short as it reads in the regulation: 80, 2,5, 1,15, 7,5."""
    text = f"{value:g}"
    return text.replace(".", ",") if lang == "fr" else text


def short_date(day: date, lang: Lang) -> str:
    """``26/11`` in French, ``26 Nov`` in English (axis labels)."""
    return f"{day:%d/%m}" if lang == "fr" else f"{day.day} {_MONTHS_EN[day.month - 1]}"


def long_date(day: date, lang: Lang) -> str:
    return f"{day:%d/%m/%Y}" if lang == "fr" else day.isoformat()


def local_time(at: datetime, lang: Lang) -> str:
    """An aware instant in the site's local time (Europe/Paris), with its UTC offset so it is unambiguous."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("generated_at must be timezone-aware")
    local = at.astimezone(PARIS)
    offset = local.utcoffset()
    offset_min = 0 if offset is None else int(offset.total_seconds() // 60)
    sign = "+" if offset_min >= 0 else "−"
    hours, minutes = divmod(abs(offset_min), 60)
    zone = f"UTC{sign}{hours}" + (f":{minutes:02d}" if minutes else "")
    return f"{long_date(local.date(), lang)} {local:%H:%M} ({zone})"


def period_text(period: tuple[date, date], lang: Lang) -> str:
    start, end = period
    return f"{long_date(start, lang)} – {long_date(end, lang)}"


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
