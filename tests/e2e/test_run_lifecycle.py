"""Ending runs and reading their files, SDK v1 style: ``run.fail()``/``run.cancel()`` inside a step end
the step (no output saved), ``PipelineRun.fail()`` ends a running pipeline, a final status is never
rewritten, ``StepRun`` refuses to end on its own, and a step lists and downloads its own files.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from headwater import Experiment, OutputFileDatasetConfig, Pipeline, PythonScriptStep, Workspace
from headwater.errors import NotSupportedError
from tests.conftest import gen
from tests.e2e.conftest import ran, script

pytestmark = pytest.mark.slow

FAILS = script(
    "fails",
    """
import os, sys
from azureml.core import Run
run = Run.get_context()
os.makedirs(sys.argv[1], exist_ok=True)
open(os.path.join(sys.argv[1], "half.txt"), "w").write("half")
run.fail(error_details="bad input rows", error_code="BadInput")
""",
)
CANCELS = script("cancels", "from azureml.core import Run\nRun.get_context().cancel()\n")
FILES = script(
    "files",
    """
import os
from azureml.core import Run
run = Run.get_context()
os.makedirs("outputs", exist_ok=True)
open("outputs/report.txt", "w").write("report")
open("note.txt", "w").write("note")
run.upload_file("notes/note.txt", "note.txt")
names = run.get_file_names()
assert "outputs/report.txt" in names and "notes/note.txt" in names, names
run.download_file("outputs/report.txt", "copy.txt")
assert open("copy.txt").read() == "report"
run.download_files(prefix="notes", output_directory="dl", append_prefix=False)
assert open("dl/note.txt").read() == "note"
assert list(run.get_children()) == []
run.log("loss", 0.5, step=3)
print("files ok")
""",
)
FLAGGED = script(
    "flagged",
    "import os, sys\nfrom azureml.core import Run\n"
    "if os.path.exists(sys.argv[1]):\n    Run.get_context().fail('flag')\n",
)
GATE = script("gate", "import os, sys, time\nwhile not os.path.exists(sys.argv[1]):\n    time.sleep(0.01)\n")


@pytest.fixture
def src(proj: Path) -> Path:
    gen(
        proj,
        {
            "src": {
                "fails.py": FAILS,
                "cancels.py": CANCELS,
                "files.py": FILES,
                "gate.py": GATE,
                "after.py": script("after"),
                "flagged.py": FLAGGED,
            }
        },
    )
    return proj


def test_run_fail_inside_a_step_fails_it_and_saves_no_output(src: Path, pws: Workspace) -> None:
    out = OutputFileDatasetConfig(name="out")
    fails = PythonScriptStep("fails.py", name="fails", source_directory="src", arguments=[out])
    after = PythonScriptStep("after.py", name="after", source_directory="src", arguments=[out.as_input()])
    run = Experiment(pws, "life").submit(Pipeline(pws, steps=[fails, after]))
    assert run.wait_for_completion(show_output=False, raise_on_error=False) == "Failed"
    step = run.find_step_run("fails")[0]
    assert step.get_status() == "Failed"
    error = step.get_details()["error"]
    assert "bad input rows" in error["message"] and error["code"] == "BadInput"
    assert step.get_outputs() == {} or "out" not in step.get_outputs()
    assert run.find_step_run("after")[0].get_status() == "Canceled"
    assert ran(src) == ["fails"]
    step.complete()  # a final status is kept
    step.cancel()
    step.fail()
    assert step.get_status() == "Failed"
    run.cancel()
    run.fail()
    assert run.get_status() == "Failed"


def test_run_cancel_inside_a_step_cancels_it(src: Path, pws: Workspace) -> None:
    cancels = PythonScriptStep("cancels.py", name="cancels", source_directory="src")
    after = PythonScriptStep("after.py", name="after", source_directory="src")
    after.run_after(cancels)
    run = Experiment(pws, "life").submit(Pipeline(pws, steps=[cancels, after]))
    assert run.wait_for_completion(show_output=False, raise_on_error=False) == "Canceled"
    assert run.find_step_run("cancels")[0].get_status() == "Canceled"
    assert run.find_step_run("after")[0].get_status() == "Canceled"


def test_a_step_lists_and_downloads_its_files(src: Path, pws: Workspace) -> None:
    step = PythonScriptStep("files.py", name="files", source_directory="src")
    run = Experiment(pws, "life").submit(Pipeline(pws, steps=[step]))
    assert run.wait_for_completion(show_output=False) == "Finished"
    step_run = run.find_step_run("files")[0]
    assert "files ok" in step_run.get_stdout_log()
    assert {"outputs/report.txt", "notes/note.txt"} <= set(step_run.get_file_names())
    assert step_run.get_metrics() == {"loss": 0.5}


def test_pipeline_run_fail_ends_it_now_and_stops_its_steps(src: Path, pws: Workspace, tmp_path: Path) -> None:
    gate = PythonScriptStep("gate.py", name="gate", source_directory="src", arguments=[str(tmp_path / "never")])
    run = Experiment(pws, "life").submit(Pipeline(pws, steps=[gate]))
    step = run.find_step_run("gate")[0]
    deadline = time.monotonic() + 60
    while step.get_status() != "Running":
        assert time.monotonic() < deadline, "the gate step never started"
        time.sleep(0.01)
    with pytest.raises(NotSupportedError, match=r"StepRun\.cancel\(\).*pipeline"):
        step.cancel()
    with pytest.raises(NotSupportedError, match=r"PipelineRun\.complete\(\)"):
        run.complete()
    run.fail(error_details="no longer needed", error_code="Stop")
    assert run.get_status() == "Failed"
    assert run.get_details()["error"] == {"message": "no longer needed", "code": "Stop"}
    deadline = time.monotonic() + 60
    while step.get_status() not in ("Canceled", "Failed"):
        assert time.monotonic() < deadline, "the gate step was never stopped"
        time.sleep(0.05)
    assert step.get_status() == "Canceled"
    assert run.get_status() == "Failed"


def test_a_resumed_step_is_not_failed_again_by_the_last_attempts_request(
    src: Path, pws: Workspace, tmp_path: Path
) -> None:
    flag = tmp_path / "flag"
    flag.write_text("fail")
    step = PythonScriptStep("flagged.py", name="flagged", source_directory="src", arguments=[str(flag)])
    run = Experiment(pws, "life").submit(Pipeline(pws, steps=[step]))
    assert run.wait_for_completion(show_output=False, raise_on_error=False) == "Failed"
    flag.unlink()
    run.resume()
    assert run.wait_for_completion(show_output=False) == "Finished"
    assert ran(src) == ["flagged", "flagged"]
