"""The retention plan: which instant each class of data expires at (services/retention.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from gateway.settings import Settings
from services.retention import LOCATION_MAX_DAYS, check_location_days, local_midnight, plan_retention

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 7, 15, 10, 30, tzinfo=UTC)


def test_each_class_expires_its_configured_number_of_days_ago() -> None:
    p = plan_retention(NOW, raw_days=30, location_days=7, dead_letter_days=14, minute_days=400, site_tz=PARIS)
    assert p.at == NOW
    assert p.raw_before == NOW - timedelta(days=30)
    assert p.location_before == NOW - timedelta(days=7)
    assert p.dead_letters_before == NOW - timedelta(days=14)


def test_positions_of_frames_outside_any_shift_expire_after_a_day() -> None:
    p = plan_retention(NOW, raw_days=30, location_days=60, dead_letter_days=30, minute_days=400, site_tz=PARIS)
    assert p.unassigned_location_before == NOW - timedelta(days=1)


def test_unassigned_positions_never_outlive_assigned_ones() -> None:
    p = plan_retention(NOW, raw_days=30, location_days=1, dead_letter_days=30, minute_days=400, site_tz=PARIS,
                       unassigned_location_s=3 * 86_400)  # fmt: skip
    assert p.unassigned_location_before == p.location_before == NOW - timedelta(days=1)


def test_minute_rollups_go_after_their_own_window_long_after_the_frames() -> None:
    p = plan_retention(NOW, raw_days=30, location_days=60, dead_letter_days=30, minute_days=400, site_tz=PARIS)
    assert p.minutes_before == NOW - timedelta(days=400)
    assert p.minutes_before < p.raw_before


def test_minute_rollups_never_go_before_the_frames_they_sum() -> None:
    p = plan_retention(NOW, raw_days=30, location_days=7, dead_letter_days=30, minute_days=10, site_tz=PARIS)
    assert p.minutes_before == p.raw_before == NOW - timedelta(days=30)


def test_minute_retention_is_a_setting_defaulting_to_over_a_year() -> None:
    assert Settings(mode="demo").retention_minute_days == 400
    with pytest.raises(ValidationError):
        Settings(mode="demo", retention_minute_days=0)


def test_heart_rate_minutes_go_by_whole_local_days_a_day_after_raw_retention() -> None:
    p = plan_retention(NOW, raw_days=30, location_days=60, dead_letter_days=30, minute_days=400, site_tz=PARIS)
    # raw cut-off 2026-06-15 10:30 UTC; a day earlier is 14 June, whose Paris midnight (CEST) is 22:00 UTC.
    assert p.hr_minutes_before == datetime(2026, 6, 13, 22, 0, tzinfo=UTC)
    assert p.hr_minutes_before <= p.raw_before - timedelta(days=1)


def test_local_midnight_follows_the_site_time_zone_across_daylight_saving() -> None:
    assert local_midnight(datetime(2026, 1, 10, 5, tzinfo=UTC), PARIS) == datetime(2026, 1, 9, 23, tzinfo=UTC)
    assert local_midnight(datetime(2026, 7, 10, 21, 59, tzinfo=UTC), PARIS) == datetime(2026, 7, 9, 22, tzinfo=UTC)
    assert local_midnight(datetime(2026, 7, 10, 22, 0, tzinfo=UTC), PARIS) == datetime(2026, 7, 10, 22, tzinfo=UTC)


def test_plan_instants_are_utc_whatever_the_zone_of_now() -> None:
    p = plan_retention(NOW.astimezone(PARIS), raw_days=30, location_days=60, dead_letter_days=30, minute_days=400,
                       site_tz=PARIS)  # fmt: skip
    assert p.at == NOW and p.at.tzinfo is UTC and p.raw_before.tzinfo is UTC


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        plan_retention(datetime(2026, 7, 15, 10, 30), raw_days=30, location_days=60, dead_letter_days=30,  # noqa: DTZ001
                       minute_days=400, site_tz=PARIS)  # fmt: skip


@pytest.mark.parametrize("days", [63, 90, 365])
def test_location_is_never_kept_beyond_the_cnil_two_months(days: int) -> None:
    with pytest.raises(ValueError, match="two months"):
        check_location_days(days)
    with pytest.raises(ValueError, match="two months"):
        plan_retention(NOW, raw_days=90, location_days=days, dead_letter_days=30, minute_days=400, site_tz=PARIS)


def test_two_full_calendar_months_are_accepted() -> None:
    assert check_location_days(LOCATION_MAX_DAYS) == 62
    p = plan_retention(NOW, raw_days=90, location_days=62, dead_letter_days=30, minute_days=400, site_tz=PARIS)
    assert p.location_before == NOW - timedelta(days=62)


@pytest.mark.parametrize("field", ["raw_days", "location_days", "dead_letter_days", "minute_days"])
def test_periods_must_be_positive(field: str) -> None:
    values: dict[str, int] = {"raw_days": 30, "location_days": 30, "dead_letter_days": 30, "minute_days": 400,
                              field: 0}
    with pytest.raises(ValueError, match=r"at least 1 day|positive"):
        plan_retention(NOW, site_tz=PARIS, **values)


def test_settings_refuse_a_location_retention_over_two_months(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIGIE_RETENTION_LOCATION_DAYS", "90")
    with pytest.raises(ValidationError, match="two months"):
        Settings(mode="demo")


def test_settings_read_retention_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"RAW_DAYS": "45", "LOCATION_DAYS": "10", "DEAD_LETTER_DAYS": "7", "INTERVAL_S": "600",
                        "MINUTE_DAYS": "200"}.items():  # fmt: skip
        monkeypatch.setenv(f"VIGIE_RETENTION_{name}", value)
    s = Settings(mode="demo")
    assert (s.retention_raw_days, s.retention_location_days, s.retention_dead_letter_days) == (45, 10, 7)
    assert s.retention_minute_days == 200
    assert s.retention_interval_s == 600.0


def test_default_retention_keeps_location_under_two_months() -> None:
    s = Settings(mode="demo")
    assert s.retention_location_days <= LOCATION_MAX_DAYS
    assert (s.retention_raw_days, s.retention_location_days, s.retention_interval_s) == (30, 60, 3600.0)


def test_robot_days_go_by_whole_local_days_that_end_before_the_minute_cut_off() -> None:
    # Cut-off 2025-07-10 10:30 UTC (12:30 in Paris): 9 July ends at 10 July 00:00 CEST = 9 July 22:00 UTC, before it.
    p = plan_retention(NOW, raw_days=30, location_days=60, dead_letter_days=30, minute_days=370, site_tz=PARIS)
    assert p.minutes_before == datetime(2025, 7, 10, 10, 30, tzinfo=UTC)
    assert p.robot_days_before == date(2025, 7, 10)
    # In Nouméa (UTC+11) the cut-off is already 10 July 21:30: 10 July itself still ends after it.
    noumea = plan_retention(NOW, raw_days=30, location_days=60, dead_letter_days=30, minute_days=370,
                            site_tz=ZoneInfo("Pacific/Noumea"))  # fmt: skip
    assert noumea.robot_days_before == date(2025, 7, 10)
    # 23:00 UTC on 10 July is 11 July 10:00 in Nouméa: 10 July has ended there, not yet in Los Angeles (16:00).
    late = NOW.replace(hour=23)
    east = plan_retention(late, raw_days=30, location_days=60, dead_letter_days=30, minute_days=370,
                          site_tz=ZoneInfo("Pacific/Noumea"))  # fmt: skip
    west = plan_retention(late, raw_days=30, location_days=60, dead_letter_days=30, minute_days=370,
                          site_tz=ZoneInfo("America/Los_Angeles"))  # fmt: skip
    assert (east.robot_days_before, west.robot_days_before) == (date(2025, 7, 11), date(2025, 7, 10))
