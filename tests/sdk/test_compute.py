"""Compute targets: SDK v1's ComputeTarget/AmlCompute/ComputeInstance as workspace records."""

from __future__ import annotations

import inspect
import os

import pytest

import headwater
from headwater import (
    AlreadyExistsError,
    AmlCompute,
    AmlComputeProvisioningConfiguration,
    ComputeInstance,
    ComputeInstanceProvisioningConfiguration,
    ComputeTarget,
    ComputeTargetException,
    ConfigurationError,
    NotFoundError,
    NotSupportedError,
    Workspace,
)
from headwater.sdk.compute import LocalCompute

# vm_sizes larger than the machine running the tests are lowered with a warning; that behaviour is
# tested in test_vm_sizes.py and test_ray_compute.py, against a pinned machine.
pytestmark = pytest.mark.filterwarnings("ignore::headwater.sdk.vm_sizes.ResourceRequestWarning")

SEED_OUTPUT = (
    "Creating a new compute target...\n"
    'Provisioning operation finished, operation "Succeeded"\n'
    "Succeeded\n"
    "AmlCompute wait for completion finished\n"
    "\n"
    "Minimum number of nodes requested have been provisioned\n"
)


def seed_compute_block(ws: Workspace) -> ComputeTarget:
    """The seed page's "Azure Machine Learning compute" block, as written (imports aside)."""
    compute_name = "aml-compute"
    vm_size = "STANDARD_NC6"
    if compute_name in ws.compute_targets:
        compute_target = ws.compute_targets[compute_name]
        if compute_target and type(compute_target) is AmlCompute:
            print("Found compute target: " + compute_name)
    else:
        print("Creating a new compute target...")
        provisioning_config = AmlCompute.provisioning_configuration(
            vm_size=vm_size,  # STANDARD_NC6 is GPU-enabled
            min_nodes=0,
            max_nodes=4,
        )
        # create the compute target
        compute_target = ComputeTarget.create(ws, compute_name, provisioning_config)

        # Can poll for a minimum number of nodes and for a specific timeout.
        # If no min node count is provided it will use the scale settings for the cluster
        compute_target.wait_for_completion(show_output=True, min_node_count=None, timeout_in_minutes=20)  # type: ignore[call-arg]  # AmlCompute's

        # For a more detailed view of current cluster status, use the 'status' property
        print(compute_target.status.serialize()["provisioningState"])
    return compute_target


