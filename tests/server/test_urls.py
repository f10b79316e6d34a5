"""Published-pipeline and endpoint URLs keep SDK v1's path shapes."""

from __future__ import annotations

from headwater import Workspace
from headwater.server.urls import endpoint_by_name_url, endpoint_url, published_pipeline_url

SERVER = "http://127.0.0.1:8123"
BASE = "/pipelines/v1.0/subscriptions/sub/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w1"


def test_the_three_shapes_for_a_workspace_with_azure_names(headwater_home: object) -> None:
    with Workspace.create("w1", subscription_id="sub", resource_group="rg") as ws:
        by_folder = published_pipeline_url(SERVER, ws.folder, "p-1")
        assert by_folder == f"{SERVER}{BASE}/PipelineRuns/PipelineSubmit/p-1"
        assert published_pipeline_url(SERVER + "/", ws, "p-1") == by_folder
        by_id = endpoint_url(SERVER, ws.folder, "e-1")
        assert by_id == f"{SERVER}{BASE}/PipelineRuns/PipelineEndpointSubmit/Id/e-1"
        by_name = endpoint_by_name_url(SERVER, ws.folder, "my endpoint")
        assert by_name == f"{SERVER}{BASE}/PipelineRuns/PipelineEndpointSubmit/Name?name=my%20endpoint"
        # SDK v1 users build the by-name URL from the by-id one by string replacement:
        assert by_id.replace("Id/e-1", "Name?name=my%20endpoint") == by_name


def test_a_workspace_without_azure_names_says_local(headwater_home: object) -> None:
    with Workspace.create("w2") as ws:
        url = endpoint_url(SERVER, ws.folder, "e")
    assert "/subscriptions/local/resourceGroups/local/" in url and "/workspaces/w2/" in url
