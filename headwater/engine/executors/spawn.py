"""How a step process is started, for both executors: its own session, its output into a capped log.

:class:`~headwater.engine.executors.local.LocalExecutor` starts steps here on this machine, the Ray
worker (:mod:`~headwater.engine.executors.ray_worker`) on a cluster node; both go through
:func:`start_step`, so a step sees the same thing wherever it runs:

* its argv in its own session (process group), so a signal to the group reaches what it starts;
* the environment of the starting process with the step's own variables over it (a Ray worker's
  ``CUDA_VISIBLE_DEVICES`` reaches the step), stdin from ``/dev/null``, no inherited descriptors;
* stdout and stderr, merged, copied into its log by a :class:`~.log_capture.LogCapture` within the cap.

A program that cannot be started is reported the same way by both: a ``[headwater] could not start``
line in the step's log, and the reason the executor reports (:func:`start_step_or_note`).

Stdlib only: the Ray worker imports it to run a step.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from headwater.engine.executors.log_capture import LogCapture

__all__ = ["LaunchFailure", "StepProcess", "signal_group", "start_step", "start_step_or_note"]


@dataclass(frozen=True)
class StepProcess:
    """A started step: its process and the capture copying its output into its log."""

    proc: subprocess.Popen[bytes]
    log: LogCapture


@dataclass(frozen=True)
class LaunchFailure:
    """A step whose program could not be started; ``message`` is also in its log."""

    message: str


def start_step(
    argv: Sequence[str],
    *,
    cwd: str | os.PathLike[str],
    env: Mapping[str, str],
    log_path: str | os.PathLike[str],
    log_cap: int,
    log_note: str = "",
) -> StepProcess:
    """Start ``argv`` in its own session with ``env`` over this process's environment, its output
    appended to ``log_path`` within ``log_cap`` bytes (``log_note``: a line to write first).

    The log's folder is created. OSError when the program cannot be started.
    """
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        list(argv),
        cwd=cwd,
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,  # copied into the log by a LogCapture, which caps it
        stderr=subprocess.STDOUT,
        start_new_session=True,
        close_fds=True,
    )
    assert proc.stdout is not None
    try:
        capture = LogCapture(proc.stdout, log_path, log_cap, note=log_note).start()
    except BaseException:  # the log cannot be written: no step runs without one
        signal_group(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        raise
    return StepProcess(proc, capture)


def start_step_or_note(
    argv: Sequence[str],
    *,
    cwd: str | os.PathLike[str],
    env: Mapping[str, str],
    log_path: str | os.PathLike[str],
    log_cap: int,
    log_note: str = "",
) -> StepProcess | LaunchFailure:
    """As :func:`start_step`; a program that cannot be started gives a :class:`LaunchFailure`, whose
    message (``could not start '<argv[0]>': <reason>``) is also written into the step's log."""
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)  # for the note, too
    try:
        return start_step(argv, cwd=cwd, env=env, log_path=log_path, log_cap=log_cap, log_note=log_note)
    except OSError as exc:
        message = f"could not start {argv[0]!r}: {exc.strerror or exc}"
        with open(log_path, "ab") as out:
            out.write(f"[headwater] {message}\n".encode())
        return LaunchFailure(message)


def signal_group(pid: int, sig: int) -> None:
    """Send ``sig`` to the process group led by ``pid``; a group that is gone (or not ours) is left alone."""
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
