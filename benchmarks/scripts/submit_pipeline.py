"""submit: one step (never reused) whose source directory is large; notes when submit() is called.

``bench.json`` beside it names the source directory (the generated tree, with ``step.py`` in it).

Appends ``submit call <unix time>`` to ``$BENCH_LEDGER`` just before ``Experiment.submit()``; the
step appends ``first start <time>`` first thing, so the latency is the difference.
"""

import json
import os
import sys
import time
from pathlib import Path

from headwater import Experiment, OutputFileDatasetConfig, Pipeline, PythonScriptStep, Workspace

HERE = Path(__file__).resolve().parent


def main() -> int:
    source = json.loads((HERE / "bench.json").read_text())["source"]
    ws = Workspace.from_config(str(HERE))
    out = OutputFileDatasetConfig(name="done")
    step = PythonScriptStep(
        script_name="step.py",
        name="first",
        source_directory=source,
        arguments=["--name", "first", "--output", out],
        allow_reuse=False,
    )
    pipeline = Pipeline(ws, steps=[step])
    experiment = Experiment(ws, "submit")
    with open(os.environ["BENCH_LEDGER"], "a", encoding="utf-8") as f:
        f.write(f"submit call {time.time():.6f}\n")
    run = experiment.submit(pipeline)
    return 0 if run.wait_for_completion(show_output=True) == "Finished" else 1


if __name__ == "__main__":
    sys.exit(main())
