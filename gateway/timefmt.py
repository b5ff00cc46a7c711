"""RFC 3339 rendering of the API's timestamps (always UTC, ``Z`` suffix)."""

from __future__ import annotations

from datetime import datetime


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None
