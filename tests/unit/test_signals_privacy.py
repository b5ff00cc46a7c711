"""Who sees which weak signal: small groups are not reported, individual signals only to those allowed."""

from __future__ import annotations

from services.signals.model import Signal, SubjectKind
from services.signals.privacy import visible


def signal(kind: SubjectKind, subject: str, group_size: int) -> Signal:
    return Signal(kind="k", subject_kind=kind, subject_id=subject, metric="m", unit="u", direction="up",
                  baseline=1.0, recent=2.0, effect_size=1.0, confidence=0.9, flagged=True, first_flagged=None,
                  group_size=group_size)


SIGNALS = [signal(SubjectKind.CREW, "small-crew", 4), signal(SubjectKind.CREW, "crew", 5),
           signal(SubjectKind.SITE, "site", 40), signal(SubjectKind.ROBOT, "robot-of-a-pair", 2),
           signal(SubjectKind.AGENT, "me", 1), signal(SubjectKind.AGENT, "colleague", 1)]


def test_groups_below_the_minimum_are_withheld_and_counted() -> None:
    kept, withheld = visible(SIGNALS, min_group_size=5, individual_allowed=lambda s: False)
    assert [s.subject_id for s in kept] == ["crew", "site"]
    assert withheld == 4


def test_an_agent_sees_their_own_signal_and_not_a_colleagues() -> None:
    kept, withheld = visible(SIGNALS, min_group_size=5, individual_allowed=lambda s: s.subject_id == "me")
    assert "me" in {s.subject_id for s in kept} and "colleague" not in {s.subject_id for s in kept}
    assert withheld == 3


def test_a_line_supervisor_sees_no_individual_signal() -> None:
    kept, _ = visible(SIGNALS, min_group_size=5, individual_allowed=lambda s: False)
    assert not [s for s in kept if s.subject_kind == SubjectKind.AGENT]


def test_a_named_reader_sees_every_individual_and_the_minimum_is_configurable() -> None:
    kept, withheld = visible(SIGNALS, min_group_size=2, individual_allowed=lambda s: True)
    assert len(kept) == 6 and withheld == 0
