"""French and English formatting of numbers, dates and times, shared by the reports and the signals' sentences.

The reports (gateway/reports/i18n.py re-exports these) and the weak signals' meanings (services/signals/meanings.py)
write figures the same way: a decimal comma and dd/mm/yyyy dates in French, a point and ISO dates in English.
Numbers are formatted here rather than through the C locale, which is process-global state. Pure: values in, text
out.
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


def _decimal(text: str, lang: Lang) -> str:
    """A number already written with a point, with a decimal comma in French."""
    return text.replace(".", ",") if lang == "fr" else text


def num(value: float | None, digits: int = 1, lang: Lang = "fr", missing: str = "–") -> str:
    """``value`` with ``digits`` decimals, a decimal comma in French; ``missing`` for None (the reports' tables).

    Written as Python rounds it: a small negative value keeps its sign ("-0,0"); ``number`` drops it.
    """
    if value is None:
        return missing
    return _decimal(f"{value:.{digits}f}", lang)


def number(value: float, digits: int, lang: Lang, *, signed: bool = False) -> str:
    """``value`` with ``digits`` decimals; a decimal comma in French (62,40), a point in English (62.40)."""
    if round(value, digits) == 0:
        value = 0.0  # neither "-0,0" nor "+0,0": no change has no sign
    text = f"{value:+.{digits}f}" if signed and value else f"{value:.{digits}f}"
    return _decimal(text, lang)


def percent(share: float, lang: Lang) -> str:
    """A share as a whole percentage: "73 %" in French (a space before the sign), "73%" in English."""
    return number(100.0 * share, 0, lang) + (" %" if lang == "fr" else "%")


def limit(value: float, lang: Lang = "fr") -> str:
    """A threshold constant as short as it reads in the regulation: 80, 2,5, 1,15, 7,5."""
    return _decimal(f"{value:g}", lang)


def short_date(day: date, lang: Lang) -> str:
    """``26/11`` in French, ``26 Nov`` in English (axis labels)."""
    return f"{day:%d/%m}" if lang == "fr" else f"{day.day} {_MONTHS_EN[day.month - 1]}"


def long_date(day: date, lang: Lang) -> str:
    """A local day as the reader writes it: 05/11/2026 in French, 2026-11-05 in English."""
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
    """A period's first and last local days, both included: "01/01/2026 – 28/02/2026"."""
    start, end = period
    return f"{long_date(start, lang)} – {long_date(end, lang)}"
