"""One test per reason a step is not reused (:class:`headwater.status.ReuseBlocker`), and the reuse itself.

Each test runs a one-step pipeline once through the in-process orchestrator and an in-memory
executor (no step process: the "step" writes one file into its output, :mod:`tests.engine._in_memory`),
on a real SQLite store and a real local datastore, changes one thing, submits again and asks the
step runner to decide. The blocker's ``code`` is what is checked; its message is the reason the
step run records.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from headwater import (
    Dataset,
    Datastore,
    OutputFileDatasetConfig,
    Pipeline,
    PipelineParameter,
    PythonScriptStep,
    Workspace,
)
from headwater.graph.spec import StepSpec
from headwater.ops.gc import collect_garbage
from headwater.plan.reuse import StepDecision, reuse_blocker
from headwater.status import ReuseBlocker, StepRunStatus
from headwater.store.records import RunRecord
from tests.conftest import gen
from tests.engine._in_memory import Submitter, by_name


@pytest.fixture
def sub(ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Submitter:
    proj = gen(
        tmp_path / "proj", {"src": {"step.py": "print('v1')\n", "helper.py": "X = 1\n"}, "data": {"x.txt": "1 2 3\n"}}
    )
    monkeypatch.chdir(proj)
    Datastore(ws, "workspaceblobstore").upload(str(proj / "data"), target_path="raw", show_progress=False)
    return Submitter(ws, monkeypatch)


def pipeline(ws: Workspace, *, scale: float = 1.0, allow_reuse: bool = True) -> Pipeline:
    store = Datastore(ws, "workspaceblobstore")
    raw = Dataset.File.from_files([(store, "raw/")])
    out = OutputFileDatasetConfig(name="out")
    step = PythonScriptStep(
        "step.py",
        name="s",
        source_directory="src",
        allow_reuse=allow_reuse,
        arguments=[
            "--data",
            raw.as_named_input("raw").as_download(),
            "--out",
            out,
            "--scale",
            PipelineParameter(name="scale", default_value=scale),
        ],
    )
    return Pipeline(ws, steps=[step])


def decide_again(sub: Submitter, p: Pipeline, **kwargs: Any) -> StepDecision:
    """Submit ``p`` and decide its step (which must run): the planner's decision."""
    with sub.runner(p, **kwargs) as (runner, plan):
        decided = runner.decide(by_name(plan, "s"))
    assert decided.verdict == "must-run" and decided.decision is not None, decided
    assert decided.decision.blocker is not None and decided.decision.reason == decided.decision.blocker.message
    return decided.decision


def blocker(sub: Submitter, p: Pipeline, **kwargs: Any) -> ReuseBlocker:
    decision = decide_again(sub, p, **kwargs)
    assert decision.blocker is not None
    return decision.blocker


def output_folder(ws: Workspace, ran: Any) -> Path:
    """Where the step's committed output is on the workspace's local blob store."""
    record = ran.run.find_step_run("s")[0]
    (out,) = ws.metadata_store.get_run_outputs(record.id)
    folder = Datastore(ws, "workspaceblobstore")._backend.local_path(out.path)
    assert folder is not None and (folder / "part.txt").is_file()
    return Path(folder)


def test_an_unchanged_step_is_reused(sub: Submitter, ws: Workspace) -> None:
    first = sub.run(pipeline(ws))
    again = sub.run(pipeline(ws))
    assert again.plan is None and again.started() == []  # decided inside submit; nothing launched
    step = again.run.find_step_run("s")[0]
    assert step.get_properties()["azureml.reusedrunid"] == first.run.find_step_run("s")[0].id
    assert step.get_details()["properties"]["azureml.runsource"] == "azureml.ReusedStepRun"


def test_never_ran_before(sub: Submitter, ws: Workspace) -> None:
    b = blocker(sub, pipeline(ws))
    assert (b.code, b.message) == ("never-ran", "never ran before")


def test_allow_reuse_false(sub: Submitter, ws: Workspace) -> None:
    sub.run(pipeline(ws))
    b = blocker(sub, pipeline(ws, allow_reuse=False))
    assert (b.code, b.message) == ("allow_reuse", "allow_reuse=False")


def test_regenerate_outputs(sub: Submitter, ws: Workspace) -> None:
    sub.run(pipeline(ws))
    b = blocker(sub, pipeline(ws), regenerate_outputs=True)
    assert (b.code, b.message) == ("regenerate_outputs", "regenerate_outputs=True")


