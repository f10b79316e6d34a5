"""A ScriptRunConfig submitted by ``Experiment.submit``: one script run on the pipeline engine.

Proven from the records, the ledger (which script processes started), the run folder and the
datastore, never from wall time.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from headwater import (
    ActivityFailedException,
    Dataset,
    Datastore,
    Experiment,
    NotFoundError,
    OutputFileDatasetConfig,
    Pipeline,
    PipelineRun,
    PythonScriptStep,
    Run,
    ScriptRun,
    ScriptRunConfig,
    Workspace,
)
from tests.conftest import gen
from tests.e2e.conftest import ran, script
from tests.e2e.test_failure_cancel import wait_until_dead

pytestmark = pytest.mark.slow

TRAIN = script(
    "train",
    """
import argparse, json, os, sys
from azureml.core import Run
p = argparse.ArgumentParser()
p.add_argument("--lr", type=float); p.add_argument("--data"); p.add_argument("--model")
p.add_argument("--fail", action="store_true"); p.add_argument("--pid")
a = p.parse_args()
run = Run.get_context()
if a.pid:
    with open(a.pid + ".tmp", "w") as fh:
        fh.write(str(os.getpid()))
    os.replace(a.pid + ".tmp", a.pid)
    import time; time.sleep(60)
print("training with lr", a.lr, flush=True)
if a.fail:
    print("the loss diverged", flush=True)
    sys.exit(3)
run.log("lr", a.lr)
for loss in (0.9, 0.5, 0.25):
    run.log("loss", loss)
run.tag("stage", "trained")
os.makedirs("outputs", exist_ok=True)
with open("outputs/model.txt", "w") as fh:
    fh.write(f"w={a.lr * 10}")
with open("context.json", "w") as fh:
    json.dump({"id": run.id, "parent": run.parent is None, "inputs": sorted(run.input_datasets),
               "files": sorted(os.listdir(a.data)) if a.data else None}, fh)
os.replace("context.json", "outputs/context.json")
if a.model:
    os.makedirs(a.model, exist_ok=True)
    with open(os.path.join(a.model, "weights.txt"), "w") as fh:
        fh.write("42")
