"""SDK v1's REST submit routes over real HTTP: publish → POST an SDK v1 body → the run, with the
overridden parameter; endpoints by id and by name; 400 naming the field (nothing recorded), 404,
401/403."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from headwater import DataPath, Datastore, Pipeline, PipelineParameter, PythonScriptStep, Workspace
from headwater.sdk.pipeline_endpoint import PipelineEndpoint
from headwater.sdk.published_pipeline import PublishedPipeline
from headwater.sdk.runs import PipelineRun
from tests.conftest import gen
from tests.server.conftest import LiveServer

pytestmark = pytest.mark.slow

TRAIN = """
import sys
print("train lr=" + sys.argv[2] + " data=" + sys.argv[4] + " tag=" + sys.argv[6])
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = gen(tmp_path / "project", {"src": {"train.py": TRAIN}})
    monkeypatch.chdir(root)
    return root


def _pipeline(ws: Workspace, tag: str = "v1") -> Pipeline:
    lr = PipelineParameter(name="lr", default_value=0.1)
    data = PipelineParameter(name="data", default_value=DataPath(Datastore(ws, "workspaceblobstore"), "in"))
    step = PythonScriptStep(
        "train.py", name="train", source_directory="src", arguments=["--lr", lr, "--data", data, "--tag", tag]
    )
    return Pipeline(ws, steps=[step])


def _log(ws: Workspace, run_id: str) -> str:
    run = PipelineRun.get(ws, run_id)
    assert run.wait_for_completion(show_output=False) == "Finished"
    (step,) = run.get_steps()
    return str(step.get_stdout_log())


def _post(server: LiveServer, url: str, body: Any, scope: str = "submit") -> requests.Response:
    return requests.post(url, json=body, headers=server.headers(scope), timeout=60)


def test_post_an_sdk_v1_body_to_published_endpoint_runs_it(live_server: LiveServer, project: Path) -> None:
    ws = live_server.ws
    published = _pipeline(ws).publish(name="train", description="nightly")
    url = published.endpoint
    assert url.startswith(live_server.url) and url.endswith(f"/PipelineRuns/PipelineSubmit/{published.id}")
    assert "/pipelines/v1.0/subscriptions/" in url and "/workspaces/test-ws/" in url

    body = {
        "ExperimentName": "rest",
        "Description": "from REST",
        "ParameterAssignments": {"lr": "0.5"},
        "DataPathAssignments": {"data": {"DataStoreName": "workspaceblobstore", "RelativePath": "other"}},
        "RunSource": "SDK",
        "ContinueRunOnStepFailure": False,
    }
    response = _post(live_server, url, body)
    assert response.status_code == 200, response.text
    entity = response.json()
    run_id = entity["Id"]
    assert entity["PipelineId"] == published.id and entity["RunHistoryExperimentName"] == "rest"
    assert entity["Description"] == "from REST" and entity["GraphId"] == published.graph_id
    assert entity["TotalRunSteps"] == 1 and entity["Status"]["StatusCode"]
    assert "train lr=0.5 data=" in _log(ws, run_id)
    assert "other" in _log(ws, run_id)
    assert PipelineRun.get(ws, run_id).get_properties()["azureml.pipelineid"] == published.id

    # any subscription and resource group in the path (SDK v1 code keeps its Azure URLs' shape)
    tail = url.split("/providers/", 1)[1]
    other = f"{live_server.url}/pipelines/v1.0/subscriptions/abc/resourceGroups/rg/providers/{tail}"
    assert _post(live_server, other, {"ExperimentName": "rest"}).status_code == 200


