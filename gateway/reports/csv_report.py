"""The exposure report as CSV: one row per agent and local day, flat column names, for spreadsheets.

Format decisions (RFC 4180 unless noted):

* UTF-8 with a byte-order mark, so Excel on French Windows reads "Chloé" and "m/s²" correctly; CRLF rows.
* ``dialect="rfc4180"`` (default): ``,`` separator and ``.`` decimals — what pandas, R, LibreOffice and any
  script expect. ``dialect="excel-fr"``: ``;`` separator and ``,`` decimals, which a French-locale Excel opens
  by double-click with numbers as numbers (with ``,``/``.`` it would split nothing and read "7.5" as a date).
* One header row, no comment lines; the column names carry their unit (``noise_lex_8h_dba``, ``hav_a8_ms2``).
* Empty cell = no value (a null field or a whole null section); booleans are ``true``/``false``; lists (devices,
  tools) are joined with ``|``; timestamps stay RFC 3339 as the API gives them.
* Rows are sorted by agent then date, so the same ledger gives the same file whatever the API's order.
* CSV injection (OWASP): a text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
  prefixed with ``'`` so a spreadsheet shows it instead of evaluating it. Numbers are never prefixed.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

CsvDialect = Literal["rfc4180", "excel-fr"]

_TOP = ("agent_id", "agent_name", "crew_id", "date", "worked_h", "first_seen", "last_seen")
_SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "noise",
        (
            "lex_8h_dba",
            "lex_8h_at_ear_dba",
            "dose_pct",
            "lcpeak_max_dbc",
            "peaks_over_135",
            "peaks_over_135_at_ear",
            "measured_h",
            "attenuation_db",
            "lower_action_reached",
            "upper_action_reached",
            "limit_exceeded",
        ),
    ),
    ("hav", ("a8_ms2", "points", "exposure_h", "tools", "action_reached", "limit_exceeded")),
    ("wbv", ("a8_ms2", "exposure_h", "action_reached", "limit_exceeded")),
    (
        "heat",
        (
            "wbgt_max_c",
            "wbgt_provenance",
            "wbgt_ref_c",
            "minutes_over_ref",
            "hours_over_30c",
            "hours_under_5c",
            "psi_max",
            "core_temp_max_c",
        ),
    ),
    ("lifting", ("count", "over_15kg", "over_25kg", "tonnage_kg", "tonnage_share", "avoided_kg",
                 "niosh_lifting_index_max")),
    ("night", ("worked", "night_h")),
)
_WITHOUT_PROVENANCE = frozenset({"night"})
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _columns() -> tuple[tuple[str, str | None, str], ...]:
    """(column name, section or None for top-level fields, key) in file order."""
    cols: list[tuple[str, str | None, str]] = [(key, None, key) for key in _TOP]
    for section, keys in _SECTIONS:
        cols += [(f"{section}_{key}", section, key) for key in keys]
        if section not in _WITHOUT_PROVENANCE:
            cols += [(f"{section}_method", section, "method"), (f"{section}_devices", section, "devices")]
    return tuple(cols)


COLUMNS_SPEC = _columns()
COLUMNS: tuple[str, ...] = tuple(name for name, _, _ in COLUMNS_SPEC)
"""The header row, in order."""


def exposure_csv(days: Sequence[Mapping[str, Any]], *, dialect: CsvDialect = "rfc4180") -> bytes:
    """One row per agent-day (the API's exposure-day dicts), as UTF-8-with-BOM CSV bytes; see the module doc."""
    if dialect not in ("rfc4180", "excel-fr"):
        raise ValueError(f"dialect must be 'rfc4180' or 'excel-fr', got {dialect!r}")
    decimal_comma = dialect == "excel-fr"
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";" if decimal_comma else ",", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for day in sorted(days, key=lambda d: (str(d.get("agent_id", "")), str(d.get("date", "")))):
        writer.writerow(_cell(_lookup(day, section, key), decimal_comma) for _, section, key in COLUMNS_SPEC)
    return out.getvalue().encode("utf-8-sig")


def _lookup(day: Mapping[str, Any], section: str | None, key: str) -> Any:
    if section is None:
        return day.get(key)
    part = day.get(section)
    if not isinstance(part, Mapping):
        return None
    if key in ("method", "devices"):
        provenance = part.get("provenance")
        return provenance.get(key) if isinstance(provenance, Mapping) else None
    return part.get(key)


def _cell(value: Any, decimal_comma: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        text = repr(value)
        return text.replace(".", ",") if decimal_comma else text
    if isinstance(value, list | tuple):
        return _text("|".join(str(item) for item in value))
    return _text(str(value))


def _text(text: str) -> str:
    """Neutralise spreadsheet formulas (OWASP "CSV Injection"): a leading ``'`` makes the cell plain text."""
    return "'" + text if text.startswith(_FORMULA_TRIGGERS) else text
