"""The routing executor sends each task to its compute target's executor and forwards every call."""

from __future__ import annotations

import sys
from pathlib import Path

from headwater.engine.executors.base import TaskResult, TaskSpec
from headwater.engine.executors.local import LocalExecutor
from headwater.engine.executors.routing import RoutingExecutor


def task(tmp_path: Path, run_id: str, target: str | None, code: str) -> TaskSpec:
    return TaskSpec(
        run_id, (sys.executable, "-c", code), str(tmp_path), {}, str(tmp_path / f"{run_id}.log"), target=target
    )


def test_tasks_go_to_their_targets_executor_and_pids_and_cancel_are_forwarded(tmp_path: Path) -> None:
    made: dict[str, LocalExecutor] = {}

    def fake_ray(address: str, grace: float) -> LocalExecutor:  # a second pool stands in for a cluster
        made[address] = LocalExecutor(grace_seconds=grace)
        return made[address]

    with RoutingExecutor(
        LocalExecutor(grace_seconds=1), {"cluster": "127.0.0.1:6379"}, grace_seconds=1, ray_factory=fake_ray
    ) as executor:
        executor.submit(task(tmp_path, "here", None, "print('local')"))
        executor.submit(task(tmp_path, "there", "cluster", "import time; time.sleep(30)"))
        assert set(made) == {"127.0.0.1:6379"}
        assert made["127.0.0.1:6379"].running() == {"there"}
        assert executor.pid("there") == made["127.0.0.1:6379"].pid("there") is not None
        executor.cancel("there")
        results: dict[str, TaskResult] = {}
        while len(results) < 2:
            for r in executor.wait(5):
                results[r.run_id] = r
        assert results["here"].succeeded
        assert results["there"].reason == "canceled"
        assert executor.running() == set()


def test_a_task_without_a_request_gets_the_one_the_plan_decided(tmp_path: Path) -> None:
    submitted: list[TaskSpec] = []

    class Recording(LocalExecutor):
        def submit(self, task: TaskSpec) -> None:
            submitted.append(task)
            super().submit(task)

    with RoutingExecutor(
        LocalExecutor(grace_seconds=1),
        {"cluster": "127.0.0.1:6379"},
        grace_seconds=1,
        ray_factory=lambda address, grace: Recording(grace_seconds=grace),
        resources={"there": {"cpu": 2, "gpu": 0, "memory_gb": 7.0}},
    ) as executor:
        executor.submit(task(tmp_path, "there", "cluster", "pass"))
        while executor.running():
            executor.wait(5)
    assert [t.resources for t in submitted] == [{"cpu": 2, "gpu": 0, "memory_gb": 7.0}]
