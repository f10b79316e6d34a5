"""Schedule recurrences as data: SDK v1's ``ScheduleRecurrence`` rules and its occurrences.

Pure: no I/O. A :class:`Recurrence` holds what ``ScheduleRecurrence(frequency, interval,
start_time, time_zone, hours, minutes, week_days, time_of_day)`` holds, validated with SDK v1's
rules and messages (each message also names the field and the value given). Its occurrences come
from :mod:`dateutil.rrule`, in the schedule's time zone (:mod:`zoneinfo`; SDK v1's Windows zone
names such as ``"Pacific Standard Time"`` map to IANA names through tzlocal's CLDR table):

- ``Minute`` and ``Hour`` recurrences count elapsed time: they are computed in UTC, so an hourly
  schedule fires every 60 minutes across a DST change (25 fires on a fall-back day);
- ``Day``, ``Week`` and ``Month`` recurrences follow the wall clock of their time zone: a daily
  02:30 fires at 02:30 local time on both sides of a change. On a spring-forward day, when 02:30
  does not exist, it fires once at the same UTC instant (03:30 daylight time); on a fall-back
  day a wall time that happens twice fires once, at its first instant.

Without a start time a schedule fires when it is created and then on its recurrence, counted from
then; with one, the first fire is the first occurrence at or after it (after it when hours,
minutes or week days are given, as SDK v1 documents); the scheduler never fires occurrences from
before the schedule existed.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from headwater.errors import HeadwaterError

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

__all__ = [
    "FREQUENCIES",
    "WEEK_DAYS",
    "Recurrence",
    "RecurrenceError",
    "iana_zone",
    "last_before",
    "local_text",
    "make_recurrence",
    "occurrences",
    "start_text",
    "time_of_day_parts",
]

FREQUENCIES = ("Minute", "Hour", "Day", "Week", "Month")
WEEK_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_START_FORMAT = "%Y-%m-%dT%H:%M:%S"
# Two of SDK v1's TimeZone values that CLDR's Windows table no longer lists.
_RETIRED_WINDOWS_ZONES = {"Mid-Atlantic Standard Time": "Etc/GMT+2", "Kamchatka Standard Time": "Asia/Kamchatka"}


class RecurrenceError(HeadwaterError, ValueError):
    """A ScheduleRecurrence that SDK v1 would reject (a ValueError, as there)."""


def _fail(sdk_message: str, field: str, value: object) -> RecurrenceError:
    return RecurrenceError(f"{sdk_message} (ScheduleRecurrence {field}={value!r})")


@lru_cache(maxsize=256)
def iana_zone(time_zone: str | None) -> ZoneInfo:
    """The zoneinfo zone of an SDK v1 time zone name (``TimeZone`` value), an IANA name, or UTC for None."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if time_zone is None or time_zone == "UTC":
        return ZoneInfo("UTC")
    from tzlocal.windows_tz import win_tz

    name = win_tz.get(time_zone) or _RETIRED_WINDOWS_ZONES.get(time_zone) or time_zone
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise _fail("Time zone is not a valid TimeZone enum.", "time_zone", time_zone) from exc


