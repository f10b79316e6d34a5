"""The worker side of the Ray executor: the bodies of the Ray tasks that run a step on a cluster node.

:mod:`~headwater.engine.executors.ray_executor` submits these (wrapped as Ray remote functions,
the only place that imports ``ray``); what they do is described there:

* :func:`run_step` starts the step (:func:`~headwater.engine.executors.spawn.start_step`, as the
  local executor does), polls it to its end, its timeout or a cancellation (``ray.cancel`` raises
  KeyboardInterrupt in the task body), and returns its outcome.
* :func:`run_shipped_step` does the same for a step shipped to a cluster without a shared
  filesystem (:mod:`headwater.engine.ship_worker`), yielding what its log and events file gained
  about every :data:`STREAM_SECONDS`, then its artifacts and its outcome.
* :func:`sweep` kills what a step left behind on a node, found by the task's marker
  (:data:`MARKER_ENV`) in its environment.

An outcome is ``{"node", "returncode", "reason", "message", "pid"}`` (and ``"outputs"`` for a
shipped step that committed its outputs); ``reason`` is 'exited', 'timeout' or 'launch_failed'.

Stdlib only: the node's id comes from the caller, which asks Ray's runtime context for it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from typing import Any

from headwater.engine.executors.log_capture import LogCapture
from headwater.engine.executors.process_tree import MARKER
from headwater.engine.executors.spawn import LaunchFailure, signal_group, start_step, start_step_or_note
from headwater.engine.executors.step_guard import step_guard

__all__ = ["MARKER_ENV", "STREAM_SECONDS", "run_shipped_step", "run_step", "sweep"]

#: How often a shipped step's task sends what its log and events file gained.
STREAM_SECONDS = 0.5
#: The variable that marks every process of one Ray task (a fresh value per task).
MARKER_ENV = "HEADWATER_RAY_TASK_MARKER"
_POLL_SECONDS = 0.1
#: After a step ended, how long its log waits for background processes still holding its output.
_LOG_LINGER_SECONDS = 2.0


def _stop_group(proc: subprocess.Popen[bytes], grace: float, marker: str) -> int:
    """SIGTERM the process group led by ``proc``, SIGKILL it after ``grace`` — and every process
    carrying the task's ``marker`` (a descendant in a session of its own); return the exit code."""
    signal_group(proc.pid, signal.SIGTERM)
    try:
        code = proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        code = None
    signal_group(proc.pid, signal.SIGKILL)  # also what the leader started and left behind in its group
    code = proc.wait() if code is None else code
    sweep(marker)
    return code


def _watch(
    proc: subprocess.Popen[bytes],
    timeout: float | None,
    grace: float,
    outcome: dict[str, Any],
    marker: str,
    run_id: str,
) -> Iterator[None]:
    """Poll ``proc`` until it exits (or its timeout stops it), yielding between polls; fills ``outcome``.
    What the step left running (marked with the task's ``marker``) is killed when it exits. Should
    this worker die meanwhile (Ray kills a job's workers when its driver, the orchestrator, dies),
    its step guard stops the step (:mod:`~headwater.engine.executors.step_guard`); left by an
    exception (Ray raises ``SystemExit`` in a worker whose driver died), it stops the step itself."""
    guard = step_guard(detach=True) if run_id else None
    if guard is not None:
        guard.started(run_id, proc.pid, grace)
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        while True:
            try:
                outcome["returncode"] = proc.wait(timeout=_POLL_SECONDS)
                sweep(marker)
                return
            except subprocess.TimeoutExpired:
                if deadline is not None and time.monotonic() >= deadline:
                    outcome.update(reason="timeout", message=f"exceeded max_run_duration_seconds={timeout:g}")
                    outcome["returncode"] = _stop_group(proc, grace, marker)
                    return
            yield
    finally:
        if outcome.get("returncode") is None:  # left by an exception: Ray's SystemExit when the driver died, a cancel
            _stop_group(proc, grace, marker)  # the step and what it started, before the guard forgets it
        if guard is not None:
            guard.ended(run_id)


def _new_outcome(node: str) -> dict[str, Any]:
    return {"node": node, "returncode": None, "reason": "exited", "message": "", "pid": None}


