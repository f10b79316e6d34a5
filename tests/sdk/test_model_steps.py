"""Models and pipeline steps, SDK v1 style: a step registers the model it trained (when it succeeds),
the next step loads it with Model.get_model_path, a finished run registers its files directly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from headwater import Experiment, OutputFileDatasetConfig, Pipeline, PythonScriptStep, Workspace
from headwater.layout import RunLayout
from headwater.runtime.model_requests import MODEL_REQUESTS_FILE
from headwater.sdk.model import Model
from tests.conftest import gen
from tests.e2e import conftest as e2e

proj, pws = e2e.proj, e2e.pws  # the e2e fixtures

pytestmark = pytest.mark.slow

TRAIN = """
import os, sys
from azureml.core import Run
run = Run.get_context()
os.makedirs("outputs/bundle", exist_ok=True)
with open("outputs/model.pkl", "w") as fh:
    fh.write("weights-" + sys.argv[1])
with open("outputs/bundle/a.txt", "w") as fh:
    fh.write("a")
if sys.argv[1] != "plain":
    pending = run.register_model("clf", "outputs/model.pkl", tags={"lr": sys.argv[1]},
                                 model_framework="ScikitLearn", model_framework_version="1.4")
    run.register_model("bundle", "outputs/bundle")
    print("pending", pending.name, pending.version)
    try:
        run.register_model("missing", "outputs/nothing.pkl")
    except Exception as exc:
        print("refused:", type(exc).__name__)
os.makedirs(sys.argv[2], exist_ok=True)
open(os.path.join(sys.argv[2], "done"), "w").close()
if sys.argv[1] == "fail":
    sys.exit(3)
"""

SCORE = """
import json, os, sys
from azureml.core.model import Model
path = Model.get_model_path("clf")
bundle = Model.get_model_path("bundle", version=1)
os.makedirs("outputs", exist_ok=True)
with open("outputs/seen.json", "w") as fh:
    json.dump({"path": path, "text": open(path).read(), "bundle": sorted(os.listdir(bundle)),
               "cwd": os.getcwd()}, fh)
"""


def _pipeline(ws: Workspace, lr: str) -> Pipeline:
    trained = OutputFileDatasetConfig("trained")
    scored = OutputFileDatasetConfig("scored")
    train = PythonScriptStep(
        "train.py", name="train", arguments=[lr, trained], source_directory="src", allow_reuse=False
    )
    score = PythonScriptStep(
        "score.py",
        name="score",
        arguments=[trained.as_input(), scored],
        source_directory="src",
        allow_reuse=False,
    )
    return Pipeline(ws, steps=[train, score])


def test_a_step_registers_its_model_on_success_and_the_next_step_loads_it(pws: Workspace, proj: Path) -> None:
    gen(proj, {"src": {"train.py": TRAIN, "score.py": SCORE}})
    run = Experiment(pws, "models").submit(_pipeline(pws, "0.1"))
    run.wait_for_completion(raise_on_error=True)
    train, score = (next(s for s in run.get_children() if s.name == n) for n in ("train", "score"))
    model = Model(pws, "clf")
    assert (model.version, model.run_id, model.tags) == (1, train.id, {"lr": "0.1"})
    assert (model.model_framework, model.experiment_name) == ("ScikitLearn", "models")
    assert model.run.id == train.id
    assert Model(pws, "bundle").download(proj / "dl") == str(proj / "dl" / "bundle")
    log = Path(RunLayout.of(pws.folder, train.id).std_log).read_text()
    assert "pending clf None" in log and "refused: NotFoundError" in log
    seen = json.loads((RunLayout.of(pws.folder, score.id).workdir / "outputs" / "seen.json").read_text())
    assert seen["text"] == "weights-0.1"
    assert seen["path"] == "azureml-models/clf/1/model.pkl"  # SDK v1's cache, in the step's working directory
    assert seen["bundle"] == ["a.txt"]


def test_a_failed_step_registers_nothing(pws: Workspace, proj: Path) -> None:
    gen(proj, {"src": {"train.py": TRAIN, "score.py": SCORE}})
    run = Experiment(pws, "models").submit(_pipeline(pws, "fail"))
    run.wait_for_completion(raise_on_error=False)
    assert run.get_status() == "Failed"
    train = next(s for s in run.get_children() if s.name == "train")
    assert (RunLayout.of(pws.folder, train.id).folder / MODEL_REQUESTS_FILE).is_file()  # asked ...
    assert Model.list(pws) == []  # ... but not registered


def test_a_finished_run_registers_its_files(pws: Workspace, proj: Path) -> None:
    gen(proj, {"src": {"train.py": TRAIN, "score.py": "print('x')"}})
    run = Experiment(pws, "models").submit(_pipeline(pws, "plain"))
    run.wait_for_completion(raise_on_error=True)
    train = next(s for s in run.get_children() if s.name == "train")
    model = train.register_model("from-run", model_path="outputs/model.pkl", description="after the fact")
    assert (model.id, model.run_id, model.description) == ("from-run:1", train.id, "after the fact")
    assert Path(Model.get_model_path("from-run", _workspace=pws)).read_text() == "weights-plain"
    folder = train.register_model("folder", "outputs/bundle", tags={"k": "v"})
    assert folder.download(proj / "f") == str(proj / "f" / "bundle")
    with pytest.raises(Exception, match=r"outputs/none\.pkl"):
        train.register_model("x", "outputs/none.pkl")
