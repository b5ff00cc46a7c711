"""The weekly weak-signals report as PDF (A4 portrait, vector): what signals are and are not, then each signal's
trend (daily series with its baseline and recent levels), its figures and what it means.

Pure: the API's body in, bytes out; drawn on pyplot-free ``Figure`` objects as gateway/reports/pdf_report.py
does, with ``generated_at`` as the creation date so the same data and time give the same bytes.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from matplotlib.figure import Figure

from gateway.reports.i18n import Lang, check_lang, label, local_time, long_date, num, period_text, short_date
from gateway.reports.pdf_layout import (
    CONTENT_W_IN,
    FOOTER_H_IN,
    MARGIN_IN,
    MUTED,
    PAGE_H_IN,
    Footer,
    Page,
    TextLine,
    draw_lines,
    rect_in,
    render_pdf,
    text,
)
from services.exposure.night import PARIS
from services.signals import meanings

PANEL_H_IN = 3.3
PANELS_PER_PAGE = 3
PLOT_H_IN = 2.0
MEANING_TOP_IN = 2.73
"""Baseline of the meaning's first line, from the panel's top: under the plot's tick labels. The follow-up line
comes after the meaning's (at most MEANING_LINES) lines, inside PANEL_H_IN."""
MEANING_LINE_IN = 0.11
MEANING_LINES = 5
_WRAP = 150

_INTRO: dict[Lang, tuple[str, list[tuple[str, str]]]] = {
    "fr": (
        "Signaux faibles : lecture",
        [
            (
                "Ce que sont les signaux",
                "Des tendances sur des jours et des semaines, calculées à partir du registre "
                "d'exposition, des minutes de fréquence cardiaque, des alertes et des états des robots. Chacune "
                "compare un niveau récent à une référence (la médiane des semaines précédentes) : écart en unités "
                "de dispersion (effet), confiance d'un test de rang, et test de rupture (CUSUM) qui lève le signal.",
            ),
            (
                "Ce qu'ils ne sont pas",
                "Ni un diagnostic médical, ni un classement des agents ou des équipes, ni une "
                "alerte en temps réel. Un signal invite à regarder l'organisation du travail, l'équipement ou les "
                "conditions, avec les agents et le service de santé au travail.",
            ),
            (
                "Confidentialité",
                "Par défaut, seuls les signaux d'équipe, de site et de robot sont montrés ; les "
                "groupes de moins de {min} agents ne sont pas rapportés ({withheld} signaux retenus). Un signal "
                "individuel n'est montré qu'à l'agent et aux personnes nommées pour le site, sous pseudonyme sauf "
                "autorisation. Chaque lecture est journalisée.",
            ),
        ],
    ),
    "en": (
        "Weak signals: how to read them",
        [
            (
                "What the signals are",
                "Trends over days and weeks, computed from the exposure ledger, the minute heart "
                "rate, the alerts and the robots' states. Each compares a recent level with a baseline (the median of "
                "the weeks before): the shift in units of spread (effect), the confidence of a rank test, and a "
                "change-point test (CUSUM) that flags the signal.",
            ),
            (
                "What they are not",
                "Not a medical diagnosis, not a ranking of agents or crews, not a live alert. A "
                "signal asks for a look at work organisation, equipment or conditions, with the agents and the "
                "occupational health service.",
            ),
            (
                "Privacy",
                "By default only crew, site and robot signals are shown; groups of fewer than {min} agents "
                "are not reported ({withheld} signals withheld). An individual signal is shown only to the agent "
                "and to the people named for the site, pseudonymised unless authorised. Every read is logged.",
            ),
        ],
    ),
}
_WORDS: dict[str, tuple[str, str]] = {
    "title": ("Vigie — signaux faibles, {subject}, semaine {week}", "Vigie — weak signals, {subject}, week {week}"),
    "none": ("Aucun signal levé sur la période.", "No signal flagged in the period."),
    "flagged": ("levé le {day}", "flagged on {day}"),
    "not_flagged": ("non levé", "not flagged"),
    "review": ("Suivi : {outcome} — {by}, {day}{note}", "Follow-up: {outcome} — {by}, {day}{note}"),
    "no_review": ("Suivi : aucun suivi enregistré pour ce signal levé.", "Follow-up: none recorded for this flag."),
    "action": ("mesures prises ou prévues", "measures taken or planned"),
    "watch": ("sous surveillance", "under watch"),
    "explained": ("expliqué, sans mesure", "explained, no measure needed"),
    "figures": ("référence {b} · récent {r} {u} · effet {e} · confiance {c} % · groupe {g}",
                "baseline {b} · recent {r} {u} · effect {e} · confidence {c} % · group {g}"),
    "baseline": ("référence", "baseline"),
    "agent": ("agent", "agent"),
    "crew": ("équipe", "crew"),
    "site": ("site", "site"),
    "robot": ("robot", "robot"),
    "recent": ("récent", "recent"),
    "count": ("{n} signaux, dont {f} levés (les signaux levés sont tracés).",
              "{n} signals, {f} flagged (flagged signals are plotted)."),
}  # fmt: skip


def _w(key: str, lang: Lang, **kwargs: Any) -> str:
    fr, en = _WORDS[key]
    return (fr if lang == "fr" else en).format(**kwargs)


def intro_lines(lang: Lang, min_group_size: int, withheld: int, total: int, flagged: int) -> list[TextLine]:
    """The first page's text: what the signals are and are not, and how privacy applies."""
    title, sections = _INTRO[lang]
    lines: list[TextLine] = [("title", title)]
    for heading, template in sections:
        lines.append(("heading", heading))
        body = template.format(min=min_group_size, withheld=withheld)
        lines += [("body", chunk) for chunk in textwrap.wrap(body, _WRAP)]
    lines += [("gap", ""), ("body", _w("count", lang, n=total, f=flagged))]
    if not flagged:
        lines.append(("body", _w("none", lang)))
    return lines


