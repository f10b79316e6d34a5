"""ParallelRunStep end to end: real worker processes, timeouts, retries, thresholds, resume, logs."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from headwater import (
    Dataset,
    Datastore,
    Environment,
    Experiment,
    OutputFileDatasetConfig,
    ParallelRunConfig,
    ParallelRunStep,
    Pipeline,
    Workspace,
)
from headwater.layout import RunLayout
from tests.conftest import gen

pytestmark = pytest.mark.slow

COUNT_FILES = """
import os
from azureml.core import Run
from azureml_user.parallel_run import EntryScript

def init():
    global LOG
    LOG = os.environ["HW_TEST_EVENTS"]
    with open(LOG, "a") as f:
        f.write("init %d\\n" % os.getpid())
    EntryScript().logger.info("init in %s", EntryScript().agent_name)
    assert Run.get_context().id

def run(mini_batch):
    print("scoring", len(mini_batch))
    return [os.path.basename(p) + " " + open(p).read().strip() for p in mini_batch]

def shutdown():
    with open(LOG, "a") as f:
        f.write("shutdown %d\\n" % os.getpid())
"""


def _env() -> Environment:
    env = Environment("parallel-test")
    env.python.user_managed_dependencies = True
    return env


def _config(source: Path, **over: Any) -> ParallelRunConfig:
    kwargs: dict[str, Any] = {
        "environment": _env(),
        "entry_script": "score.py",
        "source_directory": str(source),
        "error_threshold": -1,
        "output_action": "append_row",
        "compute_target": "local",
        "node_count": 1,
        "process_count_per_node": 2,
        "mini_batch_size": 3,
        "run_invocation_timeout": 60,
    }
    kwargs.update(over)
    return ParallelRunConfig(**kwargs)


def _files(ws: Workspace, proj: Path, n: int = 10) -> Any:
    gen(proj / "data", {f"f{i:02d}.txt": str(i) for i in range(n)})
    store = Datastore.register_local_folder(ws, "inputs", proj / "data")
    return Dataset.File.from_files((store, "")).as_named_input("files")


def _submit(ws: Workspace, step: ParallelRunStep, experiment: str = "score") -> Any:
    run = Experiment(ws, experiment).submit(Pipeline(ws, steps=[step]))
    run.wait_for_completion(show_output=False, raise_on_error=False)
    return run


def _output_lines(step_run: Any, name: str = "scores", file: str = "parallel_run_step.txt") -> list[str]:
    port = step_run.get_output_data(name)
    folder = Path.cwd() / "downloaded" / step_run.id
    port.download(str(folder))
    return sorted((folder / port.path_on_datastore / file).read_text().splitlines())


def test_file_dataset_scored_by_workers_with_append_row(
    pws: Workspace, proj: Path, tmp_path: Path, monkeypatch: Any
) -> None:
    events = tmp_path / "events.txt"
    monkeypatch.setenv("HW_TEST_EVENTS", str(events))
    gen(proj / "src", {"score.py": COUNT_FILES})
    step = ParallelRunStep("score", _config(proj / "src"), [_files(pws, proj)], OutputFileDatasetConfig("scores"))
    run = _submit(pws, step)
    assert run.get_status() == "Finished", run.get_details()
    step_run = run.find_step_run("score")[0]
    assert _output_lines(step_run) == sorted(f"f{i:02d}.txt {i}" for i in range(10))
    lines = events.read_text().splitlines()
    inits = [line for line in lines if line.startswith("init")]
    shutdowns = [line for line in lines if line.startswith("shutdown")]
    assert len(inits) == 2 and sorted(i.split()[1] for i in inits) == sorted(s.split()[1] for s in shutdowns)
    logs = RunLayout(Path(pws.folder) / "runs" / step_run.id).folder / "wd" / "logs"
    assert (logs / "job_result.txt").read_text().startswith("Succeeded")
    assert list(logs.glob("job_progress_overview.*.txt"))
    std_log = RunLayout(Path(pws.folder) / "runs" / step_run.id).std_log.read_text()
    assert "[parallel] progress: 4 of 4 mini-batches finished, 0 failed" in std_log  # what show_output streams
    assert (logs / "sys" / "master_role.txt").is_file()
    sys_logs = "".join(p.read_text() for p in (logs / "sys" / "node").rglob("process*.txt"))
    assert "init() done" in sys_logs and sys_logs.count(": done") == 4
    stdout = "".join(p.read_text() for p in (logs / "user" / "stdout").rglob("process*.stdout.txt"))
    assert stdout.count("scoring") == 4  # 10 files in mini-batches of 3
    entry_logs = "".join(p.read_text() for p in (logs / "user" / "entry_script_log").rglob("*.txt"))
    assert "init in process00" in entry_logs


TABLE = """
import pandas as pd

