"""Data between steps: OutputFileDatasetConfig destinations, stable names, as_upload,
register_on_complete, read_delimited_files, PipelineData, DataPath parameters, direct inputs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from headwater import (
    DataPath,
    DataPathComputeBinding,
    Dataset,
    DatasetConsumptionConfig,
    Datastore,
    Experiment,
    OutputFileDatasetConfig,
    Pipeline,
    PipelineData,
    PipelineParameter,
    PythonScriptStep,
    Workspace,
)
from headwater.errors import NotFoundError
from tests.conftest import gen
from tests.e2e.conftest import ran

pytestmark = pytest.mark.slow

# `python write.py <tag> <out dir> [--fail]`: writes <out>/<tag>.csv, then maybe fails
WRITE = """
import os, sys
tag, out = sys.argv[1], sys.argv[2]
with open(os.environ["HW_TEST_LEDGER"], "a") as f:
    f.write(tag + "\\n")
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, tag + ".csv"), "w") as fh:
    fh.write("a,b\\n1,x\\n2,y\\n")
if "--fail" in sys.argv:
    sys.exit(1)
"""

# `python read.py <tag> ...`: records what run.input_datasets[name] is for each input, in ./outputs/seen.json
READ = """
import json, os, sys
from headwater import Run
tag = sys.argv[1]
names = [pair.split(":")[0] for pair in os.environ["AZUREML_DATASET_ENVIRONMENT_VARS"].split(",")]
with open(os.environ["HW_TEST_LEDGER"], "a") as f:
    f.write(tag + "\\n")
run = Run.get_context()
seen = {}
for name in names:
    value = run.input_datasets[name]
    if isinstance(value, str):
        seen[name] = {"path": value, "files": sorted(os.listdir(value)) if os.path.isdir(value) else None,
                      "env": os.environ.get(name)}
    else:
        df = value.to_pandas_dataframe()
        seen[name] = {"type": type(value).__name__, "rows": df.to_dict(orient="list"), "env": os.environ.get(name)}
os.makedirs("outputs", exist_ok=True)
with open("outputs/seen.json", "w") as fh:
    json.dump(seen, fh)
