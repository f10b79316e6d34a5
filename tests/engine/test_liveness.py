"""engine.liveness: the run lock decides, with real processes and signals; the process is the fallback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from headwater.engine.liveness import Liveness, hold_run_lock, identity, probe, process_start
from headwater.layout import RunLayout

HOLDER = """
import sys, time
from pathlib import Path
from headwater.engine.liveness import hold_run_lock
hold_run_lock(Path(sys.argv[1]))
print("held", flush=True)
time.sleep(120)
"""


def verdict(run_dir: Path | None, pid: int, start: str | None = None, host: str | None = None) -> Liveness:
    with probe(run_dir, pid, start, host) as v:
        return v


def test_a_held_lock_is_alive_even_stopped_and_a_released_one_is_dead(tmp_path: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        start = process_start(holder.pid)
        assert RunLayout(tmp_path).orchestrator_lock.read_text() == identity(holder.pid)
        os.kill(holder.pid, signal.SIGSTOP)
        assert verdict(tmp_path, holder.pid, start) is Liveness.ALIVE
        os.kill(holder.pid, signal.SIGCONT)
        holder.kill()
        holder.wait()
        assert verdict(tmp_path, holder.pid, start) is Liveness.DEAD
        # the lock file names another orchestrator (one that is starting): its own process decides
        assert verdict(tmp_path, os.getpid(), process_start(os.getpid())) is Liveness.ALIVE
    finally:
        holder.kill()
        holder.wait()
        assert holder.stdout is not None
        holder.stdout.close()


def test_a_second_orchestrator_cannot_take_a_held_lock(tmp_path: Path) -> None:
    fd = hold_run_lock(tmp_path)
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from pathlib import Path; from headwater.engine.liveness import "
                "hold_run_lock; hold_run_lock(Path(sys.argv[1]), wait_seconds=0.2)",
                str(tmp_path),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode != 0
        assert "this run already has an orchestrator" in done.stderr
    finally:
        os.close(fd)


def test_without_a_lock_the_process_decides_and_another_machine_is_never_judged(tmp_path: Path) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    me, my_start = os.getpid(), process_start(os.getpid())
    assert verdict(tmp_path, me, my_start) is Liveness.ALIVE  # no lock file
    assert verdict(None, me) is Liveness.ALIVE
    assert verdict(tmp_path, gone.pid) is Liveness.DEAD
    assert verdict(tmp_path, me, "1") is Liveness.DEAD  # the pid is another process now
    assert verdict(tmp_path, gone.pid, host="another-machine") is Liveness.ALIVE


def test_a_reader_holds_the_lock_while_it_acts_on_a_death(tmp_path: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    holder.stdout.close()
    start = process_start(holder.pid)
    holder.kill()
    holder.wait()
    with probe(tmp_path, holder.pid, start) as v:
        assert v is Liveness.DEAD
        # a new orchestrator for the run waits for the reader (here: gives up, the reader is slow)
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from pathlib import Path; from headwater.engine.liveness import "
                "hold_run_lock; hold_run_lock(Path(sys.argv[1]), wait_seconds=0.2)",
                str(tmp_path),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode != 0
    fd = hold_run_lock(tmp_path, wait_seconds=5)  # after the reader: free
    os.close(fd)
