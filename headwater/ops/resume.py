"""``resume``: continue a pipeline run (or script run) under the same id — the verb the SDK, the CLI
and the server share.

Which runs: one whose orchestrator is gone for sure. That is a run whose orchestrator died
(:func:`~headwater.ops.runs.refresh_status` marks it Failed), and also a run whose orchestrator
ended normally with the run Failed (a step failed) or Canceled: as Kedro and DVC do, resume
continues from the failure — a flaky step, a full disk or a cancel does not cost the steps that
finished. A Finished (Completed) run is refused: there is nothing left to run. A run whose
orchestrator is alive is refused, naming its pid. The run keeps its frozen plan: the same
snapshots, parameters and environments (to run changed code, submit again).

What it does, under a lock file in the run folder (two resumes at once: the second is refused):

1. stops any process of the dead attempt that is still alive, and waits until it is gone;
2. keeps every step run that Finished (ran or reused: its committed outputs are what its consumers
   read); every other one is reset to NotStarted, with its error, fingerprint, reuse decision,
   metrics and output records cleared, tagged ``headwater.attempt`` = N; its folder loses the
   half-written ``staging/``, working copy and inputs, and its log of the attempt that died is kept
   as ``user_logs/std_log.attemptN-1.txt`` (events as ``events.attemptN-1.jsonl``);
3. starts a new orchestrator with ``--resume`` (recorded as ``orchestrator_pid`` as submit does),
   then reopens the run (NotStarted, no error, no end time) and hands the orchestrator its plan.
   Reuse is decided again for every reset step: one that was running when the orchestrator died is
   reused when an identical earlier run exists.

A script run is its own step: it is reset and its script runs again.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from headwater.engine.executors.process_tree import find_step_processes, stop_step_processes
from headwater.engine.liveness import orchestrator_record, process_alive
from headwater.errors import HeadwaterError, NotFoundError
from headwater.layout import END_REQUEST_FILE, RunLayout
from headwater.ops.runs import (
    ACTIVE,
    refresh_status,
)
from headwater.ops.spawn import PendingRun, start_orchestrator
from headwater.plan.run_plan import SCRIPT_RUN
from headwater.status import SUCCEEDED, PipelineRunStatus, StepRunStatus
from headwater.store.metadata import MetadataStore
from headwater.store.records import RunRecord, utcnow

__all__ = ["ATTEMPT_TAG", "ResumedRun", "RunNotResumableError", "resume_run"]

#: The tag on a resumed run and on its step runs that run again: which attempt this is (2, 3 ...).
ATTEMPT_TAG = "headwater.attempt"
#: How long to wait for the previous attempt's processes to be gone before giving up.
GONE_SECONDS = 30.0
#: Properties a step's start wrote (not its submit): an attempt that runs again writes them again.
_START_PROPERTIES = ("azureml.runsource", "headwater.ray.node", "headwater.ray.task_id")


class RunNotResumableError(HeadwaterError):
    """The run cannot be resumed (it is running, it finished, it is a step run ...)."""


@dataclass(frozen=True)
class ResumedRun:
    """What :func:`resume_run` did: the reopened run, its new attempt, and its steps by fate."""

    record: RunRecord
    attempt: int
    kept: list[str]  # names of the steps whose runs Finished earlier
    rerun: list[str]  # names of the steps that run again


def resume_run(store: MetadataStore, ws_folder: str | os.PathLike[str], run_id: str) -> ResumedRun:
    """Continue run ``run_id`` (a pipeline or script run) whose orchestrator is gone; see the module doc.

    Raises :class:`~headwater.errors.NotFoundError` for an unknown id and
    :class:`RunNotResumableError` for a run that is running, finished, or not a pipeline or script run.
    """
    record = store.get_run(run_id)
    if record is None:
        raise NotFoundError("Run", run_id, hint="List runs with `headwater run list`.")
    if record.kind not in ("pipeline", SCRIPT_RUN):
        raise RunNotResumableError(
            f"Run {run_id} is a {record.kind} run; only a pipeline or script run can be resumed.",
            hint=f"Resume its pipeline run: headwater run resume {record.parent_id}" if record.parent_id else None,
        )
    run = RunLayout.of(ws_folder, run_id)
    run_dir = run.folder
    with _resume_lock(run_dir, run_id):
        current = refresh_status(store, run_id)  # a dead orchestrator is noticed (and its steps stopped) here
        assert current is not None
        plan_path = _check_resumable(current, run_dir)
        attempt = int(current.definition.get("attempt", 1))
        steps = _unfinished(store, current)
        _stop_leftovers(steps)
        run.cancel_file.unlink(missing_ok=True)  # a cancel of the last attempt is over
        next_plan = run.plan_attempt(attempt + 1)
        next_plan.unlink(missing_ok=True)
        for step in steps:
            _reset_step(store, Path(ws_folder), step, attempt)
        pending = PendingRun(run_id, run_dir, next_plan, 0)
        reopened = False
        try:
            # The new orchestrator first (it waits for its plan), so the run is never active without one.
            pending.pid = start_orchestrator(next_plan, run.orchestrator_log, resume=True)
            store.merge_run_definition(run_id, {**orchestrator_record(pending.pid), "attempt": attempt + 1})
            store.set_tags(run_id, {ATTEMPT_TAG: str(attempt + 1)})
            status = PipelineRunStatus.NotStarted  # reopened: no error, no end time
            store.update_run(run_id, status=status, ended_at=None, error=None, heartbeat_at=utcnow(), reopen=True)
            reopened = True
            tmp = next_plan.with_name(f".{next_plan.name}.{os.getpid()}.tmp")
            shutil.copyfile(plan_path, tmp)
            os.replace(tmp, next_plan)  # the orchestrator starts once this file exists
        except BaseException as exc:
            pending.stop()
            if reopened:  # else it still has its final status: it can be resumed again as it is
                error = {"message": f"The resume failed: {exc}"}
                store.update_run(run_id, status=PipelineRunStatus.Failed, ended_at=utcnow(), error=error)
            raise
    names = {s.id: s.name or s.id for s in steps}
    kept = (
        []
        if current.kind == SCRIPT_RUN
        else [s.name or s.id for s in store.list_runs(parent_id=run_id) if s.id not in names]
    )
    after = store.get_run(run_id)
    assert after is not None
    return ResumedRun(after, attempt + 1, kept, list(names.values()))


@contextmanager
def _resume_lock(run_dir: Path, run_id: str) -> Iterator[None]:
    """Hold the run's resume lock, or refuse: another process is resuming it."""
    import fcntl

    if not run_dir.is_dir():
        raise RunNotResumableError(f"Run {run_id} cannot be resumed: its folder {run_dir} is missing.")
    with open(RunLayout(run_dir).resume_lock, "a+b") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunNotResumableError(
                f"Run {run_id} is being resumed by another process.",
                hint=f"See how it goes: headwater run show {run_id}",
            ) from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _check_resumable(record: RunRecord, run_dir: Path) -> Path:
    """The run's plan file, when the run may be resumed; else why not."""
    pid = record.definition.get("orchestrator_pid")
    if record.status in SUCCEEDED:
        raise RunNotResumableError(
            f"Run {record.id} has already finished ({record.status}); there is nothing to resume.",
            hint="Submit the pipeline again to run it anew.",
        )
    if record.status in ACTIVE or (pid is not None and not _orchestrator_gone(record)):
        running = f"orchestrator pid {pid}" if pid is not None else "its orchestrator is starting"
        raise RunNotResumableError(
            f"Run {record.id} is still running ({running}); only a run whose orchestrator has stopped can be resumed.",
            hint=f"Wait for it to end, or cancel it first: headwater run cancel {record.id}",
        )
    plan_path = Path(record.definition.get("plan") or RunLayout(run_dir).plan)
    if not plan_path.is_file():
        raise RunNotResumableError(
            f"Run {record.id} cannot be resumed: its plan {plan_path} was never written (the submit failed).",
            hint="Submit the pipeline again.",
        )
    return plan_path


