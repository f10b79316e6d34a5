"""The read routes over real HTTP: a run, its steps, its metrics, an experiment's runs (scope read)."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from headwater import Experiment, Pipeline, PythonScriptStep
from tests.conftest import gen
from tests.server.conftest import LiveServer

pytestmark = pytest.mark.slow

STEP = """
from headwater import Run
run = Run.get_context()
run.log("loss", 1.0)
run.log("loss", 0.5)
run.log("rows", 3)
print("done")
"""


@pytest.fixture
def finished_runs(live_server: LiveServer, tmp_path: Path) -> tuple[str, str]:
    """Two runs of a one-step pipeline: the second reuses the first's step."""
    src = gen(tmp_path / "src", {"train.py": STEP})
    ids = []
    for _ in range(2):
        step = PythonScriptStep("train.py", name="train", source_directory=str(src))
        run = Experiment(live_server.ws, "poll").submit(Pipeline(live_server.ws, steps=[step]))
        run.wait_for_completion(show_output=False)
        ids.append(run.id)
    return ids[0], ids[1]


def test_a_run_its_steps_and_metrics_can_be_polled_with_a_read_token(
    live_server: LiveServer, finished_runs: tuple[str, str]
) -> None:
    first, second = finished_runs
    h = live_server.headers("read")
    run = requests.get(f"{live_server.url}/api/runs/{second}", headers=h, timeout=30).json()
    assert run["runId"] == second and run["status"] == "Finished" and run["kind"] == "pipeline"
    assert run["runType"] == "azureml.PipelineRun" and run["experimentName"] == "poll"
    assert run["parentRunId"] is None and run["startTimeUtc"] and run["endTimeUtc"]

    steps = requests.get(f"{live_server.url}/api/runs/{second}/steps", headers=h, timeout=30).json()["value"]
    assert [(s["name"], s["status"], s["parentRunId"]) for s in steps] == [("train", "Finished", second)]
    assert steps[0]["reusedRunId"] and steps[0]["reuseReason"]
    first_steps = requests.get(f"{live_server.url}/api/runs/{first}/steps", headers=h, timeout=30).json()["value"]
    assert first_steps[0]["reusedRunId"] is None

    step_id = first_steps[0]["runId"]
    metrics = requests.get(f"{live_server.url}/api/runs/{step_id}/metrics", headers=h, timeout=30).json()
    assert metrics == {"runId": step_id, "metrics": {"loss": [1.0, 0.5], "rows": 3}}
    one = requests.get(f"{live_server.url}/api/runs/{step_id}/metrics?name=rows", headers=h, timeout=30).json()
    assert one["metrics"] == {"rows": 3}

    listed = requests.get(f"{live_server.url}/api/experiments/poll/runs", headers=h, timeout=30).json()["value"]
    assert [r["runId"] for r in listed] == [second, first]
    everything = requests.get(
        f"{live_server.url}/api/experiments/poll/runs?include_children=true", headers=h, timeout=30
    ).json()["value"]
    assert len(everything) == 4
    top = requests.get(f"{live_server.url}/api/experiments/poll/runs?top=1", headers=h, timeout=30).json()["value"]
    assert [r["runId"] for r in top] == [second]


def test_unknown_runs_and_experiments_are_404_naming_them(live_server: LiveServer) -> None:
    h = live_server.headers("read")
    for path in ("/api/runs/no-such-run", "/api/runs/no-such-run/steps", "/api/runs/no-such-run/metrics"):
        answer = requests.get(live_server.url + path, headers=h, timeout=30)
        assert answer.status_code == 404
        assert "'no-such-run'" in answer.json()["error"]["message"]
    answer = requests.get(f"{live_server.url}/api/experiments/nope/runs", headers=h, timeout=30)
    assert answer.status_code == 404 and "'nope'" in answer.json()["detail"]