"""


@pytest.fixture
def src(proj: Path) -> Path:
    gen(proj, {"src": {"write.py": WRITE, "read.py": READ}})
    return proj


def writer(tag: str, out: Any, *extra: str, **kwargs: Any) -> PythonScriptStep:
    return PythonScriptStep("write.py", name=tag, source_directory="src", arguments=[tag, out, *extra], **kwargs)


def reader(tag: str, *inputs: Any, **kwargs: Any) -> PythonScriptStep:
    return PythonScriptStep("read.py", name=tag, source_directory="src", arguments=[tag], inputs=list(inputs), **kwargs)


def finish(ws: Workspace, steps: list[Any], **kwargs: Any) -> tuple[Any, str]:
    run = Experiment(ws, "data").submit(Pipeline(ws, steps=steps), **kwargs)
    return run, run.wait_for_completion(show_output=False, raise_on_error=False)


def seen(run: Any, step: str, tmp_path: Path) -> dict[str, Any]:
    target = tmp_path / f"{step}-seen.json"
    run.find_step_run(step)[0].download_file("outputs/seen.json", str(target))
    return json.loads(target.read_text())


def committed(ws: Workspace, path: str) -> list[str]:
    local = Datastore(ws, "workspaceblobstore")._backend.local_path(path)
    assert local is not None
    return sorted(p.name for p in local.iterdir()) if local.is_dir() else []


def test_output_destinations_default_and_custom(src: Path, pws: Workspace) -> None:
    store = Datastore(pws, "workspaceblobstore")
    default = OutputFileDatasetConfig(name="plain")
    custom = OutputFileDatasetConfig(name="custom", destination=(store, "out/{run-id}"))
    run, status = finish(pws, [writer("w1", default), writer("w2", custom)])
    assert status == "Finished"
    w1, w2 = run.find_step_run("w1")[0], run.find_step_run("w2")[0]
    assert w1.get_output_data("plain").path_on_datastore == f"dataset/{w1.id}/plain"
    assert w2.get_output_data("custom").path_on_datastore == f"out/{w2.id}"
    assert committed(pws, f"dataset/{w1.id}/plain") == ["w1.csv"]
    assert committed(pws, f"out/{w2.id}") == ["w2.csv"]


def test_a_destination_that_is_only_a_datastore(src: Path, pws: Workspace) -> None:
    filestore = Datastore(pws, "workspacefilestore")
    out = OutputFileDatasetConfig(name="to_files", destination=filestore)
    named = OutputFileDatasetConfig(name="named", destination=(filestore, "by-name/{output-name}/{run-id}"))
    run, status = finish(pws, [writer("w", out), writer("n", named)])
    assert status == "Finished"
    w, n = run.find_step_run("w")[0], run.find_step_run("n")[0]
    ref = w.get_output_data("to_files")
    assert (ref.datastore_name, ref.path_on_datastore) == ("workspacefilestore", f"dataset/{w.id}/to_files")
    assert n.get_output_data("named").path_on_datastore == f"by-name/named/{n.id}"
    assert filestore._backend.exists(f"dataset/{w.id}/to_files/w.csv")


def test_unnamed_outputs_get_stable_names_so_fresh_pipelines_reuse(src: Path, pws: Workspace) -> None:
    def fresh() -> list[Any]:
        out = OutputFileDatasetConfig()  # no name
        return [writer("w", out), reader("r", out.as_input())]

    first, status = finish(pws, fresh())
    assert status == "Finished"
    assert sorted(ran(src)) == ["r", "w"]
    name = next(iter(first.find_step_run("w")[0].get_outputs()))
    assert name == "w_output"
    second, status = finish(pws, fresh())
    assert status == "Finished"
    assert ran(src) == []  # every step reused
    assert all(s.reused for s in second.get_steps())


def test_as_upload_commits_on_success_only(src: Path, pws: Workspace) -> None:
    ok_out = OutputFileDatasetConfig(name="ok_out").as_upload()
    bad_out = OutputFileDatasetConfig(name="bad_out").as_upload()
    run, status = finish(pws, [writer("ok", ok_out), writer("bad", bad_out, "--fail")], continue_on_step_failure=True)
    assert status == "Failed"
    ok, bad = run.find_step_run("ok")[0], run.find_step_run("bad")[0]
    assert committed(pws, f"dataset/{ok.id}/ok_out") == ["ok.csv"]
    assert committed(pws, f"dataset/{bad.id}/bad_out") == []  # nothing uploaded for a failed step
    with pytest.raises(NotFoundError):
        bad.get_output_data("bad_out")


def test_register_on_complete_after_success_and_not_after_failure(src: Path, pws: Workspace) -> None:
    good = OutputFileDatasetConfig(name="good").register_on_complete("prepared", description="prepared rows")
    run, status = finish(pws, [writer("g", good)])
    assert status == "Finished"
    ds = Dataset.get_by_name(pws, "prepared")
    assert ds.tags["headwater.run_id"] == run.find_step_run("g")[0].id
    assert ds.version == 1 and ds.description == "prepared rows"
    assert ds.to_path() == ["/g.csv"]

    again = OutputFileDatasetConfig(name="good").register_on_complete("prepared")
    finish(pws, [writer("g", again)], regenerate_outputs=True)
    assert Dataset.get_by_name(pws, "prepared").version == 2  # a new version after each success

    failing = OutputFileDatasetConfig(name="good").register_on_complete("prepared")
    _, status = finish(pws, [writer("g", failing, "--fail")], regenerate_outputs=True)
    assert status == "Failed"
    assert Dataset.get_by_name(pws, "prepared").version == 2  # no version after a failure

    tabular = OutputFileDatasetConfig(name="rows").read_delimited_files().register_on_complete("rows_table")
    _, status = finish(pws, [writer("t", tabular)])
    assert status == "Finished"
    assert Dataset.get_by_name(pws, "rows_table").to_pandas_dataframe().to_dict(orient="list") == {
        "a": [1, 2],
        "b": ["x", "y"],
    }


def test_read_delimited_files_hands_the_next_step_a_tabular_dataset(src: Path, pws: Workspace, tmp_path: Path) -> None:
    out = OutputFileDatasetConfig(name="csvs")
    run, status = finish(pws, [writer("w", out), reader("r", out.read_delimited_files().as_input("rows"))])
    assert status == "Finished"
    got = seen(run, "r", tmp_path)["rows"]
    assert got["type"] == "TabularDataset"
    assert got["rows"] == {"a": [1, 2], "b": ["x", "y"]}


PARQUET = """
import os, sys
import pandas as pd
with open(os.environ["HW_TEST_LEDGER"], "a") as f:
    f.write("pq\\n")
