"""The four daily charts of an agent's page, each against its regulatory lines: noise L_EX,8h, hand-arm A(8),
WBGT and tonnage.

Days sit at their calendar position in the period (days off leave a gap); a day whose section is null shows
"n/d" at the foot of the chart, a chart with no value at all shows "no data". Each chart returns its key
entries; the page draws them beside it.

Rendering time is dominated by the number of artists, so bars are one ``PolyCollection`` per series rather
than one patch per day, the date labels are plain texts rather than matplotlib ticks, and titles are texts
rather than ``set_title`` (which re-measures the tick labels at every draw).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.markers import TICKDOWN
from matplotlib.transforms import blended_transform_factory

from gateway.reports.i18n import Lang, label, limit, num, short_date
from gateway.reports.pdf_layout import INK, MUTED
from gateway.reports.summary import Day, section, value
from services.exposure.handling import DAILY_TONNAGE_INDICATOR_KG
from services.exposure.noise import LIMIT_LEX_DBA, LOWER_ACTION_LEX_DBA, UPPER_ACTION_LEX_DBA
from services.exposure.vibration import HAV_ACTION_A8_MS2, HAV_LIMIT_A8_MS2

ACTION_LOW = "#e8a33d"
ACTION_HIGH = "#e4572e"
LIMIT = "#b3001b"
BAR = "#4c72b0"
BAR_LIGHT = "#a6c4e5"
AVOIDED = "#9fd4a3"
SIZE = 6.0


@dataclass(frozen=True, slots=True)
class KeyEntry:
    """One line of a chart's key: a bar swatch (``face``, ``hatch``) or a line sample (``linestyle``)."""

    text: str
    color: str
    linestyle: str | None = None
    face: str | None = None
    hatch: str | None = None


Chart = Callable[[Axes, Sequence[Day], date, Lang], list[KeyEntry]]


def lex_chart(ax: Axes, days: Sequence[Day], start: date, lang: Lang) -> list[KeyEntry]:
    """L_EX,8h without protection and at the ear side by side; 80/85 judged unprotected, 87 at the ear."""
    xs = _xs(days, start)
    lex, ear = _series(days, "noise", "lex_8h_dba"), _series(days, "noise", "lex_8h_at_ear_dba")
    known = [v for v in (*lex, *ear) if not math.isnan(v)]
    low = min(40.0, math.floor(min(known, default=40.0) / 10.0) * 10.0)
    floor = [low] * len(days)
    _bars(ax, [x - 0.2 for x in xs], [v - low for v in lex], 0.4, BAR, floor)
    _bars(ax, [x + 0.2 for x in xs], [v - low for v in ear], 0.4, BAR_LIGHT, floor)
    ax.set_ylim(low, max(95.0, max(known, default=0.0) + 4.0))
    _finish(ax, "lex_title", "lex_axis", lang)
    heard = [not (math.isnan(a) and math.isnan(b)) for a, b in zip(lex, ear, strict=True)]
    _no_values(ax, days, start, "noise", lang, heard)
    at_ear = "(à l'oreille)" if lang == "fr" else "(at the ear)"
    lines = (
        (LOWER_ACTION_LEX_DBA, ACTION_LOW, "--", label("lower_action", lang)),
        (UPPER_ACTION_LEX_DBA, ACTION_HIGH, "--", label("upper_action", lang)),
        (LIMIT_LEX_DBA, LIMIT, "-", f"{label('limit', lang)}\n{at_ear}"),
    )
    return [
        KeyEntry(label("lex_bar", lang), BAR, face=BAR),
        KeyEntry(label("lex_ear_bar", lang), BAR_LIGHT, face=BAR_LIGHT),
        *(_line(ax, y, color, style, f"{limit(y, lang)} dB(A) {what}") for y, color, style, what in lines),
    ]


