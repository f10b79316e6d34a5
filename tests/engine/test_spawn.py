"""How both executors start a step process (headwater.engine.executors.spawn), with real processes."""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from headwater.engine.executors.spawn import LaunchFailure, StepProcess, signal_group, start_step, start_step_or_note
from tests.conftest import alive

SCRIPT = (
    "import os, sys\n"
    "print(os.getpgid(0) == os.getpid(), os.getsid(0) == os.getpid())\n"
    "print(os.environ['HW_SPAWN_TEST'], os.environ.get('HW_FROM_PARENT'))\n"
    "print(sys.stdin.read() == '')\n"
    "print('to stderr', file=sys.stderr)\n"
)


def poll(condition: Callable[[], Any], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


def _finish(started: StepProcess) -> int:
    code = started.proc.wait(timeout=60)
    started.log.close(2.0)
    return code


def test_a_step_runs_in_its_own_session_with_its_environment_over_ours_and_its_output_logged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HW_FROM_PARENT", "inherited")
    monkeypatch.setenv("HW_SPAWN_TEST", "overridden")
    log = tmp_path / "logs" / "std_log.txt"  # its folder is created
    started = start_step(
        [sys.executable, "-c", SCRIPT],
        cwd=tmp_path,
        env={"HW_SPAWN_TEST": "the step's"},
        log_path=log,
        log_cap=1 << 20,
        log_note="[headwater] a note first\n",
    )
    assert _finish(started) == 0
    assert log.read_text().splitlines() == [
        "[headwater] a note first",
        "True True",
        "the step's inherited",
        "True",
        "to stderr",
    ]


def test_a_program_that_cannot_start_is_noted_in_the_log_and_returned(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "std_log.txt"
    missing = str(tmp_path / "no-such-program")
    started = start_step_or_note([missing], cwd=tmp_path, env={}, log_path=log, log_cap=1 << 20)
    assert isinstance(started, LaunchFailure)
    assert started.message.startswith(f"could not start {missing!r}: ")
    assert log.read_text() == f"[headwater] {started.message}\n"


def test_start_step_or_note_starts_a_program_that_exists(tmp_path: Path) -> None:
    log = tmp_path / "std_log.txt"
    started = start_step_or_note([sys.executable, "-c", "print('hi')"], cwd=tmp_path, env={}, log_path=log, log_cap=100)
    assert isinstance(started, StepProcess)
    assert _finish(started) == 0
    assert log.read_text() == "hi\n"


def test_signal_group_reaches_the_whole_group_and_ignores_one_that_is_gone(tmp_path: Path) -> None:
    log = tmp_path / "std_log.txt"
    code = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    started = start_step([sys.executable, "-c", code], cwd=tmp_path, env={}, log_path=log, log_cap=1 << 20)
    poll(lambda: log.read_text().strip(), "the step to start its child")
    child = int(log.read_text())
    signal_group(started.proc.pid, signal.SIGKILL)
    assert _finish(started) == -signal.SIGKILL
    poll(lambda: not alive(child), "the step's child to be killed with its group")
    signal_group(started.proc.pid, signal.SIGTERM)  # the group is gone: nothing is raised
