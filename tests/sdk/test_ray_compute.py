"""RayCompute: attaching a Ray cluster by address, rebinding an existing name, detaching."""

from __future__ import annotations

import socket

import pytest

import headwater
from headwater import (
    AlreadyExistsError,
    AmlCompute,
    ComputeTarget,
    ComputeTargetException,
    ConfigurationError,
    RayCompute,
    Workspace,
)
from headwater.sdk import vm_sizes
from headwater.sdk.compute_config import RAY_KIND, RayAttachConfiguration
from headwater.sdk.vm_sizes import STRICT_ENV, Node, ResourceRequestWarning
from tests.sdk.test_compute import seed_compute_block


@pytest.fixture(autouse=True)
def laptop(monkeypatch: pytest.MonkeyPatch) -> Node:
    """Pin "this machine" to 2 CPUs, no GPU and 8 GiB, whatever runs the tests."""
    node = Node(cpus=2, gpus=0, memory_gb=8.0)
    monkeypatch.setattr(vm_sizes, "local_node", lambda: node)
    monkeypatch.delenv(STRICT_ENV, raising=False)
    return node


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any socket opened during the test fails it."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("no network access expected")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def seed_cluster(ws: Workspace) -> ComputeTarget:
    with pytest.warns(ResourceRequestWarning, match="STANDARD_NC6 asks 6 CPUs"):
        return ComputeTarget.create(
            ws, "aml-compute", AmlCompute.provisioning_configuration(vm_size="STANDARD_NC6", max_nodes=4)
        )


def test_attach_a_new_name(ws: Workspace, no_network: None) -> None:
    config = RayCompute.attach_configuration(address="ray://head.example.com:10001")
    assert config == RayAttachConfiguration("ray://head.example.com:10001")
    target = ComputeTarget.attach(ws, "ray-cluster", config)
    assert type(target) is RayCompute and headwater.RayCompute is RayCompute
    assert (target.name, target.type, target.address, target.attached_over) == (
        "ray-cluster",
        "Ray",
        "ray://head.example.com:10001",
        None,
    )
    record = ws.metadata_store.get_compute_target("ray-cluster")
    assert record is not None and record.kind == RAY_KIND == "ray"
    assert record.config == {
        "address": "ray://head.example.com:10001",
        "resources": {"cpu": 1, "gpu": 0, "memory_gb": None},
    }
    assert ComputeTarget(ws, "ray-cluster") == target and RayCompute(ws, "ray-cluster") == target
    assert ws.compute_targets["ray-cluster"] == target
    assert RayCompute.attach_configuration().address == "auto"


@pytest.mark.parametrize(
    "address",
    [
        "auto",
        "127.0.0.1:6379",
        "head-node:6379",
        "head.svc.cluster.local:10001",
        "ray://127.0.0.2:10001",
        "ray://[::1]:10001",
        "[fe80::1]:6379",
    ],
)
def test_valid_addresses(ws: Workspace, address: str) -> None:
    assert ComputeTarget.attach(ws, "r", RayCompute.attach_configuration(address)).address == address  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "address",
    [
        "",
        "localhost",
        "ray://localhost",
        "http://host:6379",
        "host:0",
        "host:70000",
        "host:port",
        "ray:// host:1",
        "-host:6379",
        "AUTO",
        "host:6379/path",
    ],
)
def test_invalid_addresses_are_refused(ws: Workspace, address: str) -> None:
    with pytest.raises(ConfigurationError, match="Invalid Ray address") as err:
        ComputeTarget.attach(ws, "r", RayCompute.attach_configuration(address))
    assert err.value.key == "address" and "ray start --head" in str(err.value)
    assert ws.compute_targets == {}


