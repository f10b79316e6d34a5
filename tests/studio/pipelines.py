"""Pipelines the studio's tests look at: ``prep -> train -> evaluate`` and a failing branch
``check -> report``, built on one small step script whose behaviour the arguments choose.

``python step.py TAG [--inp DIR] [--out DIR] [--fail] [--gate FILE]``: appends TAG to the
ledger, waits for FILE to exist (``--gate``: the test decides when the step ends), copies/writes
its output, and exits 3 with ``--fail``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from headwater import Experiment, OutputFileDatasetConfig, Pipeline, PipelineParameter, PythonScriptStep, Workspace
from tests.conftest import gen

STEP = """
import argparse, os, sys, time
p = argparse.ArgumentParser()
p.add_argument("tag"); p.add_argument("--inp"); p.add_argument("--out"); p.add_argument("--gate")
p.add_argument("--fail", action="store_true"); p.add_argument("--lr", type=float, default=0.1)
a = p.parse_args()
with open(os.environ["HW_TEST_LEDGER"], "a") as f:
    f.write(a.tag + "\\n")
print("step", a.tag, "starts", flush=True)
if a.gate:
    while not os.path.exists(a.gate):
        time.sleep(0.05)
if a.out:
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, a.tag + ".txt"), "w") as fh:
        fh.write(f"{a.tag} lr={a.lr}\\n")
if a.fail:
    print("something broke in", a.tag, flush=True)
    sys.exit(3)
print("step", a.tag, "done", flush=True)
"""


def make_sources(root: Path) -> Path:
    """``root/src/step.py`` and ``root/train_src/train.py`` (the same script; train's folder is its own
    so that editing it changes only train's snapshot)."""
    gen(root, {"src": {"step.py": STEP}, "train_src": {"train.py": STEP}})
    return root


def demo_pipeline(
    ws: Workspace, *, fail: bool = False, gate: Path | None = None, with_failing_branch: bool = True
) -> Pipeline:
    """prep -> train -> evaluate (train waits for ``gate`` when given); check (fails when ``fail``) -> report."""
    prepped = OutputFileDatasetConfig(name="prepped")
    model = OutputFileDatasetConfig(name="model")
    lr = PipelineParameter("lr", default_value=0.1)
    prep = PythonScriptStep("step.py", name="prep", source_directory="src", arguments=["prep", "--out", prepped])
    train_args: list[Any] = ["train", "--inp", prepped.as_input("prepped"), "--out", model, "--lr", lr]
    if gate is not None:
        train_args += ["--gate", str(gate)]
    train = PythonScriptStep("train.py", name="train", source_directory="train_src", arguments=train_args)
    evaluate = PythonScriptStep(
        "step.py", name="evaluate", source_directory="src", arguments=["evaluate", "--inp", model.as_input("model")]
    )
    steps = [prep, train, evaluate]
    if with_failing_branch:
        checked = OutputFileDatasetConfig(name="checked")
        check_args: list[Any] = ["check", "--inp", prepped.as_input("prepped"), "--out", checked]
        if fail:
            check_args.append("--fail")
        check = PythonScriptStep("step.py", name="check", source_directory="src", arguments=check_args)
        report = PythonScriptStep(
            "step.py", name="report", source_directory="src", arguments=["report", "--inp", checked.as_input("checked")]
        )
        steps += [check, report]
    return Pipeline(ws, steps=steps, description="demo")


def submit(ws: Workspace, pipeline: Pipeline, experiment: str = "demo", **kwargs: Any) -> Any:
    """Submit ``pipeline`` to ``experiment``; returns the PipelineRun."""
    return Experiment(ws, experiment).submit(pipeline, **kwargs)


def reused_and_failed_run(ws: Workspace, root: Path) -> Any:
    """A finished first run, then a second one in which prep is reused, train runs again because
    train.py changed, check fails and report is canceled because of it. Returns the second run."""
    first = submit(ws, demo_pipeline(ws, with_failing_branch=False))
    first.wait_for_completion(show_output=False, raise_on_error=True)
    script = root / "train_src" / "train.py"
    script.write_text(script.read_text() + "\n# tuned\n")
    # continue_on_step_failure: evaluate does not depend on check, so it is decided (reused) whether
    # check fails before or after train ends; only report, downstream of check, is canceled
    second = submit(ws, demo_pipeline(ws, fail=True), continue_on_step_failure=True)
    second.wait_for_completion(show_output=False, raise_on_error=False)
    return second
