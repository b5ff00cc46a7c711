"""Who wore which device when: exposure and alerts follow the agent, never the hardware.

An agent id inside a payload is never trusted; the server resolves it from the assignment in force at
the frame's own timestamp, so a backfilled frame lands on whoever wore the device at the time.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from services.model import Assignment


def agent_at(assignments: Iterable[Assignment], device_id: str, ts: datetime) -> str | None:
    """The agent wearing ``device_id`` at ``ts``, or None when the device was not assigned."""
    for assignment in assignments:
        if assignment.device_id == device_id and assignment.covers(ts):
            return assignment.agent_id
    return None


def overlaps(a: Assignment, b: Assignment) -> bool:
    """Two assignments of the same device whose validity intervals intersect."""
    if a.device_id != b.device_id:
        return False
    a_end = a.valid_to or datetime.max.replace(tzinfo=a.valid_from.tzinfo)
    b_end = b.valid_to or datetime.max.replace(tzinfo=b.valid_from.tzinfo)
    return a.valid_from < b_end and b.valid_from < a_end

