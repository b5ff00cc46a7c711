"""The exposure reports as PDF (A4 portrait, vector): a crew's period, and one agent's D4163-2 annual statement.

Pure: the API's dicts in, bytes out. Pages are ``matplotlib.figure.Figure`` objects written through
``backend_pdf.PdfPages`` without pyplot, so nothing is registered globally and concurrent renders do not share
state. The PDF's creation date is ``generated_at``, so the same data and time give the same bytes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from matplotlib.figure import Figure

from gateway.reports.i18n import Lang, check_lang, label, limit, local_time, num, period_text
from gateway.reports.methods import annual_methods, exposure_methods
from gateway.reports.pdf_agent import draw_agent_page
from gateway.reports.pdf_charts import LIMIT
from gateway.reports.pdf_layout import (
    FOOTER_H_IN,
    LIMIT_BG,
    MARGIN_IN,
    MUTED,
    PAGE_H_IN,
    Column,
    Footer,
    Page,
    TextLine,
    draw_lines,
    draw_table,
    methods_lines,
    paginate,
    rect_in,
    render_pdf,
    text,
)
from gateway.reports.pdf_summary import summary_table
from gateway.reports.summary import AgentSummary, by_agent, summarise
from services.exposure.annual import NOISE_LEX_AT_EAR_DBA
from services.exposure.heat import COLD_TEMP_C, HOT_TEMP_C
from services.exposure.night import NIGHT_MIN_S
from services.exposure.noise import PEAK_COUNTED_DBC

ROWS_ON_COVER = 50
ROWS_PER_PAGE = 62
_TEXT_ROOM_IN = PAGE_H_IN - 0.5 - FOOTER_H_IN - 0.25
_FACTORS = ("noise_hours", "peaks", "extreme_temp_hours", "nights")



def exposure_pdf(
    title: str,
    period: tuple[date, date],
    days: Sequence[Mapping[str, Any]],
    lang: str = "fr",
    *,
    generated_at: datetime,
) -> bytes:
    """A crew's exposure over ``period``: cover and summary table, one chart page per agent, methods.

    ``days`` are the API's exposure-day dicts (any order, any section null); ValueError if one falls outside
    ``period`` or ``generated_at`` is naive. Pages: the cover with the summary table (continued on further pages
    past ``ROWS_ON_COVER`` agents), one page per agent, then the methods (one page).
    """
    lang_ = check_lang(lang)
    start, end = period
    if start > end:
        raise ValueError(f"period starts after it ends: {start} > {end}")
    for day in days:
        if not start <= date.fromisoformat(str(day["date"])) <= end:
            raise ValueError(f"{day['agent_id']} {day['date']} is outside the period {start}..{end}")
    groups = by_agent(days)
    agents = [summarise(agent_days) for agent_days in groups.values()]
    chunks = [agents[:ROWS_ON_COVER]] + [
        agents[i : i + ROWS_PER_PAGE] for i in range(ROWS_ON_COVER, len(agents), ROWS_PER_PAGE)
    ]
    pages: list[Page] = [_cover(title, period, agents, chunks[0], lang_)]
    pages += [_summary_page(chunk, lang_) for chunk in chunks[1:]]
    pages += [_agent_page(a, groups[a.agent_id], period, lang_) for a in agents]
    pages += _text_pages(methods_lines(exposure_methods(lang_)))
    footer = Footer(
        title,
        f"{label('period', lang_)} {period_text(period, lang_)}",
        f"{label('generated', lang_)} {local_time(generated_at, lang_)}",
    )
    return render_pdf(pages, footer, label("page", lang_), title, generated_at)


def annual_pdf(statement: Mapping[str, Any], lang: str = "fr", *, generated_at: datetime) -> bytes:
    """One agent's D4163-2 annual statement (the API's dict) on one page: the four factors, then the methods."""
    lang_ = check_lang(lang)
    year = int(statement["year"])
    who = statement.get("agent_name") or f"{statement['agent_id']} {label('pseudonymised', lang_)}"
    title = f"{label('annual_title', lang_)} {year} — {who}"
    lead: list[tuple[str, str]] = []
    if statement.get("method"):
        lead.append((label("statement_method", lang_), str(statement["method"])))
    lines = methods_lines(annual_methods(lang_), lead)
    table_bottom_in = 1.55 + 0.32 + 0.42 * len(_factor_keys(statement)) + 0.35
    method_pages = paginate(lines, PAGE_H_IN - FOOTER_H_IN - 0.25 - table_bottom_in, _TEXT_ROOM_IN)

    def first(fig: Figure) -> None:
        text(fig, MARGIN_IN, 0.75, title, 14, "bold")
        reached = [_reached_name(name, lang_) for name in statement.get("factors_reached") or []]
        facts = [
            str(statement["agent_id"]),
            f"{statement.get('days', '–')} " + ("jours" if lang_ == "fr" else "days"),
            ("facteurs atteints : " if lang_ == "fr" else "factors reached: ")
            + (", ".join(reached) or ("aucun" if lang_ == "fr" else "none")),
        ]
        text(fig, MARGIN_IN, 1.02, " · ".join(facts), 8, color=LIMIT if reached else "#1a1a1a")
        _factor_table(fig, statement, lang_, 1.55)
        draw_lines(fig, method_pages[0], table_bottom_in)

    pages: list[Page] = [first, *(_lines_page(chunk) for chunk in method_pages[1:])]
    footer = Footer(
        title, f"{label('year', lang_)} {year}", f"{label('generated', lang_)} {local_time(generated_at, lang_)}"
    )
    return render_pdf(pages, footer, label("page", lang_), title, generated_at)


def _text_pages(lines: Sequence[TextLine]) -> list[Page]:
    return [_lines_page(chunk) for chunk in paginate(lines, _TEXT_ROOM_IN, _TEXT_ROOM_IN)]


def _lines_page(lines: Sequence[TextLine]) -> Page:
    def draw(fig: Figure) -> None:
        draw_lines(fig, lines, 0.5)

    return draw


def _agent_page(agent: AgentSummary, days: Sequence[Mapping[str, Any]], period: tuple[date, date], lang: Lang) -> Page:
    return lambda fig: draw_agent_page(fig, agent, days, period, lang)


def _cover(
    title: str, period: tuple[date, date], agents: Sequence[AgentSummary], rows: Sequence[AgentSummary], lang: Lang
) -> Page:
    def draw(fig: Figure) -> None:
        text(fig, MARGIN_IN, 0.8, title, 16, "bold")
        crews = sorted({a.crew_id for a in agents if a.crew_id})
        text(fig, MARGIN_IN, 1.08, f"{label('period', lang)} {period_text(period, lang)}", 9)
        agent_days = "journées-agent" if lang == "fr" else "agent-days"
        sep = " : " if lang == "fr" else ": "
        facts = (
            f"{len(agents)} {label('agents', lang)} · {sum(a.days for a in agents)} {agent_days} · "
            f"{label('crew', lang)}{sep}{', '.join(crews) or '–'}"
        )
        text(fig, MARGIN_IN, 1.28, facts, 8, color=MUTED)
        if not agents:
            text(fig, MARGIN_IN, 1.8, label("no_days", lang), 10)
            return
        summary_table(fig, rows, lang, 1.6, label("summary", lang))

    return draw


def _summary_page(rows: Sequence[AgentSummary], lang: Lang) -> Page:
    return lambda fig: summary_table(fig, rows, lang, 0.55, label("summary_cont", lang))


_FACTOR_LABELS = {
    "noise_hours": (
        f"Bruit : heures à L_EX,8h ≥ {limit(NOISE_LEX_AT_EAR_DBA)} dB(A)\nà l'oreille",
        f"Noise: hours at L_EX,8h ≥ {limit(NOISE_LEX_AT_EAR_DBA, 'en')} dB(A)\nat the ear",
    ),
    "peaks": (
        f"Bruit : crêtes LCpeak ≥ {limit(PEAK_COUNTED_DBC)} dB(C)",
        f"Noise: LCpeak peaks ≥ {limit(PEAK_COUNTED_DBC, 'en')} dB(C)",
    ),
    "extreme_temp_hours": (
        f"Températures extrêmes :\nheures ≤ {limit(COLD_TEMP_C)} °C ou ≥ {limit(HOT_TEMP_C)} °C",
        f"Extreme temperatures:\nhours ≤ {limit(COLD_TEMP_C, 'en')} °C or ≥ {limit(HOT_TEMP_C, 'en')} °C",
    ),
    "nights": (
        f"Travail de nuit : nuits avec\n≥ {limit(NIGHT_MIN_S / 3600)} h entre 00:00 et 05:00",
        f"Night work: nights with\n≥ {limit(NIGHT_MIN_S / 3600, 'en')} h between 00:00 and 05:00",
    ),
}
_UNITS = {"h": ("h", "h"), "peaks": ("crêtes", "peaks"), "nights": ("nuits", "nights")}
_REACHED = {
    "noise": ("bruit", "noise"),
    "extreme_temperatures": ("températures extrêmes", "extreme temperatures"),
    "night_work": ("travail de nuit", "night work"),
}


def _pick(pair: tuple[str, str], lang: Lang) -> str:
    return pair[0] if lang == "fr" else pair[1]


def _reached_name(name: str, lang: Lang) -> str:
    return _pick(_REACHED[name], lang) if name in _REACHED else name


def _factor_keys(statement: Mapping[str, Any]) -> list[str]:
    factors = statement.get("factors") or {}
    return [*_FACTORS, *(k for k in factors if k not in _FACTORS)]


def _factor_table(fig: Figure, statement: Mapping[str, Any], lang: Lang, top_in: float) -> None:
    factors: Mapping[str, Any] = statement.get("factors") or {}
    keys = _factor_keys(statement)
    columns = [
        Column(label("factor", lang), 2.5, "left"),
        Column(label("amount", lang), 0.85),
        Column(label("threshold", lang), 0.85),
        Column(label("share", lang), 2.3, "center"),
        Column(label("reached", lang), 0.7, "center"),
    ]
    rows, shares, backgrounds = [], [], []
    for key in keys:
        f = factors.get(key) or {}
        unit = _pick(_UNITS.get(str(f.get("unit")), (str(f.get("unit", "")), str(f.get("unit", "")))), lang)
        digits = 1 if f.get("unit") == "h" else 0
        amount, threshold = f.get("amount"), f.get("threshold")
        share = f.get("share")
        reached = f.get("reached")
        rows.append(
            [
                _pick(_FACTOR_LABELS[key], lang) if key in _FACTOR_LABELS else key,
                f"{num(amount, digits, lang)} {unit}" if amount is not None else "–",
                f"{limit(float(threshold), lang)} {unit}" if threshold is not None else "–",
                "",
                "–" if reached is None else label("yes" if reached else "no", lang),
            ]
        )
        shares.append(float(share) if isinstance(share, int | float) else None)
        backgrounds.append([None, None, None, None, LIMIT_BG if reached else None])
    draw_table(fig, columns, rows, top_in, backgrounds, row_h_in=0.42, size=7.5)
    ax = fig.add_axes(rect_in(MARGIN_IN + 4.2 + 0.1, top_in + 0.32, 2.1, 0.42 * len(keys)))
    values = [s or 0.0 for s in shares]
    colors = [LIMIT if s >= 1.0 else "#4c72b0" for s in values]
    ax.barh(range(len(keys)), [min(v, 1.5) for v in values], height=0.42, color=colors)
    ax.axvline(1.0, color="#1a1a1a", lw=0.8)
    ax.set_xlim(0.0, 1.5)
    ax.set_ylim(len(keys) - 0.5, -0.5)
    ax.axis("off")
    for i, s in enumerate(shares):
        shown = "–" if s is None else f"{num(100 * s, 0, lang)} %"
        ax.text(min(s or 0.0, 1.5) + 0.03, i, shown, fontsize=7, va="center")