def test_endpoints_by_id_by_name_and_version(live_server: LiveServer, project: Path) -> None:
    ws = live_server.ws
    v0 = _pipeline(ws, "v0").publish(name="v0")
    v1 = _pipeline(ws, "v1").publish(name="v1")
    endpoint = PipelineEndpoint.publish(ws, name="trainer", description="t", pipeline=v0)
    endpoint.add(v1)
    url = endpoint.endpoint
    assert url.endswith(f"/PipelineRuns/PipelineEndpointSubmit/Id/{endpoint.id}")

    response = _post(live_server, url, {"ExperimentName": "ep", "ParameterAssignments": {"lr": 0.2}})
    assert response.status_code == 200, response.text
    assert response.json()["PipelineId"] == v0.id and "tag=v0" in _log(ws, response.json()["Id"])

    by_name = url.replace(f"Id/{endpoint.id}", "Name?name=trainer")  # as SDK v1 users build it
    response = _post(live_server, by_name, {"ExperimentName": "ep", "pipelineVersion": "1"})
    assert response.status_code == 200, response.text
    assert response.json()["PipelineId"] == v1.id and "tag=v1" in _log(ws, response.json()["Id"])
    response = _post(live_server, url + "?pipelineVersion=1", {"ExperimentName": "ep"})
    assert response.json()["PipelineId"] == v1.id

    assert _post(live_server, url.replace(endpoint.id, "nope"), {"ExperimentName": "ep"}).status_code == 404
    assert _post(live_server, by_name.replace("trainer", "nope"), {"ExperimentName": "ep"}).status_code == 404
    response = _post(live_server, by_name, {"ExperimentName": "ep", "pipelineVersion": "7"})
    assert response.status_code == 404 and "'7'" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("body", "target", "words"),
    [
        ({"ExperimentName": "x", "ParameterAssignments": {"lrr": 1}}, "ParameterAssignments.lrr", "'lrr' does not"),
        ({"ExperimentName": "x", "ParameterAssignments": {"lr": "fast"}}, "ParameterAssignments.lr", "type float"),
        ({"ExperimentName": "x", "ParameterAssignments": {"lr": [1]}}, "ParameterAssignments.lr", "type float"),
        (
            {"ExperimentName": "x", "DataPathAssignments": {"data": {"DataStoreName": "nope", "RelativePath": "a"}}},
            "DataPathAssignments.data",
            "'nope'",
        ),
        (
            {
                "ExperimentName": "x",
                "DataSetDefinitionValueAssignments": {"data": {"SavedDataSetReference": {"Id": "d"}}},
            },
            "DataSetDefinitionValueAssignments.data",
            "no dataset parameter",
        ),
        ({"ExperimentName": "x", "DataPathAssignments": {"data": "in"}}, "DataPathAssignments.data", "DataStoreName"),
        ({"ParameterAssignments": {}}, "ExperimentName", "required"),
        ({"ExperimentName": "bad name!"}, "ExperimentName", "Invalid experiment name"),
        ({"ExperimentName": "x", "ParameterAssignments": [1]}, "ParameterAssignments", "JSON object"),
        ([1, 2], "body", "JSON object"),
    ],
)
def test_bad_bodies_are_400_naming_the_field_and_record_nothing(
    module_live_server: LiveServer, project: Path, body: Any, target: str, words: str
) -> None:
    ws = module_live_server.ws  # one server for every body: none may record anything, checked after each
    published = _pipeline(ws).publish(name="train")
    response = _post(module_live_server, published.endpoint, body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["target"] == target and words in error["message"]
    assert ws.metadata_store.list_runs() == [] and ws.metadata_store.get_experiment("x") is None


def test_unknown_and_disabled_pipelines_and_tokens(live_server: LiveServer, project: Path) -> None:
    ws = live_server.ws
    published = _pipeline(ws).publish(name="train")
    url = published.endpoint
    assert _post(live_server, url.replace(published.id, "nope"), {"ExperimentName": "x"}).status_code == 404
    PublishedPipeline.get(ws, published.id).disable()
    response = _post(live_server, url, {"ExperimentName": "x"})
    assert response.status_code == 400 and "Disabled" in response.json()["error"]["message"]
    assert requests.post(url, json={"ExperimentName": "x"}, timeout=30).status_code == 401
    assert _post(live_server, url, {"ExperimentName": "x"}, scope="read").status_code == 403
    assert ws.metadata_store.list_runs() == []
