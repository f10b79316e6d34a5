"""The orchestrator's scheduling, against an in-memory executor (no step process, milliseconds each).

Order, failure, keep-going, cancel and concurrency are read from the executor's log of submits and
from the store's records (:mod:`tests.engine._in_memory`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from headwater import OutputFileDatasetConfig, Pipeline, PythonScriptStep, Workspace
from headwater.status import PipelineRunStatus, StepRunStatus
from tests.conftest import gen
from tests.engine._in_memory import Submitter


@pytest.fixture
def sub(ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Submitter:
    monkeypatch.chdir(gen(tmp_path / "proj", {"src": {"step.py": "raise SystemExit('never run here')\n"}}))
    return Submitter(ws, monkeypatch)


def step(name: str, *arguments: object, **kwargs: Any) -> PythonScriptStep:
    return PythonScriptStep("step.py", name=name, source_directory="src", arguments=list(arguments), **kwargs)


def chain(ws: Workspace, *names: str) -> list[PythonScriptStep]:
    """Steps that each read the previous one's output."""
    steps, previous = [], None
    for name in names:
        out = OutputFileDatasetConfig(name=f"{name}_out")
        args: list[object] = ["--out", out]
        if previous is not None:
            args += ["--in", previous.as_input(f"{name}_in")]
        steps.append(step(name, *args))
        previous = out
    return steps


def errors(run: Any) -> dict[str, str]:
    return {s.name: (s.get_details().get("error") or {}).get("message", "") for s in run.get_children()}


def test_steps_start_after_the_steps_they_read_from_and_their_outputs_are_committed(
    sub: Submitter, ws: Workspace
) -> None:
    a, b, c = chain(ws, "a", "b", "c")
    ran = sub.run(Pipeline(ws, steps=[c, b, a]))  # listed backwards: the graph decides
    assert ran.started() == ["a", "b", "c"]
    assert ran.run.get_status() == "Finished" == PipelineRunStatus.Finished
    assert ran.statuses() == {"a": "Finished", "b": "Finished", "c": "Finished"}
    outputs = ran.run.find_step_run("c")[0].get_outputs()
    assert list(outputs) == ["c_out"]


def test_a_diamond_runs_its_middle_after_the_top_and_the_bottom_last(sub: Submitter, ws: Workspace) -> None:
    top_out, left_out, right_out = (OutputFileDatasetConfig(name=n) for n in ("top_out", "left_out", "right_out"))
    top = step("top", "--out", top_out)
    left = step("left", "--in", top_out.as_input("l_in"), "--out", left_out)
    right = step("right", "--in", top_out.as_input("r_in"), "--out", right_out)
    bottom = step("bottom", "--a", left_out.as_input("b_l"), "--b", right_out.as_input("b_r"))
    ran = sub.run(Pipeline(ws, steps=[bottom, right, left, top]))
    order = ran.started()
    assert order[0] == "top" and order[-1] == "bottom" and sorted(order[1:3]) == ["left", "right"]
    assert ran.run.get_status() == "Finished"


def test_a_failed_step_stops_the_run_and_what_has_not_started(sub: Submitter, ws: Workspace) -> None:
    a, b = chain(ws, "a", "b")
    other = step("other")
    ran = sub.run(Pipeline(ws, steps=[a, b, other]), {"a": 3}, plan_changes={"max_concurrency": 1})
    assert ran.started() == ["a"]  # one slot: 'other' would have come next
    assert ran.run.get_status() == "Failed"
    assert ran.statuses() == {"a": "Failed", "b": "Canceled", "other": "Canceled"}
    why = errors(ran.run)
    assert why["a"] == "Step 'a' failed with exit code 3"
    assert why["b"] == "not started: upstream step 'a' failed"
    assert ran.run.get_details()["error"]["message"] == "step(s) failed: 'a'"
    assert ran.run.find_step_run("a")[0].get_outputs() == {}  # nothing of a failed step is committed


def test_keep_going_skips_only_the_failed_steps_dependents_and_names_it(sub: Submitter, ws: Workspace) -> None:
    a, b, c = chain(ws, "a", "b", "c")
    x, y = chain(ws, "x", "y")
    ran = sub.run(
        Pipeline(ws, steps=[a, b, c, x, y]),
        {"a": 1},
        plan_changes={"max_concurrency": 1},
        continue_on_step_failure=True,
    )
    assert ran.started() == ["a", "x", "y"]
    assert ran.statuses() == {"a": "Failed", "b": "Canceled", "c": "Canceled", "x": "Finished", "y": "Finished"}
    why = errors(ran.run)
    assert why["b"] == why["c"] == "not started: upstream step 'a' failed"
    assert ran.run.get_status() == "Failed"


def test_cancel_stops_the_running_step_and_nothing_else_starts(sub: Submitter, ws: Workspace) -> None:
    long, after = chain(ws, "long", "after")
    beside = step("beside")
    ran = sub.run(
        Pipeline(ws, steps=[long, after, beside]),
        {"long": None},
        plan_changes={"max_concurrency": 1},
        cancel_after="long",
    )
    assert ran.started() == ["long"]
    assert [ran.names[r] for r in ran.executor.canceled] == ["long"]
    assert ran.run.get_status() == "Canceled"
    assert ran.statuses() == {"long": "Canceled", "after": "Canceled", "beside": "Canceled"}
    assert errors(ran.run)["beside"] == "the pipeline run was canceled"


def test_max_concurrency_caps_the_steps_running_at_once(sub: Submitter, ws: Workspace) -> None:
    steps = [step(f"s{i}") for i in range(5)]
    ran = sub.run(Pipeline(ws, steps=steps), plan_changes={"max_concurrency": 2})
    assert ran.executor.peak == 2
    assert sorted(ran.started()) == [f"s{i}" for i in range(5)]
    assert set(ran.statuses().values()) == {StepRunStatus.Finished}


def test_unchanged_steps_are_reused_without_a_task(sub: Submitter, ws: Workspace) -> None:
    def pipeline(*extra: str) -> Pipeline:
        a_out = OutputFileDatasetConfig(name="a_out")
        a = step("a", "--out", a_out)
        b = step("b", "--in", a_out.as_input("b_in"), *extra)
        return Pipeline(ws, steps=[a, b])

    first = sub.run(pipeline())
    assert first.started() == ["a", "b"]
    again = sub.run(pipeline("--more"))
    assert again.started() == ["b"]  # 'a' was reused: its task was never submitted
    reused = again.run.find_step_run("a")[0]
    assert reused.get_properties()["azureml.reusedrunid"] == first.run.find_step_run("a")[0].id
    assert again.run.find_step_run("b")[0].get_details()["properties"].get("azureml.reusedrunid") is None