@dataclass(frozen=True)
class Recurrence:
    """A validated recurrence; ``start_time`` is naive wall time in ``time_zone`` (SDK v1's string form)."""

    frequency: str
    interval: int
    start_time: str | None = None
    time_zone: str | None = None
    hours: tuple[int, ...] | None = None
    minutes: tuple[int, ...] | None = None
    week_days: tuple[str, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form stored with a schedule."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Recurrence:
        """The recurrence :meth:`to_dict` stored (validated again)."""
        return make_recurrence(
            data["frequency"],
            data["interval"],
            start_time=data.get("start_time"),
            time_zone=data.get("time_zone"),
            hours=data.get("hours"),
            minutes=data.get("minutes"),
            week_days=data.get("week_days"),
        )

    @property
    def zone(self) -> ZoneInfo:
        """The zoneinfo zone occurrences are computed in."""
        return iana_zone(self.time_zone)

    def start(self) -> datetime | None:
        """The start time as an aware UTC datetime, or None."""
        if self.start_time is None:
            return None
        local = datetime.strptime(self.start_time, _START_FORMAT)
        return local.replace(tzinfo=self.zone).astimezone(UTC)


def _int_list(values: Any, field: str) -> tuple[int, ...] | None:
    if values is None:
        return None
    if isinstance(values, int | str):
        values = [values]
    try:
        return tuple(int(v) for v in values)
    except (TypeError, ValueError) as exc:
        raise _fail(f"{field.capitalize()} must be a list of integers.", field, values) from exc


def start_text(start_time: datetime | str | None) -> str | None:
    """``start_time`` in SDK v1's stored form ``YYYY-MM-DDThh:mm:ss`` (a naive datetime or that text)."""
    if start_time is None:
        return None
    if isinstance(start_time, datetime):
        if start_time.tzinfo is not None:
            raise _fail("Can not specify tzinfo for start_time, use time_zone instead.", "start_time", start_time)
        return start_time.strftime(_START_FORMAT)
    try:
        parsed = datetime.fromisoformat(str(start_time).strip())  # YYYY-MM-DDThh:mm:ss, or shorter ISO forms
    except ValueError as exc:
        raise _fail("start_time should be in the format YYYY-MM-DDThh:mm:ss.", "start_time", start_time) from exc
    if parsed.tzinfo is not None:
        raise _fail("Can not specify tzinfo for start_time, use time_zone instead.", "start_time", start_time)
    return parsed.replace(microsecond=0).strftime(_START_FORMAT)


def time_of_day_parts(time_of_day: str, hours: Any = None, minutes: Any = None) -> tuple[list[int], list[int]]:
    """``([hour], [minute])`` of an ``"hh:mm"`` time of day, checked as SDK v1 checks it."""
    if hours is not None or minutes is not None:
        raise _fail("Can not specify time_of_day and hours or minutes.", "time_of_day", time_of_day)
    if re.match(r"[0-9]{1,2}:[0-9]{2}$", str(time_of_day)) is None:
        raise _fail("time_of_day should be in the format hh:mm.", "time_of_day", time_of_day)
    hour, minute = (int(part) for part in str(time_of_day).split(":"))
    if not 0 <= hour <= 23:
        raise _fail("Time of day hour value must be between 0 and 23.", "time_of_day", time_of_day)
    if not 0 <= minute <= 59:
        raise _fail("Time of day minute value must be between 0 and 59.", "time_of_day", time_of_day)
    return [hour], [minute]


def make_recurrence(
    frequency: str,
    interval: int,
    *,
    start_time: datetime | str | None = None,
    time_zone: str | None = None,
    hours: Any = None,
    minutes: Any = None,
    week_days: Any = None,
    time_of_day: str | None = None,
) -> Recurrence:
    """A :class:`Recurrence` from ``ScheduleRecurrence``'s arguments, checked as SDK v1 checks them
    (at construction and in ``validate()``); ``time_zone`` is a TimeZone value or None."""
    start = start_text(start_time)
    if start is not None and time_zone is None:
        time_zone = "UTC"
    if time_of_day is not None:
        hours, minutes = time_of_day_parts(time_of_day, hours, minutes)
    rec = Recurrence(
        frequency=frequency,
        interval=interval,
        start_time=start,
        time_zone=time_zone,
        hours=_int_list(hours, "hours"),
        minutes=_int_list(minutes, "minutes"),
        week_days=None if week_days is None else tuple([week_days] if isinstance(week_days, str) else week_days),
    )
    _validate(rec)
    return rec


def _validate(rec: Recurrence) -> None:
    """SDK v1's ``ScheduleRecurrence.validate()``, in its order."""
    if rec.frequency not in FREQUENCIES:
        raise _fail(
            "Invalid value for frequency, only one of Minute, Hour, Day, Week, or Month accepted",
            "frequency",
            rec.frequency,
        )
    if isinstance(rec.interval, bool) or not isinstance(rec.interval, int) or rec.interval < 1:
        raise _fail("Interval must be an integer greater than 0.", "interval", rec.interval)
    if rec.frequency not in ("Day", "Week") and rec.hours is not None:
        raise _fail("Can only specify hours if frequency is Week or Day.", "hours", list(rec.hours))
    if rec.frequency not in ("Day", "Week") and rec.minutes is not None:
        raise _fail("Can only specify minutes if frequency is Week or Day.", "minutes", list(rec.minutes))
    if rec.frequency != "Week" and rec.week_days is not None:
        raise _fail("Can only specify week days if frequency is Week.", "week_days", list(rec.week_days))
    if any(not 0 <= h <= 23 for h in rec.hours or ()):
        raise _fail("Hours must be between 0 and 23.", "hours", list(rec.hours or ()))
    if any(not 0 <= m <= 59 for m in rec.minutes or ()):
        raise _fail("Minutes must be between 0 and 59.", "minutes", list(rec.minutes or ()))
    if any(day not in WEEK_DAYS for day in rec.week_days or ()):
        raise _fail(
            "Week days must be a list of str, accepted values: Monday, Tuesday, Wednesday, Thursday, Friday, "
            "Saturday, Sunday.",
            "week_days",
            list(rec.week_days or ()),
        )
    iana_zone(rec.time_zone)  # "Time zone is not a valid TimeZone enum." when unknown


def _rule(rec: Recurrence, dtstart: datetime) -> Any:
    """The rrule of ``rec`` from ``dtstart`` (naive: UTC for Minute/Hour, wall time otherwise).

    Every by-value is explicit (taken from ``dtstart`` when not given), so the rule can start
    from any of its own occurrences and generate the same later ones.
    """
    from dateutil import rrule

    freq = {"Minute": rrule.MINUTELY, "Hour": rrule.HOURLY, "Day": rrule.DAILY, "Week": rrule.WEEKLY}.get(
        rec.frequency, rrule.MONTHLY
    )
    kw: dict[str, Any] = {"interval": rec.interval, "cache": False}
    if rec.frequency in ("Day", "Week", "Month"):
        kw["byhour"] = rec.hours if rec.hours is not None else (dtstart.hour,)
        kw["byminute"] = rec.minutes if rec.minutes is not None else (dtstart.minute,)
        kw["bysecond"] = (0,) if rec.hours is not None or rec.minutes is not None else (dtstart.second,)
    if rec.frequency == "Week":
        days = rec.week_days if rec.week_days is not None else (WEEK_DAYS[dtstart.weekday()],)
        kw["byweekday"] = tuple(getattr(rrule, d[:2].upper()) for d in days)
    if rec.frequency == "Month":
        kw["bymonthday"] = (dtstart.day,)
    return rrule.rrule(freq, dtstart=dtstart, **kw)


def occurrences(
    rec: Recurrence,
    *,
    created_at: datetime,
    after: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
    since: datetime | None = None,
) -> list[datetime]:
    """Occurrences (aware UTC) of a schedule created at ``created_at``, later than ``after``
    (exclusive; None = from the first) and not later than ``until`` (inclusive), at most ``limit``.

    ``since``, when given, is one of the schedule's own earlier occurrences: the rule restarts
    from it instead of from the start (same occurrences, less iteration for old schedules).
    """
    if until is None and limit is None:
        raise ValueError("occurrences() needs until or limit")
    created_at = created_at.astimezone(UTC).replace(microsecond=0)
    start = rec.start()
    first: list[datetime] = []
    if start is None:
        first, start = [created_at], created_at
    origin = since if since is not None and since > start else start
    in_utc = rec.frequency in ("Minute", "Hour")
    zone = UTC if in_utc else rec.zone
    advanced = rec.hours is not None or rec.minutes is not None or rec.week_days is not None
    rule = _rule(rec, start.astimezone(zone).replace(tzinfo=None))
    if origin is not start:
        # Same by-values as the original rule (they come from the start), restarted at ``origin``.
        rule = rule.replace(dtstart=origin.astimezone(zone).replace(tzinfo=None))
    out = [at for at in first if (after is None or at > after) and (until is None or at <= until)]
    seen = set(first)
    for local in rule:
        at = local.replace(tzinfo=zone).astimezone(UTC)
        if until is not None and at > until:
            break
        if limit is not None and len(out) >= limit:
            break
        if at < start or (advanced and at == start and not first) or at in seen:
            continue
        if after is not None and at <= after:
            continue
        seen.add(at)
        out.append(at)
    return out[:limit] if limit is not None else out


def last_before(rec: Recurrence, *, created_at: datetime, moment: datetime) -> datetime | None:
    """An occurrence before ``moment`` (aware UTC; the last one, but for a wall time repeated by
    a fall-back change), or None: a place from which :func:`occurrences` can restart
    (``since=``) without iterating from an old start again. Iterates once, storing nothing."""
    start = rec.start()
    if start is None or start >= moment:
        return None
    zone = UTC if rec.frequency in ("Minute", "Hour") else rec.zone
    rule = _rule(rec, start.astimezone(zone).replace(tzinfo=None))
    cand = rule.before(moment.astimezone(zone).replace(tzinfo=None), inc=False)
    while cand is not None and cand.replace(tzinfo=zone).astimezone(UTC) >= moment:
        cand = rule.before(cand, inc=False)
    return None if cand is None else cand.replace(tzinfo=zone).astimezone(UTC)


def local_text(rec: Recurrence, at: datetime) -> str:
    """``at`` as wall time in the recurrence's zone (for the CLI)."""
    return at.astimezone(rec.zone).strftime("%Y-%m-%d %H:%M:%S %Z")
