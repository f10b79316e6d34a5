"""Pipeline run outputs and data objects as SDK v1 code uses them, through the ``azureml`` layer (issue 16):
``StepRun.get_outputs()`` → ``{name: StepRunOutput}``, ``get_port_data_reference().download(...)``,
``PipelineRun.get_pipeline_output``, ``PipelineData.as_dataset().parse_delimited_files()``, and the
signatures of ``OutputFileDatasetConfig``'s readers.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

import pytest

from headwater import Workspace
from headwater.errors import NotFoundError, NotSupportedError
from tests.conftest import gen

pytestmark = pytest.mark.usefixtures("azureml_on")

# `python write.py <out dir>`: a CSV file in the output folder
WRITE = """
import os, sys
os.makedirs(sys.argv[1], exist_ok=True)
with open(os.path.join(sys.argv[1], "rows.csv"), "w") as fh:
    fh.write("a,b\\n1,x\\n2,y\\n")
print("wrote rows.csv")
"""

# `python read.py`: what run.input_datasets holds, in ./outputs/seen.json
READ = """
import json, os
from azureml.core import Run
run = Run.get_context()
seen = {}
for name, value in run.input_datasets.items():
    if isinstance(value, str):
        seen[name] = {"path": sorted(os.listdir(value))}
    else:
        seen[name] = {"type": type(value).__name__, "rows": value.to_pandas_dataframe().to_dict(orient="list")}
os.makedirs("outputs", exist_ok=True)
with open("outputs/seen.json", "w") as fh:
    json.dump(seen, fh)
