"""AmlCompute / ComputeInstance / ComputeTarget members SDK v1 code calls: get, update, nodes, sizes, runs."""

from __future__ import annotations

import inspect
import socket
import time
from pathlib import Path

import pytest

from headwater import Workspace
from headwater.errors import ComputeTargetException, ConfigurationError, NotSupportedError
from tests.conftest import gen

pytestmark = pytest.mark.usefixtures("azureml_on")

GATE = "import os, sys, time\nwhile not os.path.exists(sys.argv[1]):\n    time.sleep(0.01)\n"


def test_update_stores_the_node_range_and_get_reads_it_back(ws: Workspace) -> None:
    from azureml.core.compute import AmlCompute, ComputeTarget

    cluster = ComputeTarget.create(ws, "cpu", AmlCompute.provisioning_configuration(max_nodes=2))
    cluster.update(min_nodes=1, max_nodes=4, idle_seconds_before_scaledown=300)
    again = AmlCompute(ws, "cpu")
    assert (again.min_nodes, again.max_nodes, again.max_concurrency) == (1, 4, 4)
    assert again.get()["properties"]["properties"]["idle_seconds_before_scaledown"] == 300
    cluster.update(max_nodes=3)  # None keeps the others
    assert (AmlCompute(ws, "cpu").min_nodes, AmlCompute(ws, "cpu").max_nodes) == (1, 3)
    with pytest.raises(ConfigurationError, match="min_nodes"):
        cluster.update(min_nodes=5)
    assert AmlCompute(ws, "cpu").max_nodes == 3


def test_deserialize_gives_the_stored_target(ws: Workspace) -> None:
    from azureml.core.compute import AmlCompute, ComputeInstance, ComputeTarget, DataFactoryCompute
    from azureml.core.compute.amlcompute import ScaleSettings

    cluster = ComputeTarget.create(ws, "cpu", AmlCompute.provisioning_configuration(min_nodes=1, max_nodes=2))
    back = AmlCompute.deserialize(ws, cluster.serialize())
    assert isinstance(back, AmlCompute) and back.max_nodes == 2
    assert ComputeTarget.deserialize(ws, cluster.serialize()).name == "cpu"
    adf = ComputeTarget.create(ws, "adf", DataFactoryCompute.provisioning_configuration())
    assert isinstance(DataFactoryCompute.deserialize(ws, adf.serialize()), DataFactoryCompute)
    with pytest.raises(ComputeTargetException, match="gone"):
        ComputeInstance.deserialize(ws, {"name": "gone"})
    settings = ScaleSettings.deserialize(cluster.status.scale_settings.serialize())
    assert (settings.minimum_node_count, settings.maximum_node_count) == (1, 2)
    iso = ScaleSettings.deserialize({"minNodeCount": 0, "maxNodeCount": 4, "nodeIdleTimeBeforeScaleDown": "PT2M"})
    assert iso.idle_seconds_before_scaledown == 120


def test_supported_vmsizes_and_list_nodes(ws: Workspace) -> None:
    from azureml.core.compute import AmlCompute, ComputeInstance, ComputeTarget

    sizes = {size["name"]: size for size in AmlCompute.supported_vmsizes(ws)}
    assert sizes["Standard_NC6"]["gpus"] == 1 and sizes["Standard_D2_v2"]["vCPUs"] == 2
    assert ComputeInstance.supported_vmsizes(ws) == AmlCompute.supported_vmsizes(ws)
    cluster = ComputeTarget.create(ws, "cpu", AmlCompute.provisioning_configuration(max_nodes=2))
    (node,) = cluster.list_nodes()
    assert (node["nodeId"], node["nodeState"], node["runId"]) == (socket.gethostname(), "idle", None)
    assert node["cpus"] >= 1


def test_compute_instance_members(ws: Workspace) -> None:
    from azureml.core.compute import ComputeInstance, ComputeTarget

    instance = ComputeTarget.create(ws, "dev", ComputeInstance.provisioning_configuration())
    assert instance.get()["name"] == "dev"
    assert list(instance.get_active_runs()) == []
    assert ComputeInstance.get_docs_url().endswith(".md")
    with pytest.raises(NotSupportedError, match="update_sso_settings"):
        instance.update_sso_settings(True)
    assert set(inspect.signature(instance.delete).parameters) == {"wait_for_completion", "show_output"}
    instance.delete(wait_for_completion=True, show_output=False)
    with pytest.raises(ComputeTargetException):
        ComputeTarget(ws, "dev")


