"""REST submit: a published pipeline submitted over HTTP, from the POST to the response (the run recorded).

A real ``headwater serve`` runs on the workspace. Each sample POSTs SDK v1's body to
``published.endpoint`` with a bearer token and times the call up to its 200 response, which comes
once the run is recorded and its orchestrator started. Floor, measured the same way in the same
invocation: ``Experiment.submit`` of the same one-step pipeline in this process (call → run
recorded). The step has ``allow_reuse=False`` so every run starts its step; each run is waited for
before the next sample.
"""

from __future__ import annotations

import contextlib
import io
import shutil
import time

from benchmarks.figures import Figure, Target
from benchmarks.harness import SCRIPTS, Bench, BenchError
from benchmarks.serve import bench_environment, finish_run, serving

__all__ = ["run"]

STEP = "rest"


def run(bench: Bench) -> list[Figure]:
    import requests

    from headwater import Experiment, Pipeline, PythonScriptStep, Workspace
    from headwater.ops.tokens import create_token

    bench.say("REST submit: a published one-step pipeline, a real `headwater serve`")
    project = bench.project("rest_submit")
    (project / "src").mkdir()
    shutil.copy(SCRIPTS / "step.py", project / "src" / "step.py")
    folder = bench.workspace(project, "rest_submit")
    with (
        serving(bench, folder, "rest-serve.log"),
        bench_environment(bench),
        Workspace.get("rest_submit", folder=folder) as ws,
    ):
        store = ws.metadata_store
        step = PythonScriptStep(
            "step.py",
            name=STEP,
            source_directory=str(project / "src"),
            arguments=["--name", STEP],
            allow_reuse=False,
        )
        pipeline = Pipeline(ws, [step])
        published = pipeline.publish("rest")
        headers = {"Authorization": f"Bearer {create_token(store, 'bench', 'submit')}"}
        url = published.endpoint
        experiment = Experiment(ws, "bench")

        def floor() -> float:
            with contextlib.redirect_stdout(io.StringIO()):  # "Submitted PipelineRun ..."
                started = time.perf_counter()
                run = experiment.submit(pipeline)
                took = time.perf_counter() - started
            finish_run(bench, store, run.id, "REST submit floor", [STEP])
            return took

        def posted(_i: int) -> float:
            started = time.perf_counter()
            response = requests.post(url, headers=headers, json={"ExperimentName": "bench"}, timeout=120)
            took = time.perf_counter() - started
            if response.status_code != 200:
                raise BenchError(f"REST submit: {response.status_code} {response.text}")
            finish_run(bench, store, response.json()["Id"], "REST submit", [STEP])
            return took

        floor(), posted(-1)  # warm-up
        floors, samples = bench.repeat_pairs("REST submit", floor, posted)
    return [
        Figure(
            "rest.submit",
            "REST submit: POST → run recorded",
            "s",
            samples,
            "Experiment.submit in-process",
            floors,
            Target("ratio", 1.3, "issue 13"),
            ran=[STEP],
        )
    ]
