"""Azure VM sizes as requests: the table, lowering to the node, strict requests, the docs table."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from headwater import AmlCompute, ComputeInstance, ComputeTarget, ConfigurationError, Workspace
from headwater.sdk import vm_sizes
from headwater.sdk.vm_sizes import (
    DEFAULT_REQUEST,
    STRICT_ENV,
    VM_SIZES,
    Node,
    ResourceRequest,
    ResourceRequestWarning,
    local_node,
    lookup,
    resource_request,
    strict_from_env,
)

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "compute.md"
SCRIPT = ROOT / "scripts" / "vm_size_table.py"


@pytest.fixture
def laptop(monkeypatch: pytest.MonkeyPatch) -> Node:
    """Pin "this machine" to 2 CPUs, no GPU and 8 GiB, whatever runs the tests."""
    node = Node(cpus=2, gpus=0, memory_gb=8.0)
    monkeypatch.setattr(vm_sizes, "local_node", lambda: node)
    monkeypatch.delenv(STRICT_ENV, raising=False)
    return node


# -- the table ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "cpus", "memory_gb", "gpus"),
    [
        ("STANDARD_D1_V2", 1, 3.5, 0),
        ("STANDARD_D2_V2", 2, 7, 0),
        ("STANDARD_D3_V2", 4, 14, 0),
        ("STANDARD_D4_V2", 8, 28, 0),
        ("STANDARD_D11_V2", 2, 14, 0),
        ("STANDARD_D12_V2", 4, 28, 0),
        ("STANDARD_D13_V2", 8, 56, 0),
        ("STANDARD_D14_V2", 16, 112, 0),
        ("STANDARD_DS2_V2", 2, 7, 0),
        ("STANDARD_DS3_V2", 4, 14, 0),
        ("STANDARD_DS4_V2", 8, 28, 0),
        ("STANDARD_DS12_V2", 4, 28, 0),
        ("STANDARD_D2S_V3", 2, 8, 0),
        ("STANDARD_D4S_V3", 4, 16, 0),
        ("STANDARD_D8S_V3", 8, 32, 0),
        ("STANDARD_D16S_V3", 16, 64, 0),
        ("STANDARD_E4_V3", 4, 32, 0),
        ("STANDARD_F4S_V2", 4, 8, 0),
        ("STANDARD_NC6", 6, 56, 1),
        ("STANDARD_NC12", 12, 112, 2),
        ("STANDARD_NC24", 24, 224, 4),
        ("STANDARD_NC6S_V3", 6, 112, 1),
        ("STANDARD_NC12S_V3", 12, 224, 2),
        ("STANDARD_NC24S_V3", 24, 448, 4),
        ("STANDARD_ND40RS_V2", 40, 672, 8),
        ("STANDARD_NV6", 6, 56, 1),
    ],
)
def test_documented_sizes(name: str, cpus: int, memory_gb: float, gpus: int) -> None:
    size = VM_SIZES[name]
    assert (size.cpus, size.memory_gb, size.gpus) == (cpus, memory_gb, gpus)


def test_lookup_ignores_case() -> None:
    nc6 = lookup("STANDARD_NC6")
    assert lookup("Standard_NC6") is nc6 and lookup("standard_nc6") is nc6
    assert (nc6.name, nc6.gpu_model) == ("Standard_NC6", "K80")
    assert lookup("Standard_NC6s_v3").gpu_model == "V100"


def test_an_unknown_size_names_close_ones() -> None:
    with pytest.raises(
        ConfigurationError, match=r"Unknown vm_size 'STANDARD_NC6_V3' \(key 'vm_size'\)\. Did you mean"
    ) as err:
        lookup("STANDARD_NC6_V3")
    assert "'STANDARD_NC6S_V3'" in str(err.value) and err.value.key == "vm_size"
    with pytest.raises(ConfigurationError, match=r"docs/compute\.md"):
        lookup("huge")


# -- requests ----------------------------------------------------------------------------------------


def test_a_request_that_fits_is_the_size() -> None:
    assert resource_request("STANDARD_D2_V2", 2, 0, 8.0) == ResourceRequest(2, 0, 7.0)
    assert resource_request("", 1, 0, 1.0) == DEFAULT_REQUEST == ResourceRequest(1, 0, None)


def test_a_larger_request_is_lowered_with_a_warning_naming_both() -> None:
    request = resource_request("STANDARD_NC6", 2, 0, 64.0)
    assert request[:3] == (2, 0, 56.0)
    assert request.warnings == (
        "STANDARD_NC6 asks 6 CPUs and 1 GPU; this machine has 2 CPUs and no GPU: the step will get 2 CPUs and no GPU",
    )
    cpu, gpu, memory, warnings = resource_request("STANDARD_NC24", 8, 2, 16.0, node="the Ray cluster's largest node")
    assert (cpu, gpu, memory) == (8, 2, 16.0)
    assert warnings == (
        "STANDARD_NC24 asks 24 CPUs, 4 GPUs and 224 GiB of memory; the Ray cluster's largest node has "
        "8 CPUs, 2 GPUs and 16 GiB of memory: the step will get 8 CPUs, 2 GPUs and 16 GiB of memory",
    )


def test_unknown_node_memory_is_not_compared() -> None:
    assert resource_request("STANDARD_E32_V3", 64, 0, None) == ResourceRequest(32, 0, 256.0)


def test_strict_refuses_a_larger_request_and_names_sizes_that_fit() -> None:
    with pytest.raises(ConfigurationError) as err:
        resource_request("STANDARD_NC6", 2, 0, 8.0, strict=True)
    text = str(err.value)
    assert text.startswith("STANDARD_NC6 asks 6 CPUs, 1 GPU and 56 GiB of memory; this machine has 2 CPUs, no GPU")
    assert "STANDARD_D2S_V3" in text and STRICT_ENV in text and err.value.key == "vm_size"
    assert resource_request("STANDARD_D2_V2", 2, 0, 8.0, strict=True).warnings == ()


def test_strict_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for value, strict in [("1", True), ("true", True), ("YES", True), ("0", False), ("", False)]:
        monkeypatch.setenv(STRICT_ENV, value)
        assert strict_from_env() is strict, value
    monkeypatch.delenv(STRICT_ENV)
    assert strict_from_env() is False


def test_this_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    node = local_node()
    assert node.cpus == (os.cpu_count() or 1) and node.gpus == 2 and node.description == "this machine"
    assert node.memory_gb is None or node.memory_gb > 0
    for hidden in ("", "-1"):
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", hidden)
        assert local_node().gpus == 0


# -- creating targets --------------------------------------------------------------------------------


def test_the_seed_cluster_is_lowered_to_this_machine_with_a_warning(ws: Workspace, laptop: Node) -> None:
    config = AmlCompute.provisioning_configuration(vm_size="STANDARD_NC6", min_nodes=0, max_nodes=4)
    with pytest.warns(ResourceRequestWarning) as record:
        target = ComputeTarget.create(ws, "aml-compute", config)
    assert [str(w.message) for w in record] == [
        "STANDARD_NC6 asks 6 CPUs, 1 GPU and 56 GiB of memory; this machine has 2 CPUs, no GPU and 8 GiB of "
        "memory: the step will get 2 CPUs, no GPU and 8 GiB of memory"
    ]
    assert record[0].filename == __file__  # the warning points at the user's create() call
    assert target.resources == (2, 0, 8.0, ())
    stored = ws.metadata_store.get_compute_target("aml-compute")
    assert stored is not None and stored.config["resources"] == {"cpu": 2, "gpu": 0, "memory_gb": 8.0}
    assert ComputeTarget(ws, "aml-compute").resources == target.resources


def test_sizes_that_fit_and_no_size_create_quietly(ws: Workspace, laptop: Node) -> None:
    small = ComputeTarget.create(ws, "small", AmlCompute.provisioning_configuration(vm_size="Standard_D2_v2"))
    assert small.resources == (2, 0, 7.0, ())
    assert (
        ComputeTarget.create(ws, "plain", AmlCompute.provisioning_configuration(max_nodes=2)).resources
        == DEFAULT_REQUEST
    )
    assert ComputeTarget(ws, "local").resources == DEFAULT_REQUEST
    box = ComputeTarget.create(ws, "box", ComputeInstance.provisioning_configuration(vm_size="STANDARD_DS2_V2"))
    assert box.resources.cpu == 2


def test_strict_env_refuses_before_anything_is_stored(
    ws: Workspace, laptop: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(STRICT_ENV, "1")
    with pytest.raises(ConfigurationError, match=r"STANDARD_NC6 asks 6 CPUs.*this machine has 2 CPUs, no GPU"):
        ComputeTarget.create(ws, "aml-compute", AmlCompute.provisioning_configuration(vm_size="STANDARD_NC6"))
    assert ws.compute_targets == {}
    assert (
        ComputeTarget.create(ws, "ok", AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2")).resources.cpu
        == 2
    )


def test_an_unknown_size_is_refused_at_create(ws: Workspace, laptop: Node) -> None:
    with pytest.raises(ConfigurationError, match=r"Did you mean .*'STANDARD_D2_V2'"):
        ComputeTarget.create(ws, "c", AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V"))
    assert ws.compute_targets == {}


def test_create_again_on_another_machine_returns_the_target(
    ws: Workspace, laptop: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = AmlCompute.provisioning_configuration(vm_size="STANDARD_D4_V2", max_nodes=2)
    with pytest.warns(ResourceRequestWarning):
        first = ComputeTarget.create(ws, "c", config)
    monkeypatch.setattr(vm_sizes, "local_node", lambda: Node(cpus=16, gpus=0, memory_gb=64.0))
    again = ComputeTarget.create(ws, "c", config)  # fits now: no warning, and the same target
    assert again == first and again.resources.cpu == 2


# -- the docs table ----------------------------------------------------------------------------------


def test_the_docs_table_matches_the_script_output() -> None:
    table = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, check=True).stdout
    assert table == vm_sizes.markdown_table()
    text = DOC.read_text(encoding="utf-8")
    start = text.index("-->", text.index("<!-- vm-size-table:start")) + len("-->\n")
    assert text[start : text.index("<!-- vm-size-table:end -->")] == table, (
        "run: python scripts/vm_size_table.py --write docs/compute.md"
    )
    check = subprocess.run([sys.executable, str(SCRIPT), "--check", str(DOC)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def test_the_check_fails_on_a_stale_table(tmp_path: Path) -> None:
    stale = tmp_path / "compute.md"
    stale.write_text(DOC.read_text(encoding="utf-8").replace("| `STANDARD_NC6` |", "| `STANDARD_NC7` |"), "utf-8")
    check = subprocess.run([sys.executable, str(SCRIPT), "--check", str(stale)], capture_output=True, text=True)
    assert check.returncode == 1 and "out of date" in check.stderr
