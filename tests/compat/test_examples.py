"""The SDK v1 examples in ``examples/azureml_v1/`` run unchanged (issue 4).

Each example is copied to a temporary folder and run there as a user runs it — ``headwater run
SCRIPT`` from the example's folder, with ``HEADWATER_HOME`` pointing at this test's folder — and
its printed output and the workspace's records are checked. The seed example also runs under
plain ``python`` of another virtual environment after ``headwater compat install --python``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from headwater import Dataset, Experiment, PipelineRun, ScriptRun, StepRun, Workspace
from headwater.layout import PLAN_FILE
from headwater.plan.run_plan import RunPlan

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "azureml_v1"
HEADWATER = Path(sys.executable).with_name("headwater")
#: Every example folder and the script that runs it.
SCRIPTS = {
    "seed_pipeline": "pipeline.py",
    "pipelinedata_two_step": "pipeline.py",
    "pipeline_parameters": "pipeline.py",
    "script_run_config": "train_local.py",
    "step_sequence": "pipeline.py",
    "datapath_parameter": "pipeline.py",
    "tabular_dataset": "pipeline.py",
    "promoted_intermediate_data": "pipeline.py",
    "interactive_logging": "train_within_notebook.py",
    "dataframe_datasets": "pipeline.py",
    "publish_rest": "publish_and_post.py",
    "module_step": "pipeline.py",
    "batch_scoring": "pipeline.py",
    "data_drift": "monitor.py",
}


def test_every_example_folder_is_run_here_and_is_pure_sdk_v1_code() -> None:
    folders = {p.name for p in EXAMPLES.iterdir() if p.is_dir()}
    assert folders == set(SCRIPTS)
    for folder in folders:
        assert (EXAMPLES / folder / ".azureml" / "config.json").is_file(), folder
        for script in (EXAMPLES / folder).rglob("*.py"):
            text = script.read_text(encoding="utf-8")
            assert "headwater" not in text.replace("headwater run", ""), script  # only azureml.* imports


def copy_example(name: str, tmp_path: Path) -> Path:
    """The example's folder, copied as shipped (without what an earlier run wrote into it)."""
    folder = tmp_path / name
    shutil.copytree(
        EXAMPLES / name, folder, ignore=shutil.ignore_patterns("data", "downloaded", "model.json", "__pycache__")
    )
    return folder


