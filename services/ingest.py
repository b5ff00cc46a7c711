"""The ingest service layer: from decoded frames to what must be stored (agent, lateness).

Pure: the MQTT worker (an adapter) decodes payloads, asks the store which frames are new, and calls these
functions; the same code runs in tests, benchmarks and every ingest worker.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from services.model import Frame, Received

AgentLookup = Callable[[str, datetime], str | None]


@dataclass(frozen=True, slots=True)
class IngestPolicy:
    """``late_after_s``: a frame arriving this long after its own timestamp is a backfill (late)."""

    late_after_s: float = 10.0


def is_late(ts: datetime, received_at: datetime, late_after_s: float) -> bool:
    """Late frames are stored like any other; what they raise is marked late, never shown as live."""
    return (received_at - ts).total_seconds() > late_after_s


def receive(
    frames: Sequence[Frame], received_at: datetime, agent_at: AgentLookup, policy: IngestPolicy
) -> list[Received]:
    """Attach to each frame the agent wearing its device at the frame's time, and its lateness."""
    return [
        Received(
            frame=frame,
            received_at=received_at,
            agent_id=agent_at(frame.device_id, frame.ts),
            late=is_late(frame.ts, received_at, policy.late_after_s),
        )
        for frame in frames
    ]

