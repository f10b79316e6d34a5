"""What a step script sees (SDK v1's contract, reference §1.4): argv tokens replaced by paths and
values, the AZUREML_* / AML_PARAMETER_* environment, ``run.input_datasets`` and
``run.output_datasets``, a fresh working copy of the snapshot, ``./outputs`` kept as artifacts.
The script writes what it saw to ``./outputs/seen.json``; the test reads it back as an artifact.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from headwater import (
    Dataset,
    Datastore,
    Experiment,
    OutputFileDatasetConfig,
    Pipeline,
    PipelineData,
    PipelineParameter,
    PythonScriptStep,
    Workspace,
)
from tests.conftest import gen
from tests.e2e.conftest import ran, script

pytestmark = pytest.mark.slow

MAKE = script(
    "make",
    """
import os, sys
pdata, ofd = sys.argv[1], sys.argv[2]
for folder, text in ((pdata, "legacy"), (ofd, "modern")):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "made.txt"), "w") as fh:
        fh.write(text)
""",
)

LOOK = script(
    "look",
    """
import json, os, sys
from headwater import Run
run = Run.get_context()
names = ["AZUREML_RUN_ID", "AZUREML_ARM_WORKSPACE_NAME", "AZUREML_ARM_PROJECT_NAME",
         "AZUREML_DATASET_ENVIRONMENT_VARS", "AZUREML_DATASET_FILE_OUTPUTS", "AZUREML_DATAREFERENCE_pdata",
         "files_dl", "files_mnt", "table", "ofd_in", "pdata", "result",
         "AML_PARAMETER_alpha", "AML_PARAMETER_beta", "AML_PARAMETER_n"]
inputs = {}
for name in run.input_datasets:
    value = run.input_datasets[name]
    inputs[name] = value if isinstance(value, str) else type(value).__name__
df = run.input_datasets["table"].to_pandas_dataframe()
mnt = os.environ["files_mnt"]
seen = {
    "argv": sys.argv[1:],
    "env": {n: os.environ.get(n) for n in names},
    "run_id": run.id,
    "experiment": run.experiment.name,
    "inputs": inputs,
    "outputs": dict(run.output_datasets),
    "table": df.to_dict(orient="list"),
    "cwd": os.getcwd(),
    "executable": sys.executable,
    "dl_files": sorted(os.listdir(os.environ["files_dl"])),
    "mnt_real": sorted(os.path.realpath(os.path.join(mnt, f)) for f in os.listdir(mnt)),
    "pdata_files": sorted(os.listdir(os.environ["AZUREML_DATAREFERENCE_pdata"])),
    "datastore": run.experiment.workspace.get_default_datastore().name,
}
with open("scratch.txt", "w") as fh:  # in the working copy, not in the source folder
    fh.write("written by the step")
os.makedirs(os.environ["result"], exist_ok=True)
with open(os.path.join(os.environ["result"], "r.txt"), "w") as fh:
    fh.write("ok")
os.makedirs("outputs", exist_ok=True)
with open("outputs/seen.json", "w") as fh:
    json.dump(seen, fh)
