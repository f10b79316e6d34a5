"""SDK v1 environments that pin an old Python: the step runs on it (3.8 on), or on 3.8 with a warning.

The environments are built for real with uv from this machine's interpreters (no package is
installed, so no index is needed); a missing interpreter skips the test, naming it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from headwater import CondaDependencies, Dataset, Environment, Experiment, Pipeline, PythonScriptStep, RunConfiguration
from headwater.engine.interpreters import find_interpreters
from headwater.sdk.workspace import Workspace
from tests.conftest import gen

pytestmark = pytest.mark.slow

STEP = """
import sys
from azureml.core import Run, Dataset

run = Run.get_context()
with open(sys.argv[1] + "/one.csv") as fh:
    rows = fh.read().splitlines()
with open(run.input_datasets["raw"] + "/one.csv") as fh:
    assert fh.read().splitlines() == rows
run.log("rows", len(rows))
run.log("python", "{}.{}".format(*sys.version_info[:2]))
run.parent.log("seen", 1)
print("Dataset is", Dataset.__name__)
"""


def needs_python(version: tuple[int, int]) -> str:
    found = [i for i in find_interpreters() if i.minor == version]
    if not found:
        pytest.skip(f"no Python {version[0]}.{version[1]} interpreter on this machine")
    return found[0].version


def pinned(python_version: str) -> RunConfiguration:
    env = Environment(f"sdk-v1-py{python_version}")
    env.python.conda_dependencies = CondaDependencies.create(python_version=python_version)
    rc = RunConfiguration()
    rc.environment = env
    return rc


def build_log(step: object) -> str:
    path = Path(step._run_dir) / "system_logs" / "environment_build.log"  # type: ignore[attr-defined]
    return path.read_text() if path.exists() else ""


def run_pinned(pws: Workspace, src: Path, python_version: str) -> object:
    store = pws.get_default_datastore()
    store.upload(str(src / "data"), target_path="raw", show_progress=False)
    raw = Dataset.File.from_files([(store, "raw")]).as_named_input("raw").as_download()
    step = PythonScriptStep(
        "step.py", source_directory=str(src / "code"), arguments=[raw], runconfig=pinned(python_version)
    )
    run = Experiment(pws, "old-pythons").submit(Pipeline(pws, steps=[step]))
    assert run.wait_for_completion(show_output=False) == "Finished"
    (done,) = run.get_steps()
    assert done.get_metrics()["rows"] == 3
    assert run.get_metrics()["seen"] == 1
    return done


@pytest.fixture
def src(tmp_path: Path) -> Path:
    return gen(tmp_path / "src", {"code": {"step.py": STEP}, "data": {"one.csv": "a,b\n1,2\n3,4\n"}})


def test_a_step_pinned_to_python_3_8_runs_on_it_logs_and_reads_its_dataset(src: Path, pws: Workspace) -> None:
    needs_python((3, 8))
    done = run_pinned(pws, src, "3.8")
    assert done.get_metrics()["python"] == "3.8"  # type: ignore[attr-defined]
    assert "warning" not in build_log(done)


def test_a_step_pinned_to_python_3_6_runs_on_3_8_with_a_warning_naming_both(src: Path, pws: Workspace) -> None:
    version = needs_python((3, 8))
    done = run_pinned(pws, src, "3.6")
    assert done.get_metrics()["python"] == "3.8"  # type: ignore[attr-defined]
    warning = next(line for line in build_log(done).splitlines() if line.startswith("warning:"))
    assert "Python 3.6 was asked for" in warning and f"Python {version}" in warning
