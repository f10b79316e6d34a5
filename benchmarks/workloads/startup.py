"""step start-up: ``import headwater`` + ``Run.get_context()`` in a step-like process vs ``python -c pass``;
and ``Workspace.create`` of a new workspace as a whole process vs ``python -c "import headwater"``.

The context is real: a one-step pipeline runs first, and each measured process gets that step
run's ``HEADWATER_CONTEXT`` file, ``AZUREML_RUN_ID`` and working directory, as the executor sets
them. One untimed run checks that the context is the step run's (not an offline run). The
processes are short, so this figure takes four times the usual number of samples.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from benchmarks.figures import Figure, Target
from benchmarks.harness import SCRIPTS, Bench, BenchError

__all__ = ["run"]

STEP_CODE = "import headwater\nfrom headwater import Run\nRun.get_context()\n"
CREATE_CODE = "import sys\nfrom headwater import Workspace\nWorkspace.create(sys.argv[1], folder=sys.argv[2]).close()\n"
CHECK_CODE = "import sys\nfrom headwater import Run\nopen(sys.argv[1], 'w').write(Run.get_context().id)\n"


def _one_step_run(bench: Bench) -> tuple[dict[str, str], Path]:
    """Run a one-step pipeline; the step run's environment (context file, run id) and working folder."""
    project = bench.project("startup")
    (project / "src" / "step_0").mkdir(parents=True)
    shutil.copy(SCRIPTS / "step.py", project / "src" / "step_0" / "step.py")
    shutil.copy(SCRIPTS / "chain_pipeline.py", project / "pipeline.py")
    (project / "bench.json").write_text('{"steps": 1}')
    folder = bench.workspace(project, "startup")
    bench.timed([bench.python, "pipeline.py"], cwd=project, label="startup pipeline")
    bench.expect_started("startup pipeline", ["step_0"])
    contexts = list((folder / "runs").glob("*/context.json"))
    if len(contexts) != 1:
        raise BenchError(f"expected one step run context in {folder / 'runs'}, found {len(contexts)}")
    context = json.loads(contexts[0].read_text())
    env = {"HEADWATER_CONTEXT": str(contexts[0]), "AZUREML_RUN_ID": context["run_id"]}
    return env, contexts[0].parent / "wd"


def run(bench: Bench) -> list[Figure]:
    bench.say("step start-up: a one-step pipeline for a real context")
    extra, workdir = _one_step_run(bench)
    env = bench.env(**extra)
    check = bench.work / "startup-check.txt"
    bench.timed([bench.python, "-c", CHECK_CODE, str(check)], cwd=workdir, label="startup check", env=env)
    if check.read_text() != extra["AZUREML_RUN_ID"]:
        raise BenchError(f"Run.get_context() in the step-like process is not the step run: {check.read_text()!r}")

    def floor() -> float:
        return bench.timed([bench.python, "-c", "pass"], cwd=workdir, label="python -c pass")

    def step(i: int) -> float:
        return bench.timed([bench.python, "-c", STEP_CODE], cwd=workdir, label="step start-up", env=env)

    floor(), step(0)  # warm-up
    floors, samples = bench.repeat_pairs("step start-up", floor, step, times=4 * bench.repeat)
    return [
        Figure(
            "startup.step",
            "step start-up: import headwater + Run.get_context()",
            "s",
            samples,
            "python -c pass",
            floors,
            Target("ratio", 4),
        ),
        _workspace_create(bench),
    ]


def _workspace_create(bench: Bench) -> Figure:
    """``Workspace.create`` of a new workspace, the whole process, vs ``python -c "import headwater"``."""
    folders = bench.work / "created-workspaces"
    shutil.rmtree(folders, ignore_errors=True)

    def floor() -> float:
        return bench.timed([bench.python, "-c", "import headwater"], cwd=bench.work, label="import headwater")

    def create(i: int) -> float:
        folder = folders / f"ws-{i}"
        seconds = bench.timed(
            [bench.python, "-c", CREATE_CODE, f"ws-{i}", str(folder)], cwd=bench.work, label="Workspace.create"
        )
        if not (folder / "metadata.db").is_file():
            raise BenchError(f"Workspace.create made no metadata.db in {folder}")
        return seconds

    floor(), create(-1)  # warm-up (bytecode)
    floors, samples = bench.repeat_pairs("Workspace.create", floor, create, times=2 * bench.repeat)
    shutil.rmtree(folders, ignore_errors=True)
    return Figure(
        "startup.workspace_create",
        "Workspace.create of a new workspace (whole process)",
        "s",
        samples,
        'python -c "import headwater"',
        floors,
        Target("ratio", 2),
    )
