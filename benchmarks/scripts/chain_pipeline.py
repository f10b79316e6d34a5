"""chain: N PythonScriptSteps in a chain, each reading the previous step's 4 KiB output.

Run by the benchmark as a user runs a pipeline: ``python pipeline.py`` in the project folder,
which submits and waits. ``bench.json`` beside it says how many steps; ``src/step_<i>/`` holds
each step's own copy of ``step.py`` (so editing one step changes only its snapshot).
"""

import json
import sys
from pathlib import Path

from headwater import Experiment, OutputFileDatasetConfig, Pipeline, PythonScriptStep, Workspace

HERE = Path(__file__).resolve().parent


def main() -> int:
    steps_count = json.loads((HERE / "bench.json").read_text())["steps"]
    ws = Workspace.from_config(str(HERE))
    steps, previous = [], None
    for i in range(steps_count):
        out = OutputFileDatasetConfig(name=f"out_{i}")
        args = ["--name", f"step_{i}", "--output", out]
        if previous is not None:
            args += ["--input", previous.as_input()]
        steps.append(
            PythonScriptStep(
                script_name="step.py",
                name=f"step_{i}",
                source_directory=str(HERE / "src" / f"step_{i}"),
                arguments=args,
            )
        )
        previous = out
    run = Experiment(ws, "chain").submit(Pipeline(ws, steps=steps))
    return 0 if run.wait_for_completion(show_output=True) == "Finished" else 1


if __name__ == "__main__":
    sys.exit(main())