def test_the_script_changed(sub: Submitter, ws: Workspace) -> None:
    sub.run(pipeline(ws))
    Path("src/step.py").write_text("print('v2')\n")
    b = blocker(sub, pipeline(ws))
    assert (b.code, b.message) == ("changed", "step.py changed")


def test_another_file_of_the_snapshot_changed(sub: Submitter, ws: Workspace) -> None:
    sub.run(pipeline(ws))
    Path("src/helper.py").write_text("X = 2\n")
    b = blocker(sub, pipeline(ws))
    assert (b.code, b.message) == ("changed", "helper.py changed")


def test_a_parameter_changed(sub: Submitter, ws: Workspace) -> None:
    sub.run(pipeline(ws))
    b = blocker(sub, pipeline(ws, scale=2.0))
    assert (b.code, b.message) == ("changed", "parameter scale 1.0 → 2.0")


def test_an_input_changed(sub: Submitter, ws: Workspace) -> None:
    sub.run(pipeline(ws))
    raw = Datastore(ws, "workspaceblobstore")._backend.local_path("raw")
    assert raw is not None
    (Path(raw) / "x.txt").write_text("1 2 3 4\n")
    b = blocker(sub, pipeline(ws))
    assert (b.code, b.message) == ("changed", "input 'raw' changed")


def test_no_earlier_successful_run_matches(sub: Submitter, ws: Workspace) -> None:
    failed = sub.run(pipeline(ws), {"s": 1})  # the same fingerprint, but that run failed
    assert failed.run.get_status() == "Failed"
    b = blocker(sub, pipeline(ws))
    assert (b.code, b.message) == ("no-match", "no earlier successful run matches")


def test_the_earlier_runs_outputs_are_missing(sub: Submitter, ws: Workspace) -> None:
    first = sub.run(pipeline(ws))
    shutil.rmtree(output_folder(ws, first))
    b = blocker(sub, pipeline(ws))
    step_id = first.run.find_step_run("s")[0].id
    assert (b.code, b.message) == ("outputs-missing", f"the outputs of run {step_id} no longer exist")


def test_the_earlier_runs_outputs_changed_on_disk(sub: Submitter, ws: Workspace) -> None:
    first = sub.run(pipeline(ws))
    (output_folder(ws, first) / "part.txt").write_text("edited by hand\n")
    b = blocker(sub, pipeline(ws))
    assert b.code == "outputs-changed"
    assert b.message.startswith("output 'out' of the reused run ") and "changed on disk" in b.message


def test_the_earlier_runs_outputs_cannot_be_read(sub: Submitter, ws: Workspace, tmp_path: Path) -> None:
    first = sub.run(pipeline(ws))
    part = output_folder(ws, first) / "part.txt"
    part.unlink()
    os.symlink(gen(tmp_path / "elsewhere", {"x": "outside the datastore"}) / "x", part)
    b = blocker(sub, pipeline(ws))
    assert b.code == "outputs-unreadable"
    assert "cannot be read" in b.message


def test_the_earlier_runs_outputs_were_removed_by_gc(sub: Submitter, ws: Workspace) -> None:
    first = sub.run(pipeline(ws))
    later = datetime.now(UTC) + timedelta(hours=1)
    report = collect_garbage(Path(ws.folder), ws.metadata_store, older_than=timedelta(0), now=later)
    assert report.removed and not report.errors, report
    b = blocker(sub, pipeline(ws))
    step_id = first.run.find_step_run("s")[0].id
    assert b.code == "outputs-removed-by-gc"
    assert b.message.startswith(f"the outputs of run {step_id} were removed by headwater gc (")


def test_the_predicate_asks_about_outputs_last() -> None:
    """allow_reuse, then regenerate_outputs, then a candidate; only then are its outputs checked."""
    asked: list[str] = []

    def outputs(run: RunRecord) -> ReuseBlocker | None:
        asked.append(run.id)
        return None

    def code(step: StepSpec, regenerate: bool, candidate: RunRecord | None) -> str | None:
        found = reuse_blocker(step, regenerate_outputs=regenerate, candidate=candidate, outputs_exist=outputs)
        return None if found is None else found.code

    step = StepSpec(node_id="n", name="s", kind="python", source_directory="src", script="step.py")
    off = dataclasses.replace(step, allow_reuse=False)
    candidate = RunRecord(id="r1", experiment_id="e", kind="step", status=StepRunStatus.Finished)
    assert code(off, True, candidate) == "allow_reuse"
    assert code(step, True, candidate) == "regenerate_outputs"
    assert code(step, False, None) == "no-match"
    assert asked == []
    assert code(step, False, candidate) is None
    assert asked == ["r1"]
