"""Ray steps at pipeline level (#6), on the real single-node cluster the tests start (2 CPUs, loopback):
per-step resource requests, a 20-step fan-out, a killed worker, cancel, and host-local data."""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

import pytest

from headwater import (
    AmlCompute,
    ComputeTarget,
    ConfigurationError,
    Experiment,
    OutputFileDatasetConfig,
    Pipeline,
    PythonScriptStep,
    RayCompute,
    RunConfiguration,
    Workspace,
)
from headwater.engine.executors.ray_executor import cluster_nodes
from headwater.engine.executors.resources import STRICT_ENV, ClusterNode, ResourceRequestWarning
from headwater.graph.spec import OutputSpec, PipelineSpec, StepSpec
from headwater.ops.ray_targets import RESOURCES_PROPERTY, plan_ray_targets
from tests.conftest import gen

pytestmark = pytest.mark.slow

HANG_GUARD_S = 120.0  # only against a hang; nothing asserts on time

# Each step stamps its start, waits (up to a bound) for a partner step to start, stamps its end, and
# records the Ray worker that runs it (its parent process). Overlap is read from the stamps.
STAMP = """
import json, os, sys, time
folder, me, partner_glob = sys.argv[1], sys.argv[2], sys.argv[3]
def write(name, text):
    with open(os.path.join(folder, name + ".tmp"), "w") as fh:
        fh.write(text)
    os.replace(os.path.join(folder, name + ".tmp"), os.path.join(folder, name))
write(me + ".start", json.dumps({"t": time.time(), "pid": os.getpid(), "worker": os.getppid()}))
deadline = time.monotonic() + float(sys.argv[4])
while time.monotonic() < deadline:
    if any(n.endswith(".start") and n != me + ".start" and n.startswith(partner_glob) for n in os.listdir(folder)):
        break
    time.sleep(0.05)
write(me + ".end", json.dumps({"t": time.time()}))
"""

VICTIM = """
import os, signal, sys, time
with open(sys.argv[1], "a") as fh:  # a ledger: one line per start (a retry would add one)
    fh.write(f"start {os.getpid()}\\n")
os.kill(os.getppid(), signal.SIGKILL)  # the Ray worker running this step
time.sleep(120)
"""

SLEEPER = """
import os, subprocess, sys, time
out = sys.argv[2]
os.makedirs(out, exist_ok=True)
open(os.path.join(out, "half.txt"), "w").write("not committed")
grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
with open(sys.argv[1] + ".tmp", "w") as fh:
    fh.write(f"{os.getpid()} {grandchild.pid}")
os.replace(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(300)
"""


def wait_for_file(path: Path) -> str:
    deadline = time.monotonic() + HANG_GUARD_S
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)
    return path.read_text()


def gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def intervals(folder: Path) -> dict[str, tuple[float, float, dict[str, int]]]:
    """step -> (start, end, {pid, worker}) from the stamps."""
    out = {}
    for start in folder.glob("*.start"):
        name = start.name[: -len(".start")]
        s, e = json.loads(start.read_text()), json.loads((folder / f"{name}.end").read_text())
        out[name] = (s["t"], e["t"], {"pid": s["pid"], "worker": s["worker"]})
    return out


def max_concurrency(spans: list[tuple[float, float]]) -> int:
    events = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
    best = now = 0
    for _, delta in events:
        now += delta
        best = max(best, now)
    return best


def ray_target(ws: Workspace, address: str, name: str = "aml-compute", vm_size: str = "") -> ComputeTarget:
    """SDK v1's cluster (with ``vm_size``), rebound to the test cluster."""
    with warnings.catch_warnings():  # a size larger than this machine is lowered for local use
        warnings.simplefilter("ignore", ResourceRequestWarning)
        ComputeTarget.create(ws, name, AmlCompute.provisioning_configuration(vm_size=vm_size, max_nodes=4))
    ComputeTarget.attach(ws, name, RayCompute.attach_configuration(address=address))
    return ComputeTarget(ws, name)


# --- 1. per-step requests ------------------------------------------------------------------------------


