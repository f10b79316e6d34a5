"""run_script: a script (or module) runs as ``__main__`` with the layer on, as ``headwater run`` will call it."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

import headwater
from headwater import Workspace
from headwater.compat.activate import run_script, shim_path
from headwater.errors import NotFoundError
from tests.conftest import gen

pytestmark = pytest.mark.usefixtures("restore_sys_path")

SCRIPT = """\
import json
import subprocess
import sys

import headwater
from azureml.core import Experiment, Workspace
from azureml.pipeline.steps import PythonScriptStep

assert Workspace is headwater.Workspace and Experiment is headwater.Experiment
assert PythonScriptStep is headwater.PythonScriptStep
child = subprocess.run([sys.executable, "-c", "import azureml.core; print('child ok')"],
                       capture_output=True, text=True)
print(json.dumps([__name__, sys.argv, sys.path[0], child.stdout.strip()]))
RESULT = 42
"""


def test_run_script_runs_a_sdk_v1_script_as_main(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    gen(tmp_path / "project", {"pipeline.py": SCRIPT})
    monkeypatch.delenv("PYTHONPATH", raising=False)
    argv_before = sys.argv
    result = run_script(tmp_path / "project" / "pipeline.py", ["--lr", "0.1"])
    assert result["RESULT"] == 42
    name, argv, path0, child = json.loads(capsys.readouterr().out)
    assert name == "__main__"
    assert argv == [str(tmp_path / "project" / "pipeline.py"), "--lr", "0.1"]
    assert path0 == str(tmp_path / "project")
    assert child == "child ok"  # processes the script starts have the layer too
    assert sys.argv is argv_before
    assert "PYTHONPATH" not in os.environ
    assert str(tmp_path / "project") not in sys.path


def test_run_script_runs_a_module(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    gen(
        tmp_path,
        {
            "jobs": {
                "__init__.py": "",
                "submit.py": (
                    "import sys\nfrom azureml.core import Run\nprint(__name__, sys.argv[1:], Run.__module__)\n"
                ),
            }
        },
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PYTHONPATH", "/somewhere")
    run_script("jobs.submit", ["a", "b"], module=True)
    assert capsys.readouterr().out == "__main__ ['a', 'b'] headwater.runtime.run\n"
    assert os.environ["PYTHONPATH"] == "/somewhere"
    assert sys.path[0] == str(shim_path())


def test_a_scripts_exit_code_and_errors_propagate(tmp_path: Path) -> None:
    gen(
        tmp_path,
        {
            "exits.py": "raise SystemExit(3)\n",
            "fails.py": ("from azureml.pipeline.core import Module\nModule.get(None, name='x')\n"),
        },
    )
    with pytest.raises(SystemExit) as info:
        run_script(tmp_path / "exits.py")
    assert info.value.code == 3
    with pytest.raises(headwater.NotSupportedError, match=r"Module\.get"):
        run_script(tmp_path / "fails.py")
    with pytest.raises(NotFoundError, match="Script"):
        run_script(tmp_path / "missing.py")


PIPELINE = """\
from azureml.core import Dataset, Datastore, Experiment, Workspace
from azureml.data import OutputFileDatasetConfig
from azureml.pipeline.core import Pipeline, PipelineParameter
from azureml.pipeline.steps import PythonScriptStep
from azureml.widgets import RunDetails

ws = Workspace.get("test-ws")
prepped = OutputFileDatasetConfig(name="prepped")
step = PythonScriptStep("prep.py", source_directory="prep_src", name="prep",
                        arguments=["--out", prepped, "--n", PipelineParameter(name="n", default_value=3)])
run = Experiment(ws, "compat").submit(Pipeline(ws, steps=[step]))
run.wait_for_completion(show_output=False)
RunDetails(run).show()
"""
PREP = """\
import argparse, os
from azureml.core import Run

p = argparse.ArgumentParser(); p.add_argument("--out"); p.add_argument("--n", type=int)
a = p.parse_args()
os.makedirs(a.out, exist_ok=True)
open(os.path.join(a.out, "n.txt"), "w").write(str(a.n))
Run.get_context().log("n", a.n)
"""


@pytest.mark.slow
def test_an_unchanged_sdk_v1_pipeline_script_runs_under_run_script(
    ws: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    gen(tmp_path / "proj", {"pipeline.py": PIPELINE, "prep_src": {"prep.py": PREP}})
    monkeypatch.chdir(tmp_path / "proj")
    result = run_script("pipeline.py")
    run = result["run"]
    request_close = result["ws"].close  # SDK v1 scripts never close their workspace; the test does
    assert run.get_status() == "Finished"
    (step,) = run.get_steps()
    assert step.get_metrics() == {"n": 3}
    out = capsys.readouterr().out
    assert f"PipelineRun {run.id}" in out and "prep" in out and "Finished" in out
    request_close()
