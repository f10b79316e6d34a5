"""fan: prep -> W independent steps that each sleep -> join, on a compute target of max_nodes=W.

Run by the benchmark as ``python pipeline.py`` in the project folder; ``bench.json`` gives the
width and the sleep. All steps share ``src/`` (one snapshot).
"""

import json
import sys
from pathlib import Path

from headwater import (
    AmlCompute,
    ComputeTarget,
    ComputeTargetException,
    Experiment,
    OutputFileDatasetConfig,
    Pipeline,
    PythonScriptStep,
    Workspace,
)

HERE = Path(__file__).resolve().parent


def main() -> int:
    conf = json.loads((HERE / "bench.json").read_text())
    width, sleep = conf["width"], conf["sleep"]
    ws = Workspace.from_config(str(HERE))
    try:
        target = ComputeTarget(workspace=ws, name="fan")
    except ComputeTargetException:
        target = ComputeTarget.create(ws, "fan", AmlCompute.provisioning_configuration(max_nodes=width))
    src = str(HERE / "src")
    prepped = OutputFileDatasetConfig(name="prepped")
    prep = PythonScriptStep(
        script_name="step.py",
        name="prep",
        source_directory=src,
        compute_target=target,
        arguments=["--name", "prep", "--output", prepped],
    )
    branches, outs = [], []
    for i in range(width):
        out = OutputFileDatasetConfig(name=f"branch_{i}")
        branches.append(
            PythonScriptStep(
                script_name="step.py",
                name=f"sleep_{i}",
                source_directory=src,
                compute_target=target,
                arguments=[
                    "--name",
                    f"sleep_{i}",
                    "--input",
                    prepped.as_input(),
                    "--output",
                    out,
                    "--sleep",
                    str(sleep),
                ],
            )
        )
        outs.append(out)
    join_args: list[object] = ["--name", "join"]
    for out in outs:
        join_args += ["--input", out.as_input()]
    join = PythonScriptStep(
        script_name="step.py", name="join", source_directory=src, compute_target=target, arguments=join_args
    )
    run = Experiment(ws, "fan").submit(Pipeline(ws, steps=[prep, *branches, join]))
    return 0 if run.wait_for_completion(show_output=True) == "Finished" else 1


if __name__ == "__main__":
    sys.exit(main())
