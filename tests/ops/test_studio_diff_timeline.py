"""The studio's run diff and timeline queries, on real runs of the seed pipeline (prep -> train -> compare)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from headwater import Datastore, Experiment, Workspace
from headwater.ops.studio_diff import run_diff
from headwater.ops.studio_timeline import run_timeline
from tests.e2e.conftest import project as project  # a fixture
from tests.e2e.conftest import pws as pws  # a fixture
from tests.e2e.test_seed_flow import build

pytestmark = pytest.mark.slow


def two_runs(project: Path, ws: Workspace, *, extra: bool = False) -> tuple[Any, Any]:
    """Run A: the seed pipeline. Run B: train.py edited, lr 0.1 -> 0.2 (and maybe a 4th step)."""
    Datastore(ws, "workspaceblobstore").upload(str(project / "data"), target_path="raw", show_progress=False)
    a = Experiment(ws, "seed").submit(build(ws)[0])
    assert a.wait_for_completion(show_output=False) == "Finished"
    train = project / "train_src" / "train.py"
    train.write_text(train.read_text() + "# tuned\n")
    pipeline = build(ws)[0]
    if extra:
        from headwater import PythonScriptStep

        (project / "extra_src").mkdir()
        (project / "extra_src" / "extra.py").write_text("print('extra')\n")
        pipeline._steps[0].append(PythonScriptStep("extra.py", name="extra", source_directory="extra_src"))
    b = Experiment(ws, "seed").submit(pipeline, pipeline_parameters={"lr": 0.2})
    assert b.wait_for_completion(show_output=False) == "Finished"
    return a, b


def test_run_diff_of_two_real_runs(project: Path, pws: Workspace) -> None:
    a, b = two_runs(project, pws, extra=True)
    diff = run_diff(pws.metadata_store, pws.folder, a.id, b.id)

    assert diff.added == ["extra"] and diff.removed == []
    assert [(c.name, c.a, c.b, c.state) for c in diff.parameters] == [("lr", 0.1, 0.2, "changed")]
    assert [(c.name, c.a, c.b) for c in diff.metrics] == [("best_weight", 1.5, 3.0)]
    steps = {s.name: s for s in diff.steps}
    prep_a, prep_b = steps["prep.py"].a, steps["prep.py"].b
    assert steps["prep.py"].state == "same" and prep_a and prep_b and prep_b.reused_run_id == prep_a.id

    train = steps["train.py"]
    assert train.state == "changed"
    assert train.code.changed
    (changed,) = train.code.files
    assert (changed.path, changed.state) == ("train.py", "changed")
    assert changed.diff is not None and "\n+# tuned\n" in changed.diff and changed.diff.startswith("--- a/train.py")
    assert [(c.name, c.a, c.b) for c in train.parameters] == [("lr", 0.1, 0.2)]
    assert all(c.state == "same" for c in train.inputs)  # prep was reused: same input bytes
    assert [c.name for c in train.metrics] == ["loss"]

    compare = steps["compare.py"]
    assert not compare.code.changed
    assert [(c.name, c.state) for c in compare.inputs] == [("model_in", "changed")]
    assert [(c.name, c.a, c.b) for c in compare.metrics] == [("weight", 1.5, 3.0)]
    assert compare.b is not None and compare.b.reason == "input 'model_in' changed"
    assert all(c.state == "same" for c in compare.environment)


def test_timeline_shows_the_time_reuse_saved(project: Path, pws: Workspace) -> None:
    a, b = two_runs(project, pws)
    first = run_timeline(pws.metadata_store, a.id)
    assert [r.name for r in first.rows] == ["prep.py", "train.py", "compare.py"]
    assert all(r.saved is None and r.duration is not None and r.duration > 0 for r in first.rows)
    ends = {r.name: r for r in first.rows}
    assert (ends["prep.py"].end or 0) <= (ends["train.py"].start or 0)  # train waited for prep
    assert first.span >= max(r.end or 0 for r in first.rows)

    second = run_timeline(pws.metadata_store, b.id)
    rows = {r.name: r for r in second.rows}
    prep = rows["prep.py"]
    assert prep.reused_run_id == ends["prep.py"].run_id
    assert prep.saved == pytest.approx(ends["prep.py"].duration)  # what it saved: the reused run's duration
    assert prep.duration == 0
    assert second.saved == prep.saved
    assert rows["train.py"].saved is None and (rows["train.py"].duration or 0) > 0
    assert 0 <= second.percent(rows["train.py"].start) <= 100