def test_a_ray_step_asks_for_its_vm_size_so_2_cpu_steps_run_one_at_a_time(
    tmp_path: Path, pws: Workspace, ray_address: str
) -> None:
    src = gen(tmp_path / "src", {"stamp.py": STAMP})
    stamps = tmp_path / "stamps"
    stamps.mkdir()
    target = ray_target(pws, ray_address, vm_size="STANDARD_D2_V2")  # 2 CPUs, 7 GiB: the whole 2-CPU node
    steps = [
        # each waits up to 8 s for the other to start: if both ran at once, their spans would overlap
        PythonScriptStep(
            "stamp.py",
            name=name,
            source_directory=str(src),
            compute_target=target,
            arguments=[str(stamps), name, "", "8"],
        )
        for name in ("a", "b")
    ]
    (node,) = cluster_nodes(ray_address)
    memory = min(7.0, node.memory_gb or 7.0)
    with warnings.catch_warnings():  # a CI node with less than 7 GiB for Ray: lowered, with a warning
        warnings.simplefilter("ignore", ResourceRequestWarning)
        run = Experiment(pws, "ray-resources").submit(Pipeline(pws, steps=steps))
    assert run.wait_for_completion(show_output=False) == "Finished"

    for step in run.get_steps():
        assert json.loads(step.get_properties()[RESOURCES_PROPERTY]) == {"cpu": 2, "gpu": 0, "memory_gb": memory}
    (a_start, a_end, _), (b_start, b_end, _) = (intervals(stamps)[n] for n in ("a", "b"))
    assert a_end <= b_start or b_end <= a_start  # one at a time


