"""The pure ingest service: agent resolution by assignment, lateness, rules on new frames only."""

from datetime import UTC, datetime, timedelta

from services import assignments, ingest
from services.model import Assignment, Frame

T0 = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
SHIFTS = [
    Assignment("wear-1", "agent-a", T0, T0 + timedelta(hours=4)),
    Assignment("wear-1", "agent-b", T0 + timedelta(hours=4), None),
]


def _lookup(device_id: str, ts: datetime) -> str | None:
    return assignments.agent_at(SHIFTS, device_id, ts)


def test_a_frame_follows_the_agent_wearing_the_device_at_the_frames_time():
    early = Frame("wear-1", 1, T0 + timedelta(hours=1))
    late_shift = Frame("wear-1", 2, T0 + timedelta(hours=5))
    got = ingest.receive([early, late_shift], T0 + timedelta(hours=6), _lookup, ingest.IngestPolicy())
    assert [r.agent_id for r in got] == ["agent-a", "agent-b"]


def test_a_frame_from_an_unassigned_device_is_kept_without_an_agent():
    got = ingest.receive([Frame("wear-9", 1, T0)], T0, _lookup, ingest.IngestPolicy())
    assert got[0].agent_id is None


def test_a_frame_arriving_long_after_its_time_is_late():
    policy = ingest.IngestPolicy(late_after_s=10)
    fresh, old = Frame("wear-1", 1, T0), Frame("wear-1", 2, T0 - timedelta(minutes=10))
    got = ingest.receive([fresh, old], T0 + timedelta(seconds=2), _lookup, policy)
    assert [r.late for r in got] == [False, True]