os.makedirs(sys.argv[1], exist_ok=True)
pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}).to_parquet(os.path.join(sys.argv[1], "part.parquet"))
with open(os.path.join(sys.argv[1], "notes.txt"), "w") as fh:
    fh.write("not a table")
"""


def test_read_parquet_files_with_a_path_glob(src: Path, pws: Workspace, tmp_path: Path) -> None:
    gen(src, {"src": {"pq.py": PARQUET}})
    out = OutputFileDatasetConfig(name="pq_out")
    make = PythonScriptStep("pq.py", name="pq", source_directory="src", arguments=[out])
    run, status = finish(pws, [make, reader("r", out.read_parquet_files(path_glob="*.parquet").as_input("rows"))])
    assert status == "Finished"
    got = seen(run, "r", tmp_path)["rows"]
    assert got["type"] == "TabularDataset" and got["rows"] == {"a": [1, 2], "b": ["x", "y"]}


def test_pipeline_data_is_stored_per_step_run_and_must_be_declared(src: Path, pws: Workspace, tmp_path: Path) -> None:
    store = Datastore(pws, "workspaceblobstore")
    pdata = PipelineData("pdata", datastore=store)
    run, status = finish(pws, [writer("w", pdata, outputs=[pdata]), reader("r", pdata)])
    assert status == "Finished"
    w = run.find_step_run("w")[0]
    assert w.get_output_data("pdata").path_on_datastore == f"azureml/{w.id}/pdata"
    assert seen(run, "r", tmp_path)["pdata"]["files"] == ["w.csv"]

    undeclared = PipelineData("undeclared", datastore=store)
    with pytest.raises(ValueError, match="'undeclared' is used in arguments but is not in the step's inputs"):
        writer("w", undeclared)


def test_a_datapath_parameter_with_a_compute_binding(src: Path, pws: Workspace, tmp_path: Path) -> None:
    store = Datastore(pws, "workspaceblobstore")
    gen(src, {"d1": {"one.csv": "a\n1\n"}, "d2": {"two.csv": "a\n2\n"}})
    store.upload(str(src / "d1"), target_path="in/d1", show_progress=False)
    store.upload(str(src / "d2"), target_path="in/d2", show_progress=False)
    param = PipelineParameter(name="input_path", default_value=DataPath(datastore=store, path_on_datastore="in/d1"))
    binding = (param, DataPathComputeBinding(mode="mount"))
    step = PythonScriptStep(
        "read.py", name="r", source_directory="src", arguments=["r", "--x", binding], inputs=[binding]
    )
    run, status = finish(pws, [step])
    assert status == "Finished"
    assert seen(run, "r", tmp_path)["input_path"]["files"] == ["one.csv"]
    step_args = json.loads(json.dumps(run.find_step_run("r")[0]._refresh().definition["argv"]))
    assert step_args[-1] == seen(run, "r", tmp_path)["input_path"]["path"]

    other = Experiment(pws, "data").submit(
        Pipeline(pws, steps=[step]),
        pipeline_parameters={"input_path": DataPath(datastore=store, path_on_datastore="in/d2")},
    )
    assert other.wait_for_completion(show_output=False) == "Finished"
    assert seen(other, "r", tmp_path)["input_path"]["files"] == ["two.csv"]
    assert other.find_step_run("r")[0].reason == "input 'input_path' changed"


def test_a_dataset_pipeline_parameter(src: Path, pws: Workspace, tmp_path: Path) -> None:
    store = Datastore(pws, "workspaceblobstore")
    gen(src, {"d1": {"one.csv": "a\n1\n"}, "d2": {"two.csv": "a\n2\n"}})
    store.upload(str(src / "d1"), target_path="ds/d1", show_progress=False)
    store.upload(str(src / "d2"), target_path="ds/d2", show_progress=False)
    first = Dataset.File.from_files([(store, "ds/d1")])
    second = Dataset.File.from_files([(store, "ds/d2")])
    param = PipelineParameter(name="files", default_value=first)
    step = reader("r", DatasetConsumptionConfig("files_in", param).as_download())
    run, status = finish(pws, [step])
    assert status == "Finished"
    assert seen(run, "r", tmp_path)["files_in"]["files"] == ["one.csv"]
    other = Experiment(pws, "data").submit(Pipeline(pws, steps=[step]), pipeline_parameters={"files": second})
    assert other.wait_for_completion(show_output=False) == "Finished"
    assert seen(other, "r", tmp_path)["files_in"]["files"] == ["two.csv"]
    assert other.find_step_run("r")[0].reason == "input 'files_in' changed"


def test_a_dataset_consumed_directly(src: Path, pws: Workspace, tmp_path: Path) -> None:
    store = Datastore(pws, "workspaceblobstore")
    gen(src, {"t": {"t.csv": "a,b\n5,z\n"}})
    store.upload(str(src / "t"), target_path="tab", show_progress=False)
    table = Dataset.Tabular.from_delimited_files([(store, "tab/t.csv")])
    run, status = finish(pws, [reader("r", table.as_named_input("x"))])
    assert status == "Finished"
    got = seen(run, "r", tmp_path)["x"]
    assert got["type"] == "TabularDataset"
    assert got["rows"] == {"a": [5], "b": ["z"]}
    assert got["env"] == table.id  # direct mode: the variable holds the dataset id


# `python several.py <out> <text>`: writes a.csv, b.txt and sub/c.csv, each holding <text>
SEVERAL = """
import os, sys
out, text = sys.argv[1], sys.argv[2]
for rel in ("a.csv", "b.txt", os.path.join("sub", "c.csv")):
    os.makedirs(os.path.dirname(os.path.join(out, rel)), exist_ok=True)
    with open(os.path.join(out, rel), "w") as fh:
        fh.write(text)
