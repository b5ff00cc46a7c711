"""What a safety officer did about a flagged signal: its follow-up, recorded once per flag.

A flag stays raised for as long as its run lies in the analysed window (``detect.py``), so without a record of
the follow-up every weekly report shows the same flags again, and nobody can tell a drift already handled from a
new one. A review answers "seen, and then?" in one of three outcomes, with a note; it belongs to one flag, named
by the signal and the day it was first flagged, so a drift that comes back after it cleared is a new flag, unread.
This is the prevention side's traceability of its actions (Code du travail L4121-1 to L4121-3: the employer's
assessment and the measures taken are recorded in the document unique, R4121-1).

A signal is addressed by a *reference*, an HMAC of that natural key: a safety officer reads an agent's signal
under a pseudonym (services/access.py), and the reference must not give the agent's id back.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from services.signals.model import Signal, SubjectKind

NOTE_MAX_CHARS = 2000


class Outcome(StrEnum):
    """What was decided about a flag."""

    ACTION = "action"  # measures taken or planned (a talk, a rota change, a work-place visit, a medical referral)
    WATCH = "watch"  # kept under watch: nothing done yet, read again in the coming weeks
    EXPLAINED = "explained"  # a known cause that calls for no measure (a new round, a holiday, a sensor swap)


@dataclass(frozen=True, slots=True)
class FlagKey:
    """One flag of one signal: what is measured, about whom, and the day it was first flagged."""

    kind: str
    subject_kind: SubjectKind
    subject_id: str
    first_flagged: date


@dataclass(frozen=True, slots=True)
class Review:
    key: FlagKey
    outcome: Outcome
    note: str
    reviewed_by: str
    reviewed_at: datetime


class InvalidReview(ValueError):
    """A review that cannot be recorded, with the reason to show."""


def flag_key(signal: Signal) -> FlagKey | None:
    """The flag a review would be about; None for a signal not flagged (there is nothing to follow up)."""
    if not signal.flagged or signal.first_flagged is None:
        return None
    return FlagKey(signal.kind, signal.subject_kind, signal.subject_id, signal.first_flagged)


def reference(key: FlagKey, secret: bytes) -> str:
    """The flag's public reference: stable for a given ``secret``, and without it, no way back to the subject."""
    text = "|".join((key.kind, key.subject_kind.value, key.subject_id, key.first_flagged.isoformat()))
    return "sig-" + hmac.new(secret, text.encode(), hashlib.sha256).hexdigest()[:20]


def make_review(key: FlagKey, outcome: str, note: str, reviewed_by: str, reviewed_at: datetime) -> Review:
    """A review checked: a known outcome, a note of at most ``NOTE_MAX_CHARS`` (stripped), an aware time."""
    try:
        chosen = Outcome(outcome)
    except ValueError:
        raise InvalidReview(f"outcome must be one of {', '.join(o.value for o in Outcome)}") from None
    note = note.strip()
    if len(note) > NOTE_MAX_CHARS:
        raise InvalidReview(f"the note is {len(note)} characters long, at most {NOTE_MAX_CHARS}")
    if chosen is not Outcome.WATCH and not note:
        raise InvalidReview("say in the note what was done or what explains the flag")
    if reviewed_at.tzinfo is None:
        raise InvalidReview("reviewed_at must be timezone-aware")
    return Review(key, chosen, note, reviewed_by, reviewed_at)
