"""What one ``vigie simulate`` command line describes: the roster, its drifts, the simulated days, the history.

Day 0 is the run's first day: the day of ``--start`` (or now) for a continuous run, the first of the ``--days``
shifts otherwise. Drift days count from it (``--drift KIND:SUBJECT@-16`` started sixteen days before), and the
history is the ``--history-days`` calendar days before it. ``vigie up`` builds the same scenario from the same
flags, so the history it loads into the demo database and the frames the simulator publishes are one story.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import date, datetime, time

from simulations import drift_model
from simulations.drift_model import Drifts
from simulations.roster import Roster, make_roster
from simulations.timebase import SITE_TZ, Shifts, SimDay

MAX_PUBLISHED_AGE_DAYS = 29
"""The gateway refuses frames more than 30 days old (``gateway/mqtt/codec.py``): simulated days are kept younger."""


@dataclass(frozen=True, slots=True)
class Scenario:
    roster: Roster
    seed: int
    drifts: Drifts
    shifts: Shifts
    day0: date
    run_days: tuple[SimDay, ...]  # empty: one continuous run from --start (day 0)
    history_days: tuple[SimDay, ...]


def shifts_from(args: argparse.Namespace) -> Shifts:
    return Shifts(start_local=args.shift_start, hours=args.shift_h)


def build(args: argparse.Namespace, now: datetime, start: datetime | None = None) -> Scenario:
    """The scenario of parsed ``simulate`` flags; ``start`` is a continuous run's first instant (default now).

    Raises ``ValueError`` (a usage error) for days the gateway would refuse, ``KeyError`` for an unknown subject.
    """
    roster = make_roster(args.agents, args.robots, args.seed)
    shifts = shifts_from(args)
    run_days: tuple[SimDay, ...] = ()
    if args.days:
        if args.start is not None:
            first = args.start.astimezone(SITE_TZ).date()
            run_days = tuple(shifts.days(first, 0, 7 * args.days)[: args.days])
        else:
            run_days = tuple(shifts.last_days(args.days, now))
        day0 = run_days[0].date
        if (now.astimezone(SITE_TZ).date() - day0).days > MAX_PUBLISHED_AGE_DAYS:
            raise ValueError(f"--days {args.days}: the first day ({day0}) is more than {MAX_PUBLISHED_AGE_DAYS} days"
                             " ago and the gateway refuses frames that old; use --history-days for older days")
    else:
        day0 = (start or now).astimezone(SITE_TZ).date()
    drifts = drift_model.resolve(roster, list(args.drift), seed=args.seed, day0=day0)
    history = tuple(shifts.days(day0, -args.history_days, -1)) if args.history_days else ()
    return Scenario(roster, args.seed, drifts, shifts, day0, run_days, history)


def parse_time(text: str) -> time:
    """``HH:MM`` (local time of the site)."""
    return time.fromisoformat(text.strip())