def test_seed_compute_block_creates_then_finds(ws: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    target = seed_compute_block(ws)
    assert capsys.readouterr().out == SEED_OUTPUT + "Succeeded\n"
    assert type(target) is AmlCompute
    assert (target.name, target.type, target.vm_size, target.max_nodes) == (
        "aml-compute",
        "AmlCompute",
        "STANDARD_NC6",
        4,
    )

    with Workspace.get("test-ws") as reopened:  # a fresh Workspace object: it was persisted
        again = seed_compute_block(reopened)
    assert capsys.readouterr().out == "Found compute target: aml-compute\n"
    assert again.name == "aml-compute" and again.max_concurrency == 4


def test_try_except_idiom(ws: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    cpu_cluster_name = "cpu-cluster"
    for _ in range(2):
        try:
            cpu_cluster = ComputeTarget(workspace=ws, name=cpu_cluster_name)
            print("Found existing cluster, use it.")
        except ComputeTargetException:
            compute_config = AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", max_nodes=4)
            cpu_cluster = ComputeTarget.create(ws, cpu_cluster_name, compute_config)
        cpu_cluster.wait_for_completion(show_output=True)
    out = capsys.readouterr().out
    assert out.count("Found existing cluster, use it.") == 1
    assert out.count("Provisioning operation finished") == 1
    assert isinstance(cpu_cluster, AmlCompute)


def test_unknown_name_suggests_close_names(ws: Workspace) -> None:
    ComputeTarget.create(ws, "gpu-cluster", AmlCompute.provisioning_configuration(max_nodes=2))
    with pytest.raises(ComputeTargetException, match="Did you mean 'gpu-cluster'") as err:
        ComputeTarget(ws, "gpu-clustr")
    assert isinstance(err.value, NotFoundError) and err.value.name == "gpu-clustr"
    assert headwater.ComputeTargetException is ComputeTargetException


def test_subclass_lookup_checks_the_type(ws: Workspace) -> None:
    ComputeTarget.create(ws, "cluster", AmlCompute.provisioning_configuration(max_nodes=2))
    ComputeTarget.create(ws, "dev-box", ComputeInstance.provisioning_configuration(vm_size="STANDARD_DS3_V2"))
    assert type(AmlCompute(ws, "cluster")) is AmlCompute
    assert type(ComputeTarget(ws, "dev-box")) is ComputeInstance
    with pytest.raises(ComputeTargetException, match="'dev-box' is a ComputeInstance"):
        AmlCompute(ws, "dev-box")


def test_local_always_exists_and_is_not_listed(ws: Workspace) -> None:
    local = ComputeTarget(ws, "local")
    assert type(local) is LocalCompute and local.type == "Local"
    assert local.max_concurrency == (os.cpu_count() or 1)
    assert "local" not in ws.compute_targets
    assert ComputeTarget.list(ws) == []
    with pytest.raises(ConfigurationError, match="built-in"):
        ComputeTarget.create(ws, "local", AmlCompute.provisioning_configuration(max_nodes=1))
    with pytest.raises(NotSupportedError):
        local.delete()


def test_create_is_idempotent_for_the_same_configuration(ws: Workspace) -> None:
    config = AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", max_nodes=4)
    first = ComputeTarget.create(ws, "c", config)
    again = ComputeTarget.create(ws, "c", AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", max_nodes=4))
    assert again == first
    with pytest.raises(AlreadyExistsError, match="'c' already exists") as err:
        ComputeTarget.create(ws, "c", AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", max_nodes=8))
    assert "max_nodes 4 → 8" in str(err.value)
    with pytest.raises(AlreadyExistsError, match="type AmlCompute → ComputeInstance"):
        ComputeTarget.create(ws, "c", ComputeInstance.provisioning_configuration())
    assert ws.compute_targets["c"].max_nodes == 4
    tagged = AmlCompute.provisioning_configuration(max_nodes=1, tags={"team": "a"}, identity_id=("id-1",))  # type: ignore[arg-type]
    assert ComputeTarget.create(ws, "t", tagged) == ComputeTarget.create(ws, "t", tagged)


def test_list_and_workspace_mapping(ws: Workspace) -> None:
    ComputeTarget.create(ws, "b-cluster", AmlCompute.provisioning_configuration(max_nodes=2))
    ComputeTarget.create(ws, "a-box", ComputeInstance.provisioning_configuration())
    assert [t.name for t in ComputeTarget.list(ws)] == ["a-box", "b-cluster"]
    targets = ws.compute_targets
    assert list(targets) == ["a-box", "b-cluster"]
    assert isinstance(targets["b-cluster"], AmlCompute) and isinstance(targets["a-box"], ComputeInstance)


def test_provisioning_configuration_signatures_follow_sdk_v1() -> None:
    aml = inspect.signature(AmlCompute.provisioning_configuration)
    assert {name: p.default for name, p in aml.parameters.items()} == {
        "vm_size": "",
        "vm_priority": "dedicated",
        "min_nodes": 0,
        "max_nodes": None,
        "idle_seconds_before_scaledown": 1800,
        "admin_username": None,
        "admin_user_password": None,
        "admin_user_ssh_key": None,
        "vnet_resourcegroup_name": None,
        "vnet_name": None,
        "subnet_name": None,
        "tags": None,
        "description": None,
        "remote_login_port_public_access": "NotSpecified",
        "identity_type": None,
        "identity_id": None,
        "location": None,
        "enable_node_public_ip": True,
    }
    ci = inspect.signature(ComputeInstance.provisioning_configuration)
    assert list(ci.parameters) == [
        "vm_size",
        "ssh_public_access",
        "admin_user_ssh_public_key",
        "vnet_resourcegroup_name",
        "vnet_name",
        "subnet_name",
        "tags",
        "description",
        "assigned_user_object_id",
        "assigned_user_tenant_id",
    ]
    assert isinstance(AmlCompute.provisioning_configuration(), AmlComputeProvisioningConfiguration)
    assert isinstance(ComputeInstance.provisioning_configuration(), ComputeInstanceProvisioningConfiguration)


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"vm_priority": "spot"}, "vm_priority"),
        ({"min_nodes": 5, "max_nodes": 2}, "min_nodes"),
        ({"max_nodes": 0}, "max_nodes"),
        ({"remote_login_port_public_access": "Maybe"}, "remote_login_port_public_access"),
    ],
)
def test_invalid_configurations_are_refused(ws: Workspace, kwargs: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigurationError) as err:
        ComputeTarget.create(ws, "c", AmlCompute.provisioning_configuration(**kwargs))  # type: ignore[arg-type]
    assert err.value.key == key
    assert ws.compute_targets == {}