"""


@pytest.fixture
def src(proj: Path) -> Path:
    gen(proj, {"src": {"write.py": WRITE, "read.py": READ}})
    return proj


def submit(ws: Workspace, steps: list[Any]) -> Any:
    from azureml.core import Experiment
    from azureml.pipeline.core import Pipeline

    run = Experiment(ws, "outputs").submit(Pipeline(ws, steps=steps))
    assert run.wait_for_completion(show_output=False) == "Finished"
    return run


def seen(step_run: Any, tmp_path: Path) -> dict[str, Any]:
    target = tmp_path / "seen.json"
    step_run.download_file("outputs/seen.json", str(target))
    return json.loads(target.read_text())


@pytest.mark.slow
def test_step_run_outputs_are_step_run_outputs_whose_port_data_reference_downloads(
    src: Path, pws: Workspace, tmp_path: Path
) -> None:
    from azureml.data import OutputFileDatasetConfig
    from azureml.pipeline.core import PipelineData, PortDataReference, StepRun, StepRunOutput
    from azureml.pipeline.steps import PythonScriptStep

    store = pws.get_default_datastore()
    legacy = PipelineData("legacy", datastore=store, pipeline_output_name="final_rows")
    modern = OutputFileDatasetConfig(name="modern")
    step = PythonScriptStep("write.py", name="w", source_directory="src", arguments=[legacy], outputs=[legacy])
    other = PythonScriptStep("write.py", name="m", source_directory="src", arguments=[modern])
    run = submit(pws, [step, other])

    step_run = run.find_step_run("w")[0]
    assert isinstance(step_run, StepRun)
    outputs = step_run.get_outputs()
    assert list(outputs) == ["legacy"]
    output = outputs["legacy"]
    assert isinstance(output, StepRunOutput)
    assert output.name == "legacy" and output.step_run.id == step_run.id and output.pipeline_run_id == run.id
    ref = output.get_port_data_reference()
    assert isinstance(ref, PortDataReference)
    assert ref.name == ref.data_reference_name == "legacy" and ref.pipeline_run_id == run.id
    assert ref.datastore_name == "workspaceblobstore" and ref.datastore.name == "workspaceblobstore"
    assert ref.path_on_datastore == ref._path_on_datastore == f"azureml/{step_run.id}/legacy"
    assert ref._data_reference.path_on_datastore == ref.path_on_datastore
    assert str(ref) == repr(ref) == "$AZUREML_DATAREFERENCE_legacy"

    assert ref.download(local_path=str(tmp_path / "dl")) == 1  # SDK v1: the number of files downloaded
    assert (tmp_path / "dl" / ref.path_on_datastore / "rows.csv").read_text() == "a,b\n1,x\n2,y\n"

    assert step_run.get_output("legacy").get_port_data_reference().path_on_datastore == ref.path_on_datastore
    assert step_run.get_output_data("legacy").path_on_datastore == ref.path_on_datastore
    with pytest.raises(KeyError) as missing:  # SDK v1 raises KeyError; here also a NotFoundError naming it
        step_run.get_output("legcy")
    assert isinstance(missing.value, NotFoundError) and "Did you mean 'legacy'" in str(missing.value)

    final = run.get_pipeline_output("final_rows")
    assert isinstance(final, PortDataReference)
    assert final.name == "final_rows" and final.path_on_datastore == ref.path_on_datastore
    with pytest.raises(KeyError, match="final_rows"):
        run.get_pipeline_output("modern")

    logs = step_run.get_details_with_logs()["logFiles"]
    assert "wrote rows.csv" in logs["STDOUT"]
    assert logs["STDOUT"] == logs["JOBLOG"] == logs["user_logs/std_log.txt"] == step_run.get_stdout_log()

    modern_ref = run.find_step_run("m")[0].get_outputs()["modern"].get_port_data_reference()
    assert modern_ref.path_on_datastore.startswith("dataset/")


@pytest.mark.slow
def test_a_port_data_reference_feeds_a_step_of_a_new_pipeline(src: Path, pws: Workspace, tmp_path: Path) -> None:
    from azureml.pipeline.core import PipelineData
    from azureml.pipeline.steps import PythonScriptStep

    data = PipelineData("made", datastore=pws.get_default_datastore())
    first = submit(
        pws, [PythonScriptStep("write.py", name="w", source_directory="src", arguments=[data], outputs=[data])]
    )
    ref = first.find_step_run("w")[0].get_output_data("made")

    as_is = PythonScriptStep("read.py", name="r1", source_directory="src", arguments=[ref], inputs=[ref])
    downloaded = PythonScriptStep("read.py", name="r2", source_directory="src", inputs=[ref.as_download("copy")])
    mounted = PythonScriptStep("read.py", name="r3", source_directory="src", inputs=[ref.as_mount()])
    second = submit(pws, [as_is, downloaded, mounted])
    for name in ("r1", "r2", "r3"):
        step = second.find_step_run(name)[0]
        assert step.get_status() == "Finished"
        assert step.get_details()["runDefinition"]["inputs"]


@pytest.mark.slow
def test_pipeline_data_as_dataset_is_read_as_a_tabular_dataset(src: Path, pws: Workspace, tmp_path: Path) -> None:
    from azureml.core import Dataset
    from azureml.data import DataType
    from azureml.pipeline.core import PipelineData
    from azureml.pipeline.core.pipeline_output_dataset import PipelineOutputFileDataset, PipelineOutputTabularDataset
    from azureml.pipeline.steps import PythonScriptStep

    data = PipelineData("rows", datastore=pws.get_default_datastore()).as_dataset()
    assert isinstance(data, PipelineOutputFileDataset)
    tabular = data.parse_delimited_files()
    assert isinstance(tabular, PipelineOutputTabularDataset) and tabular.input_name == "rows"
    registered = data.register("rows_ds")  # as SDK v1: registered where it is a step's output
    write = PythonScriptStep("write.py", name="w", source_directory="src", arguments=[data], outputs=[registered])
    typed = data.parse_delimited_files(set_column_types={"a": DataType.to_long()}).keep_columns(["a"])
    inputs = [tabular.as_named_input("table"), typed.as_named_input("typed"), data.as_named_input("f")]
    read = PythonScriptStep("read.py", name="r", source_directory="src", inputs=inputs)
    run = submit(pws, [write, read])
    got = seen(run.find_step_run("r")[0], tmp_path)
    # as in SDK v1, parsed columns stay strings unless set_column_types says otherwise
    assert got["table"] == {"type": "TabularDataset", "rows": {"a": ["1", "2"], "b": ["x", "y"]}}
    assert got["typed"] == {"type": "TabularDataset", "rows": {"a": [1, 2]}}
    assert got["f"] == {"path": ["rows.csv"]}
    rows_ds = Dataset.get_by_name(pws, "rows_ds")
    assert type(rows_ds).__name__ == "FileDataset" and rows_ds.version == 1 and rows_ds.to_path() == ["/rows.csv"]


def test_a_dataset_input_needs_the_promoted_output(pws: Workspace, proj: Path) -> None:
    from azureml.pipeline.core import Pipeline, PipelineData
    from azureml.pipeline.steps import PythonScriptStep

    gen(proj, {"src": {"write.py": WRITE, "read.py": READ}})
    data = PipelineData("rows", datastore=pws.get_default_datastore())
    write = PythonScriptStep("write.py", name="w", source_directory="src", arguments=[data], outputs=[data])
    read = PythonScriptStep("read.py", name="r", source_directory="src", inputs=[data.as_dataset().as_named_input("x")])
    (problem,) = Pipeline(pws, steps=[write, read]).validate()
    assert "Input 'x' is expected to be consumed as a dataset but the output 'rows' is not promoted" in problem
    promoted = PipelineData("rows", datastore=pws.get_default_datastore()).as_dataset()
    write = PythonScriptStep("write.py", name="w", source_directory="src", arguments=[promoted], outputs=[promoted])
    read = PythonScriptStep("read.py", name="r", source_directory="src", inputs=[promoted.as_named_input("x")])
    assert Pipeline(pws, steps=[write, read]).validate() == []


def test_the_data_objects_have_sdk_v1_signatures() -> None:
    from azureml.data import OutputFileDatasetConfig
    from azureml.data.output_dataset_config import OutputTabularDatasetConfig
    from azureml.pipeline.core import PipelineData, PortDataReference, StepRunOutput
    from azureml.pipeline.core.pipeline_output_dataset import PipelineOutputFileDataset

    def params(f: Any) -> str:  # names and defaults, as SDK v1 (which has no annotations) prints them
        shown = [
            p.name if p.default is inspect.Parameter.empty else f"{p.name}={p.default!r}"
            for p in inspect.signature(f).parameters.values()
        ]
        return f"({', '.join(shown)})"

    header = inspect.signature(OutputFileDatasetConfig.read_delimited_files).parameters["header"].default
    assert repr(header) == "<PromoteHeadersBehavior.ALL_FILES_HAVE_SAME_HEADERS: 3>"
    assert params(OutputTabularDatasetConfig.as_upload) == "(self, overwrite=False, source_globs=None)"
    assert params(OutputTabularDatasetConfig.as_mount) == "(self)"
    assert params(PortDataReference.download) == "(self, local_path, overwrite=None, show_progress=None)"
    assert params(PortDataReference.as_download) == "(self, input_name=None, path_on_compute=None, overwrite=None)"
    assert params(PortDataReference.create_input_binding) == (
        "(self, input_name=None, mode=None, path_on_compute=None, overwrite=None)"
    )
    assert params(PipelineData.create_input_binding) == (
        "(self, input_name=None, mode=None, path_on_compute=None, overwrite=None)"
    )
    assert params(PipelineOutputFileDataset.parse_delimited_files) == (
        "(self, include_path=False, separator=',', header=<PromoteHeadersBehavior.ALL_FILES_HAVE_SAME_HEADERS: 3>, "
        "partition_format=None, file_extension='', set_column_types=None, quoted_line_breaks=False)"
    )
    assert params(StepRunOutput.get_port_data_reference) == "(self)"
    with pytest.raises(ValueError):
        OutputTabularDatasetConfig()  # SDK v1: not to be called directly
    with pytest.raises(NotSupportedError, match=r"register.*create_new_version=False"):
        PipelineData("x").as_dataset().register("name", create_new_version=False)
