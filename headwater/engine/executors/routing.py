"""Route each task to the executor of its compute target: the local pool, or a Ray cluster.

The orchestrator talks to one :class:`Executor`; this one holds the local executor and, created
on first use, one :class:`~headwater.engine.executors.ray_executor.RayExecutor` per Ray address
(imported only then, so runs without Ray never import it).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from typing import Any

from headwater.engine.executors.base import Executor, TaskResult, TaskSpec

__all__ = ["RoutingExecutor"]


class RoutingExecutor(Executor):
    """Tasks whose target is in ``ray_targets`` (name → address) run on that Ray cluster.

    ``resources`` (run id → request, from the run plan) fills in the request of a task submitted
    without one, so a Ray task asks for what the plan decided at submit.
    """

    def __init__(
        self,
        local: Executor,
        ray_targets: dict[str, str],
        *,
        grace_seconds: float,
        ray_factory: Callable[[str, float], Executor] | None = None,
        resources: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self._local = local
        self._ray_targets = dict(ray_targets)
        self._grace = grace_seconds
        self._factory = ray_factory or _make_ray_executor
        self._remote: dict[str, Executor] = {}  # address -> executor
        self._where: dict[str, Executor] = {}  # run id -> executor
        self._resources = {run_id: dict(r) for run_id, r in (resources or {}).items() if r}

    def executor_for(self, target: str | None) -> Executor:
        """The executor of a compute target (connecting to its Ray cluster on first use)."""
        address = self._ray_targets.get(target or "")
        if address is None:
            return self._local
        if address not in self._remote:
            self._remote[address] = self._factory(address, self._grace)
        return self._remote[address]

    def submit(self, task: TaskSpec) -> None:
        if not task.resources and task.run_id in self._resources:
            task = dataclasses.replace(task, resources=self._resources[task.run_id])
        executor = self.executor_for(task.target)
        self._where[task.run_id] = executor
        executor.submit(task)

    def wait(self, timeout: float | None) -> list[TaskResult]:
        if not self._remote:
            return self._local.wait(timeout)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            results = [r for e in self._remote.values() for r in e.wait(0)]
            local_busy = bool(self._local.running())
            if not any(e.running() for e in self._remote.values()):
                # only local tasks left: block on them (after collecting what is ready)
                left = None if deadline is None else max(0.0, deadline - time.monotonic())
                return results + self._local.wait(0 if results else left)
            results += self._local.wait(0.02 if local_busy and not results else 0)
            if results or (deadline is not None and time.monotonic() >= deadline):
                return results
            if not local_busy:
                time.sleep(0.02)

    def cancel(self, run_id: str) -> None:
        executor = self._where.get(run_id)
        if executor is not None:
            executor.cancel(run_id)

    def pid(self, run_id: str) -> int | None:
        executor = self._where.get(run_id)
        return None if executor is None else executor.pid(run_id)

    def running(self) -> set[str]:
        out = set(self._local.running())
        for e in self._remote.values():
            out |= e.running()
        return out

    def close(self) -> None:
        try:
            for e in self._remote.values():
                e.close()
        finally:
            self._local.close()


def _make_ray_executor(address: str, grace_seconds: float) -> Executor:
    from headwater.engine.executors.ray_executor import RayExecutor

    return RayExecutor(address, grace_seconds=grace_seconds)
