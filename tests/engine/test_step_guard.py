"""The step guard (headwater.engine.executors.step_guard): when its pipe ends — the process holding
it died — it stops the steps still listed, with what they started, and nothing else: not a step
that ended, not a process of a new attempt that carries the same run id.

Real processes and signals; waits are bounded polls (tests/reliability/test_orphaned_steps.py
kills a real orchestrator)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from headwater.engine.executors import step_guard
from headwater.engine.executors.process_tree import MARKER
from tests.conftest import alive

pytestmark = pytest.mark.slow

# A step that ignores SIGTERM (writing <term file> when it gets one), with a child in a session of its own.
STUBBORN = """
import os, signal, subprocess, sys, time
def on_term(*_):
    open(sys.argv[1], "w").close()
signal.signal(signal.SIGTERM, on_term)
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], start_new_session=True)
print(child.pid, flush=True)
time.sleep(120)
"""


def poll(condition: Any, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting: {what}"
        time.sleep(0.02)


@pytest.fixture
def guard() -> Iterator[step_guard.StepGuard]:
    started = step_guard._start()
    assert started is not None
    yield started
    started.close()
    poll(lambda: not started.running(), "the guard to exit")


def step(run_id: str, *argv: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, *argv],
        env={**os.environ, MARKER: run_id},
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def test_the_listed_steps_stop_when_the_pipe_ends_and_the_ended_ones_are_left_alone(
    guard: step_guard.StepGuard, tmp_path: Path
) -> None:
    listed = step("run-listed", "-c", STUBBORN, str(tmp_path / "term"))
    ended = step("run-ended", "-c", "import time; print(0, flush=True); time.sleep(120)")
    try:
        assert listed.stdout is not None and ended.stdout is not None
        child = int(listed.stdout.readline())  # the step's own-session child
        ended.stdout.readline()
        guard.started("run-listed", listed.pid, 0.2)
        guard.started("run-ended", ended.pid, 0.2)
        guard.ended("run-ended")
        guard.close()  # as the kernel does when the orchestrator dies
        listed.wait(timeout=60)  # SIGTERM ignored: SIGKILL after the grace period
        poll(lambda: not alive(child), "the step's own-session child to be stopped")
        assert (tmp_path / "term").exists()  # SIGTERM came first
        assert ended.poll() is None
        poll(lambda: not guard.running(), "the guard to exit")
    finally:
        for proc in (listed, ended):
            proc.kill()
            proc.wait()
            assert proc.stdout is not None
            proc.stdout.close()


def test_a_process_of_a_new_attempt_with_the_same_run_id_is_not_stopped(
    guard: step_guard.StepGuard, tmp_path: Path
) -> None:
    old = step("run-1", "-c", STUBBORN, str(tmp_path / "term"))
    new: subprocess.Popen[str] | None = None
    try:
        assert old.stdout is not None
        child = int(old.stdout.readline())
        guard.started("run-1", old.pid, 3.0)
        guard.close()
        poll((tmp_path / "term").exists, "the guard to have sent SIGTERM")  # it is in its grace period now
        time.sleep(0.05)  # not a timing assertion: the new attempt starts in a later clock tick
        new = step("run-1", "-c", "import time; print(0, flush=True); time.sleep(120)")  # resume's new attempt
        assert new.stdout is not None
        new.stdout.readline()
        old.wait(timeout=60)
        poll(lambda: not alive(child), "the old attempt's child to be stopped")
        poll(lambda: not guard.running(), "the guard to exit")
        assert new.poll() is None
    finally:
        for proc in (old, new):
            if proc is not None:
                proc.kill()
                proc.wait()
                assert proc.stdout is not None
                proc.stdout.close()


def test_a_process_has_one_guard_and_a_forked_child_does_not_hold_its_pipe() -> None:
    first = step_guard.step_guard()
    assert first is not None and step_guard.step_guard() is first
    assert step_guard.guard_pids() == {first.pid}
    code = (
        "import os, sys\n"
        "from headwater.engine.executors import step_guard\n"
        "guard = step_guard.step_guard()\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    os._exit(0 if step_guard._GUARD is None and step_guard.guard_pids() == set() else 1)\n"
        "assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0\n"
        "print(guard.pid)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    guard_pid = int(out.stdout)
    poll(lambda: not alive(guard_pid), "the guard of the process that ended to exit")


def test_the_guard_holds_no_descriptor_but_its_pipe_and_output() -> None:
    """An inherited descriptor (say a Ray worker's socket to its raylet) must not be kept open by
    the guard: its peer would never see the worker's death."""
    read_end, write_end = os.pipe()
    os.set_inheritable(write_end, True)  # as a descriptor a C library opened without close-on-exec
    started = step_guard._start()
    try:
        assert started is not None

        def only_standard() -> bool:
            return sorted(int(fd) for fd in os.listdir(f"/proc/{started.pid}/fd")) == [0, 1, 2]

        poll(only_standard, "the guard to close what it inherited")
        os.close(write_end)
        write_end = -1
        assert os.read(read_end, 1) == b""  # nobody else holds the write end
    finally:
        os.close(read_end)
        if write_end >= 0:
            os.close(write_end)
        if started is not None:
            started.close()
            poll(lambda: not started.running(), "the guard to exit")


def test_a_step_of_a_ray_worker_that_is_killed_stops(tmp_path: Path) -> None:
    """Ray kills a job's workers when its driver (the orchestrator) dies; the step a worker started
    (in a session of its own) stops with it. The worker here is a plain process running the Ray
    task's body, ``ray_worker.run_step``."""
    pid_file = tmp_path / "step.pid"
    step_code = f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(120)"
    worker_code = (
        "import sys\n"
        "from headwater.engine.executors.ray_worker import run_step\n"
        f"run_step('node', [sys.executable, '-c', {step_code!r}], {str(tmp_path)!r}, {{'{MARKER}': 'run-ray'}},\n"
        f"         {str(tmp_path / 'std_log.txt')!r}, None, 0.5, 'task-marker', 1 << 20)\n"
    )
    worker = subprocess.Popen([sys.executable, "-c", worker_code])
    try:
        poll(lambda: pid_file.exists() and pid_file.read_text().isdigit(), "the step to start")
        step_pid = int(pid_file.read_text())
        worker.kill()
        worker.wait()
        poll(lambda: not alive(step_pid), "the step of the killed worker to stop")
    finally:
        worker.kill()
        worker.wait()


def _step_with_a_daemon(pid_file: Path) -> str:
    """A step that starts a daemon in a session of its own and writes both pids to ``pid_file``."""
    return (
        "import os, subprocess, sys, time\n"
        "d = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'], start_new_session=True)\n"
        f"open({str(pid_file)!r} + '.tmp', 'w').write('%d %d' % (os.getpid(), d.pid))\n"
        f"os.replace({str(pid_file)!r} + '.tmp', {str(pid_file)!r})\n"
        "time.sleep(120)\n"
    )


def _children_of(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as fh:
        return [int(p) for p in fh.read().split()]


def test_a_ray_worker_s_guard_survives_the_worker_s_direct_children_being_killed(tmp_path: Path) -> None:
    """When a Ray worker dies, Ray kills its direct children too: the worker's guard must not be one
    of them (it is detached), or the step's own-session descendants would run on."""
    pid_file = tmp_path / "step.pid"
    step_code = _step_with_a_daemon(pid_file)
    worker_code = (
        "import sys\n"
        "from headwater.engine.executors.ray_worker import run_step\n"
        f"run_step('node', [sys.executable, '-c', {step_code!r}], {str(tmp_path)!r}, {{'{MARKER}': 'run-ray'}},\n"
        f"         {str(tmp_path / 'std_log.txt')!r}, None, 0.5, 'task-marker', 1 << 20)\n"
    )
    worker = subprocess.Popen([sys.executable, "-c", worker_code])
    try:
        poll(lambda: pid_file.exists(), "the step to start")
        pids = [int(p) for p in pid_file.read_text().split()]
        victims = [worker.pid, *_children_of(worker.pid)]  # the worker and its direct children, as Ray does
        for pid in victims:
            os.kill(pid, signal.SIGKILL)
        worker.wait()
        poll(lambda: not any(alive(p) for p in pids), "the step and its own-session child to stop")
    finally:
        worker.kill()
        worker.wait()


def test_a_ray_worker_that_exits_on_systemexit_stops_its_step_first(tmp_path: Path) -> None:
    """Ray raises SystemExit in a worker whose driver died: the task's body stops the step and what it
    started (in a session of its own) before the worker exits."""
    pid_file = tmp_path / "step.pid"
    step_code = _step_with_a_daemon(pid_file)
    worker_code = (
        "import os, signal, sys\n"
        "def leave(*_): raise SystemExit(1)\n"
        "signal.signal(signal.SIGUSR1, leave)\n"
        "from headwater.engine.executors.ray_worker import run_step\n"
        f"run_step('node', [sys.executable, '-c', {step_code!r}], {str(tmp_path)!r},\n"
        f"         {{'{MARKER}': 'run-ray', 'HEADWATER_RAY_TASK_MARKER': 'task-exit'}},\n"
        f"         {str(tmp_path / 'std_log.txt')!r}, None, 0.5, 'task-exit', 1 << 20)\n"
    )
    worker = subprocess.Popen([sys.executable, "-c", worker_code])
    try:
        poll(lambda: pid_file.exists(), "the step to start")
        pids = [int(p) for p in pid_file.read_text().split()]
        worker.send_signal(signal.SIGUSR1)
        assert worker.wait(timeout=60) == 1
        assert not any(alive(p) for p in pids)  # stopped before the worker exited, not by its guard later
    finally:
        worker.kill()
        worker.wait()
