"""The periods of a data drift detector (Day, Week from Monday, Month), in naive UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from headwater.ops.drift_periods import complete_periods, period_of, periods_between, utc_naive


def test_a_target_date_names_its_day_week_and_month() -> None:
    when = datetime(2026, 4, 3, 17, 30)  # a Friday
    assert period_of("Day", when) == (datetime(2026, 4, 3), datetime(2026, 4, 4))
    assert period_of("Week", when) == (datetime(2026, 3, 30), datetime(2026, 4, 6))
    assert period_of("Month", when) == (datetime(2026, 4, 1), datetime(2026, 5, 1))
    assert period_of("Month", date(2026, 12, 31)) == (datetime(2026, 12, 1), datetime(2027, 1, 1))
    aware = datetime(2026, 4, 4, 1, 0, tzinfo=timezone(timedelta(hours=2)))  # 3 April 23:00 UTC
    assert period_of("Day", aware)[0] == datetime(2026, 4, 3)
    assert utc_naive(datetime(2026, 1, 1, tzinfo=UTC)) == datetime(2026, 1, 1)
    with pytest.raises(ValueError, match="frequency must be one of"):
        period_of("Hour", when)


def test_periods_between_and_the_complete_ones_after_latency() -> None:
    days = periods_between("Day", datetime(2026, 3, 30, 12), datetime(2026, 4, 2))
    assert [p[0].day for p in days] == [30, 31, 1, 2]
    assert len(periods_between("Week", date(2026, 1, 1), date(2026, 1, 31))) == 5
    now = datetime(2026, 4, 3, 5, 0)
    assert [p[0].day for p in complete_periods("Day", date(2026, 4, 1), now)] == [1, 2]
    # 2 April ends at 3 April 00:00; with 6 hours of latency it is due at 06:00
    assert [p[0].day for p in complete_periods("Day", date(2026, 4, 1), now, latency_hours=6)] == [1]
    assert complete_periods("Day", date(2026, 3, 1), now, limit=2) == periods_between(
        "Day", date(2026, 3, 1), date(2026, 3, 2)
    )
