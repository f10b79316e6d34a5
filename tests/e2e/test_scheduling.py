"""Scheduling, proven from the start/end times the step runs record (never from wall time):
independent steps overlap, concurrency limits serialise them, ordering edges hold, and
``max_run_duration_seconds`` stops a step.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from headwater import (
    ActivityFailedException,
    AmlCompute,
    ComputeTarget,
    Experiment,
    OutputFileDatasetConfig,
    Pipeline,
    PythonScriptStep,
    RunConfiguration,
    StepSequence,
    Workspace,
)
from tests.conftest import gen
from tests.e2e.conftest import overlapped, ran, script, serial, times

pytestmark = pytest.mark.slow

# `python step.py <tag> [<seconds> [<in> [<out>]]]`: ledger line, sleep, copy in -> out
STEP = """
import os, sys, time
tag = sys.argv[1]
with open(os.environ["HW_TEST_LEDGER"], "a") as f:
    f.write(tag + "\\n")
time.sleep(float(sys.argv[2]) if len(sys.argv) > 2 else 0)
if len(sys.argv) > 4:
    os.makedirs(sys.argv[4], exist_ok=True)
    with open(os.path.join(sys.argv[4], tag + ".txt"), "w") as fh:
        fh.write(tag)
"""


@pytest.fixture
def src(proj: Path) -> Path:
    gen(proj, {"src": {"step.py": STEP}})
    return proj


def step(tag: str, seconds: float = 0, *, inp: Any = None, out: Any = None, **kwargs: Any) -> PythonScriptStep:
    args: list[Any] = [tag, str(seconds)]
    if inp is not None or out is not None:
        args += [inp.as_input(f"{tag}_in") if inp is not None else "-", out if out is not None else "-"]
    return PythonScriptStep("step.py", name=tag, source_directory="src", arguments=args, **kwargs)


def fan(ws: Workspace, seconds: float = 1.0, **kwargs: Any) -> Pipeline:
    """prep -> x, y, z (independent, each sleeping ``seconds``) -> join."""
    prepped = OutputFileDatasetConfig(name="prepped")
    outs = {t: OutputFileDatasetConfig(name=f"{t}_out") for t in "xyz"}
    prep = step("prep", out=prepped)
    middle = [step(t, seconds, inp=prepped, out=outs[t], **kwargs) for t in "xyz"]
    join = PythonScriptStep(
        "step.py",
        name="join",
        source_directory="src",
        arguments=["join", "0", *[outs[t].as_input(f"{t}_res") for t in "xyz"]],
    )
    return Pipeline(ws, steps=[prep, *middle, join])


def finish(ws: Workspace, pipeline: Pipeline, **kwargs: Any) -> Any:
    run = Experiment(ws, "sched").submit(pipeline, **kwargs)
    status = run.wait_for_completion(show_output=False, raise_on_error=False)
    return run, status


def _ledger_tags(root: Path) -> list[str]:
    return ran(root)


def test_independent_steps_overlap(src: Path, pws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEADWATER_MAX_CONCURRENCY", "4")
    run, status = finish(pws, fan(pws))
    assert status == "Finished"
    assert sorted(_ledger_tags(src)) == ["join", "prep", "x", "y", "z"]
    t = times(run)
    assert overlapped([t["x"], t["y"], t["z"]])
    assert all(t["prep"][1] <= t[n][0] for n in "xyz")
    assert all(t[n][1] <= t["join"][0] for n in "xyz")


def test_max_concurrency_one_serialises_them(src: Path, pws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEADWATER_MAX_CONCURRENCY", "1")
    run, status = finish(pws, fan(pws, seconds=0.3))
    assert status == "Finished"
    t = times(run)
    assert serial(list(t.values()))


def _max_overlap(spans: list[tuple[Any, Any]]) -> int:
    events = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans], key=lambda ev: (ev[0], ev[1]))
    best = now = 0
    for _, delta in events:
        now += delta
        best = max(best, now)
    return best


def test_an_aml_compute_runs_at_most_max_nodes_steps_at_once(
    src: Path, pws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEADWATER_MAX_CONCURRENCY", "8")
    cluster = ComputeTarget.create(pws, "two-nodes", AmlCompute.provisioning_configuration(max_nodes=2))
    on_cluster = [step(f"c{i}", 0.6, compute_target=cluster) for i in range(4)]
    rc = RunConfiguration()
    rc.target = "local"
    local = [step(f"l{i}", 0.6, runconfig=rc) for i in range(2)]
    run, status = finish(pws, Pipeline(pws, steps=[*on_cluster, *local]))
    assert status == "Finished"
    t = times(run)
    cluster_spans = [t[f"c{i}"] for i in range(4)]
    assert _max_overlap(cluster_spans) == 2
    # the local steps are not held back by the cluster's limit: they overlap the first cluster steps
    assert overlapped([t["l0"], t["l1"], min(cluster_spans)])
    assert {s.name: s.get_details()["target"] for s in run.get_steps()}["c0"] == "two-nodes"


def test_an_aml_compute_pool_is_its_max_nodes_not_the_machines_cores(
    src: Path, pws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no HEADWATER_MAX_CONCURRENCY, an AmlCompute with max_nodes=4 runs 4 steps at once even on a
    machine with fewer cores (this one has 2); steps on 'local' stay bounded by the local pool."""
    monkeypatch.delenv("HEADWATER_MAX_CONCURRENCY", raising=False)
    cluster = ComputeTarget.create(pws, "four-nodes", AmlCompute.provisioning_configuration(max_nodes=4))
    on_cluster = [step(f"c{i}", 1.0, compute_target=cluster) for i in range(4)]
    run, status = finish(pws, Pipeline(pws, steps=on_cluster))
    assert status == "Finished"
    t = times(run)
    assert _max_overlap([t[f"c{i}"] for i in range(4)]) == 4


