"""A drift detector's periods: the arithmetic of its schedule (pure, no store).

A detector of frequency ``Day``, ``Week`` or ``Month`` cuts time into periods starting at its
``schedule_start``: period *k* is ``[start + k·frequency, start + (k+1)·frequency)``, and a month
keeps the start's day, clipped in shorter months (a start on 31 January gives 28 February, then
31 March: each period is counted from the start, never from the previous one). A period's target
date is its start. It is *due* once it is complete and ``latency`` hours have passed since
(the time its data needs to land), and then it runs once.

When the scheduler was down for long, only the latest :data:`MAX_CATCH_UP` due periods are
returned (SDK v1's backfill limit); older ones can be run with ``backfill``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from headwater.errors import ConfigurationError

__all__ = ["FREQUENCIES", "MAX_CATCH_UP", "due_periods", "next_due_time", "period_end", "period_start"]

FREQUENCIES = ("Day", "Week", "Month")
#: The most periods a schedule catches up on at once (SDK v1's backfill limit).
MAX_CATCH_UP = 31

_STEPS = {"Day": timedelta(days=1), "Week": timedelta(weeks=1)}


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _check(frequency: str) -> None:
    if frequency not in FREQUENCIES:
        raise ConfigurationError(
            f"A drift detector's frequency {frequency!r} is not one of Day, Week or Month",
            key="frequency",
            hint="Use frequency='Day', 'Week' or 'Month'.",
        )


def period_start(frequency: str, schedule_start: datetime, index: int) -> datetime:
    """The start of period ``index`` (0 = the one beginning at ``schedule_start``)."""
    _check(frequency)
    start = _utc(schedule_start)
    if frequency == "Month":
        from dateutil.relativedelta import relativedelta

        return start + relativedelta(months=index)
    return start + index * _STEPS[frequency]


def period_end(frequency: str, start: datetime) -> datetime:
    """The end (exclusive) of the period beginning at ``start``."""
    return period_start(frequency, start, 1)


def _complete(frequency: str, start: datetime, moment: datetime) -> int:
    """How many periods from ``start`` have ended at or before ``moment``."""
    if moment < start:
        return 0
    if frequency != "Month":
        return int((moment - start) // _STEPS[frequency])
    count = (moment.year - start.year) * 12 + moment.month - start.month
    while count > 0 and period_start(frequency, start, count) > moment:
        count -= 1
    return count


def due_periods(
    frequency: str, schedule_start: datetime, latency_hours: float, now: datetime, *, limit: int = MAX_CATCH_UP
) -> list[datetime]:
    """The starts (target dates) of the periods due at ``now``, oldest first: every period that
    ended at least ``latency_hours`` before ``now``, the latest ``limit`` of them."""
    _check(frequency)
    start = _utc(schedule_start)
    moment = _utc(now) - timedelta(hours=latency_hours)
    count = _complete(frequency, start, moment)
    return [period_start(frequency, start, k) for k in range(max(0, count - limit), count)]


def next_due_time(frequency: str, schedule_start: datetime, latency_hours: float, now: datetime) -> datetime:
    """The first time after ``now`` at which another period becomes due."""
    _check(frequency)
    start = _utc(schedule_start)
    count = _complete(frequency, start, _utc(now) - timedelta(hours=latency_hours))
    return period_start(frequency, start, count + 1) + timedelta(hours=latency_hours)
