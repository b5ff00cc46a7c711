"""Who may see which signal (issue 9, "Privacy by design"; docs/signals.md).

Crew, site and robot signals are reported only when at least ``min_group_size`` agents stand behind them (a
crew of three is three people you can name). An individual signal is shown only to the agent themself and to
the people named for the site; never to line supervisors, never as a ranking. Which viewer may see which
agent's signal is the caller's decision (``individual_allowed``, from the roles and the site's named readers):
this function only applies it, and counts what it withheld so the answer can say "n signals not shown".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from services.signals.model import Signal, SubjectKind


def visible(signals: Iterable[Signal], *, min_group_size: int,
            individual_allowed: Callable[[Signal], bool]) -> tuple[list[Signal], int]:
    """The signals a viewer may see, and how many were withheld (small groups and forbidden individuals)."""
    kept: list[Signal] = []
    withheld = 0
    for signal in signals:
        if signal.subject_kind == SubjectKind.AGENT:
            allowed = individual_allowed(signal)
        else:
            allowed = signal.group_size >= min_group_size
        if allowed:
            kept.append(signal)
        else:
            withheld += 1
    return kept, withheld