print("done")
""",
)


def wait_for_file(path: Path, run: ScriptRun) -> list[int]:
    """The pid the script wrote to ``path`` once it exists (fails if the run ends first)."""
    deadline = time.monotonic() + 60
    while not path.exists():
        assert run.get_status() in ("NotStarted", "Queued", "Preparing", "Running"), run.get_status()
        assert time.monotonic() < deadline, "the script never started"
        time.sleep(0.02)
    return [int(p) for p in path.read_text().split()]


@pytest.fixture
def src(proj: Path) -> Path:
    gen(proj, {"src": {"train.py": TRAIN}, "data": {"a.csv": "x\n1\n", "b.csv": "x\n2\n"}})
    return proj


def test_a_script_run_completes_and_its_metrics_files_and_details_are_sdk_v1s(src: Path, pws: Workspace) -> None:
    config = ScriptRunConfig(source_directory="src", script="train.py", arguments=["--lr", 0.1])
    run = Experiment(pws, "single").submit(config, tags={"team": "ml"})
    assert isinstance(run, ScriptRun) and isinstance(run, Run)
    details = run.wait_for_completion()
    assert details["status"] == "Completed" == run.get_status()
    assert ran(src) == ["train"]

    assert run.get_metrics() == {"lr": 0.1, "loss": [0.9, 0.5, 0.25]}
    assert run.get_tags() == {"team": "ml", "stage": "trained"}
    assert list(run.get_children()) == []
    assert run.parent is None
    assert details["runId"] == run.id and details["target"] == "local"
    assert details["runDefinition"]["script"] == "train.py"
    props = details["properties"]
    assert props["azureml.runsource"] == "experiment" and props["ContentSnapshotId"]
    assert {"outputs/model.txt", "user_logs/std_log.txt", "azureml-logs/70_driver_log.txt"} <= set(run.get_file_names())
    run.download_file("outputs/context.json", str(src / "context.json"))
    run.download_files(prefix="outputs", output_directory=str(src / "all"))
    assert sorted(p.name for p in (src / "all" / "outputs").iterdir()) == ["context.json", "model.txt"]
    inside = json.loads((src / "context.json").read_text())
    assert inside == {"id": run.id, "parent": True, "inputs": [], "files": None}  # Run.get_context() is this run
    assert "training with lr 0.1" in run.get_stdout_log()

    record = pws.metadata_store.get_run(run.id)
    assert record is not None and record.kind == "script" and record.parent_id is None
    assert isinstance(Run.get(pws, run.id), ScriptRun)
    with pytest.raises(NotFoundError, match="It is a script run"):
        PipelineRun.get(pws, run.id)
    assert [r.id for r in Experiment(pws, "single").get_runs(type="azureml.scriptrun")] == [run.id]

    from headwater.compat.widgets import RunDetails

    title, _, _, row = RunDetails(run).render().splitlines()
    assert title == f"ScriptRun {run.id} (experiment 'single'): Completed"
    assert row.split()[:2] == ["train.py", "Completed"]


def test_show_output_streams_the_log_between_sdk_v1s_headers(
    src: Path, pws: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    run = Experiment(pws, "single").submit(ScriptRunConfig("src", "train.py", arguments=["--lr", 0.5]))
    details = run.wait_for_completion(show_output=True)
    assert details["status"] == "Completed"
    out = capsys.readouterr().out
    assert out.startswith(f"RunId: {run.id}\nWeb View: ")
    assert "Streaming user_logs/std_log.txt\n" in out
    streamed = out.index("training with lr 0.5") < out.index("done") < out.index("Execution Summary")
    assert streamed and out.rstrip().endswith(f"Web View: {run.get_portal_url()}")


def test_a_failing_script_raises_naming_the_exit_code_and_its_log(src: Path, pws: Workspace) -> None:
    run = Experiment(pws, "single").submit(ScriptRunConfig("src", "train.py", arguments=["--lr", 1, "--fail"]))
    with pytest.raises(ActivityFailedException) as err:
        run.wait_for_completion(show_output=False)
    assert "Script 'train.py' failed with exit code 3" in str(err.value)
    assert "the loss diverged" in str(err.value)
    assert run.get_status() == "Failed"
    details = run.wait_for_completion(raise_on_error=False)
    assert details["status"] == "Failed" and details["error"]["exit_code"] == 3


def test_a_script_run_is_never_reused_and_is_never_reused_from(src: Path, pws: Workspace) -> None:
    config = ScriptRunConfig("src", "train.py", arguments=["--lr", 0.1])
    first = Experiment(pws, "single").submit(config)
    first.wait_for_completion()
    second = Experiment(pws, "single").submit(config)
    second.wait_for_completion()
    assert ran(src) == ["train", "train"]
    assert pws.metadata_store.get_run(second.id).reason == "allow_reuse=False"

    # The same script as a pipeline step may be reused from earlier steps, never from a script run.
    step = PythonScriptStep("train.py", name="train.py", source_directory="src", arguments=["--lr", 0.1])
    pipeline_run = Experiment(pws, "single").submit(Pipeline(pws, steps=[step]))
    assert pipeline_run.wait_for_completion(show_output=False) == "Finished"
    assert ran(src) == ["train"]
    (step_run,) = pipeline_run.get_steps()
    assert not step_run.reused


def test_inputs_and_outputs_in_arguments_and_the_command_form(src: Path, pws: Workspace) -> None:
    store = Datastore(pws, "workspaceblobstore")
    store.upload(str(src / "data"), target_path="raw", show_progress=False)
    data = Dataset.File.from_files([(store, "raw/")])
    model = OutputFileDatasetConfig(name="model", destination=(store, "models/{run-id}"))
    config = ScriptRunConfig(
        source_directory="src",
        command=["python", "train.py", "--lr", "2", "--data", data.as_named_input("raw").as_mount(), "--model", model],
    )
    run = Experiment(pws, "single").submit(config)
    assert run.wait_for_completion()["status"] == "Completed"
    assert run.name == "train.py"
    run.download_file("outputs/context.json", str(src / "context.json"))
    assert json.loads((src / "context.json").read_text())["files"] == ["a.csv", "b.csv"]
    assert json.loads((src / "context.json").read_text())["inputs"] == ["raw"]
    (output,) = run.get_details()["outputDatasets"]
    assert output == {"name": "model", "datastore": "workspaceblobstore", "path": f"models/{run.id}"}
    assert store._backend.exists(f"models/{run.id}/weights.txt")


def test_cancel_stops_a_running_script(src: Path, pws: Workspace, tmp_path: Path) -> None:
    pid_file = tmp_path / "train.pid"
    run = Experiment(pws, "single").submit(ScriptRunConfig("src", "train.py", arguments=["--pid", str(pid_file)]))
    pids = wait_for_file(pid_file, run)
    assert run.get_status() == "Running"
    run.cancel()
    assert run.wait_for_completion()["status"] == "Canceled"
    assert wait_until_dead(pids) == []


def test_a_dead_orchestrator_fails_the_script_run_and_stops_its_process(
    src: Path, pws: Workspace, tmp_path: Path
) -> None:
    pid_file = tmp_path / "train.pid"
    run = Experiment(pws, "single").submit(ScriptRunConfig("src", "train.py", arguments=["--pid", str(pid_file)]))
    pids = wait_for_file(pid_file, run)
    orchestrator = pws.metadata_store.get_run(run.id).definition["orchestrator_pid"]
    os.kill(orchestrator, signal.SIGKILL)
    assert wait_until_dead([orchestrator]) == []
    assert run.get_status() == "Failed"
    assert "orchestrator" in run.get_details()["error"]["message"]
    assert wait_until_dead(pids) == []


def test_the_documented_output_example_registers_a_tabular_dataset(proj: Path, pws: Workspace) -> None:
    """OutputFileDatasetConfig's own docstring: ScriptRunConfig('.', 'train.py', arguments=[output])."""
    gen(
        proj,
        {
            "train.py": "import os, sys\nos.makedirs(sys.argv[1], exist_ok=True)\n"
            "open(os.path.join(sys.argv[1], 'rows.csv'), 'w').write('a,b\\n1,2\\n3,4\\n')\n"
        },
    )
    output = OutputFileDatasetConfig().read_delimited_files().register_on_complete("foo")
    run = Experiment(pws, "output_example").submit(ScriptRunConfig(".", "train.py", arguments=[output]))
    assert run.wait_for_completion()["status"] == "Completed"
    registered = Dataset.get_by_name(pws, "foo")
    assert registered.version == 1
    assert registered.to_pandas_dataframe().to_dict("list") == {"a": [1, 3], "b": [2, 4]}