def test_secrets_are_not_stored(ws: Workspace) -> None:
    config = AmlCompute.provisioning_configuration(
        max_nodes=2, admin_username="azureuser", admin_user_password="hunter2", admin_user_ssh_key="ssh-rsa AAAA"
    )
    target = ComputeTarget.create(ws, "c", config)
    record = ws.metadata_store.get_compute_target("c")
    assert record is not None and "hunter2" not in str(record.config) and "ssh-rsa" not in str(record.config)
    assert record.config["admin_username"] == "azureuser"
    assert "hunter2" not in str(target.serialize())
    assert "hunter2" not in repr(config)


def test_max_concurrency(ws: Workspace) -> None:
    cpus = os.cpu_count() or 1
    assert ComputeTarget.create(ws, "four", AmlCompute.provisioning_configuration(max_nodes=4)).max_concurrency == 4
    assert ComputeTarget.create(ws, "any", AmlCompute.provisioning_configuration()).max_concurrency == cpus
    assert ComputeTarget.create(ws, "box", ComputeInstance.provisioning_configuration()).max_concurrency == cpus


def test_status_refresh_delete(ws: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    target = ComputeTarget.create(ws, "c", AmlCompute.provisioning_configuration(min_nodes=1, max_nodes=3))
    target.wait_for_completion()
    assert capsys.readouterr().out == ""
    status = target.get_status()
    assert status.provisioning_state == "Succeeded" and status.current_node_count == 1
    assert status.serialize()["scaleSettings"] == {
        "minNodeCount": 1,
        "maxNodeCount": 3,
        "nodeIdleTimeBeforeScaleDown": 1800,
    }
    assert target.status == status and target.provisioning_state == "Succeeded"
    with pytest.raises(NotSupportedError, match="Use delete"):
        target.detach()
    target.delete()
    assert "c" not in ws.compute_targets
    with pytest.raises(ComputeTargetException):
        target.refresh_state()
    with pytest.raises(ComputeTargetException):
        target.delete()
    recreated = ComputeTarget.create(ws, "c", AmlCompute.provisioning_configuration(max_nodes=5))
    assert recreated.max_nodes == 5


def test_compute_instance(ws: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    ci = ComputeTarget.create(ws, "dev-box", ComputeInstance.provisioning_configuration(vm_size="STANDARD_DS3_V2"))
    assert isinstance(ci, ComputeInstance)
    ci.wait_for_completion(show_output=True)
    assert capsys.readouterr().out == 'Provisioning operation finished, operation "Succeeded"\n'
    ci.start()
    ci.stop()
    assert (ci.type, ci.vm_size, ci.max_nodes) == ("ComputeInstance", "STANDARD_DS3_V2", None)
