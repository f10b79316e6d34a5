"""submit latency: from ``Experiment.submit()`` to the first step starting, source folder 2,000 files / 100 MB.

``pipeline.py`` writes ``submit call <time>`` to the ledger just before ``submit()``; the step
(``allow_reuse=False``, so it runs every time) writes ``first start <time>`` first thing. Each
sample is a new workspace: the first submit snapshots the folder (cold), the second finds the
snapshot by its digest through the stat cache (cached). Floors, from the same kind of timestamps:
copy the folder then start the step as a plain process (cold); just start it (cached).
"""

from __future__ import annotations

import json
import shutil
import time

from benchmarks.datagen import source_tree
from benchmarks.figures import Figure
from benchmarks.harness import SCRIPTS, Bench, BenchError, LedgerLine

__all__ = ["run"]


def _latency(label: str, lines: list[LedgerLine]) -> float:
    call = [x.time for x in lines if (x.name, x.event) == ("submit", "call")]
    start = [x.time for x in lines if (x.name, x.event) == ("first", "start")]
    if len(call) != 1 or len(start) != 1:
        raise BenchError(f"{label}: expected one submit call and one step start in the ledger, got {lines}")
    return start[0] - call[0]


def run(bench: Bench) -> list[Figure]:
    sizes = bench.sizes
    mb = sizes.submit_bytes / 1e6
    bench.say(f"submit latency: source folder of {sizes.submit_files:,} files, {mb:g} MB (generated once)")
    source = source_tree(bench.data, sizes.submit_files, sizes.submit_bytes, SCRIPTS / "step.py")
    project = bench.project("submit")
    shutil.copy(SCRIPTS / "submit_pipeline.py", project / "pipeline.py")
    (project / "bench.json").write_text(json.dumps({"source": str(source)}))
    copies = bench.work / "submit-floor-copies"
    step_args = ["--name", "first", "--output", str(project / "floor-out")]

    def pipeline(label: str) -> float:
        bench.timed([bench.python, "pipeline.py"], cwd=project, label=label)
        return _latency(label, bench.expect_started(label, ["first"]))

    def floor(cold: bool) -> float:
        label = "submit floor " + ("cold" if cold else "cached")
        # a new folder each time (removed at the end): deleting 100 MB just before a run slows its writes
        extra = ["--copy-to", str(copies / f"copy-{len(floors_cold)}-{time.monotonic_ns()}")] if cold else []
        bench.timed(
            [bench.python, str(SCRIPTS / "submit_floor.py"), str(source), *step_args, *extra], cwd=project, label=label
        )
        return _latency(label, bench.expect_started(label, ["first"]))

    floors_cold: list[float] = []
    floors_cached: list[float] = []
    cold: list[float] = []
    cached: list[float] = []
    bench.say("submit latency: warm-up")
    bench.workspace(project, "submit-warmup")
    pipeline("submit warm-up cold"), pipeline("submit warm-up cached"), floor(True), floor(False)
    for i in range(bench.repeat):
        bench.workspace(project, f"submit-{i}")
        floors_cold.append(floor(True))
        cold.append(pipeline("submit cold"))
        floors_cached.append(floor(False))
        cached.append(pipeline("submit cached"))
        bench.say(
            f"  submit latency {i + 1}/{bench.repeat}: cold {cold[-1]:.3f} (floor {floors_cold[-1]:.3f}), "
            f"cached {cached[-1]:.3f} (floor {floors_cached[-1]:.3f})"
        )
    shutil.rmtree(copies, ignore_errors=True)
    shape = f"{sizes.submit_files:,} files, {mb:g} MB"
    return [
        Figure(
            "submit.cold",
            f"submit → first step started, cold snapshot, {shape}",
            "s",
            cold,
            "copy the folder + start the step",
            floors_cold,
            ran=["first"],
        ),
        Figure(
            "submit.cached",
            f"submit → first step started, snapshot cached, {shape}",
            "s",
            cached,
            "start the step",
            floors_cached,
            ran=["first"],
        ),
    ]
