"""Who wore which device when: exposure and alerts follow the agent, never the hardware.

An agent id inside a payload is never trusted; the server resolves it from the assignment in force at
the frame's own timestamp, so a backfilled frame lands on whoever wore the device at the time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from services.model import Assignment


def agent_at(assignments: Iterable[Assignment], device_id: str, ts: datetime) -> str | None:
    """The agent wearing ``device_id`` at ``ts``, or None when the device was not assigned."""
    for assignment in assignments:
        if assignment.device_id == device_id and assignment.covers(ts):
            return assignment.agent_id
    return None



def by_device(assignments: Iterable[Assignment]) -> dict[str, Sequence[Assignment]]:
    """The assignments grouped by device, for ``agent_at`` on each of a batch's frames (not a scan per frame)."""
    out: dict[str, list[Assignment]] = {}
    for assignment in assignments:
        out.setdefault(assignment.device_id, []).append(assignment)
    return dict(out)
