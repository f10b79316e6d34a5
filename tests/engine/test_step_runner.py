"""The step runner's three steps, called one by one: decide (nothing written unless reused or
impossible), prepare (inputs, working copy, task), launch (recorded as running, then submitted).

No step process runs: tasks go to the in-memory executor (:mod:`tests.engine._in_memory`)."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from headwater import OutputFileDatasetConfig, Pipeline, PythonScriptStep, Workspace
from headwater.engine.executors.base import TaskResult, TaskSpec
from headwater.engine.step_runner import StepRunner
from headwater.status import StepRunStatus
from tests.conftest import gen
from tests.engine._in_memory import FakeExecutor, Submitter, by_name


@pytest.fixture
def sub(ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Submitter:
    monkeypatch.chdir(gen(tmp_path / "proj", {"src": {"step.py": "raise SystemExit('never run here')\n"}}))
    return Submitter(ws, monkeypatch)


def step_s() -> PythonScriptStep:
    out = OutputFileDatasetConfig(name="out")
    return PythonScriptStep("step.py", name="s", source_directory="src", arguments=["--out", out])


def one_step(ws: Workspace) -> Pipeline:
    return Pipeline(ws, steps=[step_s()])


def test_deciding_a_step_that_must_run_writes_nothing(sub: Submitter, ws: Workspace) -> None:
    with sub.runner(one_step(ws)) as (runner, plan):
        node = by_name(plan, "s")
        decided = runner.decide(node)
        assert decided.verdict == "must-run"
        assert decided.decision is not None and decided.decision.blocker is not None
        assert decided.decision.blocker.code == "never-ran"
        record = ws.metadata_store.get_run(plan.steps[node].run_id)
        assert record is not None
        assert (record.status, record.fingerprint, record.reason) == ("NotStarted", None, None)


def test_prepare_then_launch_records_the_step_as_running_and_submits_its_task(sub: Submitter, ws: Workspace) -> None:
    with sub.runner(one_step(ws)) as (runner, plan):
        node = by_name(plan, "s")
        run_id = plan.steps[node].run_id
        decided = runner.decide(node)
        prepared = runner.prepare(node, decided)
        assert prepared is not None and not prepared.shipped
        assert (Path(prepared.task.cwd) / "step.py").is_file()  # a working copy of the snapshot
        assert Path(prepared.task.env["out"]).is_dir()  # the output's staging folder
        record = ws.metadata_store.get_run(run_id)
        assert record is not None and record.status == "NotStarted"  # prepared, not launched

        executor = FakeExecutor({run_id: "s"}, {"s": None})
        runner.launch(node, prepared, executor)
        assert executor.submitted == [run_id]
        record = ws.metadata_store.get_run(run_id)
        assert record is not None and record.status == StepRunStatus.Running
        assert decided.decision is not None
        assert (record.fingerprint, record.reason) == (decided.decision.fingerprint, "never ran before")
        assert record.definition["argv"] == list(prepared.task.argv)
        assert ws.metadata_store.get_properties(run_id)["azureml.runsource"] == "azureml.StepRun"

        assert runner.finish(node, TaskResult(run_id, 0, "exited")) == "done"
        record = ws.metadata_store.get_run(run_id)
        assert record is not None and record.status == "Finished"


def test_a_step_that_can_be_reused_is_finished_by_decide(sub: Submitter, ws: Workspace) -> None:
    first = sub.run(one_step(ws))
    # A step that is never reused keeps submit from finishing the run itself: decide here.
    never = PythonScriptStep("step.py", name="never", source_directory="src", allow_reuse=False)
    with sub.runner(Pipeline(ws, steps=[step_s(), never])) as (runner, plan):
        node = by_name(plan, "s")
        decided = runner.decide(node)
        assert decided.verdict == "done"
        record = ws.metadata_store.get_run(plan.steps[node].run_id)
        assert record is not None and record.status == "Finished"
        assert record.reused_run_id == first.run.find_step_run("s")[0].id


def test_a_step_whose_environment_could_not_be_resolved_fails_at_decide(sub: Submitter, ws: Workspace) -> None:
    with sub.runner(one_step(ws)) as (runner, plan):
        node = by_name(plan, "s")
        broken = dataclasses.replace(plan.steps[node], environment_error="Step 's': no such Python 3.99")
        runner.plan = dataclasses.replace(plan, steps={**plan.steps, node: broken})
        runner.mark_preparing(node)  # nothing: a step run has no Preparing, and this one fails
        assert runner.decide(node).verdict == "failed"
        record = ws.metadata_store.get_run(broken.run_id)
        assert record is not None and record.status == "Failed"
        assert record.error == {"message": "Step 's': no such Python 3.99"}


def test_a_step_whose_snapshot_is_gone_fails_at_prepare_and_nothing_is_submitted(sub: Submitter, ws: Workspace) -> None:
    with sub.runner(one_step(ws)) as (runner, plan):
        node = by_name(plan, "s")
        decided = runner.decide(node)
        shutil.rmtree(runner.snapshots_root / plan.steps[node].snapshot_id)
        assert runner.prepare(node, decided) is None
        record = ws.metadata_store.get_run(plan.steps[node].run_id)
        assert record is not None and record.status == "Failed"
        assert record.error is not None and record.error["message"].startswith("Step 's' could not start: ")


def test_the_runner_takes_no_executor_to_decide() -> None:
    """decide / prepare / launch: only launch is given an executor (no mode flag)."""
    import inspect

    assert list(inspect.signature(StepRunner.decide).parameters) == ["self", "node"]
    assert list(inspect.signature(StepRunner.prepare).parameters) == ["self", "node", "decided"]
    assert list(inspect.signature(StepRunner.launch).parameters) == ["self", "node", "prepared", "executor"]
    assert not hasattr(StepRunner, "start")


def _write_transactions(statements: list[str]) -> int:
    """How many write transactions ``statements`` (SQLite's trace) committed: each COMMIT, and
    each write made outside BEGIN ... COMMIT (autocommitted on its own)."""
    count, inside = 0, False
    for sql in (s.strip().upper() for s in statements):
        if sql.startswith("BEGIN"):
            inside = True
        elif sql.startswith(("COMMIT", "ROLLBACK")):
            count += sql.startswith("COMMIT")
            inside = False
        elif not inside and sql.startswith(("INSERT", "UPDATE", "DELETE")):
            count += 1
    return count


def test_launch_records_the_step_as_running_in_one_transaction_before_its_start(sub: Submitter, ws: Workspace) -> None:
    with sub.runner(one_step(ws)) as (runner, plan):
        node = by_name(plan, "s")
        run_id = plan.steps[node].run_id
        prepared = runner.prepare(node, runner.decide(node))
        assert prepared is not None
        statements: list[str] = []
        conn = ws.metadata_store._db.conn
        conn.set_trace_callback(statements.append)
        executor = FakeExecutor({run_id: "s"}, {"s": None})
        real_submit = executor.submit
        before: list[str] = []

        def submit(task: TaskSpec) -> None:
            before.extend(statements)  # what was written before the step started
            real_submit(task)

        executor.submit = submit  # type: ignore[method-assign]
        try:
            runner.launch(node, prepared, executor)
        finally:
            conn.set_trace_callback(None)
        assert _write_transactions(before) == 1
        record = ws.metadata_store.get_run(run_id)
        assert record is not None and record.status == StepRunStatus.Running
        assert record.definition["argv"] == list(prepared.task.argv)
        assert ws.metadata_store.get_properties(run_id)["azureml.runsource"] == "azureml.StepRun"
