"""One agent's page of the exposure PDF: a header with the period's figures, then the four daily charts, each
with its key at its right.

The keys are drawn by hand (a swatch and a text per entry): matplotlib's ``Legend`` costs as much to lay out as
the chart it describes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.ticker import FuncFormatter

from gateway.reports.i18n import Lang, label, limit, num
from gateway.reports.pdf_charts import CHARTS, LIMIT, SIZE, KeyEntry, date_axis
from gateway.reports.pdf_layout import INK, MARGIN_IN, PAGE_H_IN, PAGE_W_IN, fx, fy, rect_in, text
from gateway.reports.summary import AgentSummary, Day
from services.exposure.noise import PEAK_COUNTED_DBC

_LEFT_IN, _WIDTH_IN, _HEIGHT_IN, _TOP_IN, _STEP_IN = 0.75, 5.3, 1.72, 1.75, 2.3
_KEY_LEFT_IN = _LEFT_IN + _WIDTH_IN + 0.42


def draw_agent_page(
    fig: Figure, agent: AgentSummary, days: Sequence[Day], period: tuple[date, date], lang: Lang
) -> None:
    """Header and the four charts of one agent's ``days`` (sorted, all inside ``period``)."""
    _header(fig, agent, lang)
    ticks = FuncFormatter(lambda v, _pos: limit(round(v, 6), lang))
    for i, chart in enumerate(CHARTS):
        top = _TOP_IN + i * _STEP_IN
        ax = fig.add_axes(rect_in(_LEFT_IN, top, _WIDTH_IN, _HEIGHT_IN))
        entries = chart(ax, days, period[0], lang)
        date_axis(ax, days, period, lang, last=i == len(CHARTS) - 1)
        ax.tick_params(labelsize=SIZE, length=2, pad=1.5)
        ax.yaxis.set_major_formatter(ticks)
        ax.grid(axis="y", color="#e5e5e5", lw=0.4)
        ax.set_axisbelow(True)
        ax.spines[["top", "right"]].set_visible(False)
        _key(fig, top + 0.05, entries)


def _key(fig: Figure, top_in: float, entries: Sequence[KeyEntry]) -> None:
    y = top_in
    for entry in entries:
        lines = entry.text.count("\n") + 1
        middle = y + 0.065 * lines
        x0, x1 = fx(_KEY_LEFT_IN), fx(_KEY_LEFT_IN + 0.26)
        if entry.linestyle is not None:
            fig.add_artist(Line2D([x0, x1], [fy(middle), fy(middle)], color=entry.color, ls=entry.linestyle, lw=0.9))
        else:
            fig.add_artist(
                Rectangle(
                    (x0, fy(middle + 0.045)),
                    x1 - x0,
                    0.09 / PAGE_H_IN,
                    facecolor=entry.face,
                    edgecolor=entry.color,
                    lw=0.5,
                    hatch=entry.hatch,
                )
            )
        text(fig, _KEY_LEFT_IN + 0.32, middle, entry.text, 5.5, va="center")
        y += 0.13 * lines + 0.07


def _header(fig: Figure, agent: AgentSummary, lang: Lang) -> None:
    def tr(fr: str, en: str) -> str:
        return fr if lang == "fr" else en

    sep = tr(" : ", ": ")
    at_ear = tr("à l'oreille", "at the ear")
    name = agent.agent_name or f"{agent.agent_id} {label('pseudonymised', lang)}"
    text(fig, MARGIN_IN, 0.62, name, 13, "bold")
    days = f"{agent.days} {tr('jour', 'day')}{'s' if agent.days != 1 else ''}"
    ident = (
        f"{agent.agent_id} · {label('crew', lang)} {agent.crew_id or '–'} · {days} · "
        f"{num(agent.worked_h, 1, lang)} h {tr('travaillées', 'worked')}"
    )
    text(fig, MARGIN_IN, 0.82, ident, 7.5)
    flags = label("flags", lang) + sep + (" ".join(f"{code}×{count}" for code, count in agent.flag_days) or "–")
    text(fig, PAGE_W_IN - MARGIN_IN, 0.82, flags, 7.5, "bold", "right", LIMIT if agent.any_limit else INK)
    topics = (
        tr("Bruit", "Noise")
        + f"{sep}L_EX,8h max {num(agent.lex_max_dba, 1, lang)} dB(A) · dose max {num(agent.dose_max_pct, 0, lang)} %"
        + f" · {tr('crêtes', 'peaks')} ≥ {limit(PEAK_COUNTED_DBC, lang)} dB(C){sep}{agent.peaks_over_135}"
        + f" ({at_ear}{sep}{agent.peaks_over_135_at_ear})",
        tr("Vibrations", "Vibration")
        + f"{sep}{tr('A(8) main-bras max', 'hand-arm A(8) max')} {num(agent.hav_a8_max_ms2, 2, lang)} m/s²"
        + f" ({num(agent.hav_points_max, 0, lang)} {label('points_axis', lang)})"
        + f" · {tr('A(8) corps entier max', 'whole-body A(8) max')} {num(agent.wbv_a8_max_ms2, 2, lang)} m/s²",
        tr("Chaleur", "Heat")
        + f"{sep}WBGT max {num(agent.wbgt_max_c, 1, lang)} °C · {num(agent.minutes_over_ref, 0, lang)} min "
        + tr("au-dessus de la référence", "over the reference")
        + f" · PSI max {num(agent.psi_max, 1, lang)} · {tr('température centrale max', 'core temperature max')} "
        + f"{num(agent.core_temp_max_c, 1, lang)} °C ({tr('estimée', 'estimated')})",
        tr("Manutention", "Handling")
        + f"{sep}{agent.lifts} {tr('soulevés', 'lifts')} · {num(agent.tonnage_kg / 1000, 1, lang)} t "
        + f"{tr('portées', 'carried')} · {num(agent.avoided_kg / 1000, 1, lang)} t {tr('évitées', 'avoided')} · "
        + f"{tr('nuits travaillées', 'nights worked')} {agent.nights}",
    )
    for i, line in enumerate(topics):
        text(fig, MARGIN_IN, 1.02 + i * 0.14, line, 6.8)
