"""The reuse matrix: change one ingredient of a 3-step chain at a time and check exactly which step
processes start (the ledger), and the reason every step run records.

The chain is ``a -> b -> c``: ``a`` reads a dataset and writes a number that depends on the data,
an argument literal and a pipeline parameter; ``b`` and ``c`` copy their input to their output.
Each case runs the chain once as a baseline, then again with one change.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from headwater import (
    Dataset,
    Datastore,
    Experiment,
    OutputFileDatasetConfig,
    Pipeline,
    PipelineParameter,
    PythonScriptStep,
    RunConfiguration,
    Workspace,
)
from tests.conftest import gen
from tests.e2e.conftest import ran, script

pytestmark = pytest.mark.slow

A = script(
    "a",
    """
import argparse, os
p = argparse.ArgumentParser()
p.add_argument("--data"); p.add_argument("--out"); p.add_argument("--mult", type=float); p.add_argument("--p")
a = p.parse_args()
total = 0.0
for name in sorted(os.listdir(a.data)):
    with open(os.path.join(a.data, name)) as fh:
        total += sum(float(x) for x in fh.read().split())
os.makedirs(a.out, exist_ok=True)
with open(os.path.join(a.out, "a.txt"), "w") as fh:
    fh.write(f"{total * a.mult} {a.p}")
""",
)

COPY = """
import os, shutil, sys, uuid
src, dst = sys.argv[1], sys.argv[2]
os.makedirs(dst, exist_ok=True)
for name in os.listdir(src):
    shutil.copyfile(os.path.join(src, name), os.path.join(dst, name))
if len(sys.argv) > 3 and sys.argv[3] == "--nonce":
    with open(os.path.join(dst, "nonce.txt"), "w") as fh:
        fh.write(uuid.uuid4().hex)
