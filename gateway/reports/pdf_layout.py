"""Page furniture for the PDF reports: A4 figures, the footer, wrapped text and plain tables.

Everything is placed in inches from the page's top-left corner on a ``matplotlib.figure.Figure`` that belongs
to no pyplot state, with fixed positions (no ``tight_layout``): cheaper to render and identical page after page.
User-supplied strings are drawn with ``parse_math=False`` so a ``$`` in a name is never read as mathtext.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import matplotlib as mpl
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from gateway.reports.methods import MethodsText

PAGE_W_IN, PAGE_H_IN = 8.27, 11.69
"""A4 portrait."""
MARGIN_IN = 0.45
FOOTER_H_IN = 0.45
CONTENT_W_IN = PAGE_W_IN - 2 * MARGIN_IN
INK = "#1a1a1a"
MUTED = "#6b6b6b"
ZEBRA = "#f2f4f7"
ACTION_BG = "#fde3c4"
LIMIT_BG = "#f7c1c1"
INDICATOR_BG = "#fff1b8"

LineStyle = Literal["title", "heading", "body", "bullet", "gap"]
_LINE_H_IN: dict[LineStyle, float] = {"title": 0.32, "heading": 0.2, "body": 0.128, "bullet": 0.128, "gap": 0.07}
_LINE_FONT: dict[LineStyle, tuple[float, str]] = {
    "title": (11.0, "bold"),
    "heading": (7.5, "bold"),
    "body": (6.8, "normal"),
    "bullet": (6.8, "normal"),
    "gap": (6.8, "normal"),
}
_WRAP_CHARS = 150


def new_page() -> Figure:
    return Figure(figsize=(PAGE_W_IN, PAGE_H_IN), dpi=72)


def fx(x_in: float) -> float:
    """Inches from the left edge → figure fraction."""
    return x_in / PAGE_W_IN


def fy(y_in: float) -> float:
    """Inches from the top edge → figure fraction."""
    return 1.0 - y_in / PAGE_H_IN


def rect_in(left_in: float, top_in: float, width_in: float, height_in: float) -> tuple[float, float, float, float]:
    """An axes rectangle given in inches from the top-left corner, as ``add_axes`` wants it."""
    return (fx(left_in), fy(top_in + height_in), width_in / PAGE_W_IN, height_in / PAGE_H_IN)


def text(
    fig: Figure,
    x_in: float,
    y_in: float,
    s: str,
    size: float = 7.0,
    weight: str = "normal",
    ha: str = "left",
    color: str = INK,
    va: str = "baseline",
) -> None:
    fig.text(fx(x_in), fy(y_in), s, fontsize=size, fontweight=weight, ha=ha, va=va, color=color, parse_math=False)


@dataclass(frozen=True, slots=True)
class Footer:
    """What every page repeats at its foot: the report title, its period, when it was generated."""

    title: str
    period: str
    generated: str

    def draw(self, fig: Figure, page: int, pages: int, page_word: str) -> None:
        y_in = PAGE_H_IN - FOOTER_H_IN + 0.08
        _box(fig, MARGIN_IN, y_in, CONTENT_W_IN, 0.008, MUTED)
        text(fig, MARGIN_IN, y_in + 0.14, clip(self.title, 110), 6.5, "bold", color=MUTED)
        text(fig, MARGIN_IN, y_in + 0.28, f"{self.period} · {self.generated}", 6.5, color=MUTED)
        text(fig, PAGE_W_IN - MARGIN_IN, y_in + 0.14, f"{page_word} {page}/{pages}", 6.5, ha="right", color=MUTED)


def clip(s: str, chars: int) -> str:
    """``s`` cut to ``chars`` characters, with an ellipsis when it was longer."""
    return s if len(s) <= chars else s[: chars - 1] + "…"


TextLine = tuple[LineStyle, str]


def methods_lines(methods: MethodsText, lead: Sequence[tuple[str, str]] = ()) -> list[TextLine]:
    """The methods text as wrapped lines: title, then ``lead`` sections, the sections, and the caveats."""
    lines: list[TextLine] = [("title", methods.title)]
    for heading, body in (*lead, *methods.sections):
        lines.append(("heading", heading))
        lines += [("body", chunk) for chunk in textwrap.wrap(body, _WRAP_CHARS)]
    lines += [("gap", ""), ("heading", methods.caveats_title)]
    for caveat in methods.caveats:
        wrapped = textwrap.wrap(caveat, _WRAP_CHARS - 3)
        lines += [("bullet", ("•  " if i == 0 else "    ") + chunk) for i, chunk in enumerate(wrapped)]
    return lines


def paginate(lines: Sequence[TextLine], first_in: float, then_in: float) -> list[list[TextLine]]:
    """Split ``lines`` into pages holding ``first_in`` inches of text, then ``then_in`` inches each."""
    pages: list[list[TextLine]] = [[]]
    room = first_in
    for line in lines:
        height = _LINE_H_IN[line[0]]
        if height > room and pages[-1]:
            pages.append([])
            room = then_in
        pages[-1].append(line)
        room -= height
    return pages


def draw_lines(fig: Figure, lines: Sequence[TextLine], top_in: float) -> float:
    """Draw wrapped lines from ``top_in``; returns the inch where the next line would go."""
    y_in = top_in
    for style, s in lines:
        y_in += _LINE_H_IN[style]
        size, weight = _LINE_FONT[style]
        if s:
            text(fig, MARGIN_IN, y_in - 0.03, s, size, weight)
    return y_in


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    width_in: float
    align: Literal["left", "right", "center"] = "right"


def draw_table(
    fig: Figure,
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    top_in: float,
    backgrounds: Sequence[Sequence[str | None]] | None = None,
    row_h_in: float = 0.155,
    header_h_in: float = 0.32,
    size: float = 6.0,
    left_in: float = MARGIN_IN,
) -> float:
    """A plain table (multi-line headers, zebra rows, optional cell backgrounds); returns its bottom in inches.

    Backgrounds sit below everything else (zorder −1) so axes drawn over the table (share bars) stay visible.
    """
    width = sum(c.width_in for c in columns)
    _box(fig, left_in, top_in, width, header_h_in, "#dfe4ea")
    x = left_in
    for col in columns:
        text(fig, _anchor(col, x), top_in + header_h_in / 2, col.header, size, "bold", col.align, va="center")
        x += col.width_in
    y = top_in + header_h_in
    for i, row in enumerate(rows):
        if i % 2:
            _box(fig, left_in, y, width, row_h_in, ZEBRA)
        x = left_in
        for j, (col, cell) in enumerate(zip(columns, row, strict=True)):
            bg = backgrounds[i][j] if backgrounds is not None else None
            if bg is not None:
                _box(fig, x, y, col.width_in, row_h_in, bg)
            text(fig, _anchor(col, x), y + row_h_in / 2, cell, size, ha=col.align, va="center")
            x += col.width_in
        y += row_h_in
    return y


def _box(fig: Figure, left_in: float, top_in: float, width_in: float, height_in: float, color: str) -> None:
    box = Rectangle(
        (fx(left_in), fy(top_in + height_in)), width_in / PAGE_W_IN, height_in / PAGE_H_IN, color=color, lw=0, zorder=-1
    )
    fig.add_artist(box)


def _anchor(col: Column, x_in: float) -> float:
    pad = 0.04
    if col.align == "left":
        return x_in + pad
    if col.align == "right":
        return x_in + col.width_in - pad
    return x_in + col.width_in / 2


Page = Callable[[Figure], None]
"""Draws one page's content on a fresh figure (the footer is added by ``render_pdf``)."""


def render_pdf(pages: Sequence[Page], footer: Footer, page_word: str, title: str, generated_at: datetime) -> bytes:
    """The PDF of ``pages`` in order, each with the footer "``page_word`` n / N", and the document's metadata."""
    buffer = io.BytesIO()
    metadata = {"Title": title, "Creator": "Vigie", "Producer": f"Vigie / Matplotlib {mpl.__version__}",
                "CreationDate": generated_at, "ModDate": generated_at}  # fmt: skip
    with PdfPages(buffer, metadata=metadata) as pdf:
        for number, draw in enumerate(pages, start=1):
            fig = new_page()
            draw(fig)
            footer.draw(fig, number, len(pages), page_word)
            pdf.savefig(fig)
    return buffer.getvalue()
