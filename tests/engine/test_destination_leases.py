"""Leases on fixed output destinations: all or nothing, released as their users end, and by the
kernel when the process holding them dies (a real process, a real SIGKILL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from headwater.engine.destination_leases import DestinationLeases, fixed_destination, is_fixed
from headwater.graph.spec import InputSpec, OutputSpec, PipelineSpec, StepSpec
from headwater.plan.run_plan import RunPlan, StepPlan
from headwater.runtime.context import WorkspaceRef
from headwater.status import StepState


def make_plan(folder: Path, run_id: str, destinations: dict[str, str]) -> RunPlan:
    """A run whose step ``w_<x>`` writes output ``<x>`` to each destination, and a step ``r`` reads them all."""
    writers = [
        StepSpec(
            f"w_{name}", f"w_{name}", "python", str(folder), "w.py", outputs=(OutputSpec(name, path_template=path),)
        )
        for name, path in destinations.items()
    ]
    reader = StepSpec(
        "r", "r", "python", str(folder), "r.py", inputs=tuple(InputSpec(f"{n}_in", {"output": n}) for n in destinations)
    )
    steps = [*writers, reader]
    return RunPlan(
        pipeline_run_id=run_id,
        experiment_id="e",
        experiment_name="e",
        workspace=WorkspaceRef("ws", str(folder), "sqlite://"),
        spec=PipelineSpec(tuple(steps)),
        parameters={},
        steps={s.node_id: StepPlan(f"{run_id}-{s.node_id}", "snap", sys.executable, "env") for s in steps},
        default_datastore="store",
    )


def test_fixed_destinations_are_the_paths_without_run_id(tmp_path: Path) -> None:
    assert is_fixed("fixed/out") and is_fixed("models/{output-name}")
    assert not is_fixed("dataset/{run-id}/{output-name}")
    plan = make_plan(tmp_path, "A", {"a": "fixed//a/", "b": "x/{run-id}"})
    assert fixed_destination(plan, "w_a", "a") == ("store", "fixed/a")
    assert fixed_destination(plan, "w_b", "b") is None
    leases = DestinationLeases(plan)
    assert leases.try_take("r") is None and leases.try_take("w_b") is None  # they write no fixed path
    assert not leases.held


def test_leases_are_taken_all_at_once_or_not_at_all(tmp_path: Path) -> None:
    first = DestinationLeases(make_plan(tmp_path, "A", {"a": "fixed/a", "b": "fixed/b"}))
    second = DestinationLeases(make_plan(tmp_path, "B", {"b": "fixed/b", "a": "fixed/a"}))
    try:
        assert first.try_take("w_a") is None
        assert set(first.held) == {("store", "fixed/a"), ("store", "fixed/b")}  # both, though w_b has not started
        assert first.try_take("w_b") is None  # already held
        why = second.try_take("w_b")
        assert why is not None and "run A" in why and "'fixed/" in why and "{run-id}" in why
        assert second.held == {}  # nothing kept while waiting: no run holds one and waits for another
        # fixed/b's users ended: only that lease is released; fixed/a is still needed by r
        state: dict[str, StepState] = {"w_a": "done", "w_b": "done", "r": "running"}
        assert first.release_finished(state) == []
        state["r"] = "done"
        assert sorted(first.release_finished(state)) == [("store", "fixed/a"), ("store", "fixed/b")]
        assert second.try_take("w_a") is None and len(second.held) == 2
    finally:
        first.close()
        second.close()


def test_a_lease_is_released_when_all_its_users_ended(tmp_path: Path) -> None:
    both = DestinationLeases(make_plan(tmp_path, "A", {"a": "fixed/a", "b": "fixed/b"}))
    only_b = DestinationLeases(make_plan(tmp_path, "C", {"b": "fixed/b"}))
    try:
        assert both.try_take("w_b") is None
        assert only_b.try_take("w_b") is not None
        # b's writer failed and the reader was canceled: b is free; a's writer still runs
        assert both.release_finished({"w_a": "running", "w_b": "failed", "r": "canceled"}) == [("store", "fixed/b")]
        assert only_b.try_take("w_b") is None  # while A still holds fixed/a
        assert set(both.held) == {("store", "fixed/a")}
    finally:
        both.close()
        only_b.close()


HOLDER = """
import sys, time
from pathlib import Path
from headwater.engine.destination_leases import DestinationLeases
from headwater.plan.run_plan import RunPlan
leases = DestinationLeases(RunPlan.load(Path(sys.argv[1])))
assert leases.try_take("w_a") is None
print("held", flush=True)
time.sleep(600)
"""


def test_the_kernel_releases_the_leases_of_a_killed_process(tmp_path: Path) -> None:
    plan = make_plan(tmp_path, "DEAD", {"a": "fixed/a"})
    plan.save(tmp_path / "plan.json")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path / "plan.json")], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        mine = DestinationLeases(make_plan(tmp_path, "ALIVE", {"a": "fixed/a"}))
        why = mine.try_take("w_a")
        assert why is not None and "run DEAD" in why
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
        assert mine.try_take("w_a") is None  # no clean-up ran: the kernel dropped the lock
        mine.close()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
