"""A drift detector's periods: Day/Week/Month from ``schedule_start``, due ``latency`` hours after
they end; a missed stretch catches up on its latest periods only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from headwater.ops.drift_periods import MAX_CATCH_UP, due_periods, next_due_time, period_end


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("frequency", "start", "end"),
    [
        ("Day", utc(2026, 3, 1), utc(2026, 3, 2)),
        ("Week", utc(2026, 3, 1), utc(2026, 3, 8)),
        ("Month", utc(2026, 1, 31), utc(2026, 2, 28)),
        ("Month", utc(2026, 12, 5, 6), utc(2027, 1, 5, 6)),
    ],
)
def test_a_period_ends_one_frequency_after_it_starts(frequency: str, start: datetime, end: datetime) -> None:
    assert period_end(frequency, start) == end


def test_no_period_is_due_before_the_first_one_ends_plus_its_latency() -> None:
    start = utc(2026, 3, 1)
    assert due_periods("Day", start, 0, utc(2026, 3, 1, 23, 59)) == []
    assert due_periods("Day", start, 0, utc(2026, 3, 2)) == [start]
    assert due_periods("Day", start, 6, utc(2026, 3, 2, 5, 59)) == []
    assert due_periods("Day", start, 6, utc(2026, 3, 2, 6)) == [start]
    assert due_periods("Day", start, 0, utc(2026, 2, 1)) == []  # a schedule that starts later


def test_every_complete_period_is_due_oldest_first() -> None:
    start = utc(2026, 3, 1, 12)
    assert due_periods("Day", start, 2, utc(2026, 3, 4, 14)) == [
        utc(2026, 3, 1, 12),
        utc(2026, 3, 2, 12),
        utc(2026, 3, 3, 12),
    ]
    assert due_periods("Week", utc(2026, 3, 2), 0, utc(2026, 3, 22)) == [utc(2026, 3, 2), utc(2026, 3, 9)]


def test_months_keep_the_start_day_and_clip_it_in_short_months() -> None:
    start = utc(2026, 1, 31)
    assert due_periods("Month", start, 0, utc(2026, 5, 1)) == [utc(2026, 1, 31), utc(2026, 2, 28), utc(2026, 3, 31)]
    assert due_periods("Month", start, 24, utc(2026, 4, 30, 23)) == [utc(2026, 1, 31), utc(2026, 2, 28)]


def test_a_long_downtime_catches_up_on_the_latest_periods_only() -> None:
    start = utc(2020, 1, 1)
    due = due_periods("Day", start, 0, utc(2026, 3, 1))
    assert len(due) == MAX_CATCH_UP
    assert due[-1] == utc(2026, 2, 28)
    assert due[0] == utc(2026, 2, 28) - timedelta(days=MAX_CATCH_UP - 1)


def test_the_next_due_time_is_the_end_of_the_running_period_plus_latency() -> None:
    start = utc(2026, 3, 1)
    assert next_due_time("Day", start, 3, utc(2026, 3, 1, 10)) == utc(2026, 3, 2, 3)
    assert next_due_time("Day", start, 3, utc(2026, 3, 2, 3)) == utc(2026, 3, 3, 3)
    assert next_due_time("Month", start, 0, utc(2026, 3, 10)) == utc(2026, 4, 1)
    assert next_due_time("Week", start, 0, utc(2026, 1, 1)) == utc(2026, 3, 8)


def test_naive_times_are_utc_and_an_unknown_frequency_is_refused() -> None:
    assert due_periods("Day", datetime(2026, 3, 1), 0, datetime(2026, 3, 2, 1)) == [utc(2026, 3, 1)]
    from headwater.errors import HeadwaterError

    with pytest.raises(HeadwaterError, match=r"frequency 'Year'.*Day, Week or Month"):
        period_end("Year", utc(2026, 3, 1))
