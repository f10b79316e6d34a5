"""Recurrences: SDK v1's validation rules and messages; occurrences across DST changes."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from headwater.ops.recurrence import Recurrence, RecurrenceError, iana_zone, make_recurrence, occurrences

LA = "Pacific Standard Time"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kwargs", "message", "field"),
    [
        (
            {"frequency": "Year", "interval": 1},
            "Invalid value for frequency, only one of Minute, Hour, Day",
            "frequency",
        ),
        ({"frequency": "Day", "interval": 0}, "Interval must be an integer greater than 0.", "interval"),
        (
            {"frequency": "Hour", "interval": 1, "hours": [1]},
            "Can only specify hours if frequency is Week or Day.",
            "hours",
        ),
        ({"frequency": "Month", "interval": 1, "minutes": [1]}, "Can only specify minutes if frequency", "minutes"),
        ({"frequency": "Day", "interval": 1, "week_days": ["Monday"]}, "Can only specify week days if", "week_days"),
        ({"frequency": "Day", "interval": 1, "hours": [24]}, "Hours must be between 0 and 23.", "hours"),
        ({"frequency": "Day", "interval": 1, "minutes": [60]}, "Minutes must be between 0 and 59.", "minutes"),
        ({"frequency": "Week", "interval": 1, "week_days": ["Mon"]}, "Week days must be a list of str", "week_days"),
        (
            {"frequency": "Day", "interval": 1, "time_of_day": "7h"},
            "time_of_day should be in the format hh:mm.",
            "time_of_day",
        ),
        (
            {"frequency": "Day", "interval": 1, "time_of_day": "24:00"},
            "Time of day hour value must be between",
            "time_of_day",
        ),
        (
            {"frequency": "Day", "interval": 1, "time_of_day": "23:60"},
            "Time of day minute value must be",
            "time_of_day",
        ),
        (
            {"frequency": "Day", "interval": 1, "time_of_day": "1:00", "hours": [1]},
            "Can not specify time_of_day and",
            "time_of_day",
        ),
        (
            {"frequency": "Day", "interval": 1, "time_zone": "Mars Standard Time"},
            "Time zone is not a valid TimeZone",
            "time_zone",
        ),
        (
            {"frequency": "Day", "interval": 1, "start_time": datetime(2027, 1, 1, tzinfo=UTC)},
            "Can not specify tzinfo for start_time, use time_zone instead.",
            "start_time",
        ),
    ],
)
def test_invalid_recurrences_fail_with_sdk_v1_messages_naming_the_field(
    kwargs: dict[str, Any], message: str, field: str
) -> None:
    with pytest.raises(ValueError, match=message) as info:
        make_recurrence(**kwargs)
    assert isinstance(info.value, RecurrenceError)
    assert f"ScheduleRecurrence {field}=" in str(info.value)


def test_start_time_text_forms() -> None:
    assert make_recurrence("Day", 1, start_time="2027-01-01T06:30").start_time == "2027-01-01T06:30:00"
    assert make_recurrence("Day", 1, start_time="2027-01-01").start_time == "2027-01-01T00:00:00"
    with pytest.raises(RecurrenceError, match="start_time should be in the format YYYY-MM-DDThh:mm:ss"):
        make_recurrence("Day", 1, start_time="tomorrow")
    with pytest.raises(RecurrenceError, match="Can not specify tzinfo for start_time"):
        make_recurrence("Day", 1, start_time="2027-01-01T06:30:00+02:00")


def test_time_of_day_sets_hours_and_minutes_and_start_defaults_to_utc() -> None:
    rec = make_recurrence("Day", 1, time_of_day="7:05", start_time=datetime(2027, 1, 1, 6))
    assert (rec.hours, rec.minutes, rec.time_zone, rec.start_time) == ((7,), (5,), "UTC", "2027-01-01T06:00:00")
    assert Recurrence.from_dict(rec.to_dict()) == rec


def test_every_sdk_v1_time_zone_maps_to_a_zone() -> None:
    from headwater.sdk.schedule_recurrence import TimeZone

    assert len(TimeZone) == 131
    for tz in TimeZone:
        iana_zone(tz.value)
    assert iana_zone(LA).key == "America/Los_Angeles"


def test_daily_0230_on_the_spring_forward_day_fires_once_at_the_shifted_instant() -> None:
    rec = make_recurrence("Day", 1, time_of_day="02:30", start_time="2027-03-12T00:00:00", time_zone=LA)
    got = occurrences(rec, created_at=utc(2027, 3, 1), until=utc(2027, 3, 16))
    local = [at.astimezone(iana_zone(LA)).strftime("%m-%d %H:%M") for at in got]
    # 2027-03-14 is the spring-forward day in Los Angeles: 02:30 does not exist.
    assert local == ["03-12 02:30", "03-13 02:30", "03-14 03:30", "03-15 02:30"]
    assert [at.hour for at in got] == [10, 10, 10, 9]  # PST, PST, (gap), PDT


def test_hourly_across_fall_back_fires_every_sixty_minutes() -> None:
    rec = make_recurrence("Hour", 1, start_time="2027-11-07T00:00:00", time_zone=LA)
    got = occurrences(rec, created_at=utc(2027, 11, 1), until=utc(2027, 11, 8, 7, 59))  # local day 11-07: 25 hours
    assert len(got) == 25
    assert {b - a for a, b in itertools.pairwise(got)} == {timedelta(hours=1)}
    local = [at.astimezone(iana_zone(LA)).strftime("%H:%M") for at in got]
    assert local.count("01:00") == 2  # the repeated hour fires twice, as elapsed time says


def test_daily_on_fall_back_day_fires_once_at_wall_time() -> None:
    rec = make_recurrence("Day", 1, hours=[1], minutes=[30], start_time="2027-11-06T00:00:00", time_zone=LA)
    got = occurrences(rec, created_at=utc(2027, 11, 1), until=utc(2027, 11, 9))
    assert [at.astimezone(iana_zone(LA)).strftime("%d %H:%M") for at in got] == ["06 01:30", "07 01:30", "08 01:30"]


def test_weekly_on_given_days_and_interval() -> None:
    rec = make_recurrence(
        "Week", 2, week_days=["Monday", "Friday"], time_of_day="09:00", start_time="2027-01-04T00:00:00"
    )  # a Monday
    got = occurrences(rec, created_at=utc(2027, 1, 1), limit=5)
    assert [at.strftime("%a %m-%d %H:%M") for at in got] == [
        "Mon 01-04 09:00",
        "Fri 01-08 09:00",
        "Mon 01-18 09:00",
        "Fri 01-22 09:00",
        "Mon 02-01 09:00",
    ]


def test_start_matching_the_advanced_schedule_is_not_itself_a_fire() -> None:
    rec = make_recurrence("Week", 1, week_days=["Monday"], time_of_day="09:00", start_time="2027-01-04T09:00:00")
    assert occurrences(rec, created_at=utc(2027, 1, 1), limit=1) == [utc(2027, 1, 11, 9)]


def test_monthly_keeps_the_day_of_month_in_its_zone() -> None:
    rec = make_recurrence("Month", 1, start_time="2027-01-15T08:00:00", time_zone="W. Europe Standard Time")
    got = occurrences(rec, created_at=utc(2027, 1, 1), limit=4)
    assert [at.astimezone(iana_zone("W. Europe Standard Time")).strftime("%m-%d %H:%M") for at in got] == [
        "01-15 08:00",
        "02-15 08:00",
        "03-15 08:00",
        "04-15 08:00",
    ]
    assert got[3].hour == 6  # CEST from the end of March


def test_without_start_the_first_fire_is_at_creation() -> None:
    rec = make_recurrence("Minute", 15)
    got = occurrences(rec, created_at=datetime(2027, 5, 1, 12, 0, 7, 5000, tzinfo=UTC), limit=3)
    assert got == [utc(2027, 5, 1, 12, 0, 7), utc(2027, 5, 1, 12, 15, 7), utc(2027, 5, 1, 12, 30, 7)]


def test_restarting_from_a_past_occurrence_gives_the_same_occurrences() -> None:
    rec = make_recurrence(
        "Week", 3, week_days=["Tuesday", "Sunday"], hours=[3, 15], start_time="2027-01-01T00:00:00", time_zone=LA
    )
    created = utc(2026, 12, 1)
    full = occurrences(rec, created_at=created, until=utc(2027, 12, 31))
    since = full[17]
    assert occurrences(rec, created_at=created, after=since, until=utc(2027, 12, 31), since=since) == full[18:]
    assert occurrences(rec, created_at=created, after=utc(2027, 6, 1), until=utc(2027, 7, 1)) == [
        at for at in full if utc(2027, 6, 1) < at <= utc(2027, 7, 1)
    ]


def test_last_before_gives_a_restart_point_with_the_same_later_occurrences() -> None:
    from headwater.ops.recurrence import last_before

    rec = make_recurrence("Day", 2, hours=[1, 13], minutes=[30], start_time="2027-01-01T00:00:00", time_zone=LA)
    created, moment = utc(2026, 12, 1), utc(2027, 11, 7, 10)
    anchor = last_before(rec, created_at=created, moment=moment)
    full = occurrences(rec, created_at=created, until=utc(2027, 12, 1))
    assert anchor is not None and anchor in full and anchor < moment
    later = [at for at in full if at > anchor]
    assert occurrences(rec, created_at=created, after=anchor, until=utc(2027, 12, 1), since=anchor) == later
    assert last_before(rec, created_at=created, moment=utc(2026, 12, 31)) is None