def _orchestrator_gone(record: RunRecord) -> bool:
    """An orchestrator that wrote its run's final status exits right after: give it a moment.
    (Its pid with its start time names one process: a pid taken again is not it.)"""
    pid, start = int(record.definition["orchestrator_pid"]), record.definition.get("orchestrator_start")
    deadline = time.monotonic() + GONE_SECONDS
    while process_alive(pid, start):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _unfinished(store: MetadataStore, run: RunRecord) -> list[RunRecord]:
    """The step runs that run again: every one that did not finish (a script run is its own step)."""
    if run.kind == SCRIPT_RUN:
        return [run]
    return [s for s in store.list_runs(parent_id=run.id) if s.status != StepRunStatus.Finished]


def _stop_leftovers(steps: list[RunRecord]) -> None:
    """Stop every process of the dead attempt's steps that is still alive (their descendants too),
    and make sure they are gone."""
    pids = {s.id: s.definition.get("pid") for s in steps}
    stop_step_processes(pids)
    deadline = time.monotonic() + GONE_SECONDS
    while left := find_step_processes(pids):
        if time.monotonic() > deadline:
            raise RunNotResumableError(
                f"Run {steps[0].parent_id or steps[0].id} cannot be resumed: process(es) "
                f"{', '.join(map(str, sorted(left)))} of the previous attempt are still alive.",
                hint=f"Stop them (kill -9 {' '.join(map(str, sorted(left)))}) and resume again.",
            )
        time.sleep(0.05)


def _set_aside(path: Path, attempt: int) -> None:
    """Keep ``name.ext`` of attempt N as ``name.attemptN.ext`` (nothing when it does not exist)."""
    if path.exists():
        os.replace(path, path.with_name(f"{path.stem}.attempt{attempt}{path.suffix}"))


def _reset_step(store: MetadataStore, ws_folder: Path, step: RunRecord, attempt: int) -> None:
    """Make an unfinished step run ready to run again: records back to NotStarted, half-written files gone."""
    run = RunLayout.of(ws_folder, step.id)
    _set_aside(run.std_log, attempt)
    run.driver_log.unlink(missing_ok=True)  # the same file under its classic name
    _set_aside(run.events_file, attempt)
    _set_aside(run.folder / END_REQUEST_FILE, attempt)  # the last attempt's run.fail()/cancel() is over
    for folder in (run.staging, run.workdir, run.inputs):
        shutil.rmtree(folder, ignore_errors=True)
        if folder.exists():  # something would not go (a mount left behind): out of the way
            os.replace(folder, folder.with_name(f"{folder.name}.attempt{attempt}"))
    store.forget_attempt(step.id, properties=_START_PROPERTIES)
    # A script run's definition also holds its plan and orchestrator: merge; a step run's is its own.
    definition = {**step.definition, "pid": None} if step.kind == SCRIPT_RUN else {}
    store.update_run(
        step.id,
        status=StepRunStatus.NotStarted,
        started_at=None,
        ended_at=None,
        error=None,
        fingerprint=None,
        reused_run_id=None,
        reason=None,
        definition=definition,
        reopen=True,
    )
    store.set_tags(step.id, {ATTEMPT_TAG: str(attempt + 1)})