def hav_chart(ax: Axes, days: Sequence[Day], start: date, lang: Lang) -> list[KeyEntry]:
    """Hand-arm A(8) with the 2.5 / 5 m/s² lines, which are also 100 / 400 HSE points (HSE L140)."""
    a8 = _series(days, "hav", "a8_ms2")
    _bars(ax, _xs(days, start), a8, 0.6, BAR)
    ax.set_ylim(0.0, max(6.0, max((v for v in a8 if not math.isnan(v)), default=0.0) * 1.12))
    _finish(ax, "hav_title", "hav_axis", lang)
    _no_values(ax, days, start, "hav", lang, _present(a8))
    entries = [KeyEntry("A(8)", BAR, face=BAR)]
    right = blended_transform_factory(ax.transAxes, ax.transData)
    for a8_ms2, color, style, key in (
        (HAV_ACTION_A8_MS2, ACTION_HIGH, "--", "action"),
        (HAV_LIMIT_A8_MS2, LIMIT, "-", "limit"),
    ):
        points = 100.0 * (a8_ms2 / HAV_ACTION_A8_MS2) ** 2
        ax.text(1.01, a8_ms2, f"{limit(points, lang)} pts", transform=right, fontsize=5.5, va="center", color=color)
        what = f"{limit(a8_ms2, lang)} m/s² {label(key, lang)}\n= {limit(points, lang)} {label('points_axis', lang)}"
        entries.append(_line(ax, a8_ms2, color, style, what))
    return entries


def wbgt_chart(ax: Axes, days: Sequence[Day], start: date, lang: Lang) -> list[KeyEntry]:
    """Daily WBGT max, hatched when estimated, against that day's ISO 7243 reference; minutes over it in red."""
    xs = _xs(days, start)
    wbgt, ref = _series(days, "heat", "wbgt_max_c"), _series(days, "heat", "wbgt_ref_c")
    provenances = [(section(d, "heat") or {}).get("wbgt_provenance") for d in days]
    entries = []
    styles = (
        ("measured", BAR, None, label("wbgt_measured", lang)),
        ("mixed", "white", "....", label("wbgt_measured", lang) + " + " + label("wbgt_estimated", lang)),
        (None, "white", "////", label("wbgt_estimated", lang)),
    )
    for kind, face, hatch, tag in styles:
        pick = [p == kind if kind is not None else p not in ("measured", "mixed") for p in provenances]
        heights = [w if chosen else math.nan for w, chosen in zip(wbgt, pick, strict=True)]
        if any(_present(heights)):
            _bars(ax, xs, heights, 0.6, face, edge=BAR, hatch=hatch)
            entries.append(KeyEntry(tag, BAR, face=face, hatch=hatch))
    for x, d, w in zip(xs, days, wbgt, strict=True):
        over = value(d, "heat", "minutes_over_ref") or 0.0
        if over > 0.0 and not math.isnan(w):
            ax.text(x, w, num(over, 0, lang), fontsize=4.5, ha="center", va="bottom", color=LIMIT)
    ax.plot(xs, ref, ls="none", marker="_", markersize=9, mew=1.6, color=LIMIT)
    known = [v for v in (*wbgt, *ref) if not math.isnan(v)]
    ax.set_ylim(min(0.0, min(known, default=0.0) - 2.0), max(35.0, max(known, default=0.0) + 3.0))
    _finish(ax, "wbgt_title", "wbgt_axis", lang)
    _no_values(ax, days, start, "heat", lang, _present(wbgt))
    return [*entries, KeyEntry(label("wbgt_ref", lang) + " ISO 7243", LIMIT, linestyle="-")]


def lift_chart(ax: Axes, days: Sequence[Day], start: date, lang: Lang) -> list[KeyEntry]:
    """Tonnage carried, with the load a robot or exoskeleton took stacked on top, against 7.5 t (NF X35-109)."""
    xs = _xs(days, start)
    carried = [v / 1000.0 for v in _series(days, "lifting", "tonnage_kg")]
    avoided = [0.0 if math.isnan(v) else v / 1000.0 for v in _series(days, "lifting", "avoided_kg")]
    carried_0 = [0.0 if math.isnan(v) else v for v in carried]
    _bars(ax, xs, carried, 0.6, BAR)
    _bars(ax, xs, avoided, 0.6, AVOIDED, carried_0)
    indicator_t = DAILY_TONNAGE_INDICATOR_KG / 1000.0
    tallest = max((c + a for c, a in zip(carried_0, avoided, strict=True)), default=0.0)
    ax.set_ylim(0.0, max(indicator_t * 1.15, tallest * 1.12))
    _finish(ax, "lift_title", "lift_axis", lang)
    _no_values(ax, days, start, "lifting", lang, _present(carried))
    return [
        KeyEntry(label("tonnage_bar", lang), BAR, face=BAR),
        KeyEntry(label("avoided_bar", lang), AVOIDED, face=AVOIDED),
        _line(ax, indicator_t, LIMIT, "-", f"{limit(indicator_t, lang)} t {label('indicator', lang)}\n(NF X35-109)"),
    ]


