"""Decisions about Ray steps made at submit, on plain node lists (no Ray, no mocks): requests fitted
to the cluster's largest node, how many steps fit at once, host-local datastores refused on a
multi-host cluster, and which datastores a step uses."""

from __future__ import annotations

import pytest

from headwater import ComputeTarget, Datastore, RayCompute, Workspace
from headwater.engine.executors.ray_executor import ray_options
from headwater.engine.executors.resources import (
    DEFAULT_REQUEST,
    ClusterNode,
    ResourceRequest,
    capacity,
    fit_to_cluster,
)
from headwater.errors import ConfigurationError
from headwater.graph.spec import InputSpec, OutputSpec, PipelineSpec, StepSpec
from headwater.ops.ray_targets import (
    all_on_this_host,
    is_this_host,
    local_datastore_problems,
    plan_ray_targets,
    step_datastores,
)

LAPTOP = ClusterNode("n1", "127.0.0.1", cpus=2, gpus=0, memory_gb=16.0)
GPU_BOX = ClusterNode("n2", "gpu-box", cpus=4, gpus=1, memory_gb=28.0)  # another host (by name: no addresses here)
BIG_CPU = ClusterNode("n3", "big-cpu", cpus=16, gpus=0, memory_gb=64.0)
NC6 = ResourceRequest(6, 1, 56.0)
D2_V2 = ResourceRequest(2, 0, 7.0)


def test_a_request_that_fits_is_kept() -> None:
    assert fit_to_cluster("STANDARD_D2_V2", D2_V2, [LAPTOP]) == D2_V2


def test_a_request_larger_than_the_largest_node_is_lowered_naming_both() -> None:
    got = fit_to_cluster("STANDARD_NC6", NC6, [LAPTOP])
    assert got[:3] == (2, 0, 16.0)
    (warning,) = got.warnings
    assert warning == (
        "STANDARD_NC6 asks 6 CPUs, 1 GPU and 56 GiB of memory; the Ray cluster's largest node (127.0.0.1) has "
        "2 CPUs, no GPU and 16 GiB of memory: the step will get 2 CPUs, no GPU and 16 GiB of memory"
    )


def test_the_node_that_gives_most_of_a_gpu_request_is_the_one_compared() -> None:
    got = fit_to_cluster("STANDARD_NC6", NC6, [BIG_CPU, GPU_BOX, LAPTOP])
    assert got[:3] == (4, 1, 28.0)  # the GPU node, not the one with the most CPUs
    assert "(gpu-box)" in got.warnings[0]


def test_strict_refuses_instead_of_lowering() -> None:
    with pytest.raises(ConfigurationError, match=r"STANDARD_NC6 asks 6 CPUs.*largest node \(127\.0\.0\.1\) has 2 CPUs"):
        fit_to_cluster("STANDARD_NC6", NC6, [LAPTOP], strict=True)


def test_capacity_counts_requests_that_fit_at_once() -> None:
    assert capacity(D2_V2, [LAPTOP]) == 1  # 2 CPUs per step on a 2-CPU node: one at a time
    assert capacity(DEFAULT_REQUEST, [LAPTOP]) == 2
    assert capacity(DEFAULT_REQUEST, [LAPTOP, BIG_CPU]) == 18
    assert capacity(ResourceRequest(2, 0, 30.0), [BIG_CPU]) == 2  # memory is the limit
    assert capacity(ResourceRequest(1, 1, None), [LAPTOP, GPU_BOX]) == 1
    assert capacity(ResourceRequest(8, 0, None), [LAPTOP]) == 1  # never 0: Ray queues it


def test_ray_options_carry_cpu_gpu_and_memory() -> None:
    assert ray_options({}) == {"num_cpus": 1, "num_gpus": 0}
    assert ray_options({"cpu": 2, "gpu": 0, "memory_gb": 7.0}) == {"num_cpus": 2, "num_gpus": 0, "memory": 7 * 1024**3}


