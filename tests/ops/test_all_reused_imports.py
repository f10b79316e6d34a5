"""A re-run whose every step is reused imports only what deciding and recording that needs.

The submitting script runs in a fresh interpreter (as ``python pipeline.py`` does); after its
second, all-reused run it prints ``sys.modules``. None of the modules that only running a step
needs (its launch, its outputs' commit, event ingestion, executors, environment builds) may be
there: importing them is most of such a run's time.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from headwater import Datastore, Workspace
from tests.conftest import gen

SUBMITTER = """\
import json, sys
from headwater import Dataset, Datastore, Experiment, OutputFileDatasetConfig, Pipeline, PythonScriptStep, Workspace
ws = Workspace.get("reuse-ws", folder=sys.argv[1])
data = Dataset.File.from_files(path=[(Datastore(ws, "files"), "data/")])
listed = OutputFileDatasetConfig(name="listed")
first = PythonScriptStep(
    script_name="list.py", name="list", source_directory=sys.argv[2],
    arguments=["--input", data.as_named_input("data").as_mount(), "--output", listed],
)
second = PythonScriptStep(
    script_name="count.py", name="count", source_directory=sys.argv[3], arguments=["--input", listed.as_input()],
)
run = Experiment(ws, "reuse").submit(Pipeline(ws, steps=[first, second]))
status = run.wait_for_completion()
print(json.dumps({"run": run.id, "status": status, "modules": sorted(sys.modules)}))
"""

LIST = """\
import argparse, os
with open(os.environ["HW_TEST_LEDGER"], "a") as f:
    f.write("list\\n")
p = argparse.ArgumentParser()
p.add_argument("--input")
p.add_argument("--output")
a = p.parse_args()
os.makedirs(a.output, exist_ok=True)
with open(os.path.join(a.output, "names.txt"), "w") as f:
    f.write("\\n".join(sorted(os.listdir(a.input))))
"""

COUNT = """\
import argparse, os
with open(os.environ["HW_TEST_LEDGER"], "a") as f:
    f.write("count\\n")
p = argparse.ArgumentParser()
p.add_argument("--input")
print(len(open(os.path.join(p.parse_args().input, "names.txt")).read().split()))
"""

# Only a step that runs needs these (its launch, outputs, events, executors, environments).
RUN_ONLY = [
    "headwater.engine.step_runner",
    "headwater.engine.launch",
    "headwater.engine.ingest",
    "headwater.engine.workdir",
    "headwater.engine.step_models",
    "headwater.engine.upstream_check",
    "headwater.engine.executors.base",
    "headwater.engine.environments",
    "headwater.engine.interpreters",
    "headwater.engine.env_requirements",
    "headwater.engine.liveness",
    "headwater.engine.orchestrator",
    "headwater.engine.executors.resources",  # the Ray targets' resource model: no step names a target
]


def submit(tmp_path: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, str(tmp_path / "submit.py"), str(tmp_path / "ws"), str(tmp_path / "a"), str(tmp_path / "b")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def make_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The submitter, two steps' folders and a registered datastore ``files``; returns the ledger."""
    gen(
        tmp_path,
        {
            "submit.py": SUBMITTER,
            "a": {"list.py": LIST},
            "b": {"count.py": COUNT},
            "files": {"data": {f"f{i}.txt": str(i) for i in range(5)}},
        },
    )
    ledger = tmp_path / "ledger.txt"
    ledger.write_text("")
    monkeypatch.setenv("HW_TEST_LEDGER", str(ledger))
    with Workspace.create("reuse-ws", folder=tmp_path / "ws") as ws:
        Datastore.register_local_folder(ws, "files", str(tmp_path / "files"))
    return ledger


@pytest.mark.slow
def test_an_all_reused_rerun_imports_nothing_that_only_running_a_step_needs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = make_project(tmp_path, monkeypatch)
    assert submit(tmp_path)["status"] == "Finished"
    assert ledger.read_text().split() == ["list", "count"]
    ledger.write_text("")

    again = submit(tmp_path)
    assert again["status"] == "Finished"
    assert ledger.read_text() == ""  # every step reused: no step process started
    modules = set(again["modules"])
    assert [m for m in RUN_ONLY if m in modules] == []
