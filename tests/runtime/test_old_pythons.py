"""The step runtime and the step-side ``azureml`` names on every Python a step may run on (3.8 on).

SDK v1 environments pin old Pythons; the builder gives such a step 3.8 or later
(:data:`headwater.runtime.pythons.OLDEST_STEP_PYTHON`). Each test runs a step script on a real
interpreter of that version found on this machine (pyenv's or on PATH, as the builder finds them),
with only the standard library and what the executor puts on the step's PYTHONPATH.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
import tomllib
from pathlib import Path
from typing import Any

import pytest

from headwater._paths import COMPAT_SHIM_DIR
from headwater.engine.interpreters import Interpreter, find_interpreters
from headwater.engine.launch import runtime_link_dir
from headwater.runtime.context import CONTEXT_ENV, InputDatasetRef
from headwater.runtime.pythons import OLDEST_STEP_PYTHON, SDK_PYTHON
from tests.runtime._step import make_context

ROOT = Path(__file__).resolve().parents[2]
STEP_PYTHONS = [(3, minor) for minor in range(OLDEST_STEP_PYTHON[1], 14)]


def interpreter(version: tuple[int, int]) -> Interpreter:
    found = [i for i in find_interpreters() if i.minor == version]
    if not found:
        pytest.skip(f"no Python {version[0]}.{version[1]} interpreter on this machine")
    return found[0]


SCRIPT = """
import importlib, sys
from azureml.core import Run, Dataset
from azureml.core.run import Run as RunAgain
from headwater.compat.names import MODULES

assert Run is RunAgain
run = Run.get_context()
run.log("acc", 0.5)
run.log_list("losses", [3, 2, 1])
run.log_row("row", epoch=1, loss=0.1)
run.parent.log("best", 1)
run.tag("python", "{}.{}".format(*sys.version_info[:2]))
with open(run.input_datasets["one"]) as fh:
    print(fh.read().strip())
print(sorted(run.input_datasets), isinstance(run, Run), Dataset.__name__)
broken = []
for module, names in MODULES.items():  # every azureml name a script can import resolves
    served = importlib.import_module(module)
    for name in names:
        try:
            getattr(served, name)
        except Exception as exc:
            broken.append((module, name, repr(exc)))
print(broken)
if sys.version_info < SDK:
    attempts = [lambda: run.input_datasets["direct"], lambda: Dataset.get_by_name(None, "x")]
    for attempt in attempts + [lambda: run.experiment.workspace]:
        try:
            attempt()
        except Exception as exc:
            print(type(exc).__name__, exc)
"""


@pytest.mark.parametrize("version", STEP_PYTHONS, ids=lambda v: f"{v[0]}.{v[1]}")
def test_the_runtime_and_the_azureml_names_work_on_each_step_python(tmp_path: Path, version: tuple[int, int]) -> None:
    python = interpreter(version)
    one = tmp_path / "data" / "one.csv"
    one.parent.mkdir()
    one.write_text("a,b\n1,2\n", encoding="utf-8")
    record: dict[str, Any] = {"id": "ds-1", "kind": "file", "definition": {"sources": []}, "name": None}
    context = make_context(
        tmp_path,
        workspace_folder=tmp_path / "ws",
        inputs={
            "one": InputDatasetRef("one", "download", str(one), None),
            "direct": InputDatasetRef("direct", "direct", None, record),
        },
    )
    script = tmp_path / "work" / "step.py"
    script.parent.mkdir()
    script.write_text(textwrap.dedent(SCRIPT).replace("SDK", repr(SDK_PYTHON)), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    # as the executor gives a built environment's Python: the azureml names, then a link to the package
    env["PYTHONPATH"] = os.pathsep.join([str(COMPAT_SHIM_DIR), str(runtime_link_dir(tmp_path / "ws"))])
    env[CONTEXT_ENV] = str(context)
    done = subprocess.run(
        [python.path, "-S", str(script)], cwd=script.parent, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:4] == ["a,b", "1,2", "['direct', 'one'] True Dataset", "[]"], done.stdout
    if version < SDK_PYTHON:  # the SDK side is a stand-in that says why, not an ImportError or a TypeError
        wanted = [
            "NotSupportedError run.input_datasets['direct'] (a direct-mode input, so a Dataset) is a Headwater "
            f"SDK object, which needs Python {SDK_PYTHON[0]}.{SDK_PYTHON[1]} or later; this step runs on Python "
            f"{python.version}.",
            "NotSupportedError Dataset.get_by_name (azureml.core.Dataset) is not available in this step: the step "
            f"runs on Python {python.version}",
            "NotSupportedError run.experiment.workspace is a Headwater SDK object",
        ]
        assert len(lines) == 7 and all(line.startswith(w) for line, w in zip(lines[4:], wanted, strict=True)), lines
    events = [json.loads(line) for line in (tmp_path / "runs" / "step-run" / "events.jsonl").read_text().splitlines()]
    assert [(e["type"], e["run"], e.get("name"), e.get("value")) for e in events] == [
        ("metric", "self", "acc", 0.5),
        ("metric", "self", "losses", [3, 2, 1]),
        ("metric", "self", "row", {"epoch": 1, "loss": 0.1}),
        ("metric", "parent", "best", 1),
        ("tags", "self", None, None),
    ]
    assert events[-1]["tags"] == {"python": f"{version[0]}.{version[1]}"}


def test_the_sdk_python_is_headwaters_own_requirement() -> None:
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["requires-python"]
    assert requires == ">={}.{}".format(*SDK_PYTHON)
