"""One benchmark's section of docs/benchmarks.md, between its own two HTML comments.

Writing replaces only what lies between the markers (or appends both at the end when absent), so the other
benchmarks' sections of the same file stay as they are.
"""

from __future__ import annotations

from pathlib import Path


def write_between(path: Path, start: str, end: str, body: str) -> None:
    """Replace the text between ``start`` and ``end`` in ``path`` with ``body`` (append the block when absent)."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    block = f"{start}\n{body.strip()}\n{end}"
    i, j = text.find(start), text.find(end)
    found = i != -1 and j > i
    text = text[:i] + block + text[j + len(end):] if found else text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")
