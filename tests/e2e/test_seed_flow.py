"""The seed page's flow, end to end on this machine: data in, prep -> train -> compare, reuse."""

from __future__ import annotations

from pathlib import Path

import pytest

from headwater import (
    ActivityFailedException,
    Dataset,
    Datastore,
    Experiment,
    OutputFileDatasetConfig,
    Pipeline,
    PipelineParameter,
    PythonScriptStep,
    Workspace,
)
from tests.e2e.conftest import ran

pytestmark = pytest.mark.slow


def build(ws: Workspace, *, lr: float = 0.1, allow_reuse: bool = True) -> tuple[Pipeline, PipelineParameter]:
    store = Datastore(ws, "workspaceblobstore")
    raw = Dataset.File.from_files([(store, "raw/")])
    prepped = OutputFileDatasetConfig(destination=(store, "outputdataset/{run-id}"))
    model = OutputFileDatasetConfig(name="model")
    lr_param = PipelineParameter(name="lr", default_value=lr)
    prep = PythonScriptStep(
        script_name="prep.py",
        source_directory="prep_src",
        arguments=["--input", raw.as_named_input("raw").as_download(), "--output", prepped],
    )
    train = PythonScriptStep(
        script_name="train.py",
        source_directory="train_src",
        arguments=["--prepped", prepped.as_input(), "--model", model, "--lr", lr_param],
        allow_reuse=allow_reuse,
    )
    compare = PythonScriptStep(
        script_name="compare.py", source_directory="compare_src", arguments=[model.as_input("model_in")]
    )
    return Pipeline(ws, steps=[[prep, train, compare]]), lr_param


def test_first_run_then_everything_reused(project: Path, pws: Workspace) -> None:
    Datastore(pws, "workspaceblobstore").upload(str(project / "data"), target_path="raw", show_progress=False)
    pipeline, _ = build(pws)
    assert pipeline.validate() == []
    run = Experiment(pws, "seed").submit(pipeline)
    assert run.wait_for_completion(show_output=False) == "Finished"
    assert sorted(ran(project)) == ["compare", "prep", "train"]

    steps = {s.name: s for s in run.get_steps()}
    assert set(steps) == {"prep.py", "train.py", "compare.py"}
    assert all(s.get_status() == "Finished" for s in steps.values())
    assert steps["train.py"].get_metrics() == {"loss": [1.0, 0.5]}
    assert steps["prep.py"].get_metrics() == {"rows": 5}
    assert run.get_metrics() == {"best_weight": 1.5}
    assert run.get_metrics(recursive=True)[steps["compare.py"].id] == {"weight": 1.5}
    assert "prepared 5 rows" in steps["prep.py"].get_stdout_log()
    assert "outputs/report.txt" in steps["compare.py"].get_file_names()
    assert steps["prep.py"].reason == "never ran before"
    out = steps["train.py"].get_output_data("model")
    assert out.datastore_name == "workspaceblobstore"
    assert out.path_on_datastore == f"dataset/{steps['train.py'].id}/model"

    again = Experiment(pws, "seed").submit(build(pws)[0])
    assert again.wait_for_completion(show_output=False) == "Finished"
    assert ran(project) == []  # no step process started
    for step in again.get_steps():
        props = step.get_properties()
        assert props["azureml.reusedrunid"] == steps[step.name].id
        assert (step.reason or "").startswith("reused run")


def test_parameter_change_reruns_train_and_compare_only(project: Path, pws: Workspace) -> None:
    Datastore(pws, "workspaceblobstore").upload(str(project / "data"), target_path="raw", show_progress=False)
    pipeline, _ = build(pws)
    Experiment(pws, "seed").submit(pipeline).wait_for_completion(show_output=False)
    ran(project)
    run = Experiment(pws, "seed").submit(pipeline, pipeline_parameters={"lr": 0.2})
    assert run.wait_for_completion(show_output=False) == "Finished"
    assert sorted(ran(project)) == ["compare", "train"]
    train = run.find_step_run("train.py")[0]
    assert train.reason == "parameter lr 0.1 → 0.2"
    assert run.find_step_run("compare.py")[0].reason == "input 'model_in' changed"


def test_failure_names_the_step_and_exit_code(project: Path, pws: Workspace) -> None:
    (project / "train_src" / "train.py").write_text("import sys\nprint('boom')\nsys.exit(3)\n")
    Datastore(pws, "workspaceblobstore").upload(str(project / "data"), target_path="raw", show_progress=False)
    run = Experiment(pws, "seed").submit(build(pws)[0])
    with pytest.raises(ActivityFailedException) as err:
        run.wait_for_completion(show_output=False)
    text = str(err.value)
    assert "'train.py' failed with exit code 3" in text and "boom" in text
    assert run.get_status() == "Failed"
    statuses = {
        s.name: s.get_status()
        for s in run.find_step_run("prep.py") + run.find_step_run("train.py") + run.find_step_run("compare.py")
    }
    assert statuses == {"prep.py": "Finished", "train.py": "Failed", "compare.py": "Canceled"}
