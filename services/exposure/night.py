"""Night work and local days: which seconds fall between 00:00 and 05:00 at the site, and which day they count for.

Code du travail D4163-2: the "travail de nuit" factor counts a night when the agent works at least one hour
between midnight and 05:00 (L3122-2 places that interval inside every legal night period). Exposure days are
the local calendar days of the site's time zone (Europe/Paris by default).

Every window is built from local wall-clock times and intersected in UTC, so the arithmetic is in elapsed
seconds: on the spring-forward night 00:00-05:00 lasts 4 h, on the fall-back night 6 h.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
NIGHT_START = time(0, 0)
NIGHT_END = time(5, 0)
NIGHT_MIN_S = 3_600.0
"""At least one hour of work between 00:00 and 05:00 makes a night (D4163-2)."""


def local_day(ts_utc: datetime, tz: tzinfo = PARIS) -> date:
    """The site's local calendar day of an instant; a frame counts for the day its second starts in."""
    _require_aware(ts_utc)
    return ts_utc.astimezone(tz).date()


def night_seconds(ts_utc: datetime, duration_s: float = 1.0, tz: tzinfo = PARIS) -> float:
    """Elapsed seconds of ``[ts_utc, ts_utc + duration_s)`` that fall between 00:00 and 05:00 local time.

    A record crossing midnight is attributed (by the caller, with ``local_day``) to the day it starts in; this
    function only measures the overlap, over every local night window the interval touches.
    """
    _require_aware(ts_utc)
    if not duration_s >= 0.0:
        raise ValueError(f"duration_s must be >= 0, got {duration_s}")
    start = ts_utc.astimezone(UTC)
    end = start + timedelta(seconds=duration_s)
    total_s = 0.0
    day = start.astimezone(tz).date()
    last_day = end.astimezone(tz).date()
    while day <= last_day:
        window_start = datetime.combine(day, NIGHT_START, tzinfo=tz).astimezone(UTC)
        window_end = datetime.combine(day, NIGHT_END, tzinfo=tz).astimezone(UTC)
        overlap = min(end, window_end) - max(start, window_start)
        total_s += max(overlap.total_seconds(), 0.0)
        day += timedelta(days=1)
    return total_s


def counts_as_night(night_s: float) -> bool:
    """Whether a local day's seconds between 00:00 and 05:00 make it a night for D4163-2 (≥ 1 h)."""
    return night_s >= NIGHT_MIN_S


def _require_aware(ts: datetime) -> None:
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise ValueError(f"timestamps must be timezone-aware, got {ts.isoformat()}")