def run_step(
    node: str,
    argv: list[str],
    cwd: str,
    env: dict[str, str],
    log_path: str,
    timeout: float | None,
    grace: float,
    marker: str,
    log_cap: int,
) -> dict[str, Any]:
    """The body of a step's Ray task on node ``node``: run ``argv`` to its end, a timeout or a cancellation."""
    outcome = _new_outcome(node)
    proc: subprocess.Popen[bytes] | None = None
    capture: LogCapture | None = None
    try:
        started = start_step_or_note(argv, cwd=cwd, env={**env, MARKER_ENV: marker}, log_path=log_path, log_cap=log_cap)
        if isinstance(started, LaunchFailure):
            outcome.update(reason="launch_failed", message=started.message)
            return outcome
        proc, capture = started.proc, started.log
        outcome["pid"] = proc.pid
        for _ in _watch(proc, timeout, grace, outcome, marker, env.get(MARKER, "")):
            pass
        return outcome
    except KeyboardInterrupt:  # ray.cancel(ref): stop the step, then let Ray record the cancellation
        if proc is not None and proc.poll() is None:
            _stop_group(proc, grace, marker)
        raise
    finally:
        if capture is not None:
            capture.close(_LOG_LINGER_SECONDS)


def run_shipped_step(
    node: str,
    argv: list[str],
    cwd: str,
    env: dict[str, str],
    log_path: str,
    timeout: float | None,
    grace: float,
    marker: str,
    log_cap: int,
    payload: dict[str, Any],
) -> Iterator[dict[str, Any]]:
    """The body of a shipped step's Ray task (a streaming generator; :mod:`headwater.engine.ship_worker`).

    It fetches the snapshot and inputs into a fresh folder, runs the step there, yields
    ``{"log": bytes}`` / ``{"events": bytes}`` about every :data:`STREAM_SECONDS` while it runs,
    commits the outputs when it succeeded, yields ``{"artifacts": tar}`` (the working directory's
    ``outputs/`` and ``logs/``) and finally ``{"result": outcome}``; the folder is removed in every case.
    """
    from headwater.engine.ship_worker import ShippedStep

    outcome = _new_outcome(node)
    step = ShippedStep(payload)
    proc: subprocess.Popen[bytes] | None = None
    capture: LogCapture | None = None
    try:
        try:
            argv, cwd, env, log_path = step.prepare(argv, cwd, env, log_path)
            started = start_step(argv, cwd=cwd, env={**env, MARKER_ENV: marker}, log_path=log_path, log_cap=log_cap)
            proc, capture = started.proc, started.log
        except Exception as exc:  # HeadwaterError, OSError, a storage client's error
            detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            message = f"could not start the step on the Ray worker: {detail}"
            step.note(message)
            outcome.update(reason="launch_failed", message=message)
            for chunk in step.chunks():  # not `yield from`: Ray's driver calls send()
                yield chunk
            yield {"result": outcome}
            return
        outcome["pid"] = proc.pid
        last = time.monotonic()
        for _ in _watch(proc, timeout, grace, outcome, marker, env.get(MARKER, "")):
            if time.monotonic() - last >= STREAM_SECONDS:
                last = time.monotonic()
                for chunk in step.chunks():  # not `yield from`: Ray's driver calls send()
                    yield chunk
        capture.close(_LOG_LINGER_SECONDS)  # the log is complete before its last chunks go
        capture = None
        if outcome["reason"] == "exited" and outcome["returncode"] == 0:
            try:
                outcome["outputs"] = step.commit()
            except Exception as exc:  # nothing more is uploaded; the orchestrator fails the step with this
                outcome["message"] = f"committing its outputs from the Ray worker failed: {type(exc).__name__}: {exc}"
                step.note(outcome["message"])
        artifacts = step.artifacts()
        if artifacts is not None:
            yield {"artifacts": artifacts}
        for chunk in step.chunks():  # not `yield from`: Ray's driver calls send()
            yield chunk
        yield {"result": outcome}
    except KeyboardInterrupt:  # ray.cancel: stop the step, upload nothing, let Ray record the cancellation
        if proc is not None and proc.poll() is None:
            _stop_group(proc, grace, marker)
        raise
    finally:
        if capture is not None:
            capture.close(_LOG_LINGER_SECONDS)
        step.cleanup()


def sweep(marker: str) -> list[int]:
    """Kill the processes on this node whose environment carries ``marker``; return their pids."""
    needle = f"{MARKER_ENV}={marker}".encode()
    killed: list[int] = []
    try:
        entries = list(os.scandir("/proc"))
    except OSError:  # not Linux: nothing to look at
        return killed
    for entry in entries:
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            with open(os.path.join(entry.path, "environ"), "rb") as fh:
                if needle not in fh.read().split(b"\0"):
                    continue
            os.kill(int(entry.name), signal.SIGKILL)
            killed.append(int(entry.name))
        except OSError:
            continue
    return killed
