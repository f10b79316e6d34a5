"""The executor interface: submit / wait / cancel / close, used as a context manager.

An executor runs :class:`TaskSpec` s — a fully resolved command line, working directory,
environment and log file — and reports :class:`TaskResult` s. It never decides reuse, never
opens the metadata store and never looks at user objects: everything a task needs is in its spec.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

__all__ = ["TaskSpec", "TaskResult", "Executor"]


@dataclass(frozen=True)
class TaskSpec:
    """Everything needed to run one step process."""

    run_id: str
    argv: tuple[str, ...]  # argv[0] is an absolute interpreter/executable path
    cwd: str
    env: dict[str, str]  # added to (and overriding) the executor's own environment
    log_path: str  # stdout and stderr go here, as they happen
    timeout_seconds: float | None = None
    resources: dict[str, float] = field(default_factory=dict)  # e.g. {"cpu": 1, "gpu": 0}
    target: str | None = None  # the compute target's name: which executor runs it (None: local)
    step_name: str | None = None  # the step's name: keys what a warm start remembers of its last run
    # Ray without a shared filesystem: what the worker fetches, runs in and sends back
    # (:mod:`headwater.engine.ship`). It may hold resolved credentials: never printed.
    ship: dict[str, Any] | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class TaskResult:
    """How a task ended.

    ``reason`` is 'exited', 'timeout', 'canceled', 'launch_failed' or (Ray) 'worker_died' — the
    worker process running the task died, so the step's own exit code is unknown. ``pid`` is the
    step process's id on the machine that ran it; ``node`` and ``task_id`` name the Ray node and
    Ray task (None for local processes).
    """

    run_id: str
    returncode: int | None
    reason: str
    message: str = ""
    pid: int | None = None
    node: str | None = None
    task_id: str | None = None
    # A shipped task: its outputs were committed on the worker; output name -> content digest.
    outputs: dict[str, str] | None = None

    @property
    def succeeded(self) -> bool:
        return self.reason == "exited" and self.returncode == 0


class Executor(ABC):
    """Runs tasks; the orchestrator owns scheduling and concurrency."""

    @abstractmethod
    def submit(self, task: TaskSpec) -> None:
        """Start ``task`` now. Launch failures are reported by :meth:`wait`, not raised."""

    @abstractmethod
    def wait(self, timeout: float | None) -> list[TaskResult]:
        """Block until at least one task ended or ``timeout`` passed; return those that ended."""

    @abstractmethod
    def cancel(self, run_id: str) -> None:
        """Stop a running task (its result arrives through :meth:`wait` with reason 'canceled')."""

    @abstractmethod
    def running(self) -> set[str]:
        """Run ids of the tasks started and not yet reported."""

    def pid(self, run_id: str) -> int | None:
        """The process id of a running task on this machine (its process group's), or None."""
        return None

    @abstractmethod
    def close(self) -> None:
        """Stop everything still running and release resources."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