@pytest.mark.parametrize(
    ("member", "args"),
    [
        ("add_identity", ("UserAssigned",)),
        ("remove_identity", ()),
    ],
)
def test_azure_identity_administration_is_not_supported(ws: Workspace, member: str, args: tuple[str, ...]) -> None:
    from azureml.core.compute import AmlCompute, ComputeTarget

    cluster = ComputeTarget.create(ws, "cpu", AmlCompute.provisioning_configuration(max_nodes=2))
    with pytest.raises(NotSupportedError, match=member):
        getattr(cluster, member)(*args)


def test_azure_quotas_are_not_supported(ws: Workspace) -> None:
    from azureml.core.compute import AmlCompute

    for call in (
        lambda: AmlCompute.list_quotas(ws),
        lambda: AmlCompute.list_usages(ws),
        lambda: AmlCompute.update_quotas(ws, "standardDv2Family", 10),
    ):
        with pytest.raises(NotSupportedError, match=r"quota|usage|update"):
            call()


def test_data_factory_attach_by_resource_id(ws: Workspace) -> None:
    from azureml.core.compute import DataFactoryCompute

    resource = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.DataFactory/factories/adf"
    attached = DataFactoryCompute.attach(ws, "adf", resource)
    assert isinstance(attached, DataFactoryCompute) and attached.name == "adf"


def test_provisioning_configuration_signatures() -> None:
    from azureml.core.compute import AmlCompute
    from azureml.core.compute.amlcompute import AmlComputeProvisioningConfiguration
    from azureml.core.compute.compute import ComputeTargetProvisioningConfiguration

    config = AmlCompute.provisioning_configuration(location="westeurope")
    assert isinstance(config, AmlComputeProvisioningConfiguration) and config.compute_location == "westeurope"
    base = ComputeTargetProvisioningConfiguration("AmlCompute", "westeurope")
    assert (base.type, base.location) == ("AmlCompute", "westeurope")


@pytest.mark.slow
def test_get_active_runs_lists_the_steps_running_on_the_target(ws: Workspace, tmp_path: Path) -> None:
    from azureml.core import Experiment
    from azureml.core.compute import AmlCompute, ComputeTarget
    from azureml.pipeline.core import Pipeline
    from azureml.pipeline.steps import PythonScriptStep

    cluster = ComputeTarget.create(ws, "cpu", AmlCompute.provisioning_configuration(max_nodes=2))
    src = gen(tmp_path / "src", {"gate.py": GATE})
    opened = tmp_path / "open"
    step = PythonScriptStep(
        "gate.py", name="gate", source_directory=str(src), arguments=[str(opened)], compute_target=cluster
    )
    run = Experiment(ws, "busy").submit(Pipeline(ws, steps=[step]))
    try:
        (step_run,) = run.find_step_run("gate")
        deadline = time.monotonic() + 60
        while step_run.get_status() != "Running":
            assert time.monotonic() < deadline, "the gate step never started"
            time.sleep(0.02)
        active = list(cluster.get_active_runs())
        assert [r.id for r in active] == [step_run.id]
        assert list(cluster.get_active_runs(status="Queued")) == []
        assert cluster.list_nodes()[0]["runId"] == step_run.id
    finally:
        opened.touch()
    assert run.wait_for_completion(show_output=False) == "Finished"
    assert list(cluster.get_active_runs()) == []


@pytest.mark.slow
def test_list_nodes_of_a_ray_target_are_the_clusters_nodes(ws: Workspace, ray_address: str) -> None:
    from azureml.core.compute import ComputeTarget

    from headwater import RayCompute

    target = ComputeTarget.attach(ws, "ray", RayCompute.attach_configuration(address=ray_address))
    from headwater.engine.executors.ray_executor import cluster_nodes

    (node,) = target.list_nodes()
    (expected,) = cluster_nodes(ray_address)
    assert (node["nodeId"], node["privateIpAddress"], node["cpus"]) == (expected.node_id, expected.host, expected.cpus)
