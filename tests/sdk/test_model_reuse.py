"""A step that looks a model up in the registry is reused only while the look-up gives the same
model bytes: a newer registration of "the latest" runs it again, a pinned version stays reused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from headwater import (
    Dataset,
    Datastore,
    Environment,
    Experiment,
    OutputFileDatasetConfig,
    ParallelRunConfig,
    ParallelRunStep,
    Pipeline,
    PythonScriptStep,
    Workspace,
)
from headwater.sdk.model import Model
from tests.conftest import gen
from tests.e2e import conftest as e2e

proj, pws = e2e.proj, e2e.pws  # the e2e fixtures
ran = e2e.ran

pytestmark = pytest.mark.slow

SCORE = """
import os, sys
from azureml.core import Run
from azureml.core.model import Model
with open(os.environ["HW_TEST_LEDGER"], "a") as f:
    f.write("score\\n")
how = sys.argv[1]
if how == "latest":
    text = open(Model.get_model_path("clf")).read()
elif how == "pinned":
    text = open(Model.get_model_path("clf", version=1)).read()
elif how == "list":  # "the latest clf", picked from a listing
    ws = Run.get_context().experiment.workspace
    text = "version %s" % Model.list(ws, name="clf", latest=True)[0].version
else:
    ws = Run.get_context().experiment.workspace
    text = "version %s" % Model(ws, "clf").version
os.makedirs("outputs", exist_ok=True)
with open("outputs/seen.txt", "w") as fh:
    fh.write(text)
"""

ENTRY = """
import os
from azureml.core.model import Model

def init():
    global TEXT
    TEXT = open(Model.get_model_path("clf")).read()
    with open(os.environ["HW_TEST_LEDGER"], "a") as f:
        f.write("init\\n")

def run(mini_batch):
    return [TEXT + " " + os.path.basename(p) for p in mini_batch]
