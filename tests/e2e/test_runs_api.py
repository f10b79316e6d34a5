"""The client-side runs API: statuses, wait_for_completion's output, metrics, details, finding step
runs, listing runs, ``Run.get``, tags, and downloading a step's output.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from headwater import (
    Experiment,
    OutputFileDatasetConfig,
    Pipeline,
    PipelineRun,
    PythonScriptStep,
    Run,
    StepRun,
    Workspace,
)
from headwater.errors import NotFoundError
from tests.conftest import gen
from tests.e2e.conftest import script

pytestmark = pytest.mark.slow

LOGS = script(
    "logs",
    """
import os, sys
from headwater import Run
run = Run.get_context()
run.log("once", 1)
run.log("twice", 1)
run.log("twice", 2)
run.log_list("listed", [1, 2, 3])
run.log_row("table", a=1, b="x")
run.log_row("table", a=2, b="y")
run.tag("stage", "prep")
run.parent.log("pipeline_metric", 42)
out = sys.argv[1]
os.makedirs(os.path.join(out, "sub"), exist_ok=True)
with open(os.path.join(out, "sub", "f.txt"), "w") as fh:
    fh.write("payload")
print("line one from the step")
print("line two from the step")
""",
)

# waits until the file named in argv[1] exists (the test releases it)
GATE = script(
    "gate",
    """
import os, sys, time
while not os.path.exists(sys.argv[1]):
    time.sleep(0.01)
""",
)


@pytest.fixture
def src(proj: Path) -> Path:
    gen(proj, {"src": {"logs.py": LOGS, "gate.py": GATE, "quick.py": script("quick")}})
    return proj


def logs_pipeline(ws: Workspace) -> Pipeline:
    out = OutputFileDatasetConfig(name="out")
    return Pipeline(ws, steps=[PythonScriptStep("logs.py", name="logs", source_directory="src", arguments=[out])])


def test_metrics_scalar_list_table_and_recursive(src: Path, pws: Workspace) -> None:
    run = Experiment(pws, "api").submit(logs_pipeline(pws))
    assert run.wait_for_completion(show_output=False) == "Finished"
    step = run.find_step_run("logs")[0]
    assert step.get_metrics() == {
        "once": 1,
        "twice": [1, 2],
        "listed": [1, 2, 3],
        "table": {"a": [1, 2], "b": ["x", "y"]},
    }
    assert step.get_metrics(name="twice") == {"twice": [1, 2]}
    assert run.get_metrics() == {"pipeline_metric": 42}
    recursive = run.get_metrics(recursive=True)
    assert recursive[run.id] == {"pipeline_metric": 42}
    assert recursive[step.id]["once"] == 1
    assert step.get_tags()["stage"] == "prep"


def test_wait_for_completion_streams_status_and_logs(
    src: Path, pws: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    run = Experiment(pws, "api").submit(logs_pipeline(pws))
    assert run.wait_for_completion(show_output=True) == "Finished"
    out = capsys.readouterr().out
    assert f"PipelineRunId: {run.id}" in out
    assert "PipelineRun Status: Running" in out
    assert (
        "StepRun(logs) Status: Running\nline one from the step\nline two from the step\n"
        "StepRun(logs) Status: Finished\n"
    ) in out  # however fast the step was, and its output before its final status
    summary = out.index("PipelineRun Execution Summary")
    assert "PipelineRun Status: Finished" in out[summary:]


def test_status_vocabulary_includes_queued_steps(
    src: Path, pws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEADWATER_MAX_CONCURRENCY", "1")
    gate = tmp_path / "release"
    steps = [
        PythonScriptStep("gate.py", name="gate", source_directory="src", arguments=[str(gate)]),
        PythonScriptStep("quick.py", name="quick", source_directory="src"),
    ]
    run = Experiment(pws, "api").submit(Pipeline(pws, steps=steps))
    assert run.get_status() in ("NotStarted", "Running")
    deadline = time.monotonic() + 60
    while run.find_step_run("quick")[0].get_status() != "Queued":
        assert time.monotonic() < deadline, "quick never became Queued"
        time.sleep(0.01)
    assert run.find_step_run("gate")[0].get_status() == "Running"
    assert run.get_status() == "Running"
    gate.write_text("go")
    assert run.wait_for_completion(show_output=False) == "Finished"
    assert {s.name: s.get_status() for s in run.get_steps()} == {"gate": "Finished", "quick": "Finished"}


def test_details_find_step_run_get_runs_and_run_get(src: Path, pws: Workspace, tmp_path: Path) -> None:
    first = Experiment(pws, "api").submit(logs_pipeline(pws))
    first.wait_for_completion(show_output=False)
    second = Experiment(pws, "api").submit(logs_pipeline(pws), regenerate_outputs=True)
    second.wait_for_completion(show_output=False)

    found = second.find_step_run("logs")
    assert isinstance(found, list) and len(found) == 1 and isinstance(found[0], StepRun)
    assert second.find_step_run("no such step") == []
    step = found[0]
    details = step.get_details()
    for key in (
        "runId",
        "target",
        "status",
        "startTimeUtc",
        "endTimeUtc",
        "properties",
        "logFiles",
        "inputDatasets",
        "outputDatasets",
        "runDefinition",
    ):
        assert key in details, key
    assert details["runId"] == step.id and details["status"] == "Finished" and details["target"] == "local"
    assert "user_logs/std_log.txt" in details["logFiles"]
    assert details["outputDatasets"] == [
        {"name": "out", "datastore": "workspaceblobstore", "path": f"dataset/{step.id}/out"}
    ]
    assert second.get_details()["properties"]["azureml.runsource"] == "azureml.PipelineRun"

    runs = list(Experiment(pws, "api").get_runs())
    assert [r.id for r in runs] == [second.id, first.id]  # newest first
    assert all(isinstance(r, PipelineRun) for r in runs)

    got = Run.get(pws, step.id)
    assert isinstance(got, StepRun) and got.id == step.id
    assert isinstance(Run.get(pws, second.id), PipelineRun)
    with pytest.raises(NotFoundError):
        Run.get(pws, "no-such-run")


def test_tags_from_the_client(src: Path, pws: Workspace) -> None:
    run = Experiment(pws, "api").submit(logs_pipeline(pws), tags={"team": "a"})
    run.wait_for_completion(show_output=False)
    run.tag("reviewed", "yes")
    run.set_tags({"team": "b"})
    again = Run.get(pws, run.id)
    assert again.get_tags() == {"team": "b", "reviewed": "yes"}
    assert [r.id for r in Experiment(pws, "api").get_runs(tags={"reviewed": "yes"})] == [run.id]


def test_output_download_writes_under_the_datastore_path(src: Path, pws: Workspace, tmp_path: Path) -> None:
    run: Any = Experiment(pws, "api").submit(logs_pipeline(pws))
    run.wait_for_completion(show_output=False)
    ref = run.find_step_run("logs")[0].get_output_data("out")
    assert ref.download(str(tmp_path / "dl")) == 1  # SDK v1: the number of files downloaded
    assert (tmp_path / "dl" / ref.path_on_datastore / "sub" / "f.txt").read_text() == "payload"


SPEAK = script(
    "speak",
    """
