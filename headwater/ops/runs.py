"""Verbs on a submitted pipeline run (or script run), shared by the SDK, the CLI and the server.

:func:`refresh_status` reads a run and detects a dead orchestrator: its process is gone (or a
zombie), or its heartbeat is stale. Such a run is marked Failed, its unfinished steps Canceled,
and step processes that outlived the orchestrator are stopped. Outputs are only ever committed by
the orchestrator after a step succeeds, so nothing a stopped step wrote reaches a datastore. (A
run whose cancel was asked for before its orchestrator died is Canceled rather than Failed.)

:func:`cancel_run` asks the orchestrator to cancel (a marker file its loop polls).
"""

from __future__ import annotations

import os
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

from headwater.engine.plan_file import CANCEL_FILE
from headwater.store.metadata import MetadataStore
from headwater.store.records import RunRecord, utcnow

__all__ = [
    "ACTIVE",
    "CANCEL_FILE",
    "ORCHESTRATOR_STALE_SECONDS",
    "TERMINAL",
    "cancel_run",
    "orchestrator_dead",
    "pid_alive",
    "refresh_status",
]

#: A heartbeat older than this means the orchestrator is gone even if its pid is taken again.
ORCHESTRATOR_STALE_SECONDS = 30.0
ACTIVE = frozenset({"NotStarted", "Queued", "Preparing", "Running", "Finalizing"})
TERMINAL = frozenset({"Finished", "Failed", "Canceled", "Completed"})
DEAD_MESSAGE = "The orchestrator of this run stopped (no heartbeat); the run cannot finish."


def _seconds_since(iso: str | None) -> float:
    if not iso:
        return float("inf")
    return (datetime.now(UTC) - datetime.fromisoformat(iso)).total_seconds()


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie waiting to be reaped."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            state = fh.read().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True  # no /proc (macOS): os.kill said it exists
    return state != b"Z"


def orchestrator_dead(record: RunRecord) -> bool:
    """Whether the orchestrator of an unfinished pipeline run is gone."""
    if record.status not in ACTIVE:
        return False
    pid = record.definition.get("orchestrator_pid")
    if pid is None:
        return False  # finished in-process, or the orchestrator is being started
    if not pid_alive(int(pid)):
        return True
    beat = record.heartbeat_at or record.definition.get("orchestrator_started_at")
    return _seconds_since(beat) > ORCHESTRATOR_STALE_SECONDS


def _is_step_process(pid: int, run_id: str) -> bool:
    """Whether ``pid`` is still the process of step run ``run_id`` (not a reused pid)."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as fh:
            return f"AZUREML_RUN_ID={run_id}".encode() in fh.read().split(b"\0")
    except OSError:
        return False  # gone, not ours, or no /proc: leave it alone


def _stop_orphan(step: RunRecord) -> None:
    pid = step.definition.get("pid")
    if pid is None or sys.platform == "win32" or not _is_step_process(int(pid), step.id):
        return
    try:
        os.killpg(int(pid), signal.SIGKILL)  # the step is its process group's leader
    except (ProcessLookupError, PermissionError):
        pass


def refresh_status(store: MetadataStore, run_id: str) -> RunRecord | None:
    """The run's record, after marking it Failed if its orchestrator died (see the module doc)."""
    record = store.get_run(run_id)
    if record is None or record.kind not in ("pipeline", "script") or not orchestrator_dead(record):
        return record
    current = store.get_run(run_id)  # it may have finished while we looked
    if current is None or current.status not in ACTIVE:
        return current
    plan = current.definition.get("plan")
    canceled = plan is not None and (Path(plan).parent / CANCEL_FILE).exists()
    status = "Canceled" if canceled else "Failed"  # a cancel was asked for: that is what it is
    if current.kind == "script":
        _stop_orphan(current)  # a script run is its own step: its process is in its record
    store.update_run(run_id, status=status, ended_at=utcnow(), error={"message": DEAD_MESSAGE})
    for step in store.list_runs(parent_id=run_id):
        if step.status in TERMINAL:
            continue
        _stop_orphan(step)
        store.update_run(
            step.id, status="Canceled", ended_at=utcnow(), error={"message": "the orchestrator stopped"}
        )
    return store.get_run(run_id)


def cancel_run(store: MetadataStore, ws_folder: str | os.PathLike[str], run_id: str) -> None:
    """Ask the run's orchestrator to cancel: running steps get SIGTERM, then SIGKILL; nothing new starts.

    The request is a marker file the orchestrator's loop looks for several times a second. (No
    signal: an orchestrator that is still starting up would die of it instead of canceling.)
    """
    record = refresh_status(store, run_id)
    if record is None or record.status in TERMINAL:
        return
    run_dir = Path(ws_folder) / "runs" / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / CANCEL_FILE).write_text(utcnow(), encoding="utf-8")