def test_a_request_larger_than_the_cluster_is_lowered_or_refused_when_strict(
    tmp_path: Path, pws: Workspace, ray_address: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = gen(tmp_path / "src", {"stamp.py": STAMP})
    target = ray_target(pws, ray_address, vm_size="STANDARD_NC6")  # 6 CPUs and a GPU; the cluster: 2 CPUs
    stamps = tmp_path / "stamps"
    stamps.mkdir()
    step = PythonScriptStep(
        "stamp.py", source_directory=str(src), compute_target=target, arguments=[str(stamps), "only", "", "0"]
    )

    with pytest.warns(
        ResourceRequestWarning,
        match=r"STANDARD_NC6 asks 6 CPUs, 1 GPU.*the Ray cluster's largest "
        r"node \(.*\) has 2 CPUs, no GPU.*the step will get 2 CPUs, no GPU",
    ):
        run = Experiment(pws, "ray-resources").submit(Pipeline(pws, steps=[step]))
    assert run.wait_for_completion(show_output=False) == "Finished"
    (step_run,) = run.get_steps()
    asked = json.loads(step_run.get_properties()[RESOURCES_PROPERTY])
    assert (asked["cpu"], asked["gpu"]) == (2, 0)

    monkeypatch.setenv(STRICT_ENV, "1")
    before = len(pws.metadata_store.list_runs())
    with pytest.raises(ConfigurationError, match=r"'aml-compute'.*STANDARD_NC6 asks 6 CPUs.*largest node"):
        Experiment(pws, "ray-resources").submit(Pipeline(pws, steps=[step]))
    assert len(pws.metadata_store.list_runs()) == before  # refused before anything was recorded


def asking(vm_size: str) -> RunConfiguration:
    """A step's run configuration asking for ``vm_size`` itself (SDK v1's ``amlcompute.vm_size``)."""
    rc = RunConfiguration()
    rc.amlcompute.vm_size = vm_size
    return rc


def test_a_step_s_own_vm_size_wins_over_its_target_and_its_sibling_keeps_the_target_s(
    tmp_path: Path, pws: Workspace, ray_address: str
) -> None:
    src = gen(tmp_path / "src", {"stamp.py": STAMP})
    stamps = tmp_path / "stamps"
    stamps.mkdir()
    target = ComputeTarget.attach(pws, "ray", RayCompute.attach_configuration(address=ray_address))  # no vm_size
    big = PythonScriptStep(
        "stamp.py",
        name="big",
        source_directory=str(src),
        compute_target=target,
        arguments=[str(stamps), "big", "", "0"],
        runconfig=asking("STANDARD_D2_V2"),
    )
    small = PythonScriptStep(
        "stamp.py",
        name="small",
        source_directory=str(src),
        compute_target=target,
        arguments=[str(stamps), "small", "", "0"],
    )
    (node,) = cluster_nodes(ray_address)
    memory = min(7.0, node.memory_gb or 7.0)
    with warnings.catch_warnings():  # a CI node with less than 7 GiB for Ray: lowered, with a warning
        warnings.simplefilter("ignore", ResourceRequestWarning)
        run = Experiment(pws, "ray-step-resources").submit(Pipeline(pws, steps=[big, small]))
    assert run.wait_for_completion(show_output=False) == "Finished"

    asked = {s.name: json.loads(s.get_properties()[RESOURCES_PROPERTY]) for s in run.get_steps()}
    assert asked == {"big": {"cpu": 2, "gpu": 0, "memory_gb": memory}, "small": {"cpu": 1, "gpu": 0, "memory_gb": None}}


def test_a_step_s_own_request_larger_than_the_cluster_is_lowered_naming_the_step_or_refused_when_strict(
    tmp_path: Path, pws: Workspace, ray_address: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = gen(tmp_path / "src", {"stamp.py": STAMP})
    stamps = tmp_path / "stamps"
    stamps.mkdir()
    target = ray_target(pws, ray_address, vm_size="STANDARD_D1_V2")  # the target asks 1 CPU; the step more
    step = PythonScriptStep(
        "stamp.py",
        name="gpu-train",
        source_directory=str(src),
        compute_target=target,
        arguments=[str(stamps), "only", "", "0"],
        runconfig=asking("STANDARD_NC6"),
    )
    (node,) = cluster_nodes(ray_address)

    with pytest.warns(ResourceRequestWarning) as caught:
        run = Experiment(pws, "ray-step-resources").submit(Pipeline(pws, steps=[step]))
    (text,) = [str(w.message) for w in caught]
    assert text.startswith("step 'gpu-train' on compute target 'aml-compute': STANDARD_NC6 asks 6 CPUs, 1 GPU")
    assert f"the Ray cluster's largest node ({node.host}) has 2 CPUs, no GPU" in text
    assert "the step will get 2 CPUs, no GPU" in text
    assert run.wait_for_completion(show_output=False) == "Finished"
    (step_run,) = run.get_steps()
    asked = json.loads(step_run.get_properties()[RESOURCES_PROPERTY])
    assert (asked["cpu"], asked["gpu"]) == (2, 0)

    monkeypatch.setenv(STRICT_ENV, "1")
    before = len(pws.metadata_store.list_runs())
    with pytest.raises(
        ConfigurationError,
        match=r"Step 'gpu-train' on compute target 'aml-compute': STANDARD_NC6 "
        r"asks 6 CPUs.*largest node",
    ):
        Experiment(pws, "ray-step-resources").submit(Pipeline(pws, steps=[step]))
    assert len(pws.metadata_store.list_runs()) == before  # refused before anything was recorded


def test_changing_only_a_step_s_vm_size_reuses_it(tmp_path: Path, pws: Workspace, ray_address: str) -> None:
    src = gen(tmp_path / "src", {"stamp.py": STAMP})
    stamps = tmp_path / "stamps"
    stamps.mkdir()
    target = ComputeTarget.attach(pws, "ray", RayCompute.attach_configuration(address=ray_address))

    def step(rc: RunConfiguration | None) -> PythonScriptStep:
        return PythonScriptStep(
            "stamp.py",
            name="train",
            source_directory=str(src),
            compute_target=target,
            arguments=[str(stamps), "train", "", "0"],
            runconfig=rc,
        )

    first = Experiment(pws, "ray-step-reuse").submit(Pipeline(pws, steps=[step(asking("STANDARD_D1_V2"))]))
    assert first.wait_for_completion(show_output=False) == "Finished"
    for rc in (asking("STANDARD_A2_V2"), None):  # another size, then none: resources do not change results
        again = Experiment(pws, "ray-step-reuse").submit(Pipeline(pws, steps=[step(rc)]))
        assert again.wait_for_completion(show_output=False) == "Finished"
        (step_run,) = again.get_steps()
        assert step_run.reused


def test_a_target_s_concurrency_comes_from_its_smallest_request(pws: Workspace, ray_address: str) -> None:
    ComputeTarget.attach(pws, "aml-compute", RayCompute.attach_configuration(address=ray_address))

    def step(name: str, request: dict[str, object] | None) -> StepSpec:
        return StepSpec(name, name, "python", "/src", "s.py", compute_target="aml-compute", resource_request=request)

    def four_cpus(address: str) -> list[ClusterNode]:
        return [ClusterNode("head", "127.0.0.1", 4, 0, 64.0)]

    d3 = {"vm_size": "STANDARD_D3_V2", "cpu": 4, "gpu": 0, "memory_gb": 14.0}
    d2 = {"vm_size": "STANDARD_D2_V2", "cpu": 2, "gpu": 0, "memory_gb": 7.0}

    def plan(*steps: StepSpec) -> dict[str, int]:
        return plan_ray_targets(
            PipelineSpec(steps),
            pws.metadata_store,
            parameters={},
            default_datastore="workspaceblobstore",
            workspace_folder=Path(pws.folder),
            nodes_of=four_cpus,
        ).concurrency

    assert plan(step("a", d3), step("b", d3)) == {"aml-compute": 1}
    assert plan(step("a", d3), step("b", d2)) == {"aml-compute": 2}  # Ray holds the 4-CPU step until there is room
    assert plan(step("a", d3), step("b", None)) == {"aml-compute": 4}  # the target's request: 1 CPU


# --- 2. fan-out ----------------------------------------------------------------------------------------


def test_a_20_step_fan_out_spreads_over_ray_workers(tmp_path: Path, pws: Workspace, ray_address: str) -> None:
    """20 independent 1-CPU steps on the 2-CPU test cluster all finish, two at a time, in different
    Ray worker processes. The test cluster has one node, so spreading is asserted over worker
    processes (their pids), not over nodes; every step records the node and its own Ray task."""
    src = gen(tmp_path / "src", {"stamp.py": STAMP})
    stamps = tmp_path / "stamps"
    stamps.mkdir()
    target = ComputeTarget.attach(pws, "ray", RayCompute.attach_configuration(address=ray_address))
    steps = [
        PythonScriptStep(
            "stamp.py",
            name=f"fan{i:02d}",
            source_directory=str(src),
            compute_target=target,
            arguments=[str(stamps), f"fan{i:02d}", "fan", "20"],
        )
        for i in range(20)
    ]
    began = time.monotonic()
    run = Experiment(pws, "ray-fan-out").submit(Pipeline(pws, steps=steps))
    assert run.wait_for_completion(show_output=False) == "Finished"
    wall = time.monotonic() - began

    step_runs = list(run.get_steps())
    assert len(step_runs) == 20 and {s.get_status() for s in step_runs} == {"Finished"}
    props = [s.get_properties() for s in step_runs]
    assert len({p["headwater.ray.task_id"] for p in props}) == 20
    assert {p["headwater.ray.node"] for p in props} <= {n.node_id for n in cluster_nodes(ray_address)}
    spans = intervals(stamps)
    assert len(spans) == 20
    workers = {info["worker"] for _, _, info in spans.values()}
    concurrency = max_concurrency([(s, e) for s, e, _ in spans.values()])
    assert len(workers) >= 2
    assert concurrency == 2  # as many as the cluster's CPUs: the rest wait, Queued
    print(f"\nfan-out: 20 steps in {wall:.1f} s, max concurrency {concurrency}, {len(workers)} worker processes")


# --- 3. a killed worker --------------------------------------------------------------------------------


def test_a_killed_worker_fails_its_step_once_with_the_reason(tmp_path: Path, pws: Workspace, ray_address: str) -> None:
    src = gen(tmp_path / "src", {"victim.py": VICTIM, "stamp.py": STAMP})
    ledger, stamps = tmp_path / "ledger", tmp_path / "stamps"
    stamps.mkdir()
    target = ComputeTarget.attach(pws, "ray", RayCompute.attach_configuration(address=ray_address))
    out = OutputFileDatasetConfig(name="never")
    victim = PythonScriptStep(
        "victim.py", source_directory=str(src), compute_target=target, arguments=[str(ledger), out]
    )
    after = PythonScriptStep(
        "stamp.py",
        name="after",
        source_directory=str(src),
        compute_target=target,
        arguments=[str(stamps), "after", "", "0", out.as_input()],
    )
    bystander = PythonScriptStep(
        "stamp.py",
        name="bystander",
        source_directory=str(src),
        compute_target=target,
        arguments=[str(stamps), "bystander", "", "0"],
    )
    run = Experiment(pws, "ray-killed").submit(
        Pipeline(pws, steps=[victim, after, bystander]), continue_on_step_failure=True
    )
    assert run.wait_for_completion(show_output=False, raise_on_error=False) == "Failed"

    steps = {s.name: s for s in run.get_steps()}
    assert steps["bystander"].get_status() == "Finished"  # continue_on_step_failure: the rest goes on
    assert steps["after"].get_status() == "Canceled"
    assert steps["victim.py"].get_status() == "Failed"
    error = steps["victim.py"].get_details()["error"]
    assert "the Ray worker running the step died" in error["message"]  # the reason, not "exit code None"
    assert "exit code" not in error["message"]
    assert steps["victim.py"].get_properties()["headwater.ray.task_id"]  # recorded though the node is unknown
    assert "the Ray worker running the step died" in error["log_tail"]
    assert "not retried" in error["log_tail"]
    assert len(ledger.read_text().splitlines()) == 1  # it ran once: Ray did not retry it
    assert pws.metadata_store.get_run_outputs(steps["victim.py"].id) == []


# --- 4. cancel -----------------------------------------------------------------------------------------


def test_cancel_stops_the_ray_task_and_its_processes_and_commits_nothing(
    tmp_path: Path, pws: Workspace, ray_address: str
) -> None:
    src = gen(tmp_path / "src", {"sleeper.py": SLEEPER})
    pids = tmp_path / "pids"
    target = ComputeTarget.attach(pws, "ray", RayCompute.attach_configuration(address=ray_address))
    out = OutputFileDatasetConfig(name="half")
    step = PythonScriptStep("sleeper.py", source_directory=str(src), compute_target=target, arguments=[str(pids), out])
    run = Experiment(pws, "ray-cancel").submit(Pipeline(pws, steps=[step]))
    child, grandchild = (int(p) for p in wait_for_file(pids).split())
    (step_run,) = run.get_steps()
    assert step_run.get_status() == "Running"

    run.cancel()
    assert run.wait_for_completion(show_output=False, raise_on_error=False) == "Canceled"
    assert step_run.get_status() == "Canceled"
    deadline = time.monotonic() + HANG_GUARD_S
    while not (gone(child) and gone(grandchild)):
        assert time.monotonic() < deadline, "the step's processes still run"
        time.sleep(0.05)
    assert pws.metadata_store.get_run_outputs(step_run.id) == []
    assert not list(Path(pws.folder).rglob("half.txt"))  # neither committed nor left in staging


# --- 5. host-local data on a multi-host cluster ----------------------------------------------------------


def _one_step_spec(target: str) -> PipelineSpec:
    step = StepSpec(
        "train", "train", "python", "/src", "train.py", outputs=(OutputSpec("model"),), compute_target=target
    )
    return PipelineSpec((step,))


def test_a_host_local_datastore_is_refused_on_a_multi_host_cluster_and_accepted_on_one_host(
    pws: Workspace, ray_address: str
) -> None:
    ComputeTarget.attach(pws, "aml-compute", RayCompute.attach_configuration(address=ray_address))
    spec = _one_step_spec("aml-compute")
    store, folder = pws.metadata_store, Path(pws.folder)

    def two_hosts(address: str) -> list[ClusterNode]:
        return [ClusterNode("head", "127.0.0.1", 2, 0, 8.0), ClusterNode("worker", "127.0.0.2", 2, 0, 8.0)]

    with pytest.raises(ConfigurationError) as refused:
        plan_ray_targets(
            spec,
            store,
            parameters={},
            default_datastore="workspaceblobstore",
            workspace_folder=folder,
            nodes_of=two_hosts,
        )
    text = str(refused.value)
    assert "'train'" in text and "'aml-compute'" in text and "'workspaceblobstore'" in text
    assert "Azure Blob or S3" in text

    # the real cluster has one host: the workspace's local datastore is fine
    accepted = plan_ray_targets(
        spec, store, parameters={}, default_datastore="workspaceblobstore", workspace_folder=folder
    )
    assert accepted.addresses == {"aml-compute": ray_address}
    assert accepted.concurrency == {"aml-compute": 2}