print("looked")
""",
)


@pytest.fixture
def contract(proj: Path, pws: Workspace) -> tuple[Pipeline, dict[str, Any]]:
    gen(
        proj,
        {
            "make_src": {"make.py": MAKE},
            "look_src": {"look.py": LOOK},
            "data": {"one.txt": "1\n", "two.txt": "2\n", "table.csv": "x,y\n1,a\n2,b\n"},
        },
    )
    store = Datastore(pws, "workspaceblobstore")
    store.upload(str(proj / "data"), target_path="raw", show_progress=False)
    files = Dataset.File.from_files([(store, "raw/*.txt")])
    table = Dataset.Tabular.from_delimited_files([(store, "raw/table.csv")])
    pdata = PipelineData("pdata", datastore=store)
    ofd = OutputFileDatasetConfig(name="ofd")
    result = OutputFileDatasetConfig(name="result")
    n = PipelineParameter(name="n", default_value=3)
    beta = PipelineParameter(name="beta", default_value="b-default")
    make = PythonScriptStep(
        "make.py", name="make", source_directory="make_src", arguments=[pdata, ofd], outputs=[pdata]
    )
    look = PythonScriptStep(
        "look.py",
        name="look",
        source_directory="look_src",
        arguments=[
            "--files-dl",
            files.as_named_input("files_dl").as_download(),
            "--files-mnt",
            files.as_named_input("files_mnt").as_mount(),
            "--pdata",
            pdata,
            "--ofd",
            ofd.as_input("ofd_in"),
            "--lit",
            7,
            "--n",
            n,
            "--result",
            result,
            "--as-text",
            f"{pdata}|${{AML_PARAMETER_n}}|$AML_PARAMETER_unknown",
        ],
        inputs=[pdata, table.as_named_input("table")],
        params={"alpha": 0.5, "beta": beta},
    )
    return Pipeline(pws, steps=[make, look]), {"store": store}


def test_the_argv_and_environment_contract(
    contract: tuple[Pipeline, dict[str, Any]], proj: Path, pws: Workspace, tmp_path: Path
) -> None:
    pipeline, _ = contract
    run = Experiment(pws, "contract").submit(pipeline)
    assert run.wait_for_completion(show_output=False) == "Finished"
    assert ran(proj) == ["make", "look"]
    look = run.find_step_run("look")[0]
    make = run.find_step_run("make")[0]
    look.download_file("outputs/seen.json", str(tmp_path / "seen.json"))
    seen = json.loads((tmp_path / "seen.json").read_text())
    env = seen["env"]

    # identity
    assert env["AZUREML_RUN_ID"] == look.id == seen["run_id"]
    assert env["AZUREML_ARM_WORKSPACE_NAME"] == pws.name
    assert env["AZUREML_ARM_PROJECT_NAME"] == "contract" == seen["experiment"]
    assert seen["datastore"] == "workspaceblobstore"  # run.experiment.workspace works in a step

    # argv: every token replaced by its path or value
    argv = seen["argv"]
    opts = dict(zip(argv[::2], argv[1::2], strict=True))
    assert opts["--files-dl"] == env["files_dl"]
    assert opts["--files-mnt"] == env["files_mnt"]
    assert opts["--pdata"] == env["AZUREML_DATAREFERENCE_pdata"] == env["pdata"]
    assert opts["--ofd"] == env["ofd_in"]
    assert opts["--lit"] == "7"
    assert opts["--n"] == "3" == env["AML_PARAMETER_n"]
    assert opts["--result"] == env["result"]
    # SDK v1's placeholders written as text expand as its runtime expands them
    assert opts["--as-text"] == f"{env['AZUREML_DATAREFERENCE_pdata']}|3|$AML_PARAMETER_unknown"
    assert all(os.path.isabs(opts[k]) for k in ("--files-dl", "--files-mnt", "--pdata", "--ofd", "--result"))

    # inputs: paths for download/mount, the dataset id for direct; the list of them
    assert sorted(env["AZUREML_DATASET_ENVIRONMENT_VARS"].split(",")) == sorted(
        ["files_dl:download", "files_mnt:mount", "ofd_in:mount", "pdata:mount", "table:direct"]
    )
    assert seen["dl_files"] == ["one.txt", "two.txt"]
    assert seen["pdata_files"] == ["made.txt"]
    assert seen["inputs"]["files_dl"] == env["files_dl"]
    assert seen["inputs"]["table"] == "TabularDataset"
    assert seen["table"] == {"x": [1, 2], "y": ["a", "b"]}
    inputs = {d["consumptionDetails"]["inputName"]: d for d in look.get_details()["inputDatasets"]}
    assert inputs["table"]["consumptionDetails"]["mechanism"] == "Direct"
    assert inputs["files_dl"]["consumptionDetails"]["pathOnCompute"] == env["files_dl"]
    # a mounted FileDataset is the datastore's files, read in place (no copy)
    raw = Datastore(pws, "workspaceblobstore")._backend.local_path("raw")
    assert raw is not None
    assert seen["mnt_real"] == [str(raw.resolve() / "one.txt"), str(raw.resolve() / "two.txt")]

    # outputs
    assert env["AZUREML_DATASET_FILE_OUTPUTS"] == "result"
    assert seen["outputs"] == {"result": env["result"]}
    # params: AML_PARAMETER_<name>, values may be pipeline parameters
    assert env["AML_PARAMETER_alpha"] == "0.5"
    assert env["AML_PARAMETER_beta"] == "b-default"

    # the environment's interpreter, by absolute path
    assert os.path.isabs(seen["executable"])
    # a fresh copy of the snapshot, not the source folder
    assert Path(seen["cwd"]).resolve() != (proj / "look_src").resolve()
    assert not (proj / "look_src" / "scratch.txt").exists()
    assert "outputs/seen.json" in look.get_file_names()
    # PipelineData lands at azureml/<step run id>/<name>
    assert make.get_output_data("pdata").path_on_datastore == f"azureml/{make.id}/pdata"

    # what the step wrote in its working copy changed nothing: the next submit reuses both steps
    again = Experiment(pws, "contract").submit(pipeline)
    assert again.wait_for_completion(show_output=False) == "Finished"
    assert ran(proj) == []


def test_pipeline_parameters_reach_argv_and_params(
    contract: tuple[Pipeline, dict[str, Any]], proj: Path, pws: Workspace, tmp_path: Path
) -> None:
    pipeline, _ = contract
    run = Experiment(pws, "contract").submit(pipeline, pipeline_parameters={"n": 9, "beta": "b-given"})
    assert run.wait_for_completion(show_output=False) == "Finished"
    run.find_step_run("look")[0].download_file("outputs/seen.json", str(tmp_path / "seen.json"))
    seen = json.loads((tmp_path / "seen.json").read_text())
    assert seen["argv"][seen["argv"].index("--n") + 1] == "9"
    assert seen["env"]["AML_PARAMETER_n"] == "9"
    assert seen["env"]["AML_PARAMETER_beta"] == "b-given"


def test_logs_under_both_names_and_the_offline_run(proj: Path, pws: Workspace) -> None:
    body = "from headwater import Run\nrun = Run.get_context()\nrun.log('acc', 0.9)\nprint('hello from the step')\n"
    gen(proj, {"src": {"hello.py": script("hello", body)}})
    run = Experiment(pws, "logs").submit(Pipeline(pws, steps=[PythonScriptStep("hello.py", source_directory="src")]))
    assert run.wait_for_completion(show_output=False) == "Finished"
    step = run.find_step_run("hello.py")[0]
    names = step.get_file_names()
    assert "user_logs/std_log.txt" in names and "azureml-logs/70_driver_log.txt" in names
    run_dir = step._folder
    legacy = (run_dir / "azureml-logs" / "70_driver_log.txt").read_text()
    assert legacy == (run_dir / "user_logs" / "std_log.txt").read_text()
    assert "hello from the step" in legacy
    assert step.get_metrics() == {"acc": 0.9}

    # the same script run by hand: an offline run that prints what it would log
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEADWATER_CONTEXT", "AZUREML_"))}
    out = subprocess.run(
        [sys.executable, "hello.py"], cwd=proj / "src", env=env, capture_output=True, text=True, check=True
    )
    assert "Attempted to log scalar metric acc:" in out.stdout
    assert "hello from the step" in out.stdout


def test_bad_event_lines_are_reported_in_system_logs(proj: Path, pws: Workspace) -> None:
    body = (
        "import os\nfrom headwater import Run\nrun = Run.get_context()\nrun.log('good', 1)\n"
        "with open(os.path.join(os.path.dirname(os.environ['HEADWATER_CONTEXT']), 'events.jsonl'), 'a') as f:\n"
        '    f.write(\'not json\\n\')\n    f.write(\'{"type": "metric", "half\')\n'
    )
    gen(proj, {"src": {"ev.py": script("ev", body)}})
    run = Experiment(pws, "events").submit(Pipeline(pws, steps=[PythonScriptStep("ev.py", source_directory="src")]))
    assert run.wait_for_completion(show_output=False) == "Finished"
    step = run.find_step_run("ev.py")[0]
    assert step.get_metrics() == {"good": 1}
    report = (step._folder / "system_logs" / "events.txt").read_text()
    assert "not a JSON line" in report
    assert "the last line is incomplete" in report


def test_a_step_that_writes_through_its_working_copy_does_not_poison_the_snapshot(proj: Path, pws: Workspace) -> None:
    # As root (or after a chmod) a write into a checked-out file reaches the stored snapshot
    # through the hard link; the snapshot is then discarded and stored again from the source.
    body = "import os\nos.chmod('data.txt', 0o644)\nwith open('data.txt', 'a') as f:\n    f.write('poison')\n"
    gen(proj, {"src": {"w.py": script("w", body), "data.txt": "clean\n"}})
    pipeline = Pipeline(pws, steps=[PythonScriptStep("w.py", source_directory="src", allow_reuse=False)])
    first = Experiment(pws, "snap").submit(pipeline)
    assert first.wait_for_completion(show_output=False) == "Finished"
    step = first.find_step_run("w.py")[0]
    snapshot = step.get_properties()["ContentSnapshotId"]
    assert "data.txt" in (step._folder / "system_logs" / "snapshot.txt").read_text()
    assert not (Path(pws.folder) / "snapshots" / snapshot).exists()
    assert (proj / "src" / "data.txt").read_text() == "clean\n"

    second = Experiment(pws, "snap").submit(pipeline)
    assert second.wait_for_completion(show_output=False) == "Finished"
    assert second.find_step_run("w.py")[0].get_properties()["ContentSnapshotId"] == snapshot
    wd = second.find_step_run("w.py")[0]._folder / "wd"
    assert (wd / "data.txt").read_text() == "clean\npoison"  # the step saw the clean file again


def test_step_scripts_import_azureml_names_unchanged(tmp_path: Path, pws: Workspace) -> None:
    """Step processes always have the azureml compatibility layer (issue 4): v1 imports work in steps."""
    from headwater import Experiment, Pipeline, PythonScriptStep

    src = gen(tmp_path / "v1src", {"v1.py": "from azureml.core import Run\nRun.get_context().log('v1', 1)\n"})
    step = PythonScriptStep(script_name="v1.py", source_directory=str(src))
    run = Experiment(pws, "compat").submit(Pipeline(pws, steps=[step]))
    assert run.wait_for_completion(show_output=False) == "Finished"
    (only,) = run.get_steps()
    assert only.get_metrics() == {"v1": 1}
