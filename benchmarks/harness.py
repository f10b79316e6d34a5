"""What every workload uses: sizes, the scratch folders, timed whole-process runs, the ledger.

A *run* is a whole process started with the venv's interpreter by absolute path (or ``/bin/sh``
for a floor script), timed from start to exit with ``time.perf_counter``. Children get the
caller's environment without ``PYTHONDONTWRITEBYTECODE`` (a user's machine caches bytecode), with
``HEADWATER_HOME`` in the scratch folder and ``BENCH_LEDGER`` naming the ledger every step writes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from headwater import Workspace

__all__ = ["Bench", "BenchError", "LedgerLine", "ReuseError", "Sizes", "SCRIPTS"]

SCRIPTS = Path(__file__).resolve().parent / "scripts"
_LOG_TAIL_BYTES = 4000


class BenchError(RuntimeError):
    """A benchmark run failed: the message says which and shows the end of its log."""


class ReuseError(BenchError):
    """Headwater ran (or reused) other steps than the workload expects: the figure would be wrong."""


@dataclass(frozen=True)
class Sizes:
    """How big each workload is. ``full()`` is issue 8's definition; ``quick()`` is for the test."""

    chain_steps: int
    chain_edit: int  # the step whose script is edited in the "changed" figures
    fan_width: int
    fan_sleep: float
    big_files: int
    big_file_bytes: int
    submit_files: int
    submit_bytes: int
    remote_files: int
    remote_file_bytes: int
    studio_runs: int = 10_000  # top-level runs in the studio's runs page workspace
    studio_small: int = 200  # steps of the studio's two pipeline run pages
    studio_large: int = 1_000
    score_files: int = 100  # parallel: a scikit-learn model over score_rows CSV rows in score_files files
    score_rows: int = 1_000_000
    small_files: int = 10_000  # parallel: small files through a trivial entry script
    drift_baseline_rows: int = 1_000_000  # drift: compute_drift over these rows x 20 features ...
    drift_target_rows: int = 100_000  # ... against these

    @staticmethod
    def full() -> Sizes:
        return Sizes(10, 5, 8, 0.5, 1000, (1 << 30) // 1000, 2000, 100_000_000, 64, 1 << 20)

    @staticmethod
    def quick() -> Sizes:
        return Sizes(
            3, 1, 2, 0.05, 20, 512 << 10, 20, 200_000, 4, 64 << 10, 300, 20, 50, 4, 2000, 50, 2000, 500
        )  # 10 MiB: digests on threads


@dataclass(frozen=True)
class LedgerLine:
    name: str
    event: str  # 'start' | 'end' | 'call'
    time: float


@dataclass
class Bench:
    """One benchmark invocation: where things go, how big, how often; runs processes."""

    python: str
    work: Path  # scratch: projects, workspaces, logs (emptied at start)
    data: Path  # generated data kept between invocations
    sizes: Sizes
    repeat: int
    timeout: float = 600.0
    verbose: bool = True
    extra_env: dict[str, str] = field(default_factory=dict)
    _runs: int = 0

    def __post_init__(self) -> None:
        if not os.path.isabs(self.python):
            raise BenchError(f"the interpreter must be an absolute path, not {self.python!r}")
        if self.work.exists():
            shutil.rmtree(self.work)
        for sub in ("logs", "workspaces", "home"):
            (self.work / sub).mkdir(parents=True)
        self.data.mkdir(parents=True, exist_ok=True)
        self.ledger.write_text("")

    @property
    def ledger(self) -> Path:
        return self.work / "ledger.txt"

    def say(self, text: str) -> None:
        if self.verbose:
            print(text, file=sys.stderr, flush=True)

    # -- environment and processes ---------------------------------------------------------------

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "HEADWATER_MAX_CONCURRENCY")}
        env.update(HEADWATER_HOME=str(self.work / "home"), BENCH_LEDGER=str(self.ledger))
        env.update(self.extra_env)
        env.update(extra)
        return env

    def timed(self, argv: Sequence[str], *, cwd: Path, label: str, env: dict[str, str] | None = None) -> float:
        """Run ``argv`` to its end; its wall time in seconds. A non-zero exit raises :class:`BenchError`.

        The wait is a blocking ``waitpid`` (a timer thread kills a run that outlives ``timeout``):
        ``subprocess.run(timeout=...)`` polls with growing sleeps and would round every figure up.
        """
        self._runs += 1
        log_path = self.work / "logs" / f"{self._runs:04d}-{label.replace(' ', '_').replace('/', '_')}.log"
        os.sync()  # don't make this run pay for writing back what earlier runs wrote
        with open(log_path, "wb") as log:
            start = time.perf_counter()
            proc = subprocess.Popen(
                list(argv),
                cwd=cwd,
                env=env or self.env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            watchdog = threading.Timer(self.timeout, proc.kill)
            watchdog.start()
            try:
                returncode = proc.wait()
            finally:
                watchdog.cancel()
            elapsed = time.perf_counter() - start
        if watchdog.finished.is_set() and elapsed >= self.timeout:
            raise BenchError(f"{label}: still running after {self.timeout:g} s (killed); log: {log_path}")
        if returncode != 0:
            tail = log_path.read_bytes()[-_LOG_TAIL_BYTES:].decode(errors="replace")
            raise BenchError(f"{label}: exit code {returncode}; log {log_path}:\n{tail}")
        return elapsed

    # -- the ledger --------------------------------------------------------------------------------

    def take_ledger(self) -> list[LedgerLine]:
        """The ledger's lines since the last call (and empty it)."""
        lines = []
        for raw in self.ledger.read_text(encoding="utf-8").splitlines():
            name, event, when = raw.split()
            lines.append(LedgerLine(name, event, float(when)))
        self.ledger.write_text("")
        return lines

    def expect_started(self, label: str, expected: Sequence[str]) -> list[LedgerLine]:
        """Take the ledger; raise :class:`ReuseError` unless exactly ``expected`` step processes started."""
        lines = self.take_ledger()
        started = sorted(line.name for line in lines if line.event == "start")
        if started != sorted(expected):
            raise ReuseError(
                f"{label}: expected the step processes {sorted(expected)} to run, but {started} ran. "
                "Reuse is not working as this workload expects, so its figure would be meaningless."
            )
        return lines

    # -- projects and workspaces -------------------------------------------------------------------

    def project(self, name: str) -> Path:
        folder = self.work / name
        folder.mkdir()
        return folder

    def workspace(self, project: Path, name: str, setup: Callable[[Workspace], None] | None = None) -> Path:
        """A new, empty workspace ("cold": it exists, it has no runs) that ``project``'s config names."""
        from headwater import Workspace

        folder = self.work / "workspaces" / name
        ws = Workspace.create(name, folder=folder, show_output=False)
        try:
            ws.write_config(project)
            if setup is not None:
                setup(ws)
        finally:
            ws.close()
        return folder

    def repeat_pairs(
        self, label: str, floor: Callable[[], float], measured: Callable[[int], float], times: int | None = None
    ) -> tuple[list[float], list[float]]:
        """Alternate floor and Headwater runs ``times`` (default ``repeat``) times; both sample lists."""
        floors, samples = [], []
        for i in range(times or self.repeat):
            floors.append(floor())
            samples.append(measured(i))
            self.say(f"  {label} {i + 1}/{times or self.repeat}: {samples[-1]:.3f} (floor {floors[-1]:.3f})")
        return floors, samples
