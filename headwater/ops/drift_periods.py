"""The periods a data drift detector compares: Day, Week and Month, in UTC.

SDK v1 names a period by its *target date* and reports it as ``[start_date, end_date)``: a daily
detector's run for 3 April compares the target rows timestamped from 3 April 00:00 up to (not
including) 4 April 00:00. A week starts on Monday (the week holding the target date), a month on
its first day. Times are naive UTC, as SDK v1 takes them (an aware time is converted to UTC).
A period is *complete* once its end has passed; a scheduled detector runs it ``latency`` hours later.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

__all__ = [
    "FREQUENCIES",
    "Period",
    "complete_periods",
    "next_period",
    "period_of",
    "periods_between",
    "utc_naive",
]

FREQUENCIES = ("Day", "Week", "Month")

Period = tuple[datetime, datetime]


def utc_naive(value: datetime | date) -> datetime:
    """``value`` as a naive UTC datetime (a date is its midnight; an aware time is converted)."""
    if not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day)
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def _add_months(day: datetime, months: int) -> datetime:
    index = day.year * 12 + day.month - 1 + months
    return day.replace(year=index // 12, month=index % 12 + 1, day=1)


def period_of(frequency: str, when: datetime | date) -> Period:
    """The period of ``frequency`` holding ``when``: ``(start, end)``, end excluded."""
    when = utc_naive(when)
    day = datetime(when.year, when.month, when.day)
    if frequency == "Day":
        return day, day + timedelta(days=1)
    if frequency == "Week":
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=7)
    if frequency == "Month":
        start = day.replace(day=1)
        return start, _add_months(start, 1)
    raise ValueError(f"frequency must be one of {list(FREQUENCIES)}, got {frequency!r}")


def next_period(frequency: str, period: Period) -> Period:
    """The period right after ``period``."""
    return period_of(frequency, period[1])


def periods_between(frequency: str, start: datetime | date, end: datetime | date) -> list[Period]:
    """The periods holding ``start`` through the one holding ``end`` (inclusive), oldest first."""
    period, last = period_of(frequency, start), period_of(frequency, end)
    out = [period]
    while period != last:
        period = next_period(frequency, period)
        out.append(period)
    return out


def complete_periods(
    frequency: str, since: datetime | date, now: datetime, *, latency_hours: int = 0, limit: int | None = None
) -> list[Period]:
    """The periods from the one holding ``since`` whose end plus ``latency_hours`` is at or before
    ``now``, oldest first (at most ``limit``: the oldest ones)."""
    now = utc_naive(now)
    out: list[Period] = []
    period = period_of(frequency, since)
    while period[1] + timedelta(hours=latency_hours) <= now and (limit is None or len(out) < limit):
        out.append(period)
        period = next_period(frequency, period)
    return out
