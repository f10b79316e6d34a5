"""Running data drift detectors on their schedule: one :func:`tick` per scheduler round.

For each ``Enabled`` detector, every period (:mod:`headwater.ops.drift_periods`) that is complete,
whose ``latency`` hours have passed and that has no run yet is submitted once, oldest first. The
period is recorded FIRST in ``drift_runs`` under its occurrence key (the period's start), unique per
detector, and only the scheduler whose record won submits it (as
:mod:`headwater.ops.schedules` does for pipeline schedules): two servers never run a period twice.
A period already run by hand (``run``, ``backfill``) is not run again. A submit that fails is
recorded (Failed, with the error) and not retried: ``run(target_date)`` runs it again by hand.

``submit(store, ws_folder, detector, target_date, drift_run) -> run id`` submits one recorded
period (:func:`headwater.ops.drift_submit.submit_detector_run` by default; tests inject theirs).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from headwater.errors import HeadwaterError
from headwater.ops.drift_periods import due_periods, next_due_time
from headwater.status import DetectorState

__all__ = ["SubmitFn", "next_due", "occurrence_key", "tick"]

log = logging.getLogger(__name__)

SubmitFn = Callable[[Any, Path, Any, datetime, Any], str]


def occurrence_key(target_date: datetime) -> str:
    """The key a scheduled period is recorded under (its start, ISO UTC)."""
    return target_date.astimezone(UTC).isoformat(timespec="microseconds")


def _start(detector: Any) -> datetime | None:
    if not detector.schedule_start:
        return None
    at = datetime.fromisoformat(detector.schedule_start)
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _default_submit(store: Any, ws_folder: Path, detector: Any, target_date: datetime, drift_run: Any) -> str:
    from headwater.ops.drift_submit import submit_detector_run

    return str(submit_detector_run(store, ws_folder, detector, target_date, drift_run=drift_run))


def tick(
    store: Any, ws_folder: Path, now: datetime, holder: str | None = None, submit: SubmitFn | None = None
) -> list[Any]:
    """Submit every due period of every enabled detector; returns the drift runs this call recorded."""
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
) -> list[Any]:
    start = _start(detector)
    if start is None:
        return []
    due = due_periods(detector.frequency, start, detector.latency, now)
    if not due:
        return []
    first = occurrence_key(due[0])
    done = {r.target_date for r in store.list_drift_runs(detector.id, start=first)}
    done |= {_normal(d) for d in done}
    recorded = []
    for target_date in due:
        key = occurrence_key(target_date)
        if key in done:
            continue
        drift_run = store.record_drift_run(detector.id, key, trigger="schedule", occurrence=key, holder=holder)
        if drift_run is None:
            continue  # another scheduler recorded it first: it submits, not us
        recorded.append(drift_run)
        try:
            run_id = submit(store, ws_folder, detector, target_date, drift_run)
        except Exception as exc:
            text = str(exc) if isinstance(exc, HeadwaterError) else f"{type(exc).__name__}: {exc}"
            log.warning("Data drift detector %r could not submit the period %s: %s", detector.name, key, text)
            store.finish_drift_run(drift_run.id, error=text)
            continue
        store.finish_drift_run(drift_run.id, run_id=run_id)
    return recorded


def _normal(text: str) -> str:
    """A target date as an occurrence key, whatever ISO spelling it was stored in."""
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        return text
    return occurrence_key(at if at.tzinfo is not None else at.replace(tzinfo=UTC))


def next_due(store: Any, now: datetime) -> datetime | None:
    """The earliest time after ``now`` when an enabled detector's next period becomes due, or None."""
    times = []
    for detector in store.list_detectors(state=DetectorState.Enabled):
        start = _start(detector)
        if start is None:
            continue
        try:
            times.append(next_due_time(detector.frequency, start, detector.latency, now))
        except HeadwaterError:
            continue  # reported by tick
    return min(times, default=None)
