"""Steps whose environment Headwater's interpreter does not satisfy run in a built environment (#5)."""

from __future__ import annotations

from pathlib import Path

import pytest

from headwater import (
    ActivityFailedException,
    CondaDependencies,
    Environment,
    Experiment,
    Pipeline,
    PythonScriptStep,
    RunConfiguration,
    Workspace,
)
from tests.conftest import gen

pytestmark = pytest.mark.slow

SCRIPT = """
import sys, six
from headwater import Run
run = Run.get_context()
run.log("six", six.__version__)
run.log("python", sys.executable)
print("ran with", sys.executable)
"""


def runconfig(*packages: str) -> RunConfiguration:
    env = Environment("needs-six")
    env.python.conda_dependencies = CondaDependencies.create(pip_packages=list(packages))
    rc = RunConfiguration()
    rc.environment = env
    return rc


def build_log(step: object) -> str:
    path = Path(step._run_dir) / "system_logs" / "environment_build.log"  # type: ignore[attr-defined]
    return path.read_text() if path.exists() else ""


@pytest.fixture
def src(tmp_path: Path) -> Path:
    return gen(tmp_path / "src", {"uses_six.py": SCRIPT, "also_six.py": SCRIPT})


def test_a_step_needing_a_missing_package_runs_in_a_built_environment_then_reuses_it(src: Path, pws: Workspace) -> None:
    step = PythonScriptStep("uses_six.py", source_directory=str(src), runconfig=runconfig("six==1.16.0"))
    run = Experiment(pws, "envs").submit(Pipeline(pws, steps=[step]))
    assert run.wait_for_completion(show_output=False) == "Finished"
    (done,) = run.get_steps()
    metrics = done.get_metrics()
    assert metrics["six"] == "1.16.0"
    assert metrics["python"].startswith(str(pws.folder / "environments"))
    assert "uv" in build_log(done).lower() or "Installed" in build_log(done)

    # another pipeline, another script (so the step itself runs): the environment is found, not built
    again = PythonScriptStep("also_six.py", source_directory=str(src), runconfig=runconfig("six==1.16.0"))
    run2 = Experiment(pws, "envs").submit(Pipeline(pws, steps=[again]))
    assert run2.wait_for_completion(show_output=False) == "Finished"
    (second,) = run2.get_steps()
    assert second.get_metrics()["python"] == metrics["python"]
    assert build_log(second) == ""  # no build, not even a wait


def test_two_steps_needing_one_new_environment_build_it_once(
    src: Path, pws: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    a = PythonScriptStep("uses_six.py", name="a", source_directory=str(src), runconfig=runconfig("six==1.16.0"))
    b = PythonScriptStep("also_six.py", name="b", source_directory=str(src), runconfig=runconfig("six==1.16.0"))
    run = Experiment(pws, "envs").submit(Pipeline(pws, steps=[a, b]))
    assert run.wait_for_completion(show_output=True) == "Finished"
    logs = [build_log(s) for s in run.get_steps()]
    built_here = next(log for log in logs if "Waiting for environment" not in log)
    assert built_here.splitlines()[0] in capsys.readouterr().out  # the build log is streamed while Queued
    assert sum("Waiting for environment" in log for log in logs) == 1
    built = [p for p in (pws.folder / "environments").iterdir() if len(p.name) == 64 and p.is_dir()]
    assert len(built) == 1


def test_a_bad_requirement_fails_the_step_with_the_resolvers_message(src: Path, pws: Workspace) -> None:
    bad = runconfig("no-such-package-xyz-123==1.0")
    step = PythonScriptStep("uses_six.py", source_directory=str(src), runconfig=bad)
    run = Experiment(pws, "envs").submit(Pipeline(pws, steps=[step]))
    with pytest.raises(ActivityFailedException) as err:
        run.wait_for_completion(show_output=False)
    assert "could not be built" in str(err.value) and "no-such-package-xyz-123" in str(err.value)
    root = pws.folder / "environments"
    assert not any(len(p.name) == 64 and p.is_dir() for p in root.iterdir())  # nothing half-built to reuse


def python31() -> RunConfiguration:
    env = Environment("old-python")
    env.python.conda_dependencies = CondaDependencies.create(python_version="3.1")  # no machine has it
    rc = RunConfiguration()
    rc.environment = env
    return rc


def test_an_unavailable_python_builds_with_the_closest_one_and_says_so(src: Path, pws: Workspace) -> None:
    (src / "plain.py").write_text("import sys\nprint(sys.version_info[:2])\n")
    run = Experiment(pws, "envs").submit(
        Pipeline(pws, steps=[PythonScriptStep("plain.py", source_directory=str(src), runconfig=python31())])
    )
    assert run.wait_for_completion(show_output=False) == "Finished"
    (step,) = run.get_steps()
    assert "3.1" in build_log(step) and "closest" in build_log(step).lower()


def test_a_strict_workspace_refuses_an_unavailable_python(src: Path, headwater_home: Path) -> None:
    (src / "plain.py").write_text("print('never')\n")
    with Workspace.create("strict", strict_python=True) as ws:
        assert ws.strict_python
        step = PythonScriptStep("plain.py", source_directory=str(src), runconfig=python31())
        run = Experiment(ws, "envs").submit(Pipeline(ws, steps=[step]))
        with pytest.raises(ActivityFailedException) as err:
            run.wait_for_completion(show_output=False)
        assert "3.1" in str(err.value) and "could not be built" in str(err.value)
