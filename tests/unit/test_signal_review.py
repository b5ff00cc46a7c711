"""The follow-up of a flagged signal (services/signals/review.py): one per flag, addressed by a reference that
does not give the agent back, with a known outcome and a note that says what was done."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from services.signals.model import Signal, SubjectKind
from services.signals.review import (
    NOTE_MAX_CHARS,
    FlagKey,
    InvalidReview,
    Outcome,
    flag_key,
    make_review,
    reference,
)

KEY = FlagKey("resting_hr_drift", SubjectKind.AGENT, "agent-0005", date(2026, 11, 2))
AT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def a_signal(flagged: bool = True, first: date | None = date(2026, 11, 2)) -> Signal:
    return Signal("resting_hr_drift", SubjectKind.AGENT, "agent-0005", "resting_hr", "bpm", "up", 62.0, 70.0, 3.1,
                  0.99, flagged, first, 1)  # fmt: skip


def test_a_flag_is_the_signal_and_the_day_it_was_first_flagged_and_an_unflagged_signal_has_none():
    assert flag_key(a_signal()) == KEY
    assert flag_key(a_signal(flagged=False, first=None)) is None
    assert flag_key(replace(a_signal(), recent=75.0)) == KEY  # the same flag as its figures move on


def test_the_reference_is_stable_keyed_and_names_neither_the_agent_nor_the_day():
    ref = reference(KEY, b"secret")
    assert ref == reference(KEY, b"secret") and ref.startswith("sig-") and len(ref) == 24
    assert "agent" not in ref and "2026" not in ref
    assert reference(KEY, b"another") != ref  # without the key, no way to recompute it from a guessed agent
    assert reference(replace(KEY, first_flagged=date(2026, 12, 7)), b"secret") != ref  # a new flag, a new ref
    assert reference(replace(KEY, kind="hr_recovery_slowing"), b"secret") != ref


def test_a_review_keeps_a_known_outcome_and_the_stripped_note():
    review = make_review(KEY, "action", "  Entretien le 21/11.\n", "preventeur", AT)
    assert (review.outcome, review.note, review.reviewed_by, review.reviewed_at) == (
        Outcome.ACTION, "Entretien le 21/11.\n".strip(), "preventeur", AT)  # fmt: skip
    assert make_review(KEY, "watch", "", "preventeur", AT).note == ""  # watching needs no explanation


@pytest.mark.parametrize(("outcome", "note", "at", "reason"), [
    ("done", "x", AT, "outcome must be one of action, watch, explained"),
    ("action", "   ", AT, "say in the note"),
    ("explained", "", AT, "say in the note"),
    ("watch", "x" * (NOTE_MAX_CHARS + 1), AT, f"at most {NOTE_MAX_CHARS}"),
    ("watch", "", AT.replace(tzinfo=None), "timezone-aware"),
])  # fmt: skip
def test_a_review_that_says_nothing_or_too_much_is_refused_with_its_reason(outcome, note, at, reason):
    with pytest.raises(InvalidReview, match=reason):
        make_review(KEY, outcome, note, "preventeur", at)
