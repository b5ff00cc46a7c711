"""How long Vigie keeps what: the cut-off instant of each class of data, for one retention pass.

GDPR art. 5(1)(e) (storage limitation): personal data are kept no longer than their purpose needs. For the
position of employees, the CNIL holds two months adequate, longer only where a law requires it or as proof
of a service (délibération n° 2015-165 du 4 juin 2015, norme simplifiée n° 51, art. 5; the CNIL's guidance
« La géolocalisation des véhicules des salariés » keeps that duration since the GDPR replaced the simplified
norms). Vigie therefore refuses a location retention over 62 days (the longest two calendar months).
What is kept, for how long and why: docs/privacy.md; ``gateway/db/retention.py`` applies a plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

# CNIL: « deux mois » at most. Two calendar months are at most 62 days (July + August, December + January).
LOCATION_MAX_DAYS = 62
# A device worn by nobody registered is not in a shift: its positions are erased after a day. A day, not at
# once: a supervisor may register the shift after it started, and frames stored before the assignment join
# the agent's record when it arrives (gateway/db/ledger_backfill.py); a day covers a shift and its paperwork.
UNASSIGNED_LOCATION_S = 86_400.0


@dataclass(frozen=True, slots=True)
class RetentionPlan:
    """The instants before which each class of data goes, computed once per pass (all aware UTC).

    ``raw_before``: frames, raw IMU and robot states; ``drop_chunks`` removes the chunks that end at or before
    it, so a row survives at most one chunk interval (a day) longer. ``location_before``: every worker
    position (frames and the live board's latest fix). ``unassigned_location_before``: positions of frames
    and latest fixes that belong to no shift. ``hr_minutes_before``: the per-minute heart-rate ledger,
    deleted by whole local days (see ``plan_retention``). ``minutes_before``: the per-minute roll-ups
    (``frame_minutes``), by whole chunks as the raw tables. ``robot_days_before``: the first local day (site
    zone) whose robots' near-miss roll-up (``robot_days``) is kept: the days before it end before
    ``minutes_before``. ``dead_letters_before``: rejected messages.
    """

    at: datetime
    raw_before: datetime
    location_before: datetime
    unassigned_location_before: datetime
    hr_minutes_before: datetime
    minutes_before: datetime
    robot_days_before: date
    dead_letters_before: datetime


def check_location_days(location_days: int) -> int:
    """``location_days`` if it is a lawful location retention (1 to 62 days), else ValueError citing the CNIL."""
    if location_days < 1:
        raise ValueError("location retention must be at least 1 day")
    if location_days > LOCATION_MAX_DAYS:
        raise ValueError(f"location retention of {location_days} days exceeds the CNIL's two months "
                         f"({LOCATION_MAX_DAYS} days at most)")  # fmt: skip
    return location_days


def plan_retention(now: datetime, *, raw_days: int, location_days: int, dead_letter_days: int, minute_days: int,
                   site_tz: tzinfo, unassigned_location_s: float = UNASSIGNED_LOCATION_S) -> RetentionPlan:  # fmt: skip
    """The cut-offs of a pass run at ``now`` (aware), from the configured retention in days.

    Positions never outlive their frame: with ``location_days`` ≥ ``raw_days`` they go with the frame's chunk
    (effectively ``raw_days``); with fewer, they are erased from frames that are kept. Unassigned positions
    go after ``unassigned_location_s`` (never later than assigned ones). The heart-rate minutes feed the
    heat-strain filter, which reruns a whole local day (``site_tz``) whenever a late frame changes it; they
    are deleted one local day after raw retention, by whole days, so every day that may still hold frames
    (the chunk astride the raw cut-off) keeps all its minutes and a rerun never sees half a day.
    The per-minute roll-ups go after ``minute_days``, never before the frames they sum (a shorter setting
    is raised to ``raw_days``): every minute whose frames are still stored stays rolled up.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    if raw_days < 1 or dead_letter_days < 1 or minute_days < 1 or unassigned_location_s <= 0:
        raise ValueError("retention periods must be positive")
    check_location_days(location_days)
    at = now.astimezone(UTC)
    raw_before = at - timedelta(days=raw_days)
    location_before = at - timedelta(days=location_days)
    minutes_before = min(at - timedelta(days=minute_days), raw_before)
    return RetentionPlan(
        at=at,
        raw_before=raw_before,
        location_before=location_before,
        unassigned_location_before=max(at - timedelta(seconds=unassigned_location_s), location_before),
        hr_minutes_before=local_midnight(raw_before - timedelta(days=1), site_tz),
        minutes_before=minutes_before,
        # A local day D ends at D + 1's midnight, at or before the cut-off exactly when D + 1 ≤ the cut-off's date.
        robot_days_before=minutes_before.astimezone(site_tz).date(),
        dead_letters_before=at - timedelta(days=dead_letter_days),
    )


def local_midnight(instant: datetime, tz: tzinfo) -> datetime:
    """The start (UTC) of the local day in ``tz`` that contains ``instant``."""
    day = instant.astimezone(tz).date()
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
