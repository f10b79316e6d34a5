"""Local executor: each task is a real subprocess on this machine.

Each process is started by :mod:`~headwater.engine.executors.spawn` (as on a Ray worker) in its
own session (process group), so cancelling or timing out a step stops everything it started:
SIGTERM to the group, then SIGKILL after a grace period — and to every descendant that left the
group (:mod:`~headwater.engine.executors.process_tree`). What a step leaves running when it exits
is stopped before its result is reported (so nothing writes into its outputs once they are
committed), and what is left at ``close`` is killed. One waiter thread per process reports its
end on a queue, so the orchestrator sleeps until something happens instead of polling. In a
subreaper process (the orchestrator) the orphans it adopts from steps are reaped.
"""

from __future__ import annotations

import queue
import signal
import subprocess
import threading
from dataclasses import dataclass, field

from headwater.engine.executors import process_tree, step_guard
from headwater.engine.executors.base import Executor, TaskResult, TaskSpec
from headwater.engine.executors.log_capture import LogCapture, max_log_bytes
from headwater.engine.executors.spawn import LaunchFailure, signal_group, start_step_or_note
from headwater.engine.executors.warm_start import ForkedStep, WarmStarter

__all__ = ["LocalExecutor", "TERMINATE_GRACE_SECONDS"]

TERMINATE_GRACE_SECONDS = 10.0
#: After a step ended, how long its log waits for background processes still holding its output.
LOG_LINGER_SECONDS = 2.0


@dataclass
class _Running:
    task: TaskSpec
    proc: subprocess.Popen[bytes] | ForkedStep
    log: LogCapture
    stop_reason: str | None = None  # 'timeout' | 'canceled' once we decided to stop it
    timer: threading.Timer | None = None
    killer: threading.Timer | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


