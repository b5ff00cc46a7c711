from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.exposure.night import PARIS, counts_as_night, local_day, night_seconds

H = 3600.0


def _paris(year: int, month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=PARIS).astimezone(UTC)


def test_work_from_01_00_to_02_30_paris_time_counts_as_a_night():
    night_s = night_seconds(_paris(2026, 1, 14, 1, 0), 1.5 * H)
    assert night_s == 1.5 * H
    assert counts_as_night(night_s)


def test_work_from_04_30_to_06_00_does_not():
    night_s = night_seconds(_paris(2026, 1, 14, 4, 30), 1.5 * H)
    assert night_s == 0.5 * H
    assert not counts_as_night(night_s)


def test_exactly_one_hour_counts():
    assert counts_as_night(night_seconds(_paris(2026, 6, 3, 4, 0), 2 * H))


def test_an_evening_shift_into_the_night_counts_from_midnight():
    assert night_seconds(_paris(2026, 1, 13, 22, 0), 3.5 * H) == 1.5 * H


def test_the_window_is_local_time_not_utc():
    # 01:00-02:30 UTC in summer is 03:00-04:30 in Paris; 03:00-05:00 UTC is 05:00-07:00.
    assert night_seconds(datetime(2026, 7, 1, 1, 0, tzinfo=UTC), 1.5 * H) == 1.5 * H
    assert night_seconds(datetime(2026, 7, 1, 3, 0, tzinfo=UTC), 2 * H) == 0.0
    assert night_seconds(datetime(2026, 7, 1, 3, 0, tzinfo=UTC), 2 * H, tz=UTC) == 2 * H


def test_spring_forward_night_lasts_four_hours():
    # 2026-03-29: Paris clocks go from 02:00 to 03:00.
    start = _paris(2026, 3, 28, 23, 0)
    assert night_seconds(start, 8 * H) == 4 * H


def test_fall_back_night_lasts_six_hours():
    # 2026-10-25: Paris clocks go from 03:00 back to 02:00.
    start = _paris(2026, 10, 24, 23, 0)
    assert night_seconds(start, 8 * H) == 6 * H


def test_per_second_frames_over_a_dst_night_add_up_to_the_whole_interval():
    start = _paris(2026, 3, 29, 0, 30)
    frames = sum(night_seconds(start + timedelta(seconds=s)) for s in range(4 * 3600))
    assert frames == night_seconds(start, 4 * H) == 3.5 * H


def test_local_day_is_the_paris_calendar_day():
    assert local_day(datetime(2026, 6, 30, 22, 30, tzinfo=UTC)) == date(2026, 7, 1)
    assert local_day(datetime(2026, 1, 1, 22, 30, tzinfo=UTC)) == date(2026, 1, 1)
    assert local_day(datetime(2026, 1, 1, 23, 30, tzinfo=UTC)) == date(2026, 1, 2)
    assert local_day(datetime(2026, 1, 1, 23, 30, tzinfo=UTC), ZoneInfo("America/Cayenne")) == date(2026, 1, 1)


def test_a_frame_crossing_midnight_counts_for_the_day_it_starts_in():
    start = _paris(2026, 2, 10, 23, 59, 59) + timedelta(milliseconds=500)
    assert local_day(start) == date(2026, 2, 10)
    assert night_seconds(start, 1.0) == pytest.approx(0.5)


def test_naive_timestamps_are_refused():
    with pytest.raises(ValueError):
        local_day(datetime(2026, 1, 1, 1, 0))  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError):
        night_seconds(datetime(2026, 1, 1, 1, 0), 60.0)  # noqa: DTZ001


instants = st.datetimes(
    min_value=datetime(2025, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
    max_value=datetime(2027, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
)


@given(instants, st.floats(min_value=0.0, max_value=30 * H), st.floats(min_value=0.0, max_value=1.0))
def test_splitting_an_interval_does_not_change_its_night_seconds(start, duration, fraction):
    first = duration * fraction
    split = night_seconds(start, first) + night_seconds(start + timedelta(seconds=first), duration - first)
    assert split == pytest.approx(night_seconds(start, duration), abs=1e-3)


@given(instants, st.floats(min_value=0.0, max_value=19 * H))
def test_night_seconds_never_exceed_the_interval_or_one_window(start, duration):
    assert 0.0 <= night_seconds(start, duration) <= min(duration, 6 * H) + 1e-6
