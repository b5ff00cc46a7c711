"""Escalation chains: who else must hear of an alert nobody has acknowledged.

A site declares levels (for example crew supervisor → site manager → safety officer), each with the delay
after raising at which it is notified if the alert is still unacknowledged. Pure: the caller supplies
the clock, so the timing is tested with any "now".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class EscalationLevel:
    level: int
    after_s: int
    target: str
    webhook_url: str | None = None


def due_levels(current_level: int, raised_at: datetime, now: datetime,
               chain: Sequence[EscalationLevel]) -> list[EscalationLevel]:  # fmt: skip
    """Levels above ``current_level`` whose delay has passed, in order (several if the gateway was away)."""
    return sorted(
        (lvl for lvl in chain if lvl.level > current_level and raised_at + timedelta(seconds=lvl.after_s) <= now),
        key=lambda lvl: lvl.level,
    )