"""


def several(out: Any, text: str) -> PythonScriptStep:
    return PythonScriptStep(
        "several.py", name="several", source_directory="src", arguments=[out, text], allow_reuse=False
    )


def test_as_upload_source_globs_upload_only_matching_files(src: Path, pws: Workspace) -> None:
    gen(src, {"src": {"several.py": SEVERAL}})
    out = OutputFileDatasetConfig(name="picked").as_upload(source_globs=["*.csv"])
    run, status = finish(pws, [several(out, "one")])
    assert status == "Finished"
    step = run.find_step_run("several")[0]
    root = Datastore(pws, "workspaceblobstore")._backend
    assert root.list_files(f"dataset/{step.id}/picked") == [
        f"dataset/{step.id}/picked/a.csv",
        f"dataset/{step.id}/picked/sub/c.csv",
    ]  # b.txt matched no glob: not uploaded


def test_as_upload_overwrite_false_refuses_existing_files_and_true_replaces_them(src: Path, pws: Workspace) -> None:
    gen(src, {"src": {"several.py": SEVERAL}})
    store = Datastore(pws, "workspaceblobstore")

    def fixed() -> OutputFileDatasetConfig:  # one per pipeline, as each run of a user's script makes
        return OutputFileDatasetConfig(name="fixed", destination=(store, "fixed/out"))

    _, status = finish(pws, [several(fixed().as_upload(), "first")])
    assert status == "Finished"
    a_csv = store._backend.local_path("fixed/out/a.csv")
    assert a_csv is not None and a_csv.read_text() == "first"

    run, status = finish(pws, [several(fixed().as_upload(), "second")])  # overwrite=False, SDK v1's default
    assert status == "Failed"
    error = run.find_step_run("several")[0].get_details()["error"]["message"]
    assert "'a.csv' already exists at 'fixed/out'" in error and "overwrite=True" in error
    assert a_csv.read_text() == "first"  # nothing was written

    _, status = finish(pws, [several(fixed().as_upload(overwrite=True), "third")])
    assert status == "Finished"
    assert a_csv.read_text() == "third"
