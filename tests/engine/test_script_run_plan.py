"""The engine side of a script run: its plan, and the status words it writes (read from a log of writes).

The orchestrator runs in this process on the plan ``submit`` wrote, with a store that records
every status it is given, so the order of transitions is read from that log, not from timing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import headwater.ops.spawn as spawn_module
from headwater import Experiment, Pipeline, PythonScriptStep, ScriptRunConfig, Workspace
from headwater.engine.executors.local import LocalExecutor
from headwater.engine.orchestrator import Orchestrator
from headwater.layout import PLAN_FILE
from headwater.plan.run_plan import SCRIPT_RUN, RunPlan
from tests.conftest import gen

pytestmark = pytest.mark.slow


@pytest.fixture
def planned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Submits write their plan and records but start no orchestrator; the plans' paths are collected."""
    proj = tmp_path / "proj"
    monkeypatch.chdir(gen(proj, {}))
    gen(proj, {"src": {"ok.py": "print('ok')\n", "bad.py": "import sys\nsys.exit(2)\n"}})
    plans: list[Path] = []

    def no_orchestrator(plan_path: Path, log_path: Path) -> int:
        plans.append(plan_path)
        return 0

    monkeypatch.setattr(spawn_module, "start_orchestrator", no_orchestrator)
    return plans


def run_recording(plan_path: Path, ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Run the plan's orchestrator here; every (run id, status) the store was given, in order."""
    store = ws.metadata_store
    written: list[tuple[str, str]] = []
    update = store.update_run

    def recording(run_id: str, **fields: Any) -> None:
        if "status" in fields:
            written.append((run_id, fields["status"]))
        update(run_id, **fields)

    monkeypatch.setattr(store, "update_run", recording)
    plan = RunPlan.load(plan_path)
    with LocalExecutor(grace_seconds=1) as executor:
        orchestrator = Orchestrator(plan, store, executor)
        try:
            orchestrator.run()
        finally:
            orchestrator.runner.close()
    return written


def test_a_script_run_is_one_record_that_takes_sdk_v1s_script_statuses(
    planned: list[Path], ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = Experiment(ws, "s").submit(ScriptRunConfig("src", "ok.py"))
    (plan_path,) = planned
    assert plan_path == Path(ws.folder) / "runs" / run.id / PLAN_FILE
    plan = RunPlan.load(plan_path)
    assert plan.kind == SCRIPT_RUN and plan.parent_run_id is None
    assert [s.run_id for s in plan.steps.values()] == [run.id]  # the step's run is the script run
    assert [s.allow_reuse for s in plan.spec.steps] == [False]
    assert [r.id for r in ws.metadata_store.list_runs()] == [run.id]
    assert run.get_status() == "NotStarted"

    written = run_recording(plan_path, ws, monkeypatch)
    assert written == [(run.id, s) for s in ("Queued", "Preparing", "Running", "Finalizing", "Completed")]
    record = ws.metadata_store.get_run(run.id)
    assert record is not None and record.definition["plan"] == str(plan_path)  # kept when the step started


def test_a_failing_script_run_ends_failed_and_the_orchestrator_keeps_its_error(
    planned: list[Path], ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = Experiment(ws, "s").submit(ScriptRunConfig("src", "bad.py"))
    written = run_recording(planned[0], ws, monkeypatch)
    assert [s for _, s in written] == ["Queued", "Preparing", "Running", "Failed"]
    assert run.get_details()["error"]["message"] == "Script 'bad.py' failed with exit code 2"


def test_pipeline_steps_keep_the_step_vocabulary(
    planned: list[Path], ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    step = PythonScriptStep("ok.py", source_directory="src")
    run = Experiment(ws, "s").submit(Pipeline(ws, steps=[step]))
    written = run_recording(planned[0], ws, monkeypatch)
    (child,) = run.get_children()
    assert written == [(run.id, "Running"), (child.id, "Running"), (child.id, "Finished"), (run.id, "Finished")]
    assert child.get_properties()["azureml.runsource"] == "azureml.StepRun"
