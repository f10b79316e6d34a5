"""The studio's dataset and metric queries on real pipeline runs in a real SQLite store: lineage
(producer and consumers of a version), data_changed through the stat cache, metric grouping,
pipeline-level metrics and images served from run folders."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from headwater import Dataset, Experiment, OutputFileDatasetConfig, Pipeline, PythonScriptStep, Workspace
from headwater.errors import NotFoundError
from headwater.ops import studio_datasets, studio_metrics
from headwater.plan import digests
from tests.conftest import gen

pytestmark = pytest.mark.slow

WRITE = """
import os, sys
from headwater import Run
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
for name in ("a.csv", "b.csv"):
    with open(os.path.join(out, name), "w") as fh:
        fh.write("x,y\\n1,2\\n")
run = Run.get_context()
run.log("rows", 2)
for loss in (0.9, 0.5, 0.25):
    run.log("loss", loss)
run.log_row("per_class", cls="a", f1=0.5)
run.log_row("per_class", cls="b", f1=0.75)
run.log_table("confusion", {"actual": [0, 1], "predicted": [0, 0]})
run.log_list("sizes", [3, 4, 5])
with open("pic.png", "wb") as fh:
    fh.write(b"\\x89PNG\\r\\n\\x1a\\nfake")
run.log_image("picture", path="pic.png")
run.parent.log("pipeline_score", 0.8)
"""

READ = """
import sys
print("read", sys.argv[1:])
"""


@pytest.fixture
def ws(headwater_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    gen(tmp_path / "proj", {"src": {"write.py": WRITE, "read.py": READ}})
    monkeypatch.chdir(tmp_path / "proj")
    workspace = Workspace.create("studio")
    yield workspace
    workspace.close()


def _finish(ws: Workspace, steps: list[Any]) -> Any:
    run = Experiment(ws, "lineage").submit(Pipeline(ws, steps=steps))
    assert run.wait_for_completion(show_output=False, raise_on_error=False) == "Finished"
    return run


@pytest.fixture
def lineage(ws: Workspace) -> dict[str, Any]:
    out = OutputFileDatasetConfig(name="prepared_out").register_on_complete("prepared")
    produced = _finish(ws, [PythonScriptStep("write.py", name="w", source_directory="src", arguments=[out])])
    prepared = Dataset.get_by_name(ws, "prepared")
    consumed = _finish(
        ws,
        [
            PythonScriptStep(
                "read.py",
                name="r",
                source_directory="src",
                arguments=[prepared.as_named_input("prep").as_download()],
            )
        ],
    )
    return {"produced": produced, "consumed": consumed, "dataset": prepared}


def test_lineage_names_the_producing_and_consuming_runs(ws: Workspace, lineage: dict[str, Any]) -> None:
    store = ws.metadata_store
    record = store.get_dataset("prepared")
    assert record is not None
    producer = studio_datasets.producer(store, record)
    assert producer is not None and producer.id == lineage["produced"].find_step_run("w")[0].id
    assert producer.parent_id == lineage["produced"].id
    users = studio_datasets.consumers(store, record)
    assert [(c.run.id, c.input_name, c.mode) for c in users] == [
        (lineage["consumed"].find_step_run("r")[0].id, "prep", "download")
    ]
    summaries = studio_datasets.dataset_summaries(store)
    assert [(s.latest.name, s.versions) for s in summaries] == [("prepared", 1)]


def test_data_changed_reports_edits_and_reads_only_changed_files(
    ws: Workspace, lineage: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ws.metadata_store
    record = store.get_dataset("prepared")
    assert record is not None
    prefix = record.definition["sources"][0]["path"]
    assert sorted(record.file_digests or {}) == [f"{prefix}/a.csv", f"{prefix}/b.csv"]
    hashed: list[str] = []
    real = digests._hash_file

    def spy(path: str, size: int) -> str:
        hashed.append(Path(path).name)
        return real(path, size)

    monkeypatch.setattr(digests, "_hash_file", spy)
    unchanged = studio_datasets.data_changed(store, Path(ws.folder), ws.name, record)
    assert unchanged == {"added": [], "removed": [], "modified": []}
    assert hashed == []  # both files' digests came from the stat cache
    folder = Path(ws.folder) / "datastores" / "workspaceblobstore" / prefix
    (folder / "a.csv").write_text("x,y\n9,9\n")
    (folder / "c.csv").write_text("new\n")
    (folder / "b.csv").unlink()
    changed = studio_datasets.data_changed(store, Path(ws.folder), ws.name, record)
    assert changed == {"added": [f"{prefix}/c.csv"], "removed": [f"{prefix}/b.csv"], "modified": [f"{prefix}/a.csv"]}
    assert sorted(hashed) == ["a.csv", "c.csv"]  # only the new and the edited file were read


def test_metrics_grouped_with_pipeline_level_metrics_and_images(ws: Workspace, lineage: dict[str, Any]) -> None:
    store = ws.metadata_store
    pipeline = store.get_run(lineage["produced"].id)
    step = store.get_run(lineage["produced"].find_step_run("w")[0].id)
    assert pipeline is not None and step is not None
    own = studio_metrics.run_metrics(store, step)
    assert [s[:2] for s in own.scalars] == [("rows", 2)]
    assert [(s.name, s.values) for s in own.series] == [("loss", [0.9, 0.5, 0.25])]
    tables = {t.name: t for t in own.tables}
    assert tables["per_class"].columns == ["cls", "f1"] and tables["per_class"].rows == [["a", 0.5], ["b", 0.75]]
    assert tables["confusion"].columns == ["actual", "predicted"] and tables["confusion"].rows == [[0, 0], [1, 0]]
    assert tables["sizes"].rows == [[3], [4], [5]]
    assert [(i.name, i.artifact) for i in own.images] == [("picture", "images/picture.png")]

    whole = studio_metrics.run_metrics(store, pipeline)  # run.parent.log lands on the pipeline run
    assert [s[:2] for s in whole.scalars] == [("pipeline_score", 0.8)]
    assert [r.id for r, _ in whole.steps] == [step.id]

    folder = Path(ws.folder)
    own_image = studio_metrics.image_file(store, folder, step, "images/picture.png")
    assert own_image.read_bytes().startswith(b"\x89PNG")
    # the pipeline run's page shows its steps' images too, from the step's folder
    assert studio_metrics.image_file(store, folder, pipeline, "images/picture.png") == own_image
    with pytest.raises(NotFoundError):  # only files an image metric names are served
        studio_metrics.image_file(store, folder, step, "../../../metadata.db")
    with pytest.raises(NotFoundError):
        studio_metrics.image_file(store, folder, step, "images/other.png")


def test_experiment_metric_compares_runs(ws: Workspace, lineage: dict[str, Any]) -> None:
    store = ws.metadata_store
    again = _finish(ws, [PythonScriptStep("write.py", name="w", source_directory="src", arguments=["o2"])])
    experiment = store.get_experiment("lineage")
    assert experiment is not None
    runs = store.list_runs(experiment_id=experiment.id, top_level=True)
    names = studio_metrics.experiment_metric_names(store, runs)
    assert "pipeline_score" in names and "w/loss" in names and "w/rows" in names
    compared = studio_metrics.experiment_metric(store, runs, "w/loss")
    assert compared == {lineage["produced"].id: [0.9, 0.5, 0.25], again.id: [0.9, 0.5, 0.25]}
    assert studio_metrics.experiment_metric(store, runs, "pipeline_score")[again.id] == [0.8]


def test_run_datasets_lists_what_a_run_produced_and_consumed(ws: Workspace, lineage: dict[str, Any]) -> None:
    store = ws.metadata_store
    produced_run = store.get_run(lineage["produced"].id)
    consumed_run = store.get_run(lineage["consumed"].id)
    assert produced_run is not None and consumed_run is not None
    produced, consumed = studio_datasets.run_datasets(store, produced_run)  # a pipeline: its steps count
    assert [(r.name, v.name, v.version) for r, v in produced] == [("w", "prepared", 1)] and consumed == []
    produced, consumed = studio_datasets.run_datasets(store, consumed_run)
    assert produced == [] and [(r.name, i, v.name) for r, i, v in consumed] == [("r", "prep", "prepared")]
