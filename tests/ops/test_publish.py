"""``headwater.ops.publish``: a published pipeline is a frozen copy; its submissions are checked before
anything is recorded; gc keeps what it runs."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from headwater import (
    DataPath,
    Dataset,
    DatasetConsumptionConfig,
    Datastore,
    OutputFileDatasetConfig,
    Pipeline,
    PipelineParameter,
    PythonScriptStep,
    Workspace,
)
from headwater.errors import NotFoundError
from headwater.layout import WorkspaceLayout
from headwater.ops.gc import collect_garbage
from headwater.ops.publish import (
    AssignmentError,
    DisabledError,
    coerce_parameter,
    publish_pipeline,
    resolve_endpoint,
    submit_published,
)
from headwater.sdk.runs import PipelineRun
from tests.conftest import gen
from tests.e2e.conftest import ran, script

SHOW = script(
    "show",
    """
import sys
print("lr=" + sys.argv[2], "n=" + sys.argv[4], "data=" + sys.argv[6])
""",
)


def _pipeline(ws: Workspace) -> Pipeline:
    store = Datastore(ws, "workspaceblobstore")
    if not (Path.cwd() / "data").is_dir():
        gen(Path.cwd() / "data", {"a.txt": "1\n"})
        store.upload(str(Path.cwd() / "data"), target_path="in", show_progress=False)
    lr = PipelineParameter("lr", 0.1)
    n = PipelineParameter("n", 3)
    data = PipelineParameter("data", DataPath(store, "in"))
    files = PipelineParameter("files", Dataset.File.from_files([(store, "in/")]))
    out = OutputFileDatasetConfig(name="out")
    step = PythonScriptStep(
        "show.py",
        name="show",
        source_directory="src",
        arguments=["--lr", lr, "--n", n, "--data", data, "--files", DatasetConsumptionConfig("f", files), out],
    )
    return Pipeline(ws, [step])


def _wait(ws: Workspace, run_id: str) -> PipelineRun:
    run = PipelineRun._get(ws, run_id)
    assert run.wait_for_completion(show_output=False) == "Finished"
    return run


def _nothing_recorded(ws: Workspace) -> bool:
    return ws.metadata_store.list_runs() == [] and ws.metadata_store.get_experiment("exp") is None


@pytest.mark.slow
def test_a_published_pipeline_runs_its_frozen_copy_with_parameters_and_reuses(proj: Path, pws: Workspace) -> None:
    gen(proj, {"src": {"show.py": SHOW}})
    store, ref = pws.metadata_store, pws._ref()
    published = publish_pipeline(store, pws.folder, _pipeline(pws).graph, name="p", description="d", version="1")
    assert published.status == "Active" and published.graph["parameters"]["lr"] == 0.1
    (proj / "src" / "show.py").write_text("raise SystemExit('edited after publishing')\n")

    first = submit_published(store, ref, published.id, experiment_name="exp", parameter_assignments={"lr": "0.5"})
    run = _wait(pws, first)
    assert ran(proj) == ["show"]
    (step,) = run.get_steps()
    assert "lr=0.5 n=3" in step.get_stdout_log()
    assert run.get_properties()["azureml.pipelineid"] == published.id
    assert store.runs_of_published(published.id) == [first]

    again = _wait(
        pws, submit_published(store, ref, published.id, experiment_name="exp", parameter_assignments={"lr": 0.5})
    )
    assert ran(proj) == []  # every step reused
    assert all(s.reused for s in again.get_steps())


def test_bad_assignments_name_the_field_and_record_nothing(proj: Path, pws: Workspace) -> None:
    gen(proj, {"src": {"show.py": SHOW}})
    store, ref = pws.metadata_store, pws._ref()
    published = publish_pipeline(store, pws.folder, _pipeline(pws).graph, name="p")

    def submit(**kw: Any) -> AssignmentError:
        kw.setdefault("parameter_assignments", None)
        with pytest.raises(AssignmentError) as info:
            submit_published(store, ref, published.id, experiment_name=kw.pop("experiment", "exp"), **kw)
        assert _nothing_recorded(pws)
        return info.value

    assert submit(parameter_assignments={"lrr": 1.0}).field == ("parameter", "lrr")
    err = submit(parameter_assignments={"n": "three"})
    assert err.field == ("parameter", "n") and "'n' has type int" in str(err)
    assert submit(parameter_assignments={"n": 2.5}).field == ("parameter", "n")
    assert submit(parameter_assignments={"data": "in/x"}).field == ("parameter", "data")
    err = submit(data_path_assignments={"data": ("nostore", "x")})
    assert err.field == ("data_path", "data") and "'nostore'" in str(err)
    assert submit(data_path_assignments={"lr": ("workspaceblobstore", "x")}).field == ("data_path", "lr")
    err = submit(dataset_assignments={"files": "no-such-id"})
    assert err.field == ("dataset", "files") and "'no-such-id'" in str(err)
    assert submit(experiment="bad name!").field[0] == "experiment_name"

    with pytest.raises(NotFoundError):
        submit_published(store, ref, "no-such-pipeline", experiment_name="exp", parameter_assignments={})
    store.set_published_pipeline_status(published.id, "Disabled")
    with pytest.raises(DisabledError, match="Disabled"):
        submit_published(store, ref, published.id, experiment_name="exp", parameter_assignments={})
    assert _nothing_recorded(pws)


def test_strings_are_converted_to_the_parameter_type_as_sdk_v1s_service_does() -> None:
    assert coerce_parameter("n", 3, "7") == 7
    assert coerce_parameter("x", 0.1, "0.25") == 0.25
    assert coerce_parameter("x", 0.1, 2) == 2
    assert coerce_parameter("b", False, "True") is True
    assert coerce_parameter("s", "a", 5) == "5"
    for default, value in ((3, True), (3, "x"), (False, "maybe"), ("a", [1]), (0.1, {"a": 1})):
        with pytest.raises(AssignmentError):
            coerce_parameter("p", default, value)


def test_endpoints_resolve_to_their_default_or_asked_version(pws: Workspace, proj: Path) -> None:
    gen(proj, {"src": {"show.py": SHOW}})
    store = pws.metadata_store
    p0 = publish_pipeline(store, pws.folder, _pipeline(pws).graph, name="p0")
    p1 = publish_pipeline(store, pws.folder, _pipeline(pws).graph, name="p1")
    ep = store.create_pipeline_endpoint("ep", None, p0.id)
    store.add_endpoint_version(ep.id, p1.id)
    assert resolve_endpoint(store, name="ep") == p0.id
    assert resolve_endpoint(store, endpoint_id=ep.id, version="1") == p1.id
    with pytest.raises(NotFoundError, match="'7'"):
        resolve_endpoint(store, name="ep", version="7")
    with pytest.raises(NotFoundError, match="'epp'"):
        resolve_endpoint(store, name="epp")
    store.update_pipeline_endpoint(ep.id, status="Disabled")
    with pytest.raises(DisabledError):
        resolve_endpoint(store, name="ep")


def test_gc_keeps_the_snapshots_of_published_pipelines(pws: Workspace, proj: Path) -> None:
    gen(proj, {"src": {"show.py": SHOW}})
    published = publish_pipeline(pws.metadata_store, pws.folder, _pipeline(pws).graph, name="p")
    (snapshot_id,) = published.properties["snapshot_ids"]
    layout = WorkspaceLayout(pws.folder)
    old = time.time() - 2 * 3600  # not stored "just now": only its holder keeps it
    for path in (layout.snapshots / snapshot_id, layout.snapshot_manifest(snapshot_id)):
        os.utime(path, (old, old))
    report = collect_garbage(pws.folder, pws.metadata_store, older_than=timedelta(days=1))
    assert snapshot_id not in [i.what for i in report.removed]
    assert (pws.folder / "snapshots" / snapshot_id / "show.py").is_file()
