"""``wait_for_completion``: poll the store, print SDK v1-style status lines, stream step logs."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from headwater.layout import RunLayout
from headwater.sdk.run_progress import ProgressBars
from headwater.status import TERMINAL, PipelineRunStatus, StepRunStatus

if TYPE_CHECKING:
    from headwater.sdk.runs import PipelineRun, StepRun
    from headwater.sdk.script_run import ScriptRun

__all__ = ["wait_for_pipeline", "wait_for_script", "wait_for_steps", "POLL_MIN_SECONDS", "POLL_MAX_SECONDS"]

#: The wait polls the store (one cheap indexed read per run): fast after a change, backing off to
#: POLL_MAX_SECONDS, which bounds how late the waiting script learns that the run ended.
POLL_MIN_SECONDS = 0.005
POLL_MAX_SECONDS = 0.05
#: Until the run's orchestrator holds its lock (it is still starting), polls are at most this far apart.
UNWATCHED_POLL_SECONDS = 0.05


class _EndWatch:
    """Wakes the wait the moment the run's orchestrator lets go of its lock: it wrote the run's final
    status just before (or it died, which the next poll detects), so the end is seen at once instead
    of up to a poll later, and polls in between can be sparse.

    A thread blocks in ``flock(LOCK_SH)`` on ``orchestrator.lock`` (:mod:`headwater.engine.liveness`)
    once the file names its holder, and lets go at once when it gets the lock. It wakes the wait once;
    a run that is still going after that (a resume starting) is polled as before.
    """

    def __init__(self, run_dir: str | os.PathLike[str] | None) -> None:
        self._lock = None if run_dir is None or os.name != "posix" else RunLayout(run_dir).orchestrator_lock
        self._ended = threading.Event()
        self._armed = False

    def sleep(self, seconds: float) -> None:
        """Sleep ``seconds``, or less when the orchestrator ended meanwhile."""
        if self._lock is None:
            time.sleep(seconds)
        elif not self._armed and not self._arm():
            time.sleep(min(seconds, UNWATCHED_POLL_SECONDS))  # no lock to watch yet
        elif self._ended.wait(seconds):
            self._lock = None  # spent: from now on plain polls

    def _arm(self) -> bool:
        if self._lock is None:
            return False
        try:
            fd = os.open(self._lock, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return False
        try:
            holder = os.pread(fd, 256, 0).strip()  # written by the orchestrator once it holds the lock
        except OSError:
            holder = b""
        if not holder:
            os.close(fd)
            return False
        threading.Thread(target=self._watch, args=(fd,), name="run-end-watch", daemon=True).start()
        self._armed = True
        return True

    def _watch(self, fd: int) -> None:
        import fcntl

        try:
            fcntl.flock(fd, fcntl.LOCK_SH)  # blocks for as long as the orchestrator holds the lock
        except OSError:
            pass
        finally:
            os.close(fd)  # lets go of it at once: an orchestrator resuming the run takes it
            self._ended.set()


class _LogTail:
    """Prints what was appended to a log file since the last call, a chunk at a time."""

    def __init__(self, path: Path, out: TextIO | ProgressBars) -> None:
        from headwater.sdk.log_files import LogFollower

        self._follower = LogFollower(path)
        self.out = out

    @property
    def offset(self) -> int:
        return self._follower.offset

    def pump(self) -> None:
        if self._follower.pump(self.out.write):
            self.out.flush()


def _statuses(previous: str | None, current: str, started: bool) -> list[str]:
    """The status lines to print for a change from ``previous`` to ``current``.

    A run that started and ended between two polls still shows that it was Running, so the
    output does not depend on how fast the steps are.
    """
    if previous == current:
        return []
    shown = []
    if current in TERMINAL and started and previous in (None, StepRunStatus.NotStarted, StepRunStatus.Queued):
        shown.append(StepRunStatus.Running)
    return [*shown, current]


def _follow(
    run: Any,
    steps: list[StepRun],
    out: TextIO | ProgressBars,
    show_output: bool,
    deadline: float,
    pipeline_status: str | None = None,
    watch: _EndWatch | None = None,
) -> str:
    watch = watch or _EndWatch(None)
    seen: dict[str, str] = {}
    tails: dict[str, _LogTail] = {}
    delay = POLL_MIN_SECONDS
    while True:
        status = run.get_status()
        changed = False
        if show_output and pipeline_status is not None and status != pipeline_status:
            for shown in _statuses(pipeline_status, status, run._record.started_at is not None):
                if shown not in TERMINAL:  # the final status is printed with the summary
                    out.write(f"PipelineRun Status: {shown}\n")
            pipeline_status = status
        records = [(step, step._refresh()) for step in steps]
        # Steps that ended since the last poll are reported first, so a step's end is never shown
        # after the start of the step it unblocked (which may come earlier in the list).
        records.sort(key=lambda sr: not (sr[1].status in TERMINAL and seen.get(sr[1].id) not in (None, sr[1].status)))
        for step, record in records:
            ran = record.started_at is not None and not record.reused_run_id
            tail = tails.get(record.id) or tails.setdefault(record.id, _LogTail(step._log_path(), out))
            before = tail.offset
            if isinstance(out, ProgressBars) and record.status in TERMINAL:
                out.end(record.id, str(record.name), step._folder)  # its last figures, then the status
            if show_output and seen.get(record.id) != record.status:
                if record.id not in seen:
                    out.write(f"StepRunId: {record.id}\n")
                reused = f" (reused: {record.reason})" if record.reused_run_id else ""
                for shown in _statuses(seen.get(record.id), record.status, ran):
                    if shown in TERMINAL and ran:
                        tail.pump()  # the step's last lines come before its final status
                    out.write(f"StepRun({record.name}) Status: {shown}{reused if shown == record.status else ''}\n")
                changed = True
            seen[record.id] = record.status
            if show_output and record.status == StepRunStatus.Queued:  # its environment may be being built
                key = record.id + ":build"
                build = tails.get(key) or tails.setdefault(key, _LogTail(step._build_log_path(), out))
                before_build = build.offset
                build.pump()
                changed = changed or build.offset != before_build
            if show_output and record.status == StepRunStatus.Running:
                tail.pump()
                if isinstance(out, ProgressBars):  # a ParallelRunStep's bar, on a terminal
                    changed = out.update(record.id, str(record.name), step._folder) or changed
            changed = changed or tail.offset != before
        if status in TERMINAL:
            return str(status)
        if time.monotonic() >= deadline:
            if show_output:
                out.write("Timed out waiting for the run to finish.\n")
            return str(status)
        delay = POLL_MIN_SECONDS if changed else min(delay * 1.5, POLL_MAX_SECONDS)
        watch.sleep(delay)


def wait_for_pipeline(run: PipelineRun, *, show_output: bool, timeout_seconds: float, raise_on_error: bool) -> str:
    out = sys.stdout
    deadline = time.monotonic() + min(timeout_seconds, 10**9)
    if show_output:
        out.write(f"PipelineRunId: {run.id}\n")
        out.write(f"Link to Headwater run folder: {run._run_dir}\n")
        first = run.get_status()
        out.write(f"PipelineRun Status: {first}\n")
    else:
        first = None
    bars = ProgressBars(out)
    watch = _EndWatch(run._run_dir)
    try:
        status = _follow(run, run._all_steps(), bars, show_output, deadline, pipeline_status=first, watch=watch)
    finally:
        bars.close()
    if show_output:
        details = run.get_details()
        out.write("\nPipelineRun Execution Summary\n==============================\n")
        out.write(f"PipelineRun Status: {status}\n")
        summary = {k: details.get(k) for k in ("runId", "status", "startTimeUtc", "endTimeUtc", "properties")}
        out.write(f"{summary}\n\n")
        out.flush()
    if status == PipelineRunStatus.Failed and raise_on_error:
        raise run._failure()
    return status


def wait_for_steps(
    run: StepRun, steps: list[StepRun], *, show_output: bool, timeout_seconds: float, raise_on_error: bool
) -> str:
    out = sys.stdout
    deadline = time.monotonic() + min(timeout_seconds, 10**9)
    bars = ProgressBars(out)
    try:
        status = _follow(run, steps, bars, show_output, deadline)
    finally:
        bars.close()
    if status == StepRunStatus.Failed and raise_on_error:
        from headwater.errors import ActivityFailedException

        record = run._refresh()
        error = record.error or {}
        raise ActivityFailedException(
            f"StepRun {run.name!r} ({run.id}) failed: {error.get('message', '')}\n{error.get('log_tail', '')}".rstrip()
        )
    return status


def wait_for_script(run: ScriptRun, *, show_output: bool) -> str:
    """Wait for a script run to end; with ``show_output`` print as SDK v1's ``Run.wait_for_completion`` does.

    That is ``RunId:`` and ``Web View:`` (here the run folder), ``Streaming <log>`` with the
    script's output as it is written, then ``Execution Summary`` repeating both.
    """
    out = sys.stdout
    header = f"RunId: {run.id}\nWeb View: {run._run_dir}\n"
    tail = _LogTail(run._log_path(), out)
    if show_output:
        log_name = "/".join(run._log_path().relative_to(run._folder).parts)
        out.write(f"{header}\nStreaming {log_name}\n{'=' * (len(log_name) + 10)}\n\n")
        out.flush()
    delay = POLL_MIN_SECONDS
    watch = _EndWatch(run._run_dir)
    while True:
        status = run.get_status()
        before = tail.offset
        if show_output:
            tail.pump()
        if status in TERMINAL:
            break
        delay = POLL_MIN_SECONDS if tail.offset != before else min(delay * 1.5, POLL_MAX_SECONDS)
        watch.sleep(delay)
    if show_output:
        out.write(f"\nExecution Summary\n=================\n{header}\n")
        out.flush()
    return str(status)