def signals_pdf(subject: str, week: str, period: tuple[date, date], body: Mapping[str, Any], lang: str = "fr", *,
                generated_at: datetime) -> bytes:  # fmt: skip
    """The report: an explanatory first page, then each flagged signal's trend panel (three per page)."""
    lang_ = check_lang(lang)
    items: Sequence[Mapping[str, Any]] = body["items"]
    flagged = [i for i in items if i["flagged"]]
    lines = intro_lines(lang_, body["min_group_size"], body["withheld"], len(items), len(flagged))
    pages: list[Page] = [lambda fig: _draw_intro(fig, lines)]
    for first in range(0, len(flagged), PANELS_PER_PAGE):
        chunk = flagged[first : first + PANELS_PER_PAGE]
        pages.append(lambda fig, chunk=chunk: _draw_panels(fig, chunk, lang_))  # type: ignore[misc]
    title = _w("title", lang_, subject=subject, week=week)
    footer = Footer(title, period_text(period, lang_), f"{label('generated', lang_)} {local_time(generated_at, lang_)}")
    return render_pdf(pages, footer, label("page", lang_), title, generated_at)


def _draw_intro(fig: Figure, lines: Sequence[TextLine]) -> None:
    draw_lines(fig, lines, 0.5)


def _draw_panels(fig: Figure, items: Sequence[Mapping[str, Any]], lang: Lang) -> None:
    top_in = 0.5
    for item in items:
        _panel(fig, item, lang, top_in)
        top_in += PANEL_H_IN
    assert top_in <= PAGE_H_IN - FOOTER_H_IN + 0.1


def _panel(fig: Figure, item: Mapping[str, Any], lang: Lang, top_in: float) -> None:
    """Heading (what, who), figures, the trend plot, and the meaning (already in ``lang``), in PANEL_H_IN inches."""
    who = item["subject_label"] or item["subject_id"]
    what = meanings.label(item["kind"], lang)
    text(fig, MARGIN_IN, top_in + 0.12, f"{what} — {_w(item['subject_kind'], lang)} {who}", 8.5, "bold")
    unit = meanings.unit_label(item["unit"], lang)
    first = item["first_flagged"]
    state = _w("flagged", lang, day=long_date(date.fromisoformat(first), lang)) if first else _w("not_flagged", lang)
    figures = _w("figures", lang, b=num(item["baseline"], 2, lang), r=num(item["recent"], 2, lang), u=unit,
                 e=num(item["effect_size"], 1, lang), c=num(100 * item["confidence"], 0, lang),
                 g=item["group_size"])  # fmt: skip
    text(fig, MARGIN_IN, top_in + 0.3, f"{state} · {figures}", 6.8, color=MUTED)
    ax = fig.add_axes(rect_in(MARGIN_IN + 0.45, top_in + 0.45, CONTENT_W_IN - 0.6, PLOT_H_IN))
    days = [date.fromisoformat(p["day"]) for p in item["series"]]
    day0 = days[0] if days else date.min
    xs = [(d - day0).days for d in days]  # days since the first: plain numbers for the axis
    ax.plot(xs, [p["value"] for p in item["series"]], color="#3b6ea5", lw=1.0, marker="o", ms=1.8)
    ax.axhline(item["baseline"], color=MUTED, ls="--", lw=0.9, label=_w("baseline", lang))
    ax.axhline(item["recent"], color="#c0392b", ls="-", lw=0.9, label=_w("recent", lang))
    if first:
        ax.axvline((date.fromisoformat(first) - day0).days, color="#c0392b", ls=":", lw=0.8)
    ax.set_ylabel(unit, fontsize=6.5)
    ax.tick_params(labelsize=6)
    if days:
        step = max(1, len(days) // 8)
        ax.set_xticks(xs[::step], [short_date(d, lang) for d in days[::step]])
    ax.legend(fontsize=6, loc="upper left", frameon=False)
    for spine in ("top", "right"):
        ax.spines[spine].set_visible(False)
    lines = meaning_lines(item["meaning"])
    for i, chunk in enumerate(lines):
        text(fig, MARGIN_IN, top_in + MEANING_TOP_IN + MEANING_LINE_IN * i, chunk, 6.8)
    if first:
        text(fig, MARGIN_IN, top_in + MEANING_TOP_IN + MEANING_LINE_IN * len(lines), follow_up_line(item, lang), 6.8,
             "bold", color=MUTED)  # fmt: skip


def follow_up_line(item: Mapping[str, Any], lang: Lang) -> str:
    """What was recorded about a flag (services/signals/review.py), on one line: the note cut to fit."""
    review = item.get("review")
    if not review:
        return _w("no_review", lang)
    day = long_date(datetime.fromisoformat(review["at"]).astimezone(PARIS).date(), lang)
    head = _w("review", lang, outcome=_w(review["outcome"], lang), by=review["by"], day=day, note="")
    note = " ".join(review["note"].split())
    return head + (" — " + textwrap.shorten(note, max(20, _WRAP - len(head) - 3), placeholder=" …") if note else "")


def meaning_lines(meaning: str) -> list[str]:
    """The meaning wrapped to the panel: whole up to MEANING_LINES lines (the French ones run to five), else cut
    with an ellipsis rather than drawn over the next panel. Never broken at a hyphen: "R4431-2", "écart-type"."""
    lines = textwrap.wrap(meaning, _WRAP, break_on_hyphens=False)
    if len(lines) <= MEANING_LINES:
        return lines
    return [*lines[: MEANING_LINES - 1], textwrap.shorten(lines[MEANING_LINES - 1], _WRAP - 2, placeholder="") + " …"]