def test_attaching_over_the_seed_cluster_rebinds_it_to_ray(ws: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    seed_cluster(ws)
    target = ComputeTarget.attach(ws, "aml-compute", RayCompute.attach_configuration("127.0.0.1:6379"))
    assert isinstance(target, RayCompute) and target.type == "Ray" and target.attached_over == "AmlCompute"
    assert (target.vm_size, target.max_nodes, target.max_concurrency) == ("STANDARD_NC6", 4, 4)
    assert target.resources == (6, 1, 56.0, ())  # the full size: lowered to the cluster when a run is submitted

    # SDK v1 code that names it finds the Ray cluster, unchanged.
    assert ComputeTarget(ws, "aml-compute") == target and AmlCompute(ws, "aml-compute") == target
    assert seed_compute_block(ws) == target
    assert capsys.readouterr().out == ""  # found, not created (it is no longer `type(...) is AmlCompute`)
    again = ComputeTarget.create(  # a script that creates its cluster unconditionally: Ray, and no warning
        ws, "aml-compute", AmlCompute.provisioning_configuration(vm_size="STANDARD_NC6", max_nodes=4)
    )
    assert again == target
    with pytest.raises(AlreadyExistsError, match="max_nodes 4 → 8"):
        ComputeTarget.create(
            ws, "aml-compute", AmlCompute.provisioning_configuration(vm_size="STANDARD_NC6", max_nodes=8)
        )

    unshared = RayCompute.attach_configuration("127.0.0.1:6379", shared_filesystem=False, staging_datastore="blobs")
    ComputeTarget.attach(ws, "aml-compute", unshared)
    again = ComputeTarget.create(  # how steps reach the cluster is not part of what create compares
        ws, "aml-compute", AmlCompute.provisioning_configuration(vm_size="STANDARD_NC6", max_nodes=4)
    )
    assert (again.shared_filesystem, again.staging_datastore) == (False, "blobs")  # type: ignore[attr-defined]

    moved = ComputeTarget.attach(ws, "aml-compute", RayCompute.attach_configuration("ray://127.0.0.2:10001"))
    assert (moved.address, moved.attached_over, moved.max_nodes) == ("ray://127.0.0.2:10001", "AmlCompute", 4)  # type: ignore[attr-defined]


def test_a_pure_ray_target_is_not_an_aml_compute(ws: Workspace) -> None:
    ComputeTarget.attach(ws, "ray-only", RayCompute.attach_configuration())
    with pytest.raises(ComputeTargetException, match="'ray-only' is a Ray"):
        AmlCompute(ws, "ray-only")
    with pytest.raises(AlreadyExistsError, match="type Ray → AmlCompute"):
        ComputeTarget.create(ws, "ray-only", AmlCompute.provisioning_configuration(max_nodes=2))
    seed_cluster(ws)
    with pytest.raises(ComputeTargetException, match="'aml-compute' is a AmlCompute"):
        RayCompute(ws, "aml-compute")


def test_detach_gives_a_rebound_name_its_kind_back(ws: Workspace) -> None:
    seed_cluster(ws)
    ray = ComputeTarget.attach(ws, "aml-compute", RayCompute.attach_configuration())
    with pytest.warns(ResourceRequestWarning, match="this machine has 2 CPUs"):
        ray.detach()
    restored = ComputeTarget(ws, "aml-compute")
    assert type(restored) is AmlCompute
    assert (restored.vm_size, restored.max_nodes, restored.resources) == ("STANDARD_NC6", 4, (2, 0, 8.0, ()))
    record = ws.metadata_store.get_compute_target("aml-compute")
    assert record is not None and "address" not in record.config and "attached_over" not in record.config
    with pytest.raises(ComputeTargetException):
        ray.detach()  # not attached any more


def test_detach_removes_a_pure_ray_target(ws: Workspace) -> None:
    ray = ComputeTarget.attach(ws, "ray-only", RayCompute.attach_configuration("localhost:6379"))
    ray.detach()
    assert ws.compute_targets == {}
    with pytest.raises(ComputeTargetException):
        ray.detach()


def test_attach_and_create_refuse_each_others_configurations(ws: Workspace) -> None:
    with pytest.raises(ConfigurationError, match=r"ComputeTarget\.attach"):
        ComputeTarget.create(ws, "r", RayCompute.attach_configuration())  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match=r"RayCompute\.attach_configuration"):
        ComputeTarget.attach(ws, "r", AmlCompute.provisioning_configuration(max_nodes=2))  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="built-in"):
        ComputeTarget.attach(ws, "local", RayCompute.attach_configuration())
    assert ws.compute_targets == {}
