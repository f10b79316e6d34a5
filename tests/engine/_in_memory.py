"""Run pipelines without step processes: an in-memory executor and an in-process orchestrator.

:class:`FakeExecutor` implements the executor interface: a submitted task "runs" at once and ends
as the test says — an exit code, or ``None`` to keep it running until it is canceled — after
writing one file into each of its outputs (as a step script would). Everything else is real:
``submit`` records the run and writes its plan (no orchestrator process is started, see
:class:`Submitter`), the orchestrator runs in this process on that plan, on the workspace's SQLite
store, through the real step runner (inputs, working copy, output commits, reuse decisions).

What happened is read from the executor's log of submits and from the store, never from timing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import headwater.ops.spawn as spawn_module
from headwater import Experiment, Pipeline, Workspace
from headwater.engine.executors.base import Executor, TaskResult, TaskSpec
from headwater.engine.orchestrator import Orchestrator
from headwater.engine.step_runner import StepRunner
from headwater.plan.run_plan import RunPlan
from headwater.status import TERMINAL

#: A real wait blocks until its timeout; this one returns at once, so the orchestrator's loop asks
#: again. After this many empty answers in a row the test would hang: it fails instead.
IDLE_WAITS = 1000


def write_outputs(task: TaskSpec) -> None:
    """What a step script would do: one file in each of its outputs (the staging folders)."""
    names = [n for n in task.env.get("AZUREML_DATASET_FILE_OUTPUTS", "").split(";") if n]
    for name in names:
        folder = Path(task.env[name])
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "part.txt").write_text(f"{name} of {task.run_id}\n", encoding="utf-8")


class FakeExecutor(Executor):
    """An executor whose tasks end, in memory, with the exit code ``exits`` gives for their step's
    name (``names``: run id -> step name; default 0; None: it runs until canceled).

    ``submitted`` lists the run ids in the order they were submitted; ``peak`` is the largest
    number of tasks running at once; ``on_submit`` (if given) is called with each task after it
    was submitted (e.g. to ask the orchestrator to cancel).
    """

    def __init__(self, names: dict[str, str], exits: dict[str, int | None] | None = None) -> None:
        self.names = names
        self.exits = exits or {}
        self.on_submit: Callable[[TaskSpec], None] | None = None
        self.submitted: list[str] = []
        self.canceled: list[str] = []
        self.peak = 0
        self._running: set[str] = set()
        self._ended: list[TaskResult] = []
        self._idle = 0  # waits in a row that returned nothing
        self.closed = False

    def submit(self, task: TaskSpec) -> None:
        self.submitted.append(task.run_id)
        self._running.add(task.run_id)
        self.peak = max(self.peak, len(self._running))
        code = self.exits.get(self.names[task.run_id], 0)
        if code is not None:
            if code == 0:
                write_outputs(task)
            self._ended.append(TaskResult(task.run_id, code, "exited", pid=None))
        if self.on_submit is not None:
            self.on_submit(task)

    def wait(self, timeout: float | None) -> list[TaskResult]:
        ended, self._ended = self._ended, []
        self._idle = 0 if ended else self._idle + 1
        if self._idle > IDLE_WAITS:  # every running task waits to be canceled and nobody asks
            raise AssertionError(f"tasks {sorted(self._running)} never end and none was canceled")
        for result in ended:
            self._running.discard(result.run_id)
        return ended

    def cancel(self, run_id: str) -> None:
        if run_id in self._running and not any(r.run_id == run_id for r in self._ended):
            self.canceled.append(run_id)
            self._ended.append(TaskResult(run_id, None, "canceled", "canceled on request"))

    def running(self) -> set[str]:
        return set(self._running)

    def close(self) -> None:
        self.closed = True


@dataclasses.dataclass
class Ran:
    """One pipeline run made by :meth:`Submitter.run`: its SDK run, plan and executor."""

    run: Any
    plan: RunPlan | None  # None: every step was reused inside submit (no plan, no orchestrator)
    executor: FakeExecutor
    names: dict[str, str]  # step run id -> step name

    def started(self) -> list[str]:
        """Names of the steps whose tasks were submitted, in order."""
        return [self.names[r] for r in self.executor.submitted]

    def statuses(self) -> dict[str, str]:
        return {c.name: c.get_status() for c in self.run.get_children()}


class Submitter:
    """Submits pipelines whose orchestrator runs here, on the plan ``submit`` wrote."""

    def __init__(self, ws: Workspace, monkeypatch: pytest.MonkeyPatch, experiment: str = "mem") -> None:
        self.ws = ws
        self.experiment = Experiment(ws, experiment)
        self.plans: list[Path] = []

        def no_orchestrator(plan_path: Path, log_path: Path) -> int:
            self.plans.append(plan_path)
            return 0

        monkeypatch.setattr(spawn_module, "start_orchestrator", no_orchestrator)

    def submit(self, pipeline: Pipeline, **kwargs: Any) -> tuple[Any, RunPlan | None]:
        """Submit; the run and its plan (None when every step was reused inside submit)."""
        before = len(self.plans)
        run = self.experiment.submit(pipeline, **kwargs)
        assert len(self.plans) == before + 1, "submit did not ask for an orchestrator"
        record = self.ws.metadata_store.get_run(run.id)
        if record is not None and record.status in TERMINAL:  # all reused: submit recorded it all
            return run, None
        return run, RunPlan.load(self.plans[-1])

    def run(
        self,
        pipeline: Pipeline,
        exits: dict[str, int | None] | None = None,
        *,
        plan_changes: dict[str, Any] | None = None,
        cancel_after: str | None = None,
        **kwargs: Any,
    ) -> Ran:
        """Submit and run to the end with a :class:`FakeExecutor` (``exits``: exit code by step name;
        None: runs until canceled); ``plan_changes`` replace plan fields (e.g. ``max_concurrency``);
        ``cancel_after``: the run is canceled as soon as this step has started."""
        run, plan = self.submit(pipeline, **kwargs)
        if plan is None:
            return Ran(run, None, FakeExecutor({}, exits), {})
        plan = dataclasses.replace(plan, **(plan_changes or {}))
        names = {sp.run_id: plan.spec.step(n).name for n, sp in plan.steps.items()}
        executor = FakeExecutor(names, exits)
        orchestrator = Orchestrator(plan, self.ws.metadata_store, executor)
        if cancel_after is not None:

            def cancel(task: TaskSpec) -> None:
                if names[task.run_id] == cancel_after:
                    orchestrator.request_cancel()

            executor.on_submit = cancel
        try:
            orchestrator.run()
        finally:
            orchestrator.runner.close()
        return Ran(run, plan, executor, names)

    @contextmanager
    def runner(self, pipeline: Pipeline, **kwargs: Any) -> Iterator[tuple[StepRunner, RunPlan]]:
        """Submit, and a step runner on the plan (nothing decided or run yet)."""
        _run, plan = self.submit(pipeline, **kwargs)
        assert plan is not None, "every step was reused inside submit"
        runner = StepRunner(plan, self.ws.metadata_store)
        try:
            yield runner, plan
        finally:
            runner.close()


def by_name(plan: RunPlan, name: str) -> str:
    """The node id of the step called ``name``."""
    (node,) = [s.node_id for s in plan.spec.steps if s.name == name]
    return node
