from datetime import UTC, datetime, timedelta

from services.imu_retention import ImuKeep, ImuRetention

T0 = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


def _at(s: int) -> datetime:
    return T0 + timedelta(seconds=s)


def test_quiet_seconds_are_not_kept():
    keep = ImuRetention[int](ImuKeep.EVENTS, pre_s=5, post_s=5)
    assert [keep.offer("w", _at(s), s, event=False) for s in range(20)] == [[]] * 20


def test_an_event_releases_the_seconds_before_it_and_keeps_the_seconds_after():
    keep = ImuRetention[int](ImuKeep.EVENTS, pre_s=3, post_s=2)
    kept: list[int] = []
    for s in range(12):
        kept += keep.offer("w", _at(s), s, event=(s == 6))
    assert kept == [3, 4, 5, 6, 7, 8]


def test_devices_are_buffered_separately():
    keep = ImuRetention[str](ImuKeep.EVENTS, pre_s=2, post_s=0)
    keep.offer("a", _at(0), "a0", event=False)
    keep.offer("b", _at(0), "b0", event=False)
    assert keep.offer("a", _at(1), "a1", event=True) == ["a0", "a1"]


def test_all_and_none_modes():
    assert ImuRetention[int](ImuKeep.ALL).offer("w", T0, 1, event=False) == [1]
    assert ImuRetention[int](ImuKeep.NONE).offer("w", T0, 1, event=True) == []
