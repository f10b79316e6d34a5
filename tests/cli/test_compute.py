"""``headwater compute list|show|attach-ray|detach``."""

from __future__ import annotations

import json

import pytest

from headwater import AmlCompute, ComputeTarget, RayCompute, Workspace
from headwater.sdk import vm_sizes
from headwater.sdk.vm_sizes import STRICT_ENV, Node, ResourceRequestWarning
from tests.cli.conftest import Cli, fields, one_error_line, table


@pytest.fixture(autouse=True)
def laptop(monkeypatch: pytest.MonkeyPatch) -> Node:
    """Pin "this machine" to 2 CPUs, no GPU and 8 GiB, whatever runs the tests."""
    node = Node(cpus=2, gpus=0, memory_gb=8.0)
    monkeypatch.setattr(vm_sizes, "local_node", lambda: node)
    monkeypatch.delenv(STRICT_ENV, raising=False)
    return node


def _seed_cluster(ws: Workspace) -> None:
    with pytest.warns(ResourceRequestWarning):
        ComputeTarget.create(
            ws, "aml-compute", AmlCompute.provisioning_configuration(vm_size="STANDARD_NC6", max_nodes=4)
        )


def test_list(hw: Cli, cli_ws: Workspace) -> None:
    assert table(hw("compute", "list", "-w", "test-ws").stdout) == [
        {
            "name": "local",
            "type": "Local",
            "vm_size": "-",
            "max_nodes": "-",
            "resources": "1 CPU, 0 GPU, -",
            "address": "-",
        },
    ]
    _seed_cluster(cli_ws)
    ComputeTarget.attach(cli_ws, "ray", RayCompute.attach_configuration("ray://127.0.0.2:10001"))
    rows = table(hw("compute", "list", "-w", "test-ws").stdout)
    assert [(r["name"], r["type"], r["resources"], r["address"]) for r in rows] == [
        ("local", "Local", "1 CPU, 0 GPU, -", "-"),
        ("aml-compute", "AmlCompute", "2 CPU, 0 GPU, 8 GiB", "-"),
        ("ray", "Ray", "1 CPU, 0 GPU, -", "ray://127.0.0.2:10001"),
    ]
    data = json.loads(hw("compute", "list", "-w", "test-ws", "--json").stdout)
    assert [d["name"] for d in data] == ["local", "aml-compute", "ray"]


def test_attach_ray_over_the_seed_cluster_then_show(hw: Cli, cli_ws: Workspace) -> None:
    _seed_cluster(cli_ws)
    assert fields(hw("compute", "show", "aml-compute", "-w", "test-ws").stdout)["type"] == "AmlCompute"
    out = hw("compute", "attach-ray", "aml-compute", "--address", "127.0.0.1:6379", "-w", "test-ws").stdout
    assert (
        out == "Attached 'aml-compute' (was AmlCompute) to the Ray cluster at 127.0.0.1:6379 in workspace 'test-ws'\n"
    )
    assert fields(hw("compute", "show", "aml-compute", "-w", "test-ws").stdout) == {
        "name": "aml-compute",
        "type": "Ray",
        "address": "127.0.0.1:6379",
        "attached over": "AmlCompute",
        "shared filesystem": "auto (yes when every node of the cluster is on this host)",
        "staging datastore": "(the default datastore)",
        "vm_size": "STANDARD_NC6",
        "min_nodes": "0",
        "max_nodes": "4",
        "max concurrency": "4",
        "resources per step": "6 CPU, 1 GPU, 56 GiB",
    }
    data = json.loads(hw("compute", "show", "aml-compute", "-w", "test-ws", "--json").stdout)
    assert (data["type"], data["address"], data["resources"]) == (
        "Ray",
        "127.0.0.1:6379",
        {"cpu": 6, "gpu": 1, "memory_gb": 56.0},
    )
    assert isinstance(ComputeTarget(cli_ws, "aml-compute"), RayCompute)

    with pytest.warns(ResourceRequestWarning):  # back on this machine: lowered again
        out = hw("compute", "detach", "aml-compute", "-w", "test-ws").stdout
    assert out == "Detached 'aml-compute' from Ray: it is a AmlCompute again\n"
    assert fields(hw("compute", "show", "aml-compute", "-w", "test-ws").stdout)["type"] == "AmlCompute"


def test_attach_ray_a_new_name_defaults_to_auto(hw: Cli, cli_ws: Workspace) -> None:
    hw("compute", "attach-ray", "cluster", "-w", "test-ws")
    shown = fields(hw("compute", "show", "cluster", "-w", "test-ws").stdout)
    assert (shown["type"], shown["address"]) == ("Ray", "auto") and "attached over" not in shown
    assert hw("compute", "detach", "cluster", "-w", "test-ws").stdout == "Detached 'cluster' from Ray: removed\n"
    assert [r["name"] for r in table(hw("compute", "list", "-w", "test-ws").stdout)] == ["local"]


def test_errors(hw: Cli, cli_ws: Workspace) -> None:
    bad = hw("compute", "attach-ray", "c", "--address", "localhost", "-w", "test-ws", code=1)
    assert "Invalid Ray address 'localhost'" in one_error_line(bad)
    _seed_cluster(cli_ws)
    missing = hw("compute", "show", "aml-compute2", "-w", "test-ws", code=1)
    assert "Did you mean 'aml-compute'" in one_error_line(missing)
    not_ray = hw("compute", "detach", "aml-compute", "-w", "test-ws", code=1)
    assert "'aml-compute' is a AmlCompute" in one_error_line(not_ray)
