"""The steps of a dead orchestrator stop on their own, without anyone reading the run.

An orchestrator killed with SIGKILL (or by the OOM killer) commits nothing more: what its steps
would still write is lost. So its step processes — exec'd by it, forked from a step server (whose
child they are), a ParallelRunStep's workers (children of the step) and anything they started in
a session of their own — are stopped promptly by the orchestrator's step guard
(:mod:`headwater.engine.executors.step_guard`), which notices the orchestrator's end as the end of
a pipe only the orchestrator holds. Nothing reads the run here until they are gone: the liveness
check on a read (tests/reliability/test_liveness.py) is no longer what stops them.

Real processes and signals; waits are bounded polls on conditions, never timings.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest

from headwater import (
    Dataset,
    Datastore,
    Environment,
    Experiment,
    OutputFileDatasetConfig,
    ParallelRunConfig,
    ParallelRunStep,
    Pipeline,
    PythonScriptStep,
    Workspace,
)
from tests.conftest import alive, gen
from tests.reliability.test_liveness import WORK, orchestrator_of, poll, processes_of, wait_for_pids

pytestmark = pytest.mark.slow

SLOW_SCORE = """
import os, time

def init():
    with open(os.environ["HW_TEST_WORKERS"], "a") as f:
        f.write("%d\\n" % os.getpid())

def run(mini_batch):
    time.sleep(120)
    return [str(p) for p in mini_batch]
"""


def parent_of(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as fh:
        return int(fh.read().rsplit(")", 1)[1].split()[1])


@pytest.mark.parametrize("start", ["exec", "fork"])
def test_the_steps_of_a_killed_orchestrator_stop_without_a_read(
    proj: Path, pws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, start: str
) -> None:
    monkeypatch.setenv("HEADWATER_STEP_START", start)
    gen(proj, {"src": {"work.py": WORK}})
    out = OutputFileDatasetConfig(name="work_out")
    arguments: list[Any] = [str(tmp_path / "work.pid"), str(tmp_path / "gate"), "--daemon", "--out", out]
    step = PythonScriptStep("work.py", name="work", source_directory="src", arguments=arguments)
    run = Experiment(pws, "orphans").submit(Pipeline(pws, steps=[step]))
    pids = wait_for_pids(tmp_path / "work.pid")
    step_run_id = run.find_step_run("work")[0].id
    orchestrator = orchestrator_of(pws, run.id)
    if start == "fork":  # forked from a step server: the orchestrator is not its parent
        assert parent_of(pids[0]) != orchestrator
    else:
        assert parent_of(pids[0]) == orchestrator

    os.kill(orchestrator, signal.SIGKILL)
    # No read of the run from here on: nothing but the orchestrator's end stops the step.
    poll(lambda: not any(alive(p) for p in pids), "the step and its own-session daemon to stop on their own", 30)
    assert processes_of({step_run_id}) == []
    assert run.get_status() == "Failed"  # and the run is marked as before, on its next read


def test_a_parallel_run_step_s_workers_stop_with_their_killed_orchestrator(
    proj: Path, pws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workers = tmp_path / "workers.txt"
    monkeypatch.setenv("HW_TEST_WORKERS", str(workers))
    gen(proj / "src", {"score.py": SLOW_SCORE})
    gen(proj / "data", {f"f{i}.txt": str(i) for i in range(4)})
    files = Dataset.File.from_files((Datastore.register_local_folder(pws, "inputs", proj / "data"), ""))
    env = Environment("parallel-orphans")
    env.python.user_managed_dependencies = True
    config = ParallelRunConfig(
        environment=env,
        entry_script="score.py",
        source_directory=str(proj / "src"),
        error_threshold=-1,
        output_action="append_row",
        compute_target="local",
        node_count=1,
        process_count_per_node=2,
        mini_batch_size=1,
        run_invocation_timeout=300,
    )
    step = ParallelRunStep("score", config, [files.as_named_input("files")], OutputFileDatasetConfig("scores"))
    run = Experiment(pws, "orphans").submit(Pipeline(pws, steps=[step]))

    def started() -> bool:
        return workers.exists() and len(workers.read_text().split()) == 2

    poll(started, "both workers to have started")
    worker_pids = [int(p) for p in workers.read_text().split()]
    step_run_id = run.find_step_run("score")[0].id
    assert processes_of({step_run_id})  # the driver and its workers
    orchestrator = orchestrator_of(pws, run.id)

    os.kill(orchestrator, signal.SIGKILL)
    poll(lambda: not processes_of({step_run_id}), "the driver and its workers to stop on their own", 30)
    assert not any(alive(p) for p in worker_pids)


def test_a_ray_step_of_a_killed_orchestrator_stops_without_a_read(
    proj: Path, pws: Workspace, tmp_path: Path, ray_address: str
) -> None:
    """On Ray the step process is a child of a Ray worker, which Ray kills with the job when its
    driver (the orchestrator) dies; the worker's step guard then stops the step."""
    from headwater import ComputeTarget, RayCompute

    gen(proj, {"src": {"work.py": WORK}})
    target = ComputeTarget.attach(pws, "ray", RayCompute.attach_configuration(address=ray_address))
    arguments: list[Any] = [str(tmp_path / "work.pid"), str(tmp_path / "gate"), "--daemon"]
    step = PythonScriptStep("work.py", name="work", source_directory="src", arguments=arguments, compute_target=target)
    run = Experiment(pws, "orphans").submit(Pipeline(pws, steps=[step]))
    pids = wait_for_pids(tmp_path / "work.pid")
    orchestrator = orchestrator_of(pws, run.id)

    os.kill(orchestrator, signal.SIGKILL)
    poll(lambda: not any(alive(p) for p in pids), "the Ray step and its own-session daemon to stop on their own", 60)
