"""Warm step starts in a real pipeline: the step server forks the step's second run, and
``Run.get_context()`` in it is that step run, as in a fresh interpreter; ``run.log`` and the
step's log work as before."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from headwater import Experiment, Pipeline, PythonScriptStep, Workspace
from headwater.engine.executors.warm_start import MODE_ENV
from tests.conftest import gen

pytestmark = pytest.mark.slow

STEP = """
import json, os
from headwater import Run
run = Run.get_context()
run.log("answer", 42)
parent = open("/proc/%d/cmdline" % os.getppid(), "rb").read().decode(errors="replace")
with open(os.environ["HW_TEST_LEDGER"], "a") as fh:
    fh.write(json.dumps({"id": run.id, "env_id": os.environ["AZUREML_RUN_ID"], "parent": parent}) + "\\n")
print("hello from the step")
"""


def test_a_warm_step_sees_its_own_run_context(proj: Path, pws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONHEADWATERTESTKEY", uuid.uuid4().hex)  # a server of this test's own
    monkeypatch.setenv("HEADWATER_STEP_SERVER_IDLE", "10")
    monkeypatch.delenv(MODE_ENV, raising=False)
    gen(proj, {"src": {"look.py": STEP}})
    ids = []
    for _ in range(2):
        step = PythonScriptStep(script_name="look.py", name="look", source_directory="src", allow_reuse=False)
        run = Experiment(pws, "warm").submit(Pipeline(pws, steps=[step]))
        assert run.wait_for_completion() == "Finished"
        (step_run,) = run.find_step_run("look")
        assert step_run.get_metrics()["answer"] == 42
        ids.append(step_run.id)
    seen = [json.loads(line) for line in (proj.parent / "ledger.txt").read_text().splitlines()]
    assert [s["id"] for s in seen] == [s["env_id"] for s in seen] == ids
    assert "headwater.runtime.step_server" in seen[1]["parent"]  # the second run was forked