"""


@pytest.fixture
def chain(proj: Path, pws: Workspace) -> Path:
    gen(
        proj,
        {
            "a_src": {"a.py": A, "helper.txt": "v1\n", ".amlignore": "*.log\n"},
            "b_src": {"b.py": script("b", COPY)},
            "c_src": {"c.py": script("c", COPY)},
            "data": {"x.txt": "1 2 3\n", "y.txt": "4\n"},
        },
    )
    Datastore(pws, "workspaceblobstore").upload(str(proj / "data"), target_path="raw", show_progress=False)
    return proj


def build(
    ws: Workspace,
    *,
    mult: str = "2",
    a_env: dict[str, str] | None = None,
    a_dest: str | None = None,
    b_version: str | None = None,
    b_allow_reuse: bool = True,
    b_nonce: bool = False,
) -> Pipeline:
    store = Datastore(ws, "workspaceblobstore")
    raw = Dataset.File.from_files([(store, "raw/")])
    a_out = OutputFileDatasetConfig(name="a_out", destination=(store, a_dest) if a_dest else None)
    b_out = OutputFileDatasetConfig(name="b_out")
    c_out = OutputFileDatasetConfig(name="c_out")
    rc = RunConfiguration()
    rc.environment_variables = dict(a_env or {})
    p = PipelineParameter(name="p", default_value=1)
    a = PythonScriptStep(
        "a.py",
        name="a",
        source_directory="a_src",
        runconfig=rc,
        arguments=["--data", raw.as_named_input("raw").as_download(), "--out", a_out, "--mult", mult, "--p", p],
    )
    b = PythonScriptStep(
        "b.py",
        name="b",
        source_directory="b_src",
        arguments=[a_out.as_input("a_in"), b_out, *(["--nonce"] if b_nonce else [])],
        version=b_version,
        allow_reuse=b_allow_reuse,
    )
    c = PythonScriptStep("c.py", name="c", source_directory="c_src", arguments=[b_out.as_input("b_in"), c_out])
    return Pipeline(ws, steps=[a, b, c])


def submit(ws: Workspace, pipeline: Pipeline, experiment: str = "matrix", **kwargs: Any) -> Any:
    run = Experiment(ws, experiment).submit(pipeline, **kwargs)
    assert run.wait_for_completion(show_output=False) == "Finished"
    return run


def reasons(run: Any) -> dict[str, str]:
    return {s.name: s.reason for s in run.get_steps()}


REUSED = "reused run"


@dataclass
class Case:
    id: str
    ran: list[str]
    reasons: dict[str, str]  # step -> exact reason, or REUSED (the reason starts with "reused run")
    change: Callable[[Path], object] | None = None  # what it returns is not used
    build: dict[str, Any] = field(default_factory=dict)
    baseline: dict[str, Any] = field(default_factory=dict)
    submit: dict[str, Any] = field(default_factory=dict)


def _append(rel: str, text: str) -> Callable[[Path], None]:
    def change(root: Path) -> None:
        path = root / rel
        path.write_text(path.read_text() + text)

    return change


CASES = [
    Case("nothing", [], {"a": REUSED, "b": REUSED, "c": REUSED}),
    # the script edited without changing what it writes: a re-runs, b and c are cut off (reused)
    Case("script", ["a"], {"a": "a.py changed", "b": REUSED, "c": REUSED}, change=_append("a_src/a.py", "# edit\n")),
    Case(
        "other file",
        ["a"],
        {"a": "helper.txt changed", "b": REUSED, "c": REUSED},
        change=_append("a_src/helper.txt", "v2\n"),
    ),
    Case(
        "ignored file",
        [],
        {"a": REUSED, "b": REUSED, "c": REUSED},
        change=lambda root: (root / "a_src" / "notes.log").write_text("scratch\n"),
    ),
    Case(
        "argument literal",
        ["a", "b", "c"],
        {"a": "arguments changed", "b": "input 'a_in' changed", "c": "input 'b_in' changed"},
        build={"mult": "3"},
    ),
    Case(
        "pipeline parameter",
        ["a", "b", "c"],
        {"a": "parameter p 1 → 5", "b": "input 'a_in' changed", "c": "input 'b_in' changed"},
        submit={"pipeline_parameters": {"p": 5}},
    ),
    Case("version", ["b"], {"a": REUSED, "b": "version unset → 2", "c": REUSED}, build={"b_version": "2"}),
    # allow_reuse=False: b always runs; it writes a nonce, so c gets a new input and runs too
    Case(
        "allow_reuse=False",
        ["b", "c"],
        {"a": REUSED, "b": "allow_reuse=False", "c": "input 'b_in' changed"},
        baseline={"b_nonce": True},
        build={"b_nonce": True, "b_allow_reuse": False},
    ),
    Case(
        "regenerate_outputs",
        ["a", "b", "c"],
        {"a": "regenerate_outputs=True", "b": "regenerate_outputs=True", "c": "regenerate_outputs=True"},
        submit={"regenerate_outputs": True},
    ),
    Case(
        "environment variable",
        ["a"],
        {"a": "environment_variables changed", "b": REUSED, "c": REUSED},
        baseline={"a_env": {"MODE": "x"}},
        build={"a_env": {"MODE": "y"}},
    ),
    Case(
        "output destination",
        ["a"],
        {"a": "output 'a_out' changed", "b": REUSED, "c": REUSED},
        build={"a_dest": "elsewhere/{run-id}"},
    ),
]


def _dataset_bytes(ws: Workspace) -> None:
    """Rewrite a file of the dataset in place: same path, other bytes."""
    Datastore(ws, "workspaceblobstore").upload_files(
        [str(_write(Path("x.txt"), "10 20 30\n"))], target_path="raw", overwrite=True, show_progress=False
    )


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_reuse_matrix(chain: Path, pws: Workspace, case: Case) -> None:
    first = submit(pws, build(pws, **case.baseline))
    assert sorted(ran(chain)) == ["a", "b", "c"]
    assert reasons(first) == {"a": "never ran before", "b": "never ran before", "c": "never ran before"}

    if case.change is not None:
        case.change(chain)
    second = submit(pws, build(pws, **{**case.baseline, **case.build}), **case.submit)
    assert sorted(ran(chain)) == case.ran
    got = reasons(second)
    for name, want in case.reasons.items():
        if want == REUSED:
            assert got[name].startswith(REUSED), (name, got[name])
        else:
            assert got[name] == want, (name, got[name])


def test_dataset_bytes_at_the_same_path_rerun_the_chain(chain: Path, pws: Workspace) -> None:
    submit(pws, build(pws))
    ran(chain)
    _dataset_bytes(pws)
    second = submit(pws, build(pws))
    assert sorted(ran(chain)) == ["a", "b", "c"]
    assert reasons(second) == {
        "a": "input 'raw' changed",
        "b": "input 'a_in' changed",
        "c": "input 'b_in' changed",
    }


def test_reuse_is_workspace_wide_and_points_at_the_earlier_run(chain: Path, pws: Workspace) -> None:
    first = submit(pws, build(pws), experiment="one")
    ran(chain)
    second = submit(pws, build(pws), experiment="another")
    assert ran(chain) == []  # no step process started
    earlier = {s.name: s for s in first.get_steps()}
    for step in second.get_steps():
        old = earlier[step.name]
        props = step.get_properties()
        assert props["azureml.reusedrunid"] == old.id
        assert props["azureml.reusednodeid"] == step.name  # the node id (the step name, unique here)
        assert props["azureml.reusedpipeline"] == first.id
        assert step.get_status() == "Finished"
        assert step.reason == f"reused run {old.id}: unchanged"
        out = f"{step.name}_out"
        assert step.get_output_data(out).path_on_datastore == old.get_output_data(out).path_on_datastore
        assert step.get_output_data(out).path_on_datastore == f"dataset/{old.id}/{out}"


def test_early_cut_off(chain: Path, pws: Workspace) -> None:
    submit(pws, build(pws))
    ran(chain)
    # a re-runs (its script changed) and writes byte-identical output: b and c are reused
    _append("a_src/a.py", "# only a comment\n")(chain)
    second = submit(pws, build(pws))
    assert ran(chain) == ["a"]
    steps = {s.name: s for s in second.get_steps()}
    assert steps["a"].reason == "a.py changed" and not steps["a"].reused
    assert steps["b"].reused and steps["c"].reused
    # an edit that changes a's output: everything downstream runs
    _append("a_src/a.py", "with open(os.path.join(a.out, 'extra.txt'), 'w') as fh:\n    fh.write('x')\n")(chain)
    third = submit(pws, build(pws))
    assert sorted(ran(chain)) == ["a", "b", "c"]
    assert reasons(third) == {"a": "a.py changed", "b": "input 'a_in' changed", "c": "input 'b_in' changed"}


def test_outputs_removed_from_the_datastore_make_the_step_run_again(chain: Path, pws: Workspace) -> None:
    first = submit(pws, build(pws))
    ran(chain)
    a_first = first.find_step_run("a")[0]
    path = a_first.get_output_data("a_out").path_on_datastore
    local = Datastore(pws, "workspaceblobstore")._backend.local_path(path)
    assert local is not None and local.is_dir()
    shutil.rmtree(local)
    second = submit(pws, build(pws))
    assert ran(chain) == ["a"]  # a writes the same bytes again: b and c are still reused
    got = reasons(second)
    assert got["a"] == f"the outputs of run {a_first.id} no longer exist"
    assert got["b"].startswith(REUSED) and got["c"].startswith(REUSED)
