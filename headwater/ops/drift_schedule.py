"""Running data drift detectors on their schedule: one :func:`tick` per scheduler round.

For each ``Enabled`` detector, every period (:mod:`headwater.ops.drift_periods`: SDK v1's calendar
days, Monday weeks, months, in UTC) from the one holding its ``schedule_start`` that is complete,
whose ``latency`` hours have passed and that has no run yet is submitted once, oldest first,
through :func:`headwater.ops.drift_submit.submit_detector_run`, which records the period FIRST in
``drift_runs`` under its occurrence key (the period's start), unique per detector: only the
scheduler whose record won submits it (as :mod:`headwater.ops.schedules` does for pipeline
schedules), so two servers never run a period twice. A period already run by hand (``run``,
``backfill``) is not run again. A submit that fails is recorded (Failed, with the error) and not
retried: ``run(target_date)`` runs it again by hand. After a long downtime only the latest
:data:`MAX_CATCH_UP` periods are run (SDK v1's backfill limit; ``backfill`` runs older ones).

``submit`` has :func:`~headwater.ops.drift_submit.submit_detector_run`'s signature (tests inject theirs).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from headwater.errors import HeadwaterError
from headwater.status import DetectorState

__all__ = ["MAX_CATCH_UP", "SubmitFn", "due_periods", "next_due", "occurrence_key", "tick"]

log = logging.getLogger(__name__)

#: The most periods a schedule catches up on after a downtime (SDK v1's backfill limit).
MAX_CATCH_UP = 31
_LONGEST = {"Day": timedelta(days=1), "Week": timedelta(days=7), "Month": timedelta(days=31)}

#: ``submit(ws, detector, target_date, *, trigger, occurrence, holder) -> run id | None`` (None:
#: the occurrence was recorded already, by another scheduler).
SubmitFn = Callable[..., "str | None"]


def occurrence_key(target_date: datetime) -> str:
    """The key (and target date) a scheduled period is recorded under: its start, naive UTC ISO."""
    from headwater.ops.drift_periods import utc_naive

    return utc_naive(target_date).isoformat()


def _start(detector: Any) -> datetime | None:
    from headwater.ops.drift_periods import utc_naive

    if not detector.schedule_start:
        return None
    return utc_naive(datetime.fromisoformat(detector.schedule_start))


def due_periods(frequency: str, schedule_start: datetime, latency_hours: float, now: datetime) -> list[datetime]:
    """The starts of the periods due at ``now`` (complete, ``latency_hours`` passed), from the one
    holding ``schedule_start``, oldest first; the latest :data:`MAX_CATCH_UP` of them."""
    from headwater.ops.drift_periods import complete_periods, utc_naive

    start, moment = utc_naive(schedule_start), utc_naive(now)
    # Where to begin looking: no earlier than MAX_CATCH_UP (+1) periods back, whatever the start.
    since = max(
        start, moment - timedelta(hours=latency_hours) - (MAX_CATCH_UP + 1) * _LONGEST.get(frequency, _LONGEST["Day"])
    )
    periods = complete_periods(frequency, since, moment, latency_hours=int(latency_hours))
    return [p[0] for p in periods[-MAX_CATCH_UP:]]


def _default_submit(ws: Any, detector: Any, target_date: datetime, **kwargs: Any) -> str | None:
    from headwater.ops.drift_submit import submit_detector_run

    return submit_detector_run(ws, detector, target_date, **kwargs)


def tick(
    store: Any, ws_folder: Path, now: datetime, holder: str | None = None, submit: SubmitFn | None = None
) -> list[Any]:
    """Submit every due period of every enabled detector; returns the run ids this call submitted."""
    submit = submit or _default_submit
    recorded: list[Any] = []
    for detector in store.list_detectors(state=DetectorState.Enabled):
        try:
            recorded.extend(_tick_detector(store, Path(ws_folder), detector, now, holder, submit))
        except Exception:  # one broken detector must not stop the others
            log.exception("Data drift detector %r could not be checked", detector.name)
    return recorded


def _tick_detector(
    store: Any, ws_folder: Path, detector: Any, now: datetime, holder: str | None, submit: SubmitFn
) -> list[str]:
    start = _start(detector)
    if start is None:
        return []
    due = due_periods(detector.frequency, start, detector.latency, now)
    if not due:
        return []
    done = {_normal(r.target_date) for r in store.list_drift_runs(detector.id, start=occurrence_key(due[0]))}
    submitted = []
    for target_date in due:
        key = occurrence_key(target_date)
        if key in done:
            continue
        try:
            run_id = submit(
                (store, ws_folder), detector, target_date, trigger="schedule", occurrence=key, holder=holder
            )
        except Exception as exc:
            text = str(exc) if isinstance(exc, HeadwaterError) else f"{type(exc).__name__}: {exc}"
            log.warning("Data drift detector %r could not submit the period %s: %s", detector.name, key, text)
            # A submit that failed before recording the period: record it failed, not to try every round.
            failed = store.record_drift_run(detector.id, key, trigger="schedule", occurrence=key, holder=holder)
            if failed is not None:
                store.finish_drift_run(failed.id, error=text)
            continue
        if run_id is not None:  # None: another scheduler recorded it first, and submits it
            submitted.append(run_id)
    return submitted


def _normal(text: str) -> str:
    """A target date as an occurrence key, whatever ISO spelling it was stored in."""
    try:
        return occurrence_key(datetime.fromisoformat(text))
    except ValueError:
        return text


def next_due(store: Any, now: datetime) -> datetime | None:
    """The earliest time after ``now`` (aware UTC) when an enabled detector's next period becomes
    due, or None."""
    from headwater.ops.drift_periods import period_of, utc_naive

    times = []
    for detector in store.list_detectors(state=DetectorState.Enabled):
        start = _start(detector)
        if start is None:
            continue
        lag = timedelta(hours=detector.latency)
        try:
            end = max(period_of(detector.frequency, start)[1], period_of(detector.frequency, utc_naive(now) - lag)[1])
        except ValueError:
            continue  # reported by tick
        times.append((end + lag).replace(tzinfo=UTC))
    return min(times, default=None)