CHARTS: tuple[Chart, ...] = (lex_chart, hav_chart, wbgt_chart, lift_chart)


def date_axis(ax: Axes, days: Sequence[Day], period: tuple[date, date], lang: Lang, last: bool) -> None:
    """A tick for every day of the period and a label under every day that has data (every few past 31)."""
    start, end = period
    n = (end - start).days + 1
    ax.set_xlim(-0.7, n - 0.3)
    ax.set_xticks([])
    foot = blended_transform_factory(ax.transData, ax.transAxes)
    ax.plot(
        range(n), [0.0] * n, ls="none", marker=TICKDOWN, markersize=2, mew=0.5, color=INK, transform=foot, clip_on=False
    )
    xs = sorted(set(_xs(days, start)))
    for x in xs[:: max(1, math.ceil(len(xs) / 31))]:
        day = date.fromordinal(start.toordinal() + x)
        ax.text(x, -0.035, short_date(day, lang), transform=foot, rotation=90, fontsize=5.5, ha="center", va="top")
    if last:
        ax.text(0.5, -0.3, label("date_axis", lang), transform=ax.transAxes, fontsize=SIZE, ha="center", va="top")


def _xs(days: Sequence[Day], start: date) -> list[int]:
    return [(date.fromisoformat(str(d["date"])) - start).days for d in days]


def _series(days: Sequence[Day], name: str, key: str) -> list[float]:
    return [math.nan if (v := value(d, name, key)) is None else v for d in days]


def _present(values: Sequence[float]) -> list[bool]:
    return [not math.isnan(v) for v in values]


def _bars(
    ax: Axes,
    xs: Sequence[float],
    heights: Sequence[float],
    width: float,
    face: str,
    bottom: Sequence[float] | None = None,
    edge: str | None = None,
    hatch: str | None = None,
) -> None:
    """Bars as one ``PolyCollection``; NaN heights draw nothing."""
    bases = bottom if bottom is not None else [0.0] * len(xs)
    half = width / 2
    verts = [
        ((x - half, b), (x - half, b + h), (x + half, b + h), (x + half, b))
        for x, h, b in zip(xs, heights, bases, strict=True)
        if not math.isnan(h)
    ]
    if verts:
        bars = PolyCollection(
            verts, facecolors=face, edgecolors=edge or face, linewidths=0.6 if edge else 0.0, hatch=hatch
        )
        ax.add_collection(bars, autolim=False)


def _line(ax: Axes, y: float, color: str, style: str, text: str) -> KeyEntry:
    ax.axhline(y, color=color, ls=style, lw=0.9)
    return KeyEntry(text, color, linestyle=style)


def _finish(ax: Axes, title: str, y_label: str, lang: Lang) -> None:
    ax.text(0.0, 1.04, label(title, lang), transform=ax.transAxes, fontsize=7.5, fontweight="bold", va="bottom")
    ax.set_ylabel(label(y_label, lang), fontsize=SIZE)


def _no_values(ax: Axes, days: Sequence[Day], start: date, name: str, lang: Lang, present: Sequence[bool]) -> None:
    """ "n/d" under days whose section is null; "no data" across the chart when no day has a value."""
    foot = blended_transform_factory(ax.transData, ax.transAxes)
    for x, d, ok in zip(_xs(days, start), days, present, strict=True):
        if not ok and section(d, name) is None:
            ax.text(x, 0.03, "n/d", transform=foot, fontsize=4.5, ha="center", color=MUTED, rotation=90)
    if not any(present):
        ax.text(
            0.5, 0.5, label("no_data", lang), transform=ax.transAxes, fontsize=9, ha="center", va="center", color=MUTED
        )
