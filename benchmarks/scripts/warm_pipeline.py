"""warm step start: one step (never reused) that imports pandas and scikit-learn.

After the run, appends ``ds launched <unix time>`` to ``$BENCH_LEDGER``: when the orchestrator
recorded the step as running, just before it started the step's process. The step appends
``ds start <time>`` once its imports are done, so the difference is start to first line.
"""

import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from headwater import Experiment, Pipeline, PythonScriptStep, Workspace

HERE = Path(__file__).resolve().parent


def _epoch(value: object) -> float:
    when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def main() -> int:
    ws = Workspace.from_config(str(HERE))
    step = PythonScriptStep(script_name="ds_step.py", name="ds", source_directory="src/ds", allow_reuse=False)
    run = Experiment(ws, "warm").submit(Pipeline(ws, steps=[step]))
    status = run.wait_for_completion(show_output=True)
    (step_run,) = run.find_step_run("ds")
    with open(os.environ["BENCH_LEDGER"], "a", encoding="utf-8") as ledger:
        ledger.write(f"ds launched {_epoch(step_run.get_details()['startTimeUtc']):.6f}\n")
    return 0 if status == "Finished" else 1


if __name__ == "__main__":
    sys.exit(main())
