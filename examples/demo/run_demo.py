"""Headwater's demo: the seed page's prep -> train -> compare pipeline, run twice.

The first submission runs every step; the second finds nothing changed and reuses them all,
saying why. Run it with `make demo` (or `python examples/demo/run_demo.py`).
"""

from __future__ import annotations

import random
import sys
import tempfile
from pathlib import Path

from headwater import (
    Dataset,
    Datastore,
    Experiment,
    OutputFileDatasetConfig,
    Pipeline,
    PipelineParameter,
    PythonScriptStep,
    Workspace,
)

HERE = Path(__file__).resolve().parent


def make_raw_data(folder: Path) -> None:
    """A small noisy CSV (y = 3x + 2), with a few bad rows for the prep step to drop."""
    rng = random.Random(42)
    lines = ["x,y"]
    for _ in range(500):
        x = rng.uniform(0, 10)
        lines.append(f"{x:.4f},{3 * x + 2 + rng.gauss(0, 1):.4f}")
    lines += ["-5,0", "42,1", "7,"]
    (folder / "measurements.csv").write_text("\n".join(lines) + "\n")


def build_pipeline(ws: Workspace) -> Pipeline:
    store = Datastore(ws, "workspaceblobstore")
    raw = Dataset.Tabular.from_delimited_files(path=[(store, "demo/raw/*.csv")])
    prepped = OutputFileDatasetConfig(name="prepped", destination=(store, "demo/prepped/{run-id}"))
    prep = PythonScriptStep(
        script_name="prepare.py",
        name="prep",
        source_directory=str(HERE / "dataprep_src"),
        arguments=["--output", prepped],
        inputs=[raw.as_named_input("raw")],
    )
    slow_lr = PipelineParameter(name="slow_lr", default_value=0.001)
    fast_lr = PipelineParameter(name="fast_lr", default_value=0.02)
    models, trains = [], []
    for label, lr in (("slow", slow_lr), ("fast", fast_lr)):
        model = OutputFileDatasetConfig(name=f"model_{label}")
        trains.append(
            PythonScriptStep(
                script_name="train.py",
                name=f"train_{label}",
                source_directory=str(HERE / "train_src"),
                arguments=["--data", prepped.as_input(), "--model", model, "--learning_rate", lr],
            )
        )
        models.append(model)
    best = OutputFileDatasetConfig(name="best_model").register_on_complete(name="demo-best-model")
    compare = PythonScriptStep(
        script_name="compare.py",
        name="compare",
        source_directory=str(HERE / "compare_src"),
        arguments=["--models", *[m.as_input() for m in models], "--best", best],
    )
    return Pipeline(ws, steps=[[prep, *trains, compare]], description="headwater demo")


def show(run) -> None:  # type: ignore[no-untyped-def]
    for step in run.get_steps():
        how = "reused" if step.reused else "ran"
        print(f"  {step.name:<12} {step.get_status():<9} {how:<7} {step.reason}")


def main() -> int:
    ws = Workspace.create("headwater-demo", exist_ok=True)
    store = ws.get_default_datastore()
    with tempfile.TemporaryDirectory() as tmp:
        make_raw_data(Path(tmp))
        store.upload(tmp, target_path="demo/raw", overwrite=True, show_progress=False)

    experiment = Experiment(ws, "demo")
    print("== First submission ==")
    first = experiment.submit(build_pipeline(ws))
    first.wait_for_completion(show_output=True)
    show(first)
    print(f"  pipeline metrics: {first.get_metrics()}")

    print("\n== Second submission: nothing changed ==")
    second = experiment.submit(build_pipeline(ws))
    second.wait_for_completion(show_output=False)
    show(second)

    hw = Path(sys.executable).with_name("headwater")
    try:
        cmd = str(hw.relative_to(Path.cwd()))
    except ValueError:
        cmd = str(hw) if hw.exists() else "headwater"
    print("\nWhere to look:")
    print(f"  workspace folder   {ws.folder}")
    print(f"  run folders        {ws.folder / 'runs'}/<run id>/ (user_logs/std_log.txt, outputs/)")
    print(f"  step table         {cmd} run show {second.id} -w {ws.name}")
    print(f"  all runs           {cmd} run list -w {ws.name}")
    print(f"  registered model   {cmd} dataset versions demo-best-model -w {ws.name}")
    ws.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
