"""plan: ``Pipeline.plan()`` of a chain whose every step would be reused, against submitting it.

A chain of ``chain_steps`` PythonScriptSteps (10 at full size; each reads the previous step's
4 KiB output) runs once cold in this process. Each sample is then ``pipeline.plan("bench")`` of
the unchanged pipeline, timed in-process around the call (nothing is recorded, no process starts).
Floor, measured the same way in the same invocation: ``Experiment.submit(pipeline)`` then
``wait_for_completion()`` of the same pipeline, every step reused (what a user would otherwise do
to learn that nothing would run). The figure docs/studio.md quotes: "plan of a 10-step chain vs
submit and wait for the same all-reused run".
"""

from __future__ import annotations

import contextlib
import io
import shutil
import time

from benchmarks.figures import Figure, Target
from benchmarks.harness import SCRIPTS, Bench, BenchError
from benchmarks.serve import bench_environment

__all__ = ["run"]


def run(bench: Bench) -> list[Figure]:
    from headwater import Experiment, OutputFileDatasetConfig, Pipeline, PythonScriptStep, Workspace

    count = bench.sizes.chain_steps
    bench.say(f"plan: Pipeline.plan() of an all-reused {count}-step chain vs submit and wait")
    project = bench.project("plan")
    for i in range(count):
        (project / "src" / f"step_{i}").mkdir(parents=True)
        shutil.copy(SCRIPTS / "step.py", project / "src" / f"step_{i}" / "step.py")
    folder = bench.workspace(project, "plan")
    names = [f"step_{i}" for i in range(count)]
    with bench_environment(bench), Workspace.get("plan", folder=folder) as ws:
        steps, previous = [], None
        for i, name in enumerate(names):
            out = OutputFileDatasetConfig(name=f"out_{i}")
            args = ["--name", name, "--output", out]
            if previous is not None:
                args += ["--input", previous.as_input()]
            steps.append(
                PythonScriptStep(
                    script_name="step.py", name=name, source_directory=str(project / "src" / name), arguments=args
                )
            )
            previous = out
        pipeline = Pipeline(ws, steps=steps)
        experiment = Experiment(ws, "bench")

        def submitted(expect: list[str]) -> float:
            with contextlib.redirect_stdout(io.StringIO()):  # "Submitted PipelineRun ..."
                started = time.perf_counter()
                status = experiment.submit(pipeline).wait_for_completion(show_output=False)
                took = time.perf_counter() - started
            if status != "Finished":
                raise BenchError(f"plan: the chain's run ended {status}")
            bench.expect_started("plan floor", expect)
            return took

        def planned(_i: int) -> float:
            started = time.perf_counter()
            preview = pipeline.plan("bench")
            took = time.perf_counter() - started
            decisions = {s.name: s.verdict for s in preview.steps}
            if set(decisions) != set(names) or set(decisions.values()) != {"reuse"}:
                raise BenchError(f"plan: expected every step reused, got {decisions}")
            bench.expect_started("plan", [])
            return took

        submitted(names)  # cold: every step runs once
        submitted([]), planned(-1)  # warm-up
        floors, samples = bench.repeat_pairs("plan", lambda: submitted([]), planned)
    return [
        Figure(
            "plan.chain",
            f"Pipeline.plan(), {count}-step chain, all reused",
            "s",
            samples,
            "submit + wait_for_completion, all reused",
            floors,
            Target("ratio", 1.0, "cheaper than submitting"),
            ran=[],
        )
    ]
