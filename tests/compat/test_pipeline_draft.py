"""``PipelineDraft`` as SDK v1 code uses it, through the ``azureml`` layer (issue 16): create from a
Pipeline, get/list/update/delete, ``submit_run`` with the draft's parameters, a frozen graph (editing
the scripts afterwards does not change what the draft runs), reuse across the draft's runs, and
garbage collection keeping the draft's snapshots.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from headwater import Workspace
from headwater.errors import ConfigurationError, NotFoundError
from headwater.sdk.run_graph import run_plan
from tests.conftest import gen
from tests.e2e.conftest import ran

pytestmark = pytest.mark.usefixtures("azureml_on")


def step_script(tag: str) -> str:
    """A script that appends ``<tag> <its arguments>`` to the ledger."""
    return (
        "import os, sys\n"
        "with open(os.environ['HW_TEST_LEDGER'], 'a') as fh:\n"
        f"    fh.write({tag!r} + ' ' + ' '.join(sys.argv[1:]) + '\\n')\n"
    )


def build(ws: Workspace) -> Any:
    from azureml.pipeline.core import Pipeline, PipelineParameter
    from azureml.pipeline.steps import PythonScriptStep

    n = PipelineParameter(name="n", default_value=1)
    step = PythonScriptStep("go.py", name="go", source_directory="src", arguments=["--n", n])
    return Pipeline(ws, steps=[step], description="draft test")


@pytest.mark.slow
def test_a_draft_runs_its_frozen_graph_with_its_parameters_and_reuses_across_its_runs(
    proj: Path, pws: Workspace
) -> None:
    from azureml.pipeline.core import PipelineDraft, PipelineRun

    gen(proj, {"src": {"go.py": step_script("v1")}})
    draft = PipelineDraft.create(
        pws,
        build(pws),
        name="nightly",
        description="the nightly job",
        experiment_name="drafts",
        pipeline_parameters={"n": 5},
        continue_on_step_failure=True,
        tags={"team": "data"},
        properties={"owner": "me"},
    )
    assert (draft.name, draft.description, draft.experiment_name) == ("nightly", "the nightly job", "drafts")
    assert draft.tags == {"team": "data"} and draft.properties == {"owner": "me"}
    assert draft.pipeline_parameters == {"n": 5} and draft.continue_on_step_failure is True
    assert draft.last_submitted_pipeline_run_id is None
    (proj / "src" / "go.py").write_text(step_script("v2"))  # an edit after create: not in the draft

    run = draft.submit_run()
    assert isinstance(run, PipelineRun)
    assert run.wait_for_completion(show_output=False) == "Finished"
    assert ran(proj) == ["v1 --n 5"]
    assert run.experiment.name == "drafts"
    assert run_plan(run).continue_on_step_failure is True  # the draft's setting
    assert draft.last_submitted_pipeline_run_id == run.id
    assert PipelineDraft.get(pws, draft.id).last_submitted_pipeline_run_id == run.id

    again = PipelineDraft.get(pws, draft.id).submit_run()
    assert again.wait_for_completion(show_output=False) == "Finished"
    assert ran(proj) == []  # the same frozen files and parameters: reused
    assert [s.reused for s in again.get_steps()] == [True]

    draft.update(pipeline=build(pws), pipeline_parameters={"n": 7}, name="nightly-2", tags={"team": "ml"})
    assert (draft.name, draft.tags, draft.pipeline_parameters) == ("nightly-2", {"team": "ml"}, {"n": 7})
    assert draft.description == "the nightly job"  # not given: unchanged
    third = draft.submit_run()
    assert third.wait_for_completion(show_output=False) == "Finished"
    assert ran(proj) == ["v2 --n 7"]  # the update froze the edited script
    assert PipelineDraft.get(pws, draft.id).last_submitted_pipeline_run_id == third.id

    copy = PipelineDraft.create(pws, draft)
    assert copy.id != draft.id and copy.parent_pipeline_draft_id == draft.id and copy.name == "nightly-2"
    from_run = PipelineDraft.create(pws, run, name="from-run")
    assert from_run.parent_pipeline_run_id == run.id and from_run.pipeline_parameters == {"n": 5}
    from_run.submit_run().wait_for_completion(show_output=False)
    assert ran(proj) == []  # the snapshot the run ran, its parameters: reused

    from azureml.pipeline.core import PublishedPipeline

    published = draft.publish()
    assert isinstance(published, PublishedPipeline)
    assert (published.name, published.continue_on_step_failure) == ("nightly-2", True)
    published_run = published.submit(pws, "published")
    assert published_run.wait_for_completion(show_output=False) == "Finished"
    assert ran(proj) == []  # the draft's files and its parameters (now the defaults): reused
    assert [r.id for r in PipelineRun.get_pipeline_runs(pws, published.id)] == [published_run.id]

    from_published = PipelineDraft.create(pws, published, experiment_name="drafts")
    assert from_published.parent_pipeline_id == published.id and from_published.name == "nightly-2"
    from_published.submit_run().wait_for_completion(show_output=False)
    assert ran(proj) == []  # the published pipeline's files and defaults: reused


def test_drafts_are_listed_by_tag_found_by_id_and_deleted(proj: Path, pws: Workspace, tmp_path: Path) -> None:
    from azureml.pipeline.core import PipelineDraft

    gen(proj, {"src": {"go.py": step_script("v1")}})
    a = PipelineDraft.create(pws, build(pws), name="a", experiment_name="e", tags={"k": "1"})
    b = PipelineDraft.create(pws, build(pws), name="b", experiment_name="e", tags={"k": "2"})
    assert [d.name for d in PipelineDraft.list(pws)] == ["a", "b"]
    assert [d.id for d in PipelineDraft.list(pws, tags={"k": "2"})] == [b.id]
    graph = a.get_graph()
    assert [s.name for s in graph.steps] == ["go"]
    assert Path(graph.steps[0].source_directory).parent.resolve() == (Path(pws.folder) / "snapshots").resolve()
    a.save(str(tmp_path))
    assert "go.py" in (tmp_path / "a.yml").read_text()

    a.delete()
    with pytest.raises(NotFoundError, match="Pipeline draft"):
        PipelineDraft.get(pws, a.id)
    assert [d.name for d in PipelineDraft.list(pws)] == ["b"]
    with pytest.raises(NotFoundError):
        a.submit_run()
    with pytest.raises(ConfigurationError, match="experiment_name is required"):
        PipelineDraft.create(pws, build(pws), name="c")


def test_garbage_collection_keeps_the_snapshots_of_drafts(proj: Path, pws: Workspace) -> None:
    from azureml.pipeline.core import PipelineDraft

    from headwater.ops.freeze import freeze_spec
    from headwater.ops.gc import collect_garbage

    gen(proj, {"src": {"go.py": step_script("v1")}, "other": {"go.py": step_script("other")}})
    draft = PipelineDraft.create(pws, build(pws), name="kept", experiment_name="e")
    kept = Path(draft.get_graph().steps[0].source_directory).name
    from azureml.pipeline.core import Pipeline
    from azureml.pipeline.steps import PythonScriptStep

    loose = freeze_spec(
        Pipeline(pws, steps=[PythonScriptStep("go.py", source_directory="other")])._spec(),
        pws.metadata_store,
        pws.folder,
    )
    dropped = Path(loose.steps[0].source_directory).name
    root = Path(pws.folder) / "snapshots"
    old = time.time() - 2 * 3600
    for entry in root.iterdir():  # both stored long ago: only a hold keeps one
        os.utime(entry, (old, old))
    report = collect_garbage(
        Path(pws.folder), pws.metadata_store, older_than=timedelta(0), now=datetime.now(UTC) + timedelta(hours=2)
    )
    removed = {i.what for i in report.removed if i.kind == "snapshots"}
    assert dropped in removed
    assert kept not in removed and (root / kept).is_dir()