"""


def _register(ws: Workspace, proj: Path, text: str, name: str = "clf") -> Model:
    path = proj / "models" / text / "model.txt"
    gen(path.parent, {"model.txt": text})
    return Model.register(ws, model_path=str(path), model_name=name)


def _script(ws: Workspace, how: str) -> Any:
    step = PythonScriptStep("score.py", name="score", arguments=[how], source_directory="src")
    run = Experiment(ws, "models").submit(Pipeline(ws, steps=[step]))
    run.wait_for_completion(show_output=False, raise_on_error=True)
    return run


def _reason(run: Any) -> str:
    return str(next(s.reason for s in run.get_steps() if s.name in ("score", "batch")))


@pytest.mark.parametrize("how", ["latest", "model"])
def test_a_step_reading_the_latest_model_runs_again_after_a_new_registration(
    pws: Workspace, proj: Path, how: str
) -> None:
    gen(proj, {"src": {"score.py": SCORE}})
    _register(pws, proj, "one")
    _script(pws, how)
    assert ran(proj) == ["score"]

    again = _script(pws, how)  # nothing registered: reused
    assert ran(proj) == [] and _reason(again).startswith("reused run")

    _register(pws, proj, "two")
    step = PythonScriptStep("score.py", name="score", arguments=[how], source_directory="src")
    (preview,) = Pipeline(pws, steps=[step]).plan("models").steps  # the preview says so too
    assert preview.verdict == "run" and "model 'clf' resolved to version 2, was 1" in preview.reason
    third = _script(pws, how)
    assert ran(proj) == ["score"]
    assert "model 'clf' resolved to version 2, was 1" in _reason(third), _reason(third)

    fourth = _script(pws, how)  # the new answer is recorded with the new run: reused again
    assert ran(proj) == [] and _reason(fourth).startswith("reused run")


def test_a_step_picking_a_model_from_model_list_runs_again_when_the_listing_changes(pws: Workspace, proj: Path) -> None:
    gen(proj, {"src": {"score.py": SCORE}})
    _register(pws, proj, "one")
    _script(pws, "list")
    assert ran(proj) == ["score"]

    again = _script(pws, "list")  # the registry unchanged: reused
    assert ran(proj) == [] and _reason(again).startswith("reused run")
    _register(pws, proj, "unrelated", name="other")  # not in what the step listed: still reused
    assert ran(proj) == [] and _reason(_script(pws, "list")).startswith("reused run")

    _register(pws, proj, "two")
    third = _script(pws, "list")
    assert ran(proj) == ["score"]
    assert "Model.list(name='clf', latest=True) returned clf:2, was clf:1" in _reason(third), _reason(third)
    assert _reason(_script(pws, "list")).startswith("reused run")  # the new answer is recorded


def test_a_step_pinning_the_version_stays_reused(pws: Workspace, proj: Path) -> None:
    gen(proj, {"src": {"score.py": SCORE}})
    _register(pws, proj, "one")
    _script(pws, "pinned")
    assert ran(proj) == ["score"]
    _register(pws, proj, "two")
    again = _script(pws, "pinned")
    assert ran(proj) == [] and _reason(again).startswith("reused run")


def test_a_version_deleted_and_registered_again_with_other_bytes_runs_again(pws: Workspace, proj: Path) -> None:
    gen(proj, {"src": {"score.py": SCORE}})
    _register(pws, proj, "one")
    _register(pws, proj, "two")
    _script(pws, "latest")
    assert ran(proj) == ["score"]
    Model(pws, "clf", version=2).delete()
    _register(pws, proj, "three")  # version 2 again, other bytes
    again = _script(pws, "latest")
    assert ran(proj) == ["score"]
    assert "model 'clf' version 2 has other files than when run" in _reason(again), _reason(again)


def _batch_inputs(pws: Workspace, proj: Path, **more: Any) -> tuple[Any, ParallelRunConfig]:
    """The files of ``proj/data`` as a named input, and a one-process ParallelRunConfig of ``src/score.py``."""
    store = Datastore.register_local_folder(pws, "inputs", proj / "data")
    files = Dataset.File.from_files((store, "")).as_named_input("files")
    env = Environment("parallel-test")
    env.python.user_managed_dependencies = True
    config = ParallelRunConfig(
        environment=env,
        entry_script="score.py",
        source_directory="src",
        error_threshold=-1,
        output_action="append_row",
        compute_target="local",
        node_count=1,
        process_count_per_node=1,
        mini_batch_size=1,
        **more,
    )
    return files, config


def test_a_parallel_run_step_entry_script_runs_again_after_a_new_registration(pws: Workspace, proj: Path) -> None:
    gen(proj, {"src": {"score.py": ENTRY}, "data": {"a.txt": "a", "b.txt": "b"}})
    _register(pws, proj, "one")
    files, config = _batch_inputs(pws, proj)

    def submit() -> Any:
        step = ParallelRunStep("batch", config, [files], OutputFileDatasetConfig("scores"))
        run = Experiment(pws, "batch").submit(Pipeline(pws, steps=[step]))
        run.wait_for_completion(show_output=False, raise_on_error=True)
        return run

    submit()
    assert ran(proj) == ["init"]
    again = submit()
    assert ran(proj) == [] and _reason(again).startswith("reused run")
    _register(pws, proj, "two")
    third = submit()
    assert ran(proj) == ["init"]
    assert "model 'clf' resolved to version 2, was 1" in _reason(third), _reason(third)
    step_run = third.find_step_run("batch")[0]
    port = step_run.get_output_data("scores")
    port.download(str(proj / "down"))
    lines = (proj / "down" / port.path_on_datastore / "parallel_run_step.txt").read_text().split("\n")
    assert sorted(line for line in lines if line) == ["two a.txt", "two b.txt"]


FAILS_WITH_ONE = """
import os
from azureml.core.model import Model

def init():
    global TEXT
    TEXT = open(Model.get_model_path("clf")).read()

def run(mini_batch):
    names = [os.path.basename(p) for p in mini_batch]
    if TEXT == "one" and "b.txt" in names:
        raise ValueError("model one cannot score b.txt")
    return [TEXT + " " + n for n in names]
"""


def test_mini_batches_finished_with_an_older_model_are_scored_again(pws: Workspace, proj: Path) -> None:
    """A failed ParallelRunStep keeps its finished mini-batches for the next submit; not when they
    were scored with a model that is no longer the one the look-up gives: one output, one model."""
    gen(proj, {"src": {"score.py": FAILS_WITH_ONE}, "data": {"a.txt": "a", "b.txt": "b"}})
    _register(pws, proj, "one")
    files, config = _batch_inputs(pws, proj, allowed_failed_count=0, run_max_try=1)

    def submit() -> Any:
        step = ParallelRunStep("batch", config, [files], OutputFileDatasetConfig("scores"))
        run = Experiment(pws, "batch").submit(Pipeline(pws, steps=[step]))
        run.wait_for_completion(show_output=False, raise_on_error=False)
        return run

    assert submit().get_status() == "Failed"  # a.txt scored with model one and kept; b.txt failed
    _register(pws, proj, "two")
    second = submit()
    assert second.get_status() == "Finished", second.get_details()
    port = second.find_step_run("batch")[0].get_output_data("scores")
    port.download(str(proj / "down"))
    lines = (proj / "down" / port.path_on_datastore / "parallel_run_step.txt").read_text().split("\n")
    assert sorted(line for line in lines if line) == ["two a.txt", "two b.txt"]