def test_run_after_and_step_sequence_order_steps(src: Path, pws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEADWATER_MAX_CONCURRENCY", "8")
    first, second, third = step("first", 0.2), step("second", 0.2), step("third")
    third.run_after(second)
    par_a, par_b, last = step("par_a", 0.3), step("par_b", 0.3), step("last")
    seq = StepSequence(steps=[first, [par_a, par_b], last])
    run, status = finish(pws, Pipeline(pws, steps=[seq, second, third]))
    assert status == "Finished"
    t = times(run)
    assert t["first"][1] <= t["par_a"][0] and t["first"][1] <= t["par_b"][0]
    assert overlapped([t["par_a"], t["par_b"]])  # a nested list inside a StepSequence runs in parallel
    assert t["par_a"][1] <= t["last"][0] and t["par_b"][1] <= t["last"][0]
    assert t["second"][1] <= t["third"][0]


def test_nested_step_lists_run_every_step(src: Path, pws: Workspace) -> None:
    run, status = finish(pws, Pipeline(pws, steps=[[step("a"), step("b"), step("c")]]))
    assert status == "Finished"
    assert sorted(_ledger_tags(src)) == ["a", "b", "c"]
    assert sorted(s.name for s in run.get_steps()) == ["a", "b", "c"]


def test_max_run_duration_cancels_the_step(src: Path, pws: Workspace) -> None:
    gen(src, {"slow": {"slow.py": script("slow", "import os, time\nopen('pid', 'w')\ntime.sleep(60)\n")}})
    rc = RunConfiguration()
    rc.max_run_duration_seconds = 1
    slow = PythonScriptStep("slow.py", name="slow", source_directory="slow", runconfig=rc)
    after = step("after")
    after.run_after(slow)
    run = Experiment(pws, "sched").submit(Pipeline(pws, steps=[slow, after]))
    with pytest.raises(ActivityFailedException, match="Step 'slow' was canceled: exceeded max_run_duration_seconds=1"):
        run.wait_for_completion(show_output=False)
    assert run.get_status() == "Failed"
    steps = {s.name: s for s in run.find_step_run("slow") + run.find_step_run("after")}
    assert steps["slow"].get_status() == "Canceled"
    assert steps["slow"].get_details()["error"]["message"] == "exceeded max_run_duration_seconds=1"
    assert steps["after"].get_status() == "Canceled"
    assert steps["after"].get_details()["error"]["message"] == (
        "not started: upstream step 'slow' exceeded its max_run_duration_seconds"
    )
    assert _ledger_tags(src) == ["slow"]
