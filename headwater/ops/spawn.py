"""Starting a run's orchestrator early: a detached process that waits for its run plan.

``submit`` starts the orchestrator before it snapshots, digests and records anything, so the
orchestrator's own start-up (the engine's imports; a fresh interpreter too where it cannot be
forked, :mod:`headwater.ops.orchestrator_fork`) overlaps that work; the orchestrator waits until
the plan file appears. When nothing needs to run (every step reused) or
submit fails, the waiting process is stopped before it has touched anything. Stdlib only, so the
SDK can call it before importing the rest of submit.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

from headwater.layout import RunLayout

__all__ = ["PendingRun", "start_pending_run", "start_orchestrator"]


def start_orchestrator(plan_path: Path, log_path: Path, *, resume: bool = False) -> int:
    """Start the orchestrator detached; it runs the plan at ``plan_path`` once that file exists.
    Returns its pid. ``resume``: the run was recorded by an earlier attempt; its Finished steps are
    kept (:mod:`headwater.ops.resume`).

    Forked from this process where that is safe (:mod:`headwater.ops.orchestrator_fork`: no
    second interpreter to start), else a new interpreter started through ``sh -c '... &'``, so it
    is nobody's zombie."""
    from headwater.ops.orchestrator_fork import fork_orchestrator, fork_refusal

    if fork_refusal() is None:
        pid = fork_orchestrator(plan_path, log_path, resume=resume)
        if pid > 0:
            return pid
    line = 'log="$1"; shift; "$0" -m headwater.engine.orchestrator "$@" </dev/null >>"$log" 2>&1 & echo $!'
    extra = ["--resume"] if resume else []
    # Submitted from inside a step, the new run is a run of its own, not a process of that step:
    # without the step's marker, stopping the step (or its end) leaves the new run alone.
    env = {k: v for k, v in os.environ.items() if k != "AZUREML_RUN_ID"}
    out = subprocess.run(
        ["/bin/sh", "-c", line, sys.executable, str(log_path), str(plan_path), *extra],
        check=True,
        capture_output=True,
        text=True,
        close_fds=True,
        env=env,
    )
    return int(out.stdout.strip())


@dataclass
class PendingRun:
    """A run id, its folder, and the orchestrator waiting for its plan."""

    run_id: str
    run_dir: Path
    plan_path: Path
    pid: int
    started: bool = True  # False: no orchestrator was started first (:meth:`start` starts it)
    all_reused: bool = False  # set by submit: every step was reused, the run finished without one

    def start(self) -> None:
        """Start the orchestrator now, when it was not started first (:mod:`headwater.ops.reuse_hint`)."""
        if not self.started:
            self.started = True
            self.pid = start_orchestrator(self.plan_path, RunLayout(self.run_dir).orchestrator_log)

    def stop(self) -> None:
        """Stop the waiting orchestrator (it has not touched anything yet)."""
        if self.pid <= 0:  # never signal a process group
            return
        try:
            os.kill(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.pid = 0

    def discard(self) -> None:
        """Stop the orchestrator and remove the run folder: submit failed, nothing was run."""
        self.stop()
        shutil.rmtree(self.run_dir, ignore_errors=True)


def start_pending_run(workspace_folder: str | os.PathLike[str], *, start: bool = True) -> PendingRun:
    """A new run id and folder in the workspace, with its orchestrator started and waiting.
    ``start=False``: none is started yet; submit starts it (:meth:`PendingRun.start`) only when a
    step must run."""
    run_id = str(uuid.uuid4())
    run = RunLayout.of(workspace_folder, run_id)
    run.system_logs.mkdir(parents=True, exist_ok=True)
    pid = start_orchestrator(run.plan, run.orchestrator_log) if start else 0
    return PendingRun(run_id, run.folder, run.plan, pid, started=start)
