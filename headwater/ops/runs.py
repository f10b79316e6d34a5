"""Verbs on a submitted pipeline run (or script run), shared by the SDK, the CLI and the server.

:func:`refresh_status` reads a run and notices when its orchestrator is dead — known for sure,
never guessed from a heartbeat's age (:mod:`headwater.engine.liveness`: the orchestrator holds a
lock the kernel releases only when it is gone; a stopped or suspended orchestrator is alive; read
from another machine, a PostgreSQL session advisory lock, :mod:`headwater.store.run_locks`).
Such a run is marked Failed, its unfinished steps Canceled; every process of those steps (also
one that left the step's process group) is stopped and their staging folders are removed.
Outputs are only ever committed by the orchestrator after a step succeeds, so nothing a stopped
step wrote reaches a datastore. (A run whose cancel was asked for before its orchestrator died is
Canceled rather than Failed.) A final status is never changed afterwards: the store refuses to.

:func:`cancel_run` asks the orchestrator to cancel (a marker file its loop polls).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from headwater.layout import CANCEL_FILE, RunLayout
from headwater.status import ACTIVE, TERMINAL, PipelineRunStatus, StepRunStatus
from headwater.store.metadata import MetadataStore
from headwater.store.records import RunRecord, utcnow
from headwater.store.run_locks import release_run_lock, try_run_lock

if TYPE_CHECKING:  # imported where a run is still active: reading a finished run needs neither
    from headwater.engine.liveness import Liveness

__all__ = [
    "ACTIVE",
    "CANCEL_FILE",
    "ORCHESTRATOR_STALE_SECONDS",
    "TERMINAL",
    "cancel_run",
    "orchestrator_dead",
    "refresh_status",
]

#: Information only (e.g. for the studio: "no heartbeat for a while, the orchestrator may be
#: stalled"). A heartbeat's age never decides that an orchestrator is dead.
ORCHESTRATOR_STALE_SECONDS = 30.0
DEAD_MESSAGE = "The orchestrator of this run stopped (its process is gone); the run cannot finish."


def _run_dir(record: RunRecord) -> Path | None:
    plan = record.definition.get("plan")
    return None if plan is None else Path(plan).parent


@contextmanager
def _liveness(record: RunRecord, store: MetadataStore | None) -> Iterator[Liveness]:
    """The orchestrator's liveness; after DEAD the caller holds the run's lock inside the block."""
    from headwater.engine.liveness import Liveness, hostname, probe, same_identity

    d = record.definition
    if record.status not in ACTIVE or d.get("orchestrator_pid") is None:
        yield Liveness.ALIVE  # finished, finished in-process, or its orchestrator is being started
        return
    pid, start, host = int(d["orchestrator_pid"]), d.get("orchestrator_start"), d.get("orchestrator_host")
    pg_holder = d.get("orchestrator_pg_lock")
    if store is not None and host not in (None, hostname()) and pg_holder and same_identity(pg_holder, pid, start):
        # another machine's orchestrator: its session advisory lock in PostgreSQL tells
        if not try_run_lock(store, record.id):
            yield Liveness.ALIVE
            return
        try:
            yield Liveness.DEAD
        finally:
            release_run_lock(store, record.id)
        return
    with probe(_run_dir(record), pid, start, host) as verdict:
        yield verdict


def orchestrator_dead(record: RunRecord, store: MetadataStore | None = None) -> bool:
    """Whether the orchestrator of an unfinished pipeline (or script) run is gone — for sure.

    Its lock was released by the kernel, or (no lock taken yet, or a record of an older
    Headwater) its process is gone or is another process now. A stopped, suspended or slow
    orchestrator is alive, however old its heartbeat. An orchestrator on another machine is
    alive unless ``store`` (PostgreSQL) shows that its session lock was released."""
    from headwater.engine.liveness import Liveness

    with _liveness(record, store) as verdict:
        return verdict is Liveness.DEAD


def _orchestrator(record: RunRecord) -> tuple[object, ...]:
    d = record.definition
    return d.get("orchestrator_pid"), d.get("orchestrator_start"), d.get("orchestrator_host")


def refresh_status(store: MetadataStore, run_id: str) -> RunRecord | None:
    """The run's record, after marking it Failed if its orchestrator died (see the module doc)."""
    record = store.get_run(run_id)
    if record is None or record.kind not in ("pipeline", "script"):
        return record
    if record.status not in ACTIVE or record.definition.get("orchestrator_pid") is None:
        return record  # what _liveness says ALIVE to without a look (and without importing it)
    from headwater.engine.liveness import Liveness

    with _liveness(record, store) as verdict:
        if verdict is not Liveness.DEAD:
            return record
        current = store.get_run(run_id)  # it may have finished, or been resumed, while we looked
        if current is None or current.status not in ACTIVE or _orchestrator(current) != _orchestrator(record):
            return current
        _bury(store, current)
    return store.get_run(run_id)


def _bury(store: MetadataStore, run: RunRecord) -> None:
    """A run whose orchestrator is dead: stop its steps' processes, remove their staging folders,
    and record how it ended (Failed, or Canceled when a cancel had been asked for)."""
    run_dir = _run_dir(run)
    canceled = run_dir is not None and RunLayout(run_dir).cancel_file.exists()
    # a cancel was asked for: that is what it is
    status = PipelineRunStatus.Canceled if canceled else PipelineRunStatus.Failed
    if run.kind == "script":
        steps = [run]  # a script run is its own step
    else:
        steps = [s for s in store.list_runs(parent_id=run.id) if s.status not in TERMINAL]
    if os.name == "posix":
        from headwater.engine.executors.process_tree import stop_step_processes

        stop_step_processes({s.id: s.definition.get("pid") for s in steps})
    if run_dir is not None:
        for step in steps:
            shutil.rmtree(RunLayout(run_dir.parent / step.id).staging, ignore_errors=True)
    store.update_run(run.id, status=status, ended_at=utcnow(), error={"message": DEAD_MESSAGE})
    if run.kind == "pipeline":
        for step in steps:
            store.update_run(
                step.id, status=StepRunStatus.Canceled, ended_at=utcnow(), error={"message": "the orchestrator stopped"}
            )


def cancel_run(store: MetadataStore, ws_folder: str | os.PathLike[str], run_id: str) -> None:
    """Ask the run's orchestrator to cancel: running steps get SIGTERM, then SIGKILL; nothing new starts.

    The request is a marker file the orchestrator's loop looks for several times a second. (No
    signal: an orchestrator that is still starting up would die of it instead of canceling.)
    """
    record = refresh_status(store, run_id)
    if record is None or record.status in TERMINAL:
        return
    run = RunLayout.of(ws_folder, run_id)
    run.folder.mkdir(parents=True, exist_ok=True)
    run.cancel_file.write_text(utcnow(), encoding="utf-8")