def init():
    pass

def run(mini_batch, mini_batch_context=None):
    out = mini_batch.copy()
    out["double"] = out["value"] * 2
    return out[["id", "double"]]
"""


def test_tabular_dataset_by_size_returns_dataframe_rows(pws: Workspace, proj: Path) -> None:
    gen(proj / "src", {"score.py": TABLE})
    rows = "".join(f"{i},{i}\n" for i in range(300))
    gen(proj / "data", {"a.csv": "id,value\n" + rows, "b.csv": "id,value\n1000,1\n"})
    store = Datastore.register_local_folder(pws, "tables", proj / "data")
    table = Dataset.Tabular.from_delimited_files((store, "*.csv")).as_named_input("table")
    config = _config(proj / "src", mini_batch_size="1KB", append_row_file_name="scores.txt")
    step = ParallelRunStep("score-table", config, [table], OutputFileDatasetConfig("scores"))
    run = _submit(pws, step)
    assert run.get_status() == "Finished", run.get_details()
    lines = _output_lines(run.find_step_run("score-table")[0], file="scores.txt")
    assert sorted(lines) == sorted([f"{i} {2 * i}" for i in range(300)] + ["1000 2"])


PARTITIONED = """
def run(mini_batch, mini_batch_context):
    key = mini_batch_context.partition_key_value
    return ["%s %d %d" % (key["country"], len(mini_batch), mini_batch_context.minibatch_index)]
"""


def test_partition_keys_pass_the_mini_batch_context(pws: Workspace, proj: Path) -> None:
    gen(proj / "src", {"score.py": PARTITIONED})
    gen(proj / "data", {"us": {"a.txt": "1", "b.txt": "2"}, "fr": {"c.txt": "3"}})
    store = Datastore.register_local_folder(pws, "parts", proj / "data")
    files = Dataset.File.from_files((store, "**"), partition_format="{country}/{name}.txt")
    config = _config(proj / "src", mini_batch_size=None, partition_keys=["country"])
    step = ParallelRunStep("score-parts", config, [files.as_named_input("files")], OutputFileDatasetConfig("scores"))
    run = _submit(pws, step)
    assert run.get_status() == "Finished", run.get_details()
    assert _output_lines(run.find_step_run("score-parts")[0]) == ["fr 1 0", "us 2 1"]


FLAKY = """
import os, time

def run(mini_batch):
    out = []
    for path in mini_batch:
        name = os.path.basename(path)
        if name in os.environ.get("HW_SLOW", "").split(","):
            marker = os.environ["HW_MARKERS"] + "/" + name
            if not os.path.exists(marker):  # first try: hang, then be killed
                open(marker, "w").close()
                time.sleep(600)
        if name in os.environ.get("HW_FAIL", "").split(","):
            raise ValueError("cannot score " + name)
        out.append(name)
    return out
