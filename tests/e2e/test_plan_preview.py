"""``Pipeline.plan()`` / ``headwater plan``: the preview says what a real submit then does — which
steps run, which are reused (and which earlier run), with the reasons the run records — and it
records nothing itself.

Uses the 3-step chain of the reuse matrix (a reads a dataset, b and c copy their input).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from headwater import Pipeline, Workspace
from headwater.cli.main import cli
from headwater.ops.preview import RunPreview
from tests.e2e import test_reuse_matrix as matrix
from tests.e2e.conftest import ran
from tests.e2e.test_reuse_matrix import _append, _dataset_bytes, build, submit

chain = matrix.chain  # the reuse matrix's project (a fixture)

pytestmark = pytest.mark.slow


def _counts(ws: Workspace) -> tuple[int, int]:
    store = ws.metadata_store
    return len(store.list_runs()), len(store.list_experiments())


def plan_then_submit(ws: Workspace, pipeline: Pipeline, **kwargs: Any) -> tuple[RunPreview, dict[str, Any]]:
    """The plan (checked to record nothing), then a real submit's steps by name."""
    before = _counts(ws)
    preview = pipeline.plan("matrix", **kwargs)
    assert _counts(ws) == before  # no run, no experiment recorded
    run = submit(ws, pipeline, **kwargs)
    return preview, {s.name: s for s in run.get_steps()}


def assert_prediction_holds(preview: RunPreview, steps: dict[str, Any]) -> None:
    assert [s.name for s in preview.steps] == ["a", "b", "c"]
    for p in preview.steps:
        actual = steps[p.name]
        if p.verdict == "reuse":
            assert actual.reused, (p.name, actual.reason)
            assert actual.get_properties()["azureml.reusedrunid"] == p.reused_run_id
        elif p.verdict == "run":
            assert not actual.reused, (p.name, actual.reason)
        else:
            assert p.verdict == "after-upstream"
            assert all(not steps[w].reused for w in p.waits_for)  # what it waited for really ran
            continue
        assert actual.reason == p.reason


def verdicts(preview: RunPreview) -> dict[str, str]:
    return {s.name: s.verdict for s in preview.steps}


def test_first_run_unchanged_and_changed_script(chain: Path, pws: Workspace) -> None:
    preview, steps = plan_then_submit(pws, build(pws))
    assert verdicts(preview) == {"a": "run", "b": "after-upstream", "c": "after-upstream"}
    assert preview.step("a").reason == "never ran before"
    assert preview.step("c").waits_for == ("a",)
    assert_prediction_holds(preview, steps)
    assert sorted(ran(chain)) == ["a", "b", "c"]

    preview, steps = plan_then_submit(pws, build(pws))  # unchanged: everything reused
    assert verdicts(preview) == {"a": "reuse", "b": "reuse", "c": "reuse"}
    assert preview.step("a").reason.endswith(": unchanged")
    assert_prediction_holds(preview, steps)
    assert ran(chain) == []

    _append("c_src/c.py", "# edit\n")(chain)  # the last step's script
    preview, steps = plan_then_submit(pws, build(pws))
    assert verdicts(preview) == {"a": "reuse", "b": "reuse", "c": "run"}
    assert preview.step("c").reason == "c.py changed"
    assert_prediction_holds(preview, steps)
    assert ran(chain) == ["c"]


def test_changed_parameter_and_changed_input(chain: Path, pws: Workspace) -> None:
    submit(pws, build(pws))
    ran(chain)
    preview, steps = plan_then_submit(pws, build(pws), pipeline_parameters={"p": 5})
    assert verdicts(preview) == {"a": "run", "b": "after-upstream", "c": "after-upstream"}
    assert preview.step("a").reason == "parameter p 1 → 5"
    assert_prediction_holds(preview, steps)

    _dataset_bytes(pws)  # same path, other bytes
    preview, steps = plan_then_submit(pws, build(pws), pipeline_parameters={"p": 5})
    assert preview.step("a").reason == "input 'raw' changed"
    assert_prediction_holds(preview, steps)


def test_allow_reuse_false_is_known_before_upstream_runs(chain: Path, pws: Workspace) -> None:
    submit(pws, build(pws))
    _append("a_src/helper.txt", "v2\n")(chain)  # a runs (and writes the same bytes again)
    preview, steps = plan_then_submit(pws, build(pws, b_allow_reuse=False))
    assert verdicts(preview) == {"a": "run", "b": "run", "c": "after-upstream"}
    assert preview.step("a").reason == "helper.txt changed"
    assert preview.step("b").reason == "allow_reuse=False"
    assert preview.step("c").waits_for == ("b",)
    assert_prediction_holds(preview, steps)


def test_headwater_plan_runs_the_script_up_to_its_submit(chain: Path, pws: Workspace) -> None:
    (chain / "pipeline.py").write_text(
        "import sys\n"
        "from headwater import Experiment, Workspace\n"
        "from tests.e2e.test_reuse_matrix import build\n"
        "ws = Workspace.get('pipelines')\n"
        "run = Experiment(ws, 'matrix').submit(build(ws), pipeline_parameters={'p': int(sys.argv[1])})\n"
        "raise SystemExit('not reached: plan mode stops at the submit')\n"
    )
    submit(pws, build(pws))
    before = _counts(pws)
    result = CliRunner().invoke(cli, ["plan", "pipeline.py", "7"])
    assert result.exit_code == 0, result.output
    assert "Nothing was submitted" in result.output
    lines = {line.split()[0]: line for line in result.output.splitlines()[2:] if line.strip()}
    assert "parameter p 1 → 7" in lines["a"] and "run" in lines["a"]
    assert "decided later" in lines["b"]
    assert _counts(pws) == before
    assert not Pipeline._plan_only
