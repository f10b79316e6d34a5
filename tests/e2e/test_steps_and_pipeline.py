"""Steps and the pipeline: default names, hash_paths, CommandStep, the default source directory,
``validate()`` reporting every problem at once, and what submitting an invalid pipeline does.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from headwater import (
    CommandStep,
    Experiment,
    GraphValidationError,
    OutputFileDatasetConfig,
    Pipeline,
    PipelineParameter,
    PythonScriptStep,
    Workspace,
)
from tests.conftest import _processes_under, alive, gen
from tests.e2e.conftest import ran, script

pytestmark = pytest.mark.slow

# records its argv and interpreter into ./outputs/seen.json, and `--out <dir>` gets a file
ECHO = script(
    "echo",
    """
import json, os, sys
os.makedirs("outputs", exist_ok=True)
with open("outputs/seen.json", "w") as fh:
    json.dump({"argv": sys.argv[1:], "executable": sys.executable}, fh)
if "--out" in sys.argv:
    out = sys.argv[sys.argv.index("--out") + 1]
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "o.txt"), "w") as fh:
        fh.write("o")
""",
)


@pytest.fixture
def src(proj: Path) -> Path:
    gen(proj, {"src": {"echo.py": ECHO}, "echo.py": ECHO})
    return proj


def finish(ws: Workspace, pipeline: Pipeline, **kwargs: Any) -> Any:
    run = Experiment(ws, "steps").submit(pipeline, **kwargs)
    assert run.wait_for_completion(show_output=False) == "Finished"
    return run


def seen(step: Any, tmp_path: Path) -> dict[str, Any]:
    target = tmp_path / f"{step.id}.json"
    step.download_file("outputs/seen.json", str(target))
    return json.loads(target.read_text())


def test_the_name_defaults_to_the_script_name(src: Path, pws: Workspace) -> None:
    step = PythonScriptStep("echo.py", source_directory="src")
    assert step.name == "echo.py"
    run = finish(pws, Pipeline(pws, steps=[step]))
    assert [s.name for s in run.get_steps()] == ["echo.py"]


def test_hash_paths_warns_and_is_ignored(src: Path, pws: Workspace) -> None:
    finish(pws, Pipeline(pws, steps=[PythonScriptStep("echo.py", source_directory="src")]))
    ran(src)
    with pytest.warns(DeprecationWarning, match="hash_paths is deprecated and ignored"):
        step = PythonScriptStep("echo.py", source_directory="src", hash_paths=["echo.py"])
    finish(pws, Pipeline(pws, steps=[step]))
    assert ran(src) == []  # same fingerprint as without hash_paths: reused
    (src / "src" / "other.txt").write_text("not in hash_paths, still hashed")
    finish(pws, Pipeline(pws, steps=[PythonScriptStep("echo.py", source_directory="src")]))
    assert ran(src) == ["echo"]


def test_command_step_with_a_string_and_with_a_list(src: Path, pws: Workspace, tmp_path: Path) -> None:
    out = OutputFileDatasetConfig(name="cmd_out")
    as_string = CommandStep("python echo.py --a 1", name="as_string", source_directory="src")
    as_list = CommandStep(["python", "echo.py", "--out", out], name="as_list", source_directory="src")
    run = finish(pws, Pipeline(pws, steps=[as_string, as_list]))
    s = seen(run.find_step_run("as_string")[0], tmp_path)
    assert s["argv"] == ["--a", "1"]
    assert os.path.isabs(s["executable"])  # `python` is the step environment's interpreter
    listed = run.find_step_run("as_list")[0]
    got = seen(listed, tmp_path)
    assert got["argv"][0] == "--out" and os.path.isabs(got["argv"][1])
    assert listed.get_output_data("cmd_out").path_on_datastore == f"dataset/{listed.id}/cmd_out"
    assert CommandStep("python echo.py").name == "python"  # the first word of the command


def test_the_default_source_directory_is_the_cwd_when_the_pipeline_is_built(
    src: Path, pws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline = Pipeline(pws, steps=[PythonScriptStep("echo.py", name="root_echo")])
    elsewhere = gen(tmp_path / "elsewhere", {"unrelated.txt": "x"})
    monkeypatch.chdir(elsewhere)  # after Pipeline(): does not matter
    assert pipeline.validate() == []
    run = finish(pws, pipeline)
    assert ran(src) == ["echo"]
    step = run.find_step_run("root_echo")[0]
    assert seen(step, tmp_path)["argv"] == []


def test_default_source_directory_and_pipeline_submit(src: Path, pws: Workspace, tmp_path: Path) -> None:
    in_src = PythonScriptStep("echo.py", name="in_src")
    also = PythonScriptStep("echo.py", name="also", arguments=["x"])
    run = Pipeline(pws, steps=[in_src, also], default_source_directory="src").submit("by-pipeline")
    assert run.wait_for_completion(show_output=False) == "Finished"
    assert run.experiment.name == "by-pipeline"
    a, b = run.find_step_run("in_src")[0], run.find_step_run("also")[0]
    # one source folder, one snapshot (content-addressed, stored once)
    assert a.get_properties()["ContentSnapshotId"] == b.get_properties()["ContentSnapshotId"]
    snapshot = Path(pws.folder) / "snapshots" / a.get_properties()["ContentSnapshotId"]
    assert sorted(p.name for p in snapshot.iterdir()) == ["echo.py"]  # src/, not the project root


def _problems(ws: Workspace, tmp_path: Path) -> Pipeline:
    # a cycle: a reads b's output, b reads a's output
    a_out, b_out = OutputFileDatasetConfig(name="a_out"), OutputFileDatasetConfig(name="b_out")
    a = PythonScriptStep("echo.py", name="a", source_directory="src", arguments=[b_out.as_input("from_b"), a_out])
    b = PythonScriptStep("echo.py", name="b", source_directory="src", arguments=[a_out.as_input("from_a"), b_out])
    # an input nothing produces
    orphan = OutputFileDatasetConfig(name="orphan")
    reader = PythonScriptStep("echo.py", name="reader", source_directory="src", arguments=[orphan.as_input("lost")])
    # two steps writing one output
    shared = OutputFileDatasetConfig(name="shared")
    w1 = PythonScriptStep("echo.py", name="w1", source_directory="src", arguments=[shared])
    w2 = PythonScriptStep("echo.py", name="w2", source_directory="src", arguments=[shared])
    # a missing script
    missing = PythonScriptStep("nope.py", name="missing", source_directory="src")
    return Pipeline(ws, steps=[a, b, reader, w1, w2, missing])


def test_validate_reports_every_problem_at_once(src: Path, pws: Workspace, tmp_path: Path) -> None:
    problems = _problems(pws, tmp_path).validate()
    text = "\n".join(problems)
    assert "Cycle detected including steps:" in text and "'a'" in text and "'b'" in text
    assert "Step 'reader': input 'lost' reads output 'orphan', which no step in the pipeline produces." in problems
    assert "Output 'shared' is written by more than one step ('w1', 'w2')." in problems
    assert any(p.startswith("Step 'missing': script not found at") for p in problems)
    assert len(problems) == 4


def test_submitting_an_invalid_pipeline_raises_and_records_nothing(src: Path, pws: Workspace, tmp_path: Path) -> None:
    with pytest.raises(GraphValidationError) as err:
        Experiment(pws, "invalid").submit(_problems(pws, tmp_path))
    assert "script not found" in str(err.value) and "Cycle detected" in str(err.value)
    assert pws.metadata_store.list_runs() == []
    assert pws.metadata_store.get_experiment("invalid") is None
    assert not (Path(pws.folder) / "runs").exists() or list((Path(pws.folder) / "runs").iterdir()) == []
    # the orchestrator started early for the run was stopped: nothing of it is left running
    assert [p for p in _processes_under(Path(pws.folder)) if alive(p)] == []


def test_an_unknown_parameter_at_submit_names_it_and_suggests_one(src: Path, pws: Workspace) -> None:
    lr = PipelineParameter(name="learning_rate", default_value=0.1)
    pipeline = Pipeline(pws, steps=[PythonScriptStep("echo.py", source_directory="src", arguments=[lr])])
    with pytest.raises(ValueError, match="Pipeline parameter with name 'learning_rat' does not exist") as err:
        Experiment(pws, "params").submit(pipeline, pipeline_parameters={"learning_rat": 0.2})
    assert "learning_rate" in str(err.value)
    with pytest.raises(ValueError, match="'nope' does not exist"):
        pipeline.submit("params", pipeline_parameters={"nope": 1})
    assert pws.metadata_store.list_runs() == []
