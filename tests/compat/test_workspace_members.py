"""SDK v1's Workspace members through the layer: local meanings, and NotSupportedError for Azure administration."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from headwater import Workspace as HeadwaterWorkspace
from headwater.errors import NotSupportedError

pytestmark = pytest.mark.usefixtures("azureml_on", "headwater_home")


@pytest.fixture
def ws() -> Iterator[HeadwaterWorkspace]:
    from azureml.core import Workspace

    workspace = Workspace.create("members")
    yield workspace
    workspace.close()


def test_collections_are_sdk_v1_dicts_of_objects(ws: HeadwaterWorkspace) -> None:
    from azureml.core import Dataset, Datastore, Experiment

    assert set(ws.datastores) == {"workspaceblobstore", "workspacefilestore"}
    assert all(isinstance(d, Datastore) for d in ws.datastores.values())
    assert ws.get_default_datastore().name == "workspaceblobstore"
    ws.set_default_datastore("workspacefilestore")
    assert ws.get_default_datastore().name == "workspacefilestore"
    assert ws.datasets == {} and ws.compute_targets == {} and ws.environments == {}
    assert isinstance(Dataset, type) and isinstance(Experiment, type)


def test_experiments_are_experiment_objects(ws: HeadwaterWorkspace) -> None:
    from azureml.core import Experiment

    ws.metadata_store.get_or_create_experiment("exp-a")  # what the first submit to it does
    experiments = ws.experiments
    assert list(experiments) == ["exp-a"]
    assert isinstance(experiments["exp-a"], Experiment) and experiments["exp-a"].name == "exp-a"


def test_details_update_and_write_config(ws: HeadwaterWorkspace, tmp_path: Path) -> None:
    from azureml.core import Workspace

    ws.update(friendly_name="Members", description="for tests", tags={"team": "ml"})
    details = ws.get_details()
    assert details["friendlyName"] == "Members" and details["description"] == "for tests"
    assert details["tags"] == {"team": "ml"} and details["sku"] == ws.sku == "basic"
    again = Workspace.get("members")
    assert again.tags == {"team": "ml"}
    again.close()
    config = ws.write_config(path=tmp_path)
    assert Workspace.from_config(path=tmp_path).name == "members"
    assert config.name == "config.json"
    assert "members" in Workspace.list(None)


def test_default_compute_target_is_the_cpu_cluster_when_there_is_one(ws: HeadwaterWorkspace) -> None:
    from azureml.core import Workspace
    from azureml.core.compute import AmlCompute, ComputeTarget

    assert ws.get_default_compute_target("CPU") is None
    assert Workspace.DEFAULT_CPU_CLUSTER_NAME == "cpu-cluster"
    ComputeTarget.create(ws, Workspace.DEFAULT_CPU_CLUSTER_NAME, Workspace.DEFAULT_CPU_CLUSTER_CONFIGURATION)
    target = ws.get_default_compute_target("CPU")
    assert isinstance(target, AmlCompute) and target.name == "cpu-cluster"
    assert ws.get_default_compute_target("GPU") is None


def test_delete_removes_the_workspace(ws: HeadwaterWorkspace) -> None:
    from azureml.core import Workspace

    folder = ws.folder
    ws.delete(delete_dependent_resources=False, no_wait=False)
    assert not folder.exists()
    with pytest.raises(Exception, match="members"):
        Workspace.get("members")


@pytest.mark.parametrize(
    ("member", "call", "advice"),
    [
        ("get_default_keyvault", lambda w: w.get_default_keyvault(), "environment variables"),
        ("get_mlflow_tracking_uri", lambda w: w.get_mlflow_tracking_uri(), "get_metrics"),
        ("service_context", lambda w: w.service_context, "REST"),
        ("list_keys", lambda w: w.list_keys(), "keys"),
        ("sync_keys", lambda w: w.sync_keys(), "keys"),
        ("private_endpoints", lambda w: w.private_endpoints, "endpoint"),
        ("add_private_endpoint", lambda w: w.add_private_endpoint(None), "endpoint"),
        ("list_connections", lambda w: w.list_connections(), "environment variables"),
        ("webservices", lambda w: w.webservices, "deployment"),
    ],
)
def test_cloud_administration_raises_not_supported_with_advice(
    ws: HeadwaterWorkspace, member: str, call: Callable[[HeadwaterWorkspace], object], advice: str
) -> None:
    with pytest.raises(NotSupportedError, match=f"Workspace.{member}") as info:
        call(ws)
    assert advice in str(info.value)