import os, sys, time
print("first line, before the gate", flush=True)
while not os.path.exists(sys.argv[1]):
    time.sleep(0.01)
print("after the gate")
""",
)


def test_logs_stream_while_the_step_runs_and_waiting_can_time_out(src: Path, pws: Workspace, tmp_path: Path) -> None:
    gen(src, {"src": {"speak.py": SPEAK}})
    gate = tmp_path / "open"
    step = PythonScriptStep("speak.py", name="speak", source_directory="src", arguments=[str(gate)])
    run = Experiment(pws, "api").submit(Pipeline(pws, steps=[step]))
    deadline = time.monotonic() + 60
    while "first line, before the gate" not in run.find_step_run("speak")[0].get_stdout_log():
        assert time.monotonic() < deadline, "the log never showed the first line"
        time.sleep(0.01)
    assert run.find_step_run("speak")[0].get_status() == "Running"  # still running: the log is live
    assert run.wait_for_completion(show_output=False, timeout_seconds=0.05) == "Running"
    gate.write_text("go")
    assert run.wait_for_completion(show_output=False) == "Finished"
    assert "after the gate" in run.find_step_run("speak")[0].get_stdout_log()


def test_a_stale_heartbeat_alone_is_not_a_dead_orchestrator(pws: Workspace) -> None:
    from headwater.store.records import RunRecord

    store = pws.metadata_store
    experiment = store.get_or_create_experiment("api")
    # the pid is alive (this process) but not beating: a stopped or suspended orchestrator is alive
    # (tests/reliability/test_liveness.py covers the dead ones)
    store.create_run(
        RunRecord(
            id="p1",
            experiment_id=experiment.id,
            kind="pipeline",
            status="Running",
            heartbeat_at="2000-01-01T00:00:00+00:00",
            definition={"orchestrator_pid": os.getpid()},
        )
    )
    store.create_run(
        RunRecord(id="s1", experiment_id=experiment.id, kind="step", status="Running", parent_id="p1", name="s")
    )
    # Run.get returns the workspace's run
    assert Run.get(pws, "p1").get_status() == "Running"
    assert Run.get(pws, "s1").get_status() == "Running"
