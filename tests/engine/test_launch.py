"""The step contract: the engine writes the context file with the runtime's writer, at the
layout's paths, and the runtime reads back exactly what the engine meant."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from headwater.engine.launch import ResolvedInput, ResolvedOutput, build_task
from headwater.graph.spec import InputSpec, OutputSpec, PipelineSpec, StepSpec
from headwater.layout import RunLayout
from headwater.plan.run_plan import RunPlan, StepPlan
from headwater.runtime.context import CONTEXT_ENV, InputDatasetRef, StepContext, WorkspaceRef, load_context


def _plan(folder: Path, metadata_url: str) -> RunPlan:
    step = StepSpec(
        "train",
        "train",
        "python",
        str(folder),
        "train.py",
        inputs=(InputSpec("raw", {"dataset": "d"}),),
        outputs=(OutputSpec("model"),),
    )
    return RunPlan(
        pipeline_run_id="P",
        experiment_id="E",
        experiment_name="exp",
        workspace=WorkspaceRef("ws", str(folder), metadata_url, "sub", "rg"),
        spec=PipelineSpec((step,)),
        parameters={},
        steps={"train": StepPlan("S", "snap", sys.executable, "env")},
        default_datastore="store",
    )


def _write(tmp_path: Path, metadata_url: str) -> tuple[RunPlan, RunLayout, dict[str, str], str]:
    plan = _plan(tmp_path, metadata_url)
    run = RunLayout.of(tmp_path, "S")
    run.folder.mkdir(parents=True)
    raw = ResolvedInput("raw", "download", str(run.inputs / "raw"), "d1", path=str(run.inputs / "raw"))
    model = ResolvedOutput("model", run.staged_output("model"), "store", "out/model")
    task = build_task(plan, plan.spec.steps[0], run_dir=run.folder, workdir=run.workdir, inputs=[raw], outputs=[model])
    return plan, run, task.env, task.log_path


def test_the_context_the_engine_writes_is_what_the_runtime_reads(tmp_path: Path) -> None:
    plan, run, env, log_path = _write(tmp_path, f"sqlite:///{tmp_path}/metadata.db")
    assert env[CONTEXT_ENV] == str(run.context_file)
    assert log_path == str(run.std_log)
    expected = StepContext(
        run_id="S",
        parent_run_id="P",
        step_name="train",
        experiment_name="exp",
        experiment_id="E",
        # the step opens a SQLite store from the folder: its URL is not handed over
        workspace=WorkspaceRef("ws", str(tmp_path), None, "sub", "rg"),
        run_dir=str(run.folder),
        events_file=str(run.events_file),
        input_datasets={"raw": InputDatasetRef("raw", "download", str(run.inputs / "raw"), None)},
        output_datasets={"model": str(run.staged_output("model"))},
    )
    # one writer: the file is exactly what StepContext.write makes of the context, nothing left beside it
    assert json.loads(run.context_file.read_text()) == expected.to_dict()
    assert sorted(p.name for p in run.folder.iterdir()) == ["context.json"]
    back = load_context(env[CONTEXT_ENV])
    assert back.to_dict() == expected.to_dict()
    assert back.workspace == expected.workspace == plan.workspace.for_step()


def test_a_server_store_url_is_handed_to_the_step(tmp_path: Path) -> None:
    _, _, env, _ = _write(tmp_path, "postgresql://u@localhost/db")
    assert load_context(env[CONTEXT_ENV]).workspace.metadata_url == "postgresql://u@localhost/db"


def test_one_workspace_ref_for_the_plan_and_the_step(tmp_path: Path) -> None:
    plan = _plan(tmp_path, "sqlite:///x.db")
    ref = WorkspaceRef("ws", str(tmp_path), "sqlite:///x.db", strict_python=True)
    again = RunPlan.from_dict(json.loads(json.dumps(_plan(tmp_path, "sqlite:///x.db").to_dict())))
    assert again.workspace == plan.workspace and isinstance(again.workspace, WorkspaceRef)
    assert WorkspaceRef.from_dict(ref.to_dict()) == ref and ref.strict_python