"""


def test_a_timed_out_call_is_killed_and_retried(pws: Workspace, proj: Path, tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("HW_SLOW", "f03.txt")
    monkeypatch.setenv("HW_MARKERS", str(tmp_path))
    gen(proj / "src", {"score.py": FLAKY})
    config = _config(proj / "src", mini_batch_size=2, run_invocation_timeout=2)
    step = ParallelRunStep("score", config, [_files(pws, proj, 6)], OutputFileDatasetConfig("scores"))
    run = _submit(pws, step)
    assert run.get_status() == "Finished", run.get_details()
    step_run = run.find_step_run("score")[0]
    assert _output_lines(step_run) == [f"f{i:02d}.txt" for i in range(6)]
    master = (Path(pws.folder) / "runs" / step_run.id / "wd" / "logs" / "sys" / "master_role.txt").read_text()
    assert "run_invocation_timeout=2s" in master and "replaced by process002" in master


@pytest.mark.parametrize(
    ("over", "finished"),
    [
        ({"error_threshold": 2}, True),  # one batch of 2 files fails: 2 failed files
        ({"error_threshold": 1}, False),
        ({"allowed_failed_count": 1}, True),
        ({"allowed_failed_count": 0}, False),
        ({"allowed_failed_percent": 34}, True),  # 1 of 3 mini-batches: 33.3%
        ({"allowed_failed_percent": 30}, False),
        ({"error_threshold": -1}, True),
    ],
)
def test_failures_under_and_over_each_threshold(
    pws: Workspace, proj: Path, monkeypatch: Any, over: dict[str, Any], finished: bool
) -> None:
    monkeypatch.setenv("HW_FAIL", "f02.txt")
    gen(proj / "src", {"score.py": FLAKY})
    config = _config(proj / "src", mini_batch_size=2, run_max_try=2, **{"error_threshold": -1, **over})
    step = ParallelRunStep("score", config, [_files(pws, proj, 6)], OutputFileDatasetConfig("scores"))
    run = _submit(pws, step)
    step_run = run.find_step_run("score")[0]
    if finished:
        assert run.get_status() == "Finished", run.get_details()
        assert _output_lines(step_run) == [f"f{i:02d}.txt" for i in (0, 1, 4, 5)]
        return
    assert run.get_status() == "Failed"
    error = step_run.get_details()["error"]["message"]
    assert "Failed mini-batches: 1." in error
    assert "ValueError: cannot score f02.txt" in error and "Traceback" in error and 'score.py", line' in error
    assert "logs/user/error.txt" in error and "SystemExit" not in error


SLOW = """
import os, time

def run(mini_batch):
    with open(os.environ["HW_TEST_EVENTS"], "a") as f:
        f.write(" ".join(os.path.basename(p) for p in mini_batch) + "\\n")
    if os.path.exists(os.environ["HW_GATE"]) and "f02.txt" in str(mini_batch):
        time.sleep(600)
    return [os.path.basename(p) for p in mini_batch]
"""


def test_finished_mini_batches_are_not_scored_again_after_the_orchestrator_dies(
    pws: Workspace, proj: Path, tmp_path: Path, monkeypatch: Any
) -> None:
    from tests.reliability.test_resume import hw, kill_orchestrator

    events, gate = tmp_path / "events.txt", tmp_path / "gate"
    monkeypatch.setenv("HW_TEST_EVENTS", str(events))
    monkeypatch.setenv("HW_GATE", str(gate))
    gen(proj / "src", {"score.py": SLOW})
    config = _config(proj / "src", mini_batch_size=1, process_count_per_node=1)
    step = ParallelRunStep("score", config, [_files(pws, proj, 4)], OutputFileDatasetConfig("scores"))
    gate.touch()  # the third mini-batch hangs: two are finished when the orchestrator is killed
    run = Experiment(pws, "score").submit(Pipeline(pws, steps=[step]))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(events.read_text().splitlines() if events.exists() else []) < 3:
        time.sleep(0.1)
    kill_orchestrator(pws, run.id)
    gate.unlink()
    first = events.read_text().splitlines()
    events.write_text("")
    result = hw("run", "resume", run.id, "-w", "pipelines")
    assert result.exit_code == 0, result.output
    run.wait_for_completion(show_output=False, raise_on_error=False)
    assert run.get_status() == "Finished", run.get_details()
    rescored = events.read_text().splitlines()
    assert first == ["f00.txt", "f01.txt", "f02.txt"]
    assert rescored == ["f02.txt", "f03.txt"]
    assert _output_lines(run.find_step_run("score")[0]) == [f"f{i:02d}.txt" for i in range(4)]


LEDGER = """
import os

