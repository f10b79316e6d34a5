"""warm step start: a step importing pandas + scikit-learn, from its start to its first line.

The step (``ds_step.py``) notes the time once ``import pandas`` and ``from sklearn.linear_model
import LogisticRegression`` are done; its start is when the orchestrator recorded it as running,
just before it started the process (``startTimeUtc``), so Headwater's figure also holds the
launch. The floor is a fresh interpreter doing the same imports (timed from just before ``Popen``).
One warm-up run is the step's first: it records what the step imports, and the step server (kept
between runs for ``HEADWATER_STEP_SERVER_IDLE`` seconds) imports it; every measured run is a
second or later run. One new workspace for every run would not change this: the record is per
workspace, so the workload uses one.
"""

from __future__ import annotations

import shutil

from benchmarks.figures import TIMES, Figure, Target
from benchmarks.harness import SCRIPTS, Bench, BenchError, LedgerLine

__all__ = ["run"]


def _latency(label: str, lines: list[LedgerLine]) -> float:
    launched = [x.time for x in lines if (x.name, x.event) == ("ds", "launched")]
    start = [x.time for x in lines if (x.name, x.event) == ("ds", "start")]
    if len(launched) != 1 or len(start) != 1:
        raise BenchError(f"{label}: expected one launch and one first line in the ledger, got {lines}")
    return start[0] - launched[0]


def run(bench: Bench) -> list[Figure]:
    project = bench.project("warmstart")
    (project / "src" / "ds").mkdir(parents=True)
    shutil.copy(SCRIPTS / "ds_step.py", project / "src" / "ds" / "ds_step.py")
    shutil.copy(SCRIPTS / "warm_pipeline.py", project / "pipeline.py")
    bench.workspace(project, "warmstart")

    def pipeline(i: int) -> float:
        label = "warm step start"
        bench.timed([bench.python, "pipeline.py"], cwd=project, label=label)
        return _latency(label, bench.expect_started(label, ["ds"]))

    def floor() -> float:
        label = "warm step start floor"
        bench.timed(
            [bench.python, str(SCRIPTS / "warm_floor.py"), str(SCRIPTS / "ds_step.py")], cwd=project, label=label
        )
        return _latency(label, bench.expect_started(label, ["ds"]))

    bench.say("warm step start: warm-up (the step's first run)")
    first = pipeline(-1)
    floors, samples = bench.repeat_pairs("warm step start", floor, pipeline)
    return [
        Figure(
            "warmstart.pandas",
            "a step importing pandas + scikit-learn, start to first line (second run on)",
            "s",
            samples,
            "fresh interpreter, same imports",
            floors,
            Target("ratio", 0.2, f"≥ 5 {TIMES} faster than a fresh interpreter"),
            notes=[f"the step's first run (not in the figure): {first:.3f} s"],
            ran=["ds"],
        )
    ]