def run_example(name: str, tmp_path: Path, headwater_home: Path, *, python: Path | None = None) -> str:
    """Run the example in a copy of its folder; its stdout (the run must succeed)."""
    folder = copy_example(name, tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "HEADWATER_WORKSPACE")}
    env["HEADWATER_HOME"] = str(headwater_home)
    argv = [str(python), SCRIPTS[name]] if python else [str(HEADWATER), "run", SCRIPTS[name]]
    done = subprocess.run(argv, cwd=folder, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    return done.stdout


OpenWorkspace = Callable[[str], Workspace]


@pytest.fixture
def workspace_of(headwater_home: Path) -> Iterator[OpenWorkspace]:
    """Opens the workspace an example created (closed after the test)."""
    opened: list[Workspace] = []

    def open_workspace(name: str) -> Workspace:
        ws = Workspace.get(name)
        opened.append(ws)
        return ws

    yield open_workspace
    for ws in opened:
        ws.close()


def pipeline_runs(ws: Workspace, experiment: str) -> list[PipelineRun]:
    """The experiment's runs, oldest first."""
    return list(reversed(list(Experiment(ws, experiment).get_runs())))


def steps_by_name(run: PipelineRun) -> dict[str | None, StepRun]:
    return {step.name: step for step in run.get_steps()}


def check_seed_example(out: str, ws: Workspace) -> None:
    assert "Creating a new compute target..." in out
    assert "Best model: nearest_centroid (accuracy 1.000)" in out
    assert "iris: 150 rows from workspace compare-models-ws" in out
    assert "registered dataset: prepared_output_data version 1 files 1" in out
    assert out.count("second run: ") == 5 and out.count(" Finished reused") == 4

    first, second = pipeline_runs(ws, "Compare_Models_Exp")
    assert first.get_status() == second.get_status() == "Finished"
    ran, reused = steps_by_name(first), steps_by_name(second)
    assert set(ran) == {"prepare.py", "train.py", "compare.py", "iris_train.py"}
    assert all(s.get_status() == "Finished" and s.reason == "never ran before" for s in ran.values())
    for name, step in reused.items():  # the second submit reused every step of the first
        assert step.get_status() == "Finished"
        assert step.get_properties()["azureml.reusedrunid"] == ran[name].id
    assert ran["train.py"].get_metrics() == {"accuracy": 1.0, "baseline_accuracy": 0.5}
    assert ran["iris_train.py"].get_metrics()["rows"] == 150
    assert first.get_tags()["best_model"] == "nearest_centroid"
    compute = ws.compute_targets["aml-compute"]
    assert (compute.vm_size, compute.max_nodes) == ("STANDARD_NC6", 4)

    registered = Dataset.get_by_name(ws, "prepared_output_data")
    assert registered.version == 1  # registered once, by the run that wrote it; not by the reuse
    output = ran["prepare.py"].get_output_data(next(iter(ran["prepare.py"].get_outputs())))
    assert output.path_on_datastore == f"outputdataset/{ran['prepare.py'].id}"


def test_the_seed_example_runs_under_headwater_run(
    tmp_path: Path, headwater_home: Path, workspace_of: OpenWorkspace
) -> None:
    out = run_example("seed_pipeline", tmp_path, headwater_home)
    check_seed_example(out, workspace_of("compare-models-ws"))


def test_the_pipelinedata_two_step_example(tmp_path: Path, headwater_home: Path, workspace_of: OpenWorkspace) -> None:
    out = run_example("pipelinedata_two_step", tmp_path, headwater_home)
    assert "Pipeline validation complete" in out and "creating new compute target" in out
    assert "trend: temperature = " in out
    ws = workspace_of("pipelinedata-two-step-ws")
    (run,) = pipeline_runs(ws, "Data_dependency")
    steps = steps_by_name(run)
    assert set(steps) == {"process.py", "train.py"}  # process.py pulled in by the data it produces
    process = steps["process.py"]
    assert process.get_metrics() == {"rows_kept": 56}
    assert process.get_output_data("processed_data").path_on_datastore == f"azureml/{process.id}/processed_data"
    assert f"downloaded downloaded/azureml/{process.id}/processed_data/clean.csv with 56 rows" in out
    assert set(steps["train.py"].get_metrics()) == {"slope", "intercept"}


def test_the_pipeline_parameters_example(tmp_path: Path, headwater_home: Path, workspace_of: OpenWorkspace) -> None:
    out = run_example("pipeline_parameters", tmp_path, headwater_home)
    assert "defaults: Finished, train ran" in out
    assert "learning_rate=0.015: Finished, train ran" in out
    assert "same values again: Finished, train reused" in out
    ws = workspace_of("pipeline-parameters-ws")
    defaults, faster, again = (steps_by_name(r)["train"] for r in pipeline_runs(ws, "pipeline-parameters"))
    assert defaults.get_metrics()["learning_rate"] == 0.005 and defaults.get_tags()["model_name"] == "linear"
    assert "parameter learning_rate 0.005 → 0.015" in (faster.reason or "")
    assert faster.get_tags()["model_name"] == "linear-fast"
    assert again.get_properties()["azureml.reusedrunid"] == faster.id


def test_the_script_run_config_example(tmp_path: Path, headwater_home: Path, workspace_of: OpenWorkspace) -> None:
    out = run_example("script_run_config", tmp_path, headwater_home)
    assert "Streaming user_logs/std_log.txt" in out and "Execution Summary" in out
    assert "Status: Completed" in out and "Second run: Completed" in out
    assert "When alpha is 0.00, we have min MSE" in out
    assert "Files: ['outputs/ridge_0.00.json', 'outputs/ridge_0.20.json'," in out
    assert "Downloaded model: {'weights': [" in out
    assert (tmp_path / "script_run_config" / "model.json").is_file()
    ws = workspace_of("script-run-config-ws")
    first, second = reversed(list(Experiment(ws, "train-on-local").get_runs()))
    for run in (first, second):
        assert isinstance(run, ScriptRun) and run.get_status() == "Completed"
        metrics = run.get_metrics()
        assert metrics["rows"] == 200 and len(metrics["alpha"]) == len(metrics["mse"]) == 5
    mechanisms = [
        [d["consumptionDetails"]["mechanism"] for d in r.get_details()["inputDatasets"]] for r in (first, second)
    ]
    assert mechanisms == [["Mount"], ["Download"]]


def test_the_interactive_logging_example(tmp_path: Path, headwater_home: Path, workspace_of: OpenWorkspace) -> None:
    out = run_example("interactive_logging", tmp_path, headwater_home)
    assert "Status: Completed" in out and "Children: ['0.01', '0.05', '0.2']" in out
    assert "Best learning rate: 0.2" in out and "Best model: w=2.9" in out
    assert "Run again by id: Completed" in out
    assert "Experiments tagged team=forecasting: ['train-within-notebook']" in out
    ws = workspace_of("interactive-logging-ws")
    (run,) = Experiment(ws, "train-within-notebook").get_runs()
    assert run.get_status() == "Completed" and run.get_tags()["best_lr"] == "0.2"
    assert {r.id for r in run.get_children()} == {r.id for r in run.get_children(tags="lr")}
    assert "outputs/model_lr0.2.json" in run.get_file_names()
    child = next(iter(run.get_children(tags={"lr": "0.2"})))
    assert len(child.get_metrics()["mse"]) == 30


def test_the_step_sequence_example(tmp_path: Path, headwater_home: Path, workspace_of: OpenWorkspace) -> None:
    out = run_example("step_sequence", tmp_path, headwater_home)
    assert "StepSequence run: Finished" in out and "run_after run: Finished" in out
    ws = workspace_of("step-sequence-ws")
    for run in pipeline_runs(ws, "step-order"):
        order = run.get_metrics()["stage"]  # logged on the pipeline run by each step as it ran
        assert order[0] == "prepare" and set(order[1:3]) == {"train_a", "train_b"}
        assert order[3:] == ["evaluate", "report"]
        assert {s.get_status() for s in run.get_steps()} == {"Finished"}
        # the run_after pipeline was built from its last step: the chain was pulled in
        assert {s.name for s in run.get_steps()} == {"prepare", "train_a", "train_b", "evaluate", "report"}


def test_the_datapath_parameter_example(tmp_path: Path, headwater_home: Path, workspace_of: OpenWorkspace) -> None:
    out = run_example("datapath_parameter", tmp_path, headwater_home)
    assert "default DataPath: Finished, metrics {'files': 2, 'words': 11}" in out
    assert "sample_datapath2: Finished, metrics {'files': 1, 'words': 7}" in out
    ws = workspace_of("datapath-parameter-ws")
    first, second = (steps_by_name(r)["train_step"] for r in pipeline_runs(ws, "train_with_datapath_input"))
    assert first.get_tags()["input_string"] == "sample_string1"
    assert second.get_tags()["input_string"] == "sample_string2"


def test_the_promoted_intermediate_data_example(
    tmp_path: Path, headwater_home: Path, workspace_of: OpenWorkspace
) -> None:
    out = run_example("promoted_intermediate_data", tmp_path, headwater_home)
    ws = workspace_of("promoted-data-ws")
    (run,) = pipeline_runs(ws, "promoted-data")
    prep, report = (steps_by_name(run)[name] for name in ("prep", "report"))
    assert f"output cleaned is on workspaceblobstore at azureml/{prep.id}/cleaned" in out
    assert "downloaded 2 files: ['sales-2024-01.csv', 'sales-2024-02.csv']" in out
    assert "'units': 'Int64', 'price': 'float64'" in report.get_stdout_log()  # set_column_types applied
    metrics = report.get_metrics()
    assert metrics["rows"] == 8 and set(metrics) == {"rows", "revenue_north", "revenue_south", "revenue_east"}


def test_the_tabular_dataset_example(tmp_path: Path, headwater_home: Path, workspace_of: OpenWorkspace) -> None:
    out = run_example("tabular_dataset", tmp_path, headwater_home)
    assert "registered titanic_ds version 1" in out
    assert "survival_rates  Finished" in out  # RunDetails(run).show()
    assert "latest version 2 rows 400 | version 1 rows 300" in out
    ws = workspace_of("tabular-dataset-ws")
    (run,) = pipeline_runs(ws, "titanic-survival")
    step = steps_by_name(run)["survival_rates"]
    assert step.get_metrics()["passengers"] == 300
    (consumed,) = step.get_details()["inputDatasets"]
    assert consumed["dataset"]["id"] == Dataset.get_by_name(ws, "titanic_ds", version=1).id


def test_the_dataframe_datasets_example(tmp_path: Path, headwater_home: Path, workspace_of: OpenWorkspace) -> None:
    out = run_example("dataframe_datasets", tmp_path, headwater_home)
    assert "registered daily_sales version 1 rows 60" in out
    assert "february rows 29 timestamp day" in out
    assert "partitions ['north', 'south']" in out
    assert "notes ['/a.txt', '/b.txt'] long ['/b.txt']" in out
    assert "february units 616 notes read 1" in out
    ws = workspace_of("dataframe-datasets-ws")
    sales = Dataset.get_by_name(ws, "daily_sales")
    assert sales.tags == {"source": "pandas"} and sales.description == "units sold per store and day"
    assert Dataset.get_by_name(ws, "sales_by_store").partition_keys == ["store"]


# -- the seed example under plain `python` of another environment -------------------------------


def _environment_without_headwater(tmp_path: Path) -> Path:
    """A new virtual environment that has Headwater's dependencies but not Headwater; its python.

    Like a project's or a Jupyter kernel's environment with pandas & co. installed. The
    dependencies are this environment's installed distributions (linked into a folder that a
    ``.pth`` file names), leaving out Headwater itself, so that nothing is downloaded.
    """
    venv = tmp_path / "other-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    deps = tmp_path / "dependencies"
    deps.mkdir()
    ours = Path(sysconfig.get_paths()["purelib"])
    for entry in ours.iterdir():
        name = entry.name.lower()
        if "headwater" in name or name.endswith(".pth") or name.startswith("__editable__"):
            continue
        (deps / entry.name).symlink_to(entry)
    (site / "dependencies.pth").write_text(f"{deps}\n", encoding="utf-8")
    return python


def test_the_module_step_example(tmp_path: Path, headwater_home: Path, workspace_of: OpenWorkspace) -> None:
    out = run_example("module_step", tmp_path, headwater_home)
    assert "published module AddAndMultiply versions ['1', '2'] default 2" in out
    assert "final sum: 23 final product: 120" in out  # (5 + 3) + (5 * 3), (5 + 3) * (5 * 3)
    assert out.count(" Finished reused") == 2
    assert "last submitted run of the draft is the draft's run: True" in out
    ws = workspace_of("module-step-ws")
    first, second = pipeline_runs(ws, "module_step")
    assert [s.name for s in first.get_steps()] == ["start", "combine"]
    assert all(s.reused for s in second.get_steps())


def test_the_seed_example_runs_under_plain_python_after_compat_install(
    tmp_path: Path, headwater_home: Path, workspace_of: OpenWorkspace
) -> None:
    python = _environment_without_headwater(tmp_path)
    probe = "import pandas, importlib.util as u; print(*(u.find_spec(m) is None for m in ('headwater', 'azureml')))"
    found = subprocess.run([str(python), "-c", probe], cwd=tmp_path, capture_output=True, text=True)
    assert found.stdout.split() == ["True", "True"], found.stderr  # pandas is there, Headwater is not

    installed = subprocess.run(
        [str(HEADWATER), "compat", "install", "--python", str(python)], capture_output=True, text=True
    )
    assert installed.returncode == 0, installed.stderr
    status = subprocess.run(
        [str(HEADWATER), "compat", "status", "--python", str(python)], capture_output=True, text=True
    ).stdout
    assert status.startswith("installed: yes")

    out = run_example("seed_pipeline", tmp_path, headwater_home, python=python)
    ws = workspace_of("compare-models-ws")
    check_seed_example(out, ws)
    first = pipeline_runs(ws, "Compare_Models_Exp")[0]
    plan = RunPlan.load(Path(ws.folder) / "runs" / first.id / PLAN_FILE)
    assert {s.interpreter for s in plan.steps.values()} == {str(python)}  # steps ran on that environment

    removed = subprocess.run(
        [str(HEADWATER), "compat", "uninstall", "--python", str(python)], capture_output=True, text=True
    )
    assert removed.returncode == 0 and "no longer installed" in removed.stdout
    after = subprocess.run([str(python), "-c", "import azureml.core"], cwd=tmp_path, capture_output=True, text=True)
    assert after.returncode != 0 and "No module named 'azureml'" in after.stderr


def test_the_publish_rest_example_posts_to_a_server_it_started(
    tmp_path: Path, headwater_home: Path, workspace_of: OpenWorkspace
) -> None:
    from headwater.ops.server_process import running_server, stop_server

    folder = headwater_home / "workspaces" / "publish-rest-ws"
    try:
        out = run_example("publish_rest", tmp_path, headwater_home)
        assert "Published train-pipeline 1.0: Active" in out
        assert "REST run: Finished, learning_rate 0.05" in out
        assert "Endpoint by name: Finished, train reused" in out  # the same snapshot and value: reused
        info = running_server(folder)
        assert info is not None and info.autostarted  # reading .endpoint started it
    finally:
        stop_server(folder)  # no process outlives the test
    ws = workspace_of("publish-rest-ws")
    first, second = pipeline_runs(ws, "rest-trigger")
    assert first.get_properties()["azureml.pipelineid"] == second.get_properties()["azureml.pipelineid"]


def test_the_batch_scoring_example(tmp_path: Path, headwater_home: Path, workspace_of: OpenWorkspace) -> None:
    """ParallelRunStep over a TabularDataset, the model from Model.get_model_path in init()."""
    out = run_example("batch_scoring", tmp_path, headwater_home)
    assert "registered model diabetes-model version 1" in out
    assert "scored 1000 patients:" in out
    ws = workspace_of("batch-scoring-ws")
    (run,) = pipeline_runs(ws, "batch-scoring")
    step = steps_by_name(run)["batch-scoring"]
    assert step.get_status() == "Finished"
    logs = Path(ws.folder) / "runs" / step.id / "wd" / "logs"
    entry_logs = "".join(p.read_text() for p in (logs / "user" / "entry_script_log").rglob("*.txt"))
    assert entry_logs.count("loaded diabetes-model from") == 2  # init() once in each of the 2 workers
    assert "mini-batches: " in (logs / "job_result.txt").read_text()


def test_the_data_drift_example(tmp_path: Path, headwater_home: Path, workspace_of: OpenWorkspace) -> None:
    out = run_example("data_drift", tmp_path, headwater_home)
    assert "detector weather-monitor frequency Day threshold 0.3" in out
    assert "backfill Finished" in out
    days = [line for line in out.splitlines() if line.startswith("2026-05-") and " drift=" in line]
    assert [line.split(" drift=")[1] for line in days] == ["False"] * 6 + ["True"] * 4
    assert out.count("top feature temperature") >= 4
    assert "figure weather-monitor saved" in out
    ws = workspace_of("data-drift-ws")
    (run,) = pipeline_runs(ws, "weather-monitor-Monitor-Runs")
    assert len(list(run.get_steps())) == 10
