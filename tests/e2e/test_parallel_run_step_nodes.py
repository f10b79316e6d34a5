"""A ParallelRunStep with node_count=2 on a REAL two-node Ray cluster (two raylets on this machine).

The cluster is this module's own (the session's single-node cluster stays as other tests expect
it): a head on a free loopback port and a second raylet joined to it, each with its own temporary
folder, both stopped by process group at the end (tests/fixtures/ray_cluster.py explains why).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from headwater import OutputFileDatasetConfig, ParallelRunStep, Workspace
from headwater.layout import RunLayout
from tests.conftest import gen
from tests.e2e.test_parallel_run_step import _config, _files, _output_lines, _submit
from tests.fixtures.ray_cluster import _start, _stop

pytestmark = pytest.mark.slow

# The first run() on each node waits (bounded) until the other node is in run() too: each node
# holds one mini-batch until the other claimed one, so both score some, whoever starts first.
SCORE = """
import os, time

def init():
    pass

def _both_running(node):
    started = os.environ["HW_STARTED"]
    os.makedirs(started, exist_ok=True)
    open(os.path.join(started, node), "w").close()
    deadline = time.monotonic() + 120
    while len(os.listdir(started)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)

def run(mini_batch):
    node = os.environ["HEADWATER_PARALLEL_NODE"]
    _both_running(node)
    with open(os.environ["HW_TEST_EVENTS"], "a") as f:
        for p in mini_batch:
            f.write("%s %s\\n" % (os.path.basename(p), node))
    return ["%s %s" % (os.path.basename(p), node) for p in mini_batch]
"""


def _join(address: str, temp_dir: Path) -> int:
    """A second raylet on this machine joined to the head at ``address``; its process group."""
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("ray")), "start", f"--address={address}", "--num-cpus=2",
         "--num-gpus=0", "--node-ip-address=127.0.0.1", '--resources={"node2": 1}', "--disable-usage-stats",
         f"--temp-dir={temp_dir}"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0"},
    )  # fmt: skip
    output, _ = proc.communicate(timeout=90)
    if proc.returncode != 0:
        _stop(proc.pid)
        raise RuntimeError(f"`ray start --address` exited with {proc.returncode}:\n{output.decode()[-3000:]}")
    return proc.pid


@pytest.fixture(scope="module")
def two_nodes() -> Iterator[str]:
    head_dir = Path(tempfile.mkdtemp(prefix="hw-ray2h-", dir="/tmp"))
    node_dir = Path(tempfile.mkdtemp(prefix="hw-ray2n-", dir="/tmp"))
    groups: list[int] = []
    try:
        head = _start(head_dir)
        groups.append(head.pgid)
        groups.append(_join(head.address, node_dir))
        yield head.address
    finally:
        ray = sys.modules.get("ray")
        if ray is not None and ray.is_initialized():  # the orchestrator ran in this process: leave first
            ray.shutdown()
        for pgid in reversed(groups):
            _stop(pgid)
        shutil.rmtree(head_dir, ignore_errors=True)
        shutil.rmtree(node_dir, ignore_errors=True)


def test_a_parallel_run_step_on_two_ray_nodes_spreads_its_mini_batches_over_both(
    pws: Workspace, proj: Path, tmp_path: Path, two_nodes: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from headwater import ComputeTarget, RayCompute
    from headwater.engine.executors.ray_executor import cluster_nodes

    monkeypatch.setenv("RAY_ADDRESS", two_nodes)
    nodes = {n.node_id for n in cluster_nodes(two_nodes)}
    assert len(nodes) == 2
    events = tmp_path / "events.txt"
    gen(proj / "src", {"score.py": SCORE})
    target = ComputeTarget.attach(pws, "ray2", RayCompute.attach_configuration(address=two_nodes))
    config = _config(
        proj / "src", compute_target=target, node_count=2, process_count_per_node=1, mini_batch_size=1,
        environment_variables={"HW_TEST_EVENTS": str(events), "HW_STARTED": str(tmp_path / "started")},
    )  # fmt: skip
    step = ParallelRunStep("score-nodes", config, [_files(pws, proj, 12)], OutputFileDatasetConfig("scores"))
    run = _submit(pws, step, "score-nodes")
    assert run.get_status() == "Finished", [s.get_details().get("error") for s in run.get_steps()]
    scored = [line.split() for line in events.read_text().splitlines()]
    assert sorted(name for name, _ in scored) == [f"f{i:02d}.txt" for i in range(12)]  # each exactly once
    assert {node for _, node in scored} == nodes  # by workers on both nodes
    step_run = run.find_step_run("score-nodes")[0]
    assert sorted(_output_lines(step_run)) == sorted(f"{name} {node}" for name, node in scored)  # one output
    logs = RunLayout(Path(pws.folder) / "runs" / step_run.id).folder / "wd" / "logs"
    for node in nodes:  # SDK v1's per-node log folders, by Ray node id
        assert (logs / "sys" / "node" / node / "node_driver.txt").is_file()
        assert (logs / "user" / "stdout" / node).is_dir()
    assert "12 succeeded" in (logs / "job_result.txt").read_text()
