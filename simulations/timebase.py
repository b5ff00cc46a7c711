"""Simulated time: second ``t_s`` after a UTC start instant, the RFC 3339 strings the contract carries, and the
working days (shifts) of a run that spans several simulated days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


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


SITE_TZ = ZoneInfo("Europe/Paris")  # the simulated site's regulatory day (roster.SITE_ID)


@dataclass(frozen=True, slots=True)
class SimDay:
    """One simulated working day: ``index`` calendar days after the run's day 0 (negative: history days)."""

    index: int
    date: date
    start: datetime  # UTC instant of the shift's first frame


@dataclass(frozen=True, slots=True)
class Shifts:
    """Working days of the simulated crew: a shift of ``hours`` from ``start_local`` (site time), Monday to Friday.

    Nights and days off are skipped rather than simulated: nothing is worn then, and weeks of history would
    otherwise cost three times the seconds. The default, 12:30 for 2 h 30, is a short afternoon round: longer
    than the two hours a day needs to count in the weak signals (``SignalParams.min_worked_s``), across the
    afternoon hours a hot round is felt, and short enough that weeks of it can be simulated at demo start.
    """

    start_local: time = time(12, 30)
    hours: float = 2.5
    tz: ZoneInfo = SITE_TZ
    weekends: bool = False

    def __post_init__(self) -> None:
        if not 0 < self.hours <= 16:
            raise ValueError("a shift lasts more than 0 and at most 16 hours")

    @property
    def duration_s(self) -> int:
        return round(self.hours * 3600)

    def worked(self, day: date) -> bool:
        return self.weekends or day.weekday() < 5

    def day(self, day0: date, index: int) -> SimDay:
        """Calendar day ``index`` after ``day0`` (worked or not), with its shift's start."""
        local = day0 + timedelta(days=index)
        start = datetime.combine(local, self.start_local, self.tz).astimezone(UTC)
        return SimDay(index, local, start)

    def days(self, day0: date, first: int, last: int) -> list[SimDay]:
        """The worked days with index ``first`` to ``last`` (inclusive), in order."""
        out = (self.day(day0, i) for i in range(first, last + 1))
        return [d for d in out if self.worked(d.date)]

    def last_days(self, count: int, now: datetime) -> list[SimDay]:
        """The ``count`` most recent worked days whose shift is over by ``now``; day 0 is the first of them."""
        if count < 1:
            raise ValueError("count must be >= 1")
        found: list[date] = []
        local = now.astimezone(self.tz).date()
        while len(found) < count:
            candidate = self.day(local, 0)
            if self.worked(local) and candidate.start + timedelta(seconds=self.duration_s) <= now:
                found.append(local)
            local -= timedelta(days=1)
        day0 = found[-1]
        return [self.day(day0, (d - day0).days) for d in reversed(found)]
