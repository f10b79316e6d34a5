"""``headwater pipeline list|show|enable|disable|submit`` and ``headwater endpoint list|show|set-default|
enable|disable|submit``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from headwater import Pipeline, PipelineParameter, PythonScriptStep, Workspace
from headwater.sdk.pipeline_endpoint import PipelineEndpoint
from headwater.sdk.runs import PipelineRun
from tests.cli.conftest import Cli, fields, one_error_line, table
from tests.conftest import gen

TRAIN = "import sys\nprint('lr=' + sys.argv[2])\n"


@pytest.fixture
def published(cli_ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    gen(tmp_path / "p", {"src": {"train.py": TRAIN}})
    monkeypatch.chdir(tmp_path / "p")
    lr = PipelineParameter(name="lr", default_value=0.1)
    steps = [PythonScriptStep("train.py", name="train", source_directory="src", arguments=["--lr", lr])]
    first = Pipeline(cli_ws, steps).publish(name="first", description="the first", version="1")
    second = Pipeline(cli_ws, steps).publish(name="second")
    return first.id, second.id


def test_pipeline_list_show_enable_disable(hw: Cli, cli_ws: Workspace, published: tuple[str, str]) -> None:
    first, second = published
    rows = table(hw("pipeline", "list", "-w", "test-ws").stdout)
    assert [(r["id"], r["name"], r["status"], r["steps"]) for r in rows] == [
        (first, "first", "Active", "1"),
        (second, "second", "Active", "1"),
    ]
    shown = fields(hw("pipeline", "show", first, "-w", "test-ws").stdout)
    assert shown["description"] == "the first" and shown["steps"] == "train" and shown["parameters"] == "lr=0.1"
    assert shown["REST URL"].startswith("no server runs")

    assert "is Disabled" in hw("pipeline", "disable", first, "-w", "test-ws").stdout
    assert [r["id"] for r in table(hw("pipeline", "list", "-w", "test-ws").stdout)] == [second]
    data = json.loads(hw("pipeline", "list", "--all", "--json", "-w", "test-ws").stdout)
    assert [(d["id"], d["status"]) for d in data] == [(first, "Disabled"), (second, "Active")]
    error = one_error_line(hw("pipeline", "submit", first, "-e", "cli", "-w", "test-ws", code=1))
    assert "Disabled" in error
    hw("pipeline", "enable", first, "-w", "test-ws")
    assert "does not exist" in one_error_line(hw("pipeline", "show", "nope", "-w", "test-ws", code=1))


@pytest.mark.slow
def test_pipeline_submit_converts_values_and_refuses_bad_ones(
    hw: Cli, cli_ws: Workspace, published: tuple[str, str]
) -> None:
    first, _ = published
    error = one_error_line(hw("pipeline", "submit", first, "-e", "cli", "-p", "lr=fast", "-w", "test-ws", code=1))
    assert "'lr' has type float" in error
    error = one_error_line(hw("pipeline", "submit", first, "-e", "cli", "-p", "nope=1", "-w", "test-ws", code=1))
    assert "'nope' does not exist" in error
    assert cli_ws.metadata_store.list_runs() == []

    out = hw("pipeline", "submit", first, "-e", "cli", "-p", "lr=0.5", "--wait", "-w", "test-ws").stdout
    run_id = out.splitlines()[0].removeprefix("Submitted PipelineRun ")
    assert out.splitlines()[1] == f"PipelineRun {run_id}: Finished"
    (step,) = PipelineRun.get(cli_ws, run_id).get_steps()
    assert "lr=0.5" in step.get_stdout_log()


@pytest.mark.slow
def test_endpoint_commands(hw: Cli, cli_ws: Workspace, published: tuple[str, str]) -> None:
    first, second = published
    from headwater.sdk.published_pipeline import PublishedPipeline

    ep = PipelineEndpoint.publish(cli_ws, "trainer", "desc", PublishedPipeline.get(cli_ws, first))
    ep.add(PublishedPipeline.get(cli_ws, second))
    rows = table(hw("endpoint", "list", "-w", "test-ws").stdout)
    assert [(r["name"], r["default"], r["versions"]) for r in rows] == [("trainer", "0", "2")]
    out = hw("endpoint", "show", "trainer", "-w", "test-ws").stdout
    assert fields(out)["default version"] == "0" and fields(out)["id"] == ep.id
    versions = table(out.split("\n\n", 1)[1])
    assert [(v["version"], v["pipeline id"], v["default"]) for v in versions] == [("0", first, "*"), ("1", second, "")]

    hw("endpoint", "set-default", ep.id, "1", "-w", "test-ws")
    assert PipelineEndpoint.get(cli_ws, name="trainer").default_version == "1"
    assert "'5'" in one_error_line(hw("endpoint", "set-default", "trainer", "5", "-w", "test-ws", code=1))

    out = hw("endpoint", "submit", "trainer", "-e", "cli", "--version", "0", "--wait", "-w", "test-ws").stdout
    run_id = out.splitlines()[0].removeprefix("Submitted PipelineRun ")
    assert cli_ws.metadata_store.get_properties(run_id)["azureml.pipelineid"] == first
    out = hw("endpoint", "submit", "trainer", "-e", "cli", "-w", "test-ws").stdout
    run_id = out.splitlines()[0].removeprefix("Submitted PipelineRun ")
    assert cli_ws.metadata_store.get_properties(run_id)["azureml.pipelineid"] == second
    PipelineRun.get(cli_ws, run_id).wait_for_completion(show_output=False)

    assert "is Disabled" in hw("endpoint", "disable", "trainer", "-w", "test-ws").stdout
    assert "must be Active" in one_error_line(hw("endpoint", "submit", "trainer", "-e", "x", "-w", "test-ws", code=1))
    assert table(hw("endpoint", "list", "-w", "test-ws").stdout) == []
    hw("endpoint", "enable", "trainer", "-w", "test-ws")
    assert "'trainr'" in one_error_line(hw("endpoint", "show", "trainr", "-w", "test-ws", code=1))
