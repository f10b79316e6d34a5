"""The orchestrator is not started first when the last all-reused submit of the same pipeline saw
the same sources (:mod:`headwater.ops.reuse_hint`); any change starts it first again, and a step
that must run after all (a change the hint does not see) still runs, its orchestrator started late.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from headwater.graph.spec import PipelineSpec, StepSpec
from headwater.layout import RunLayout
from headwater.ops.reuse_hint import ReuseHint
from tests.ops.test_all_reused_imports import make_project, submit


def spec_of(*folders: Path) -> PipelineSpec:
    steps = [
        StepSpec(node_id=f"n{i}", name=f"s{i}", kind="python", source_directory=str(f), script="a.py")
        for i, f in enumerate(folders)
    ]
    return PipelineSpec(steps=tuple(steps))


def hint(ws: Path, spec: PipelineSpec, params: dict[str, object] | None = None, experiment: str = "e") -> ReuseHint:
    return ReuseHint.of(ws, experiment, spec, params or {}, False)


def test_the_hint_holds_only_for_exactly_what_the_all_reused_submit_saw(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "pkg").mkdir(parents=True)
    (src / "a.py").write_text("print(1)\n")
    (src / "pkg" / "m.py").write_text("x = 1\n")
    ws, spec = tmp_path / "ws", spec_of(src)

    assert not hint(ws, spec).predicts_all_reused()  # nothing remembered yet
    hint(ws, spec).record(all_reused=True)
    assert hint(ws, spec).predicts_all_reused()

    assert not hint(ws, spec, {"lr": 0.1}).predicts_all_reused()  # other parameters
    assert not hint(ws, spec, experiment="other").predicts_all_reused()  # another experiment
    assert not hint(ws, spec_of(src, src / "pkg")).predicts_all_reused()  # another graph

    (src / "pkg" / "m.py").write_text("x = 2\n")  # same size, new content (and mtime)
    os.utime(src / "pkg" / "m.py", ns=(1, 1))
    assert not hint(ws, spec).predicts_all_reused()
    hint(ws, spec).record(all_reused=True)
    assert hint(ws, spec).predicts_all_reused()

    (src / "pkg" / "new.py").write_text("")  # a file added deep down
    assert not hint(ws, spec).predicts_all_reused()
    hint(ws, spec).record(all_reused=True)
    assert hint(ws, spec).predicts_all_reused()

    hint(ws, spec).record(all_reused=False)  # a submit that ran a step forgets it
    assert not hint(ws, spec).predicts_all_reused()


@pytest.mark.slow
def test_a_hinted_rerun_starts_no_orchestrator_and_a_change_it_cannot_see_still_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = make_project(tmp_path, monkeypatch)
    ws = tmp_path / "ws"

    def orchestrator_log(result: dict[str, Any]) -> Path:
        return RunLayout.of(ws, str(result["run"])).orchestrator_log

    assert submit(tmp_path)["status"] == "Finished"
    assert ledger.read_text().split() == ["list", "count"]
    ledger.write_text("")
    assert submit(tmp_path)["status"] == "Finished"  # all reused: remembered
    third = submit(tmp_path)
    assert third["status"] == "Finished"
    assert not orchestrator_log(third).exists()  # no orchestrator was started at all
    assert ledger.read_text() == ""

    # A changed source: the orchestrator starts first as usual, and the changed step runs.
    (tmp_path / "b" / "count.py").write_text((tmp_path / "b" / "count.py").read_text() + "print('again')\n")
    changed = submit(tmp_path)
    assert changed["status"] == "Finished"
    assert ledger.read_text().split() == ["count"]
    ledger.write_text("")
    assert submit(tmp_path)["status"] == "Finished"  # all reused again: remembered

    # A dataset file changed: the hint does not see it, so no orchestrator is started first; the
    # decision finds both steps must run, starts one, and they run.
    (tmp_path / "files" / "data" / "f9.txt").write_text("9")
    late = submit(tmp_path)
    assert late["status"] == "Finished"
    assert ledger.read_text().split() == ["list", "count"]
    assert orchestrator_log(late).exists()