def test_host_local_datastores_are_refused_only_on_a_multi_host_cluster() -> None:
    used = {"workspaceblobstore": True, "shared": False}
    assert local_datastore_problems("train", "aml-compute", [LAPTOP], used) == []
    same_host = [LAPTOP, ClusterNode("n4", "127.0.0.1", 2, 0, 16.0)]
    assert local_datastore_problems("train", "aml-compute", same_host, used) == []
    (problem,) = local_datastore_problems("train", "aml-compute", [LAPTOP, GPU_BOX], used)
    assert "'train'" in problem and "'aml-compute'" in problem and "'workspaceblobstore'" in problem
    assert "2 hosts (127.0.0.1, gpu-box)" in problem
    assert local_datastore_problems("train", "aml-compute", [LAPTOP, GPU_BOX], {"shared": False}) == []


def test_step_datastores_are_its_outputs_inputs_and_parameter_values() -> None:
    def step(name: str, **kw: object) -> StepSpec:
        return StepSpec(name, name, "python", "/src", "s.py", **kw)  # type: ignore[arg-type]

    prep = step("prep", outputs=(OutputSpec("clean", "shared"),))
    dataset = {"definition": {"sources": [{"datastore": "raw_store", "path": "a/*.csv"}, {"url": "https://x"}]}}
    train = step(
        "train",
        inputs=(
            InputSpec("clean", {"output": "clean"}),
            InputSpec("raw", {"dataset": dataset}),
            InputSpec("ref", {"datapath": {"datastore": "refs", "path": "r"}}),
            InputSpec("p", {"parameter": "data"}),
        ),
        outputs=(OutputSpec("model"),),
    )
    spec = PipelineSpec((prep, train))
    params = {"data": {"datastore": "param_store", "path": "x"}}
    assert step_datastores(train, spec, params, "workspaceblobstore") == [
        "param_store",
        "raw_store",
        "refs",
        "shared",
        "workspaceblobstore",
    ]


# --- shared filesystem or ship mode ------------------------------------------------------------------


def test_a_cluster_is_on_this_host_when_every_node_ip_is_one_of_its_addresses() -> None:
    assert is_this_host("127.0.0.1") and is_this_host("::1") and is_this_host("localhost")
    assert not is_this_host("gpu-box")  # a name other than localhost: not an address of this host
    assert all_on_this_host([LAPTOP, ClusterNode("n4", "127.0.0.1", 2, 0, 16.0)])
    assert not all_on_this_host([LAPTOP, GPU_BOX])
    assert all_on_this_host([LAPTOP, GPU_BOX], is_here=lambda host: host in ("127.0.0.1", "gpu-box"))


def _decide(ws: Workspace, nodes: list[ClusterNode], **attach: object) -> dict[str, str]:
    """What submit decides for a one-step pipeline on target 'cluster' (attached with ``attach``)."""
    ComputeTarget.attach(ws, "cluster", RayCompute.attach_configuration("127.0.0.1:1", **attach))  # type: ignore[arg-type]
    step = StepSpec("s", "s", "python", "/src", "s.py", compute_target="cluster", outputs=(OutputSpec("out", "lake"),))
    return plan_ray_targets(
        PipelineSpec((step,)),
        ws.metadata_store,
        parameters={},
        default_datastore="workspaceblobstore",
        workspace_folder=ws._folder,
        nodes_of=lambda address: nodes,
    ).ship


def test_auto_ships_only_to_a_cluster_with_nodes_elsewhere_and_forced_settings_win(ws: Workspace) -> None:
    Datastore.register_s3(
        ws,
        "lake",
        "bucket",
        endpoint_url="http://127.0.0.1:1",
        access_key_id="dummy",
        secret_access_key="dummy",
        skip_validation=True,
    )
    assert _decide(ws, [LAPTOP], staging_datastore="lake") == {}
    assert _decide(ws, [LAPTOP, GPU_BOX], staging_datastore="lake") == {"cluster": "lake"}
    assert _decide(ws, [LAPTOP], shared_filesystem=False, staging_datastore="lake") == {"cluster": "lake"}
    assert _decide(ws, [GPU_BOX], shared_filesystem=True) == {}
    with pytest.raises(ConfigurationError, match="'workspaceblobstore' is on this host's disk"):
        _decide(ws, [GPU_BOX])  # no staging datastore, and the default one is local
    with pytest.raises(ConfigurationError, match="staging datastore 'nope' is not registered"):
        _decide(ws, [GPU_BOX], staging_datastore="nope")
    assert RayCompute(ws, "cluster").staging_datastore == "nope"
    assert RayCompute(ws, "cluster").shared_filesystem is None