class LocalExecutor(Executor):
    """Runs tasks as subprocesses of this process."""

    def __init__(self, *, grace_seconds: float = TERMINATE_GRACE_SECONDS) -> None:
        self._grace = grace_seconds
        self._done: queue.Queue[TaskResult] = queue.Queue()
        self._running: dict[str, _Running] = {}
        self._lock = threading.Lock()
        self._launched: dict[str, int] = {}  # every step started: run id -> pid (for its descendants)
        self._reaper = process_tree.OrphanReaper(self._tree_state) if process_tree.is_subreaper() else None
        self._warm = WarmStarter()
        self._guard = step_guard.step_guard()  # stops our steps should this process die

    def submit(self, task: TaskSpec) -> None:
        env = {**task.env, process_tree.MARKER: task.run_id}  # what ties a descendant to it
        cap, note = max_log_bytes()
        proc: subprocess.Popen[bytes] | ForkedStep
        if self._guard is not None:
            self._guard.started(task.run_id, None, self._grace)
        warm = self._warm.start(
            task.argv, cwd=task.cwd, env=env, log_path=task.log_path, log_cap=cap, log_note=note, step=task.step_name
        )
        if warm is not None:
            proc, log = warm
        else:
            started = start_step_or_note(
                task.argv, cwd=task.cwd, env=env, log_path=task.log_path, log_cap=cap, log_note=note
            )
            if isinstance(started, LaunchFailure):
                if self._guard is not None:
                    self._guard.ended(task.run_id)
                self._done.put(TaskResult(task.run_id, None, "launch_failed", started.message))
                return
            proc, log = started.proc, started.log
        entry = _Running(task, proc, log)
        with self._lock:
            self._running[task.run_id] = entry
            self._launched[task.run_id] = proc.pid
        if self._guard is not None:
            self._guard.started(task.run_id, proc.pid, self._grace)
        if task.timeout_seconds is not None:
            entry.timer = threading.Timer(task.timeout_seconds, self._stop, (task.run_id, "timeout"))
            entry.timer.daemon = True
            entry.timer.start()
        threading.Thread(target=self._wait_for, args=(entry,), name=f"wait-{proc.pid}", daemon=True).start()

    def _wait_for(self, entry: _Running) -> None:
        code = entry.proc.wait()
        for t in (entry.timer, entry.killer):
            if t is not None:
                t.cancel()
        self._stop_leftovers(entry)  # first: a leftover holding the step's output open ends the log too
        entry.log.close(LOG_LINGER_SECONDS)
        if self._guard is not None:
            self._guard.ended(entry.task.run_id)
        with self._lock:
            self._running.pop(entry.task.run_id, None)
        with entry.lock:
            reason = entry.stop_reason or "exited"
        message = ""
        if reason == "timeout":
            message = f"exceeded max_run_duration_seconds={entry.task.timeout_seconds:g}"
        elif reason == "canceled":
            message = "canceled"
        self._done.put(TaskResult(entry.task.run_id, code, reason, message, entry.proc.pid))
        if isinstance(entry.proc, ForkedStep):
            try:  # after its result: the server of its import set, for its next run
                self._warm.ended(entry.proc)
            except Exception:
                pass

    def _signal_group(self, entry: _Running, sig: int) -> None:
        signal_group(entry.proc.pid, sig)
        # descendants that started a session of their own are not in the group
        process_tree.signal_pids(process_tree.find_step_processes({entry.task.run_id: entry.proc.pid}), sig)

    def _tree_state(self) -> tuple[set[int], dict[str, int]]:
        """The step processes not reaped yet, and every step started (for the orphan reaper)."""
        with self._lock:
            known = {e.proc.pid for e in self._running.values()} | self._warm.server_pids() | step_guard.guard_pids()
            return known, dict(self._launched)

    def _stop_leftovers(self, entry: _Running) -> None:
        """Stop what the step left running (SIGTERM, SIGKILL after the grace period)."""
        forked_orphans = isinstance(entry.proc, ForkedStep) and entry.proc.orphans
        if forked_orphans or process_tree.leftovers_possible(
            entry.proc.pid, self._tree_state()[0], adopting=self._reaper is not None
        ):
            process_tree.stop_step_processes({entry.task.run_id: entry.proc.pid}, grace=self._grace)

    def _stop(self, run_id: str, reason: str) -> None:
        with self._lock:
            entry = self._running.get(run_id)
        if entry is None:
            return
        with entry.lock:
            if entry.stop_reason is not None:
                return
            entry.stop_reason = reason
        self._signal_group(entry, signal.SIGTERM)
        entry.killer = threading.Timer(self._grace, self._signal_group, (entry, signal.SIGKILL))
        entry.killer.daemon = True
        entry.killer.start()

    def cancel(self, run_id: str) -> None:
        self._stop(run_id, "canceled")

    def wait(self, timeout: float | None) -> list[TaskResult]:
        results: list[TaskResult] = []
        try:
            results.append(self._done.get(timeout=timeout))
        except queue.Empty:
            return results
        while True:
            try:
                results.append(self._done.get_nowait())
            except queue.Empty:
                return results

    def pid(self, run_id: str) -> int | None:
        with self._lock:
            entry = self._running.get(run_id)
        return None if entry is None else entry.proc.pid

    def running(self) -> set[str]:
        with self._lock:
            return set(self._running)

    def close(self) -> None:
        with self._lock:
            entries = list(self._running.values())
        for entry in entries:
            self._stop(entry.task.run_id, "canceled")
        for entry in entries:
            try:
                entry.proc.wait(timeout=self._grace + 5)
            except subprocess.TimeoutExpired:
                self._signal_group(entry, signal.SIGKILL)
                entry.proc.wait()
        if self._reaper is not None:
            self._reaper.close()
        with self._lock:
            launched = dict(self._launched)
        if launched and (
            entries or process_tree.children_of_self() - step_guard.guard_pids() - self._warm.server_pids()
        ):
            process_tree.stop_step_processes(launched)  # nothing a step started outlives this executor
