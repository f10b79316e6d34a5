"""The scheduler inside ``headwater serve``: a thread started and stopped with the app.

The thread ticks (:func:`headwater.ops.schedules.tick`, then the data drift detectors'
:func:`headwater.ops.drift_schedule.tick` and :func:`headwater.ops.drift_alerts.sweep`) about
once a second — sooner when a schedule's next occurrence is closer — but only while this server
holds the ``"scheduler"`` lease of the workspace's database (taken and renewed each round, released on stop): several
servers on one PostgreSQL workspace take turns, one fires. Even when two tick at once (a lease
that expired while its holder was paused), an occurrence fires once: each fire is recorded before
it is submitted, unique per schedule and occurrence.

``HEADWATER_SCHEDULER_INTERVAL`` (seconds, default 1) sets the longest wait between rounds; a
value of 0 or less turns the scheduler off in this server.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI

__all__ = ["LEASE", "LEASE_TTL", "SchedulerThread", "start", "stop"]

log = logging.getLogger(__name__)

#: The lease whose holder fires the workspace's schedules.
LEASE = "scheduler"
#: How long a lease lasts without renewal (seconds): a server that died frees it after this.
LEASE_TTL = 10.0
_DEFAULT_INTERVAL = 1.0


def _interval() -> float:
    text = os.environ.get("HEADWATER_SCHEDULER_INTERVAL", "")
    try:
        return float(text) if text.strip() else _DEFAULT_INTERVAL
    except ValueError:
        log.warning("HEADWATER_SCHEDULER_INTERVAL=%r is not a number; using %s s", text, _DEFAULT_INTERVAL)
        return _DEFAULT_INTERVAL


class SchedulerThread(threading.Thread):
    """Ticks the workspace's schedules while holding the lease; :meth:`halt` stops it."""

    def __init__(self, store: Any, ws_folder: Any, *, interval: float, holder: str | None = None) -> None:
        super().__init__(name="headwater-scheduler", daemon=True)
        self.store = store
        self.ws_folder = ws_folder
        self.interval = interval
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._stop_event = threading.Event()
        self.holding = False
        self._held_until = 0.0  # monotonic time until which the lease surely is ours

    def run(self) -> None:
        from headwater.ops.schedules import next_due, tick

        while not self._stop_event.is_set():
            wait = self.interval
            try:
                now = datetime.now(UTC)
                self.holding = self._renew(now)
                if self.holding:
                    tick(self.store, self.ws_folder, now, self.holder)
                    _drift_round(self.store, self.ws_folder, now, self.holder)
                    upcoming = _earliest(next_due(self.store, datetime.now(UTC)), _drift_next_due(self.store))
                    if upcoming is not None:
                        wait = max(0.0, min(wait, (upcoming - datetime.now(UTC)).total_seconds()))
            except Exception:  # the database went away for a moment ...: try again next round
                log.exception("The scheduler's round failed")
            self._stop_event.wait(wait)

    def _renew(self, now: datetime) -> bool:
        """Take or renew the lease; a lease renewed less than a third of its life ago is not
        written again (one database write every few seconds, not every round)."""
        import time

        if time.monotonic() < self._held_until - 2 * LEASE_TTL / 3:
            return True
        started = time.monotonic()
        if self.store.acquire_lease(LEASE, self.holder, LEASE_TTL, now=now):
            self._held_until = started + LEASE_TTL
            return True
        self._held_until = 0.0
        return False

    def halt(self, timeout: float = 30.0) -> None:
        """Stop ticking, wait for the round in progress, give the lease up."""
        self._stop_event.set()
        if self.is_alive():
            self.join(timeout)
        try:
            self.store.release_lease(LEASE, self.holder)
        except Exception:
            log.exception("The scheduler could not release its lease")


def _drift_round(store: Any, ws_folder: Any, now: datetime, holder: str) -> None:
    """Run the data drift detectors' due periods and sweep their alerts (its own failures logged)."""
    from headwater.ops import drift_alerts, drift_schedule

    try:
        drift_schedule.tick(store, ws_folder, now, holder)
    except Exception:
        log.exception("The data drift schedules could not be checked")
    try:
        drift_alerts.sweep(store, ws_folder, datetime.now(UTC))
    except Exception:
        log.exception("The data drift alerts could not be swept")


def _drift_next_due(store: Any) -> datetime | None:
    from headwater.ops.drift_schedule import next_due

    try:
        return next_due(store, datetime.now(UTC))
    except Exception:  # reported by the round
        return None


def _earliest(*times: datetime | None) -> datetime | None:
    return min((t for t in times if t is not None), default=None)


def start(app: FastAPI) -> None:
    """Start the scheduler thread of the app's workspace (``app.state.scheduler``)."""
    interval = _interval()
    if interval <= 0:
        app.state.scheduler = None
        return
    thread = SchedulerThread(app.state.store, app.state.ws_folder, interval=interval)
    app.state.scheduler = thread
    thread.start()


def stop(app: FastAPI) -> None:
    """Stop the scheduler thread and release its lease."""
    thread = getattr(app.state, "scheduler", None)
    if thread is not None:
        thread.halt()
        app.state.scheduler = None