def run(mini_batch):
    with open(os.environ["HW_TEST_EVENTS"], "a") as f:
        f.write(" ".join(os.path.basename(p) for p in mini_batch) + "\\n")
    if any(os.path.basename(p) in os.environ.get("HW_FAIL", "").split(",") for p in mini_batch):
        raise RuntimeError("broken input")
    return [os.path.basename(p) for p in mini_batch]
"""


def test_the_same_step_submitted_again_does_not_score_finished_mini_batches_again(
    pws: Workspace, proj: Path, tmp_path: Path, monkeypatch: Any
) -> None:
    events = tmp_path / "events.txt"
    monkeypatch.setenv("HW_TEST_EVENTS", str(events))
    monkeypatch.setenv("HW_FAIL", "f02.txt")
    gen(proj / "src", {"score.py": LEDGER})
    config = _config(proj / "src", mini_batch_size=1, process_count_per_node=1, run_max_try=1, allowed_failed_count=0)
    files = _files(pws, proj, 4)
    first = _submit(pws, ParallelRunStep("score", config, [files], OutputFileDatasetConfig("scores")))
    assert first.get_status() == "Failed"
    assert events.read_text().splitlines() == ["f00.txt", "f01.txt", "f02.txt"]
    events.write_text("")
    monkeypatch.setenv("HW_FAIL", "")  # the environment variable is not part of the step's fingerprint
    second = _submit(pws, ParallelRunStep("score", config, [files], OutputFileDatasetConfig("scores")))
    assert second.get_status() == "Finished", second.get_details()
    assert events.read_text().splitlines() == ["f02.txt", "f03.txt"]
    assert _output_lines(second.find_step_run("score")[0]) == [f"f{i:02d}.txt" for i in range(4)]
    third = _submit(pws, ParallelRunStep("score", config, [files], OutputFileDatasetConfig("scores")))
    assert third.find_step_run("score")[0].get_details()["properties"]["azureml.reusedrunid"]  # the whole step


def test_a_parallel_run_step_on_a_ray_target_runs_its_workers_there(
    pws: Workspace, proj: Path, tmp_path: Path, ray_address: str
) -> None:
    """On the test cluster (one node, 2 CPUs) the driver runs as the step's Ray task and its two
    workers on that node; the step records the node, as any Ray step does."""
    from headwater import ComputeTarget, RayCompute
    from headwater.engine.executors.ray_executor import cluster_nodes

    events = tmp_path / "events.txt"
    gen(proj / "src", {"score.py": COUNT_FILES})
    target = ComputeTarget.attach(pws, "ray", RayCompute.attach_configuration(address=ray_address))
    # a Ray worker does not inherit this process's environment: the config's variables reach the workers
    config = _config(proj / "src", compute_target=target, environment_variables={"HW_TEST_EVENTS": str(events)})
    step = ParallelRunStep("score-ray", config, [_files(pws, proj)], OutputFileDatasetConfig("scores"))
    run = _submit(pws, step, "score-ray")
    assert run.get_status() == "Finished", [s.get_details().get("error") for s in run.get_steps()]
    step_run = run.find_step_run("score-ray")[0]
    assert step_run.get_properties()["headwater.ray.node"] in {n.node_id for n in cluster_nodes(ray_address)}
    assert _output_lines(step_run) == sorted(f"f{i:02d}.txt {i}" for i in range(10))
    assert len([line for line in events.read_text().splitlines() if line.startswith("init")]) == 2


def test_an_entry_script_in_a_subfolder_imports_its_neighbours(pws: Workspace, proj: Path) -> None:
    gen(
        proj / "src",
        {"batch": {"score.py": "import helper\n\ndef run(mb):\n    return [helper.name(p) for p in mb]\n",
                   "helper.py": "import os\n\ndef name(p):\n    return os.path.basename(p)\n"}},
    )  # fmt: skip
    config = _config(proj / "src", entry_script="batch/score.py", output_action="summary_only")
    run = _submit(pws, ParallelRunStep("score", config, [_files(pws, proj, 4)]))
    assert run.get_status() == "Finished", [s.get_details().get("error") for s in run.get_steps()]
