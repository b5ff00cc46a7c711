"""Simulated time: second ``t_s`` after a UTC start instant, and the RFC 3339 strings the contract carries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def utc_second(dt: datetime) -> datetime:
    """``dt`` in UTC truncated to the whole second: frames are stamped at the start of their second."""
    if dt.tzinfo is None:
        raise ValueError("naive datetime: the contract only carries UTC instants")
    return dt.astimezone(UTC).replace(microsecond=0)


def parse_rfc3339(text: str) -> datetime:
    """Parse an RFC 3339 instant (``Z`` or an offset); naive input is refused rather than guessed."""
    value = datetime.fromisoformat(text.strip().replace("z", "Z"))
    if value.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset")
    return value.astimezone(UTC)


def rfc3339_ms(dt: datetime) -> str:
    """``2026-05-04T07:30:00.500Z``: UTC, millisecond precision, ``Z`` suffix (contract v1 ``ts``)."""
    utc = dt.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def at(start: datetime, t_s: float) -> datetime:
    return start + timedelta(seconds=t_s)
