"""What the workloads that talk to a real ``headwater serve`` share: the server's start and stop,
this process's environment as the runs', waiting for a condition and for a run's end.

:func:`serving` starts ``headwater serve --port 0`` on a workspace with the bench environment,
its output in ``<work>/logs/<log_name>``, waits until the server's record names that process and
it answers, yields the record (``.url``), and stops it on the way out (SIGTERM, then SIGKILL
after 30 s), always waiting for it, so no server outlives its workload.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from benchmarks.harness import Bench, BenchError

if TYPE_CHECKING:
    from headwater.ops.server_process import ServerInfo

__all__ = ["bench_environment", "finish_run", "serving", "wait_for"]

T = TypeVar("T")

START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0


def wait_for(what: str, condition: Callable[[], T], timeout: float = 120.0) -> T:
    """Poll ``condition`` until it returns something true (returned); BenchError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise BenchError(f"no {what} after {timeout:g} s")
        time.sleep(0.01)
    return value


@contextmanager
def bench_environment(bench: Bench) -> Iterator[None]:
    """This process's environment as the runs' (HEADWATER_HOME, BENCH_LEDGER): runs it submits inherit it."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(bench.env())
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def finish_run(bench: Bench, store: Any, run_id: str, label: str, steps: list[str]) -> None:
    """Wait for run ``run_id`` to end; BenchError unless it Finished having started ``steps``."""
    from headwater.status import TERMINAL

    record = wait_for(
        f"end of run {run_id}", lambda: (r := store.get_run(run_id)) is not None and r.status in TERMINAL and r
    )
    if record.status != "Finished":
        raise BenchError(f"{label}: run {run_id} ended {record.status}")
    bench.expect_started(label, steps)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def serving(bench: Bench, folder: Path, log_name: str) -> Iterator[ServerInfo]:
    """A real ``headwater serve`` on workspace ``folder`` for the body; its record (``.url``)."""
    from headwater.ops.server_process import running_server

    log = bench.work / "logs" / log_name
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [bench.python, "-m", "headwater", "serve", "--folder", str(folder), "--port", "0"],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=bench.env(),
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while (info := running_server(folder)) is None or info.pid != proc.pid:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise BenchError(f"headwater serve did not start (log: {log})")
            time.sleep(0.05)
        yield info
    finally:
        _stop(proc)
