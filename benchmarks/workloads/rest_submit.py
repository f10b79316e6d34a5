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
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from benchmarks.figures import Figure, Target
from benchmarks.harness import SCRIPTS, Bench, BenchError

__all__ = ["run"]

STEP = "rest"


@contextmanager
def _bench_environment(bench: Bench) -> Iterator[None]:
    """This process's environment as the runs' (HEADWATER_HOME, BENCH_LEDGER): runs it submits inherit it."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(bench.env())
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _wait(what: str, condition: Any, timeout: float = 120.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise BenchError(f"REST submit: no {what} after {timeout:g} s")
        time.sleep(0.01)
    return value


def _finish(bench: Bench, store: Any, run_id: str, label: str) -> None:
    from headwater.status import TERMINAL

    record = _wait(
        f"end of run {run_id}", lambda: (r := store.get_run(run_id)) is not None and r.status in TERMINAL and r
    )
    if record.status != "Finished":
        raise BenchError(f"{label}: run {run_id} ended {record.status}")
    bench.expect_started(label, [STEP])


def run(bench: Bench) -> list[Figure]:
    import requests

    from headwater import Experiment, Pipeline, PythonScriptStep, Workspace
    from headwater.ops.server_process import running_server
    from headwater.ops.tokens import create_token

    bench.say("REST submit: a published one-step pipeline, a real `headwater serve`")
    project = bench.project("rest_submit")
    (project / "src").mkdir()
    shutil.copy(SCRIPTS / "step.py", project / "src" / "step.py")
    folder = bench.workspace(project, "rest_submit")
    server_log = open(bench.work / "logs" / "rest-serve.log", "wb")  # noqa: SIM115 (closed below)
    server = subprocess.Popen(
        [bench.python, "-m", "headwater", "serve", "--folder", str(folder), "--port", "0"],
        env=bench.env(),
        stdin=subprocess.DEVNULL,
        stdout=server_log,
        stderr=subprocess.STDOUT,
    )
    try:
        with _bench_environment(bench), Workspace.get("rest_submit", folder=folder) as ws:
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
            _wait("server", lambda: server.poll() is None and running_server(folder))
            url = published.endpoint
            experiment = Experiment(ws, "bench")

            def floor() -> float:
                with contextlib.redirect_stdout(io.StringIO()):  # "Submitted PipelineRun ..."
                    started = time.perf_counter()
                    run = experiment.submit(pipeline)
                    took = time.perf_counter() - started
                _finish(bench, store, run.id, "REST submit floor")
                return took

            def posted(_i: int) -> float:
                started = time.perf_counter()
                response = requests.post(url, headers=headers, json={"ExperimentName": "bench"}, timeout=120)
                took = time.perf_counter() - started
                if response.status_code != 200:
                    raise BenchError(f"REST submit: {response.status_code} {response.text}")
                _finish(bench, store, response.json()["Id"], "REST submit")
                return took

            floor(), posted(-1)  # warm-up
            floors, samples = bench.repeat_pairs("REST submit", floor, posted)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        server_log.close()
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
