"""scheduler delay: from a schedule's due time to its pipeline run being recorded, through ``headwater serve``.

A real server runs on the workspace (its scheduler thread wakes at the next due time). Each sample
creates a schedule of a published one-step pipeline (``allow_reuse=False``: the step runs every
time) due at the next whole second plus one, waits for its fire's run and takes the run's
``created_at`` minus the due time; the schedule is then disabled and the run waited for. Floor,
measured the same way in the same invocation: ``submit_published`` of the same pipeline called
directly (call → run recorded), which is what the scheduler does once the time has come.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from benchmarks.figures import Figure, Target
from benchmarks.harness import SCRIPTS, Bench, BenchError

__all__ = ["run"]

STEP = "sched"


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
            raise BenchError(f"scheduler delay: no {what} after {timeout:g} s")
        time.sleep(0.01)
    return value


def _created(store: Any, run_id: str) -> datetime:
    record = store.get_run(run_id)
    if record is None:
        raise BenchError(f"scheduler delay: run {run_id} is not recorded")
    return datetime.fromisoformat(record.created_at)


def _finish(bench: Bench, store: Any, run_id: str, label: str) -> None:
    from headwater.status import TERMINAL

    record = _wait(
        f"end of run {run_id}", lambda: (r := store.get_run(run_id)) is not None and r.status in TERMINAL and r
    )
    if record.status != "Finished":
        raise BenchError(f"{label}: run {run_id} ended {record.status}")
    bench.expect_started(label, [STEP])


def run(bench: Bench) -> list[Figure]:
    from headwater import Pipeline, PythonScriptStep, Workspace
    from headwater.ops.publish import submit_published, workspace_ref
    from headwater.ops.recurrence import make_recurrence
    from headwater.ops.schedules import create_schedule, update_schedule
    from headwater.ops.server_process import running_server
    from headwater.store.repo_schedules import ScheduleRecord

    bench.say("scheduler delay: a published one-step pipeline, a real `headwater serve`")
    project = bench.project("schedule")
    (project / "src").mkdir()
    shutil.copy(SCRIPTS / "step.py", project / "src" / "step.py")
    folder = bench.workspace(project, "schedule")
    server_log = open(bench.work / "logs" / "schedule-serve.log", "wb")  # noqa: SIM115 (closed below)
    server = subprocess.Popen(
        [bench.python, "-m", "headwater", "serve", "--folder", str(folder), "--port", "0"],
        env=bench.env(),
        stdin=subprocess.DEVNULL,
        stdout=server_log,
        stderr=subprocess.STDOUT,
    )
    try:
        with _bench_environment(bench), Workspace.get("schedule", folder=folder) as ws:
            store = ws.metadata_store
            step = PythonScriptStep(
                "step.py",
                name=STEP,
                source_directory=str(project / "src"),
                arguments=["--name", STEP],
                allow_reuse=False,
            )
            pipeline_id = Pipeline(ws, [step]).publish("scheduled").id
            ref = workspace_ref(folder, store)
            _wait("server", lambda: server.poll() is None and running_server(folder))

            def floor() -> float:
                called = datetime.now(UTC)
                run_id = submit_published(store, ref, pipeline_id, experiment_name="bench", parameter_assignments={})
                delay = (_created(store, run_id) - called).total_seconds()
                _finish(bench, store, run_id, "scheduler delay floor")
                return delay

            def scheduled(i: int) -> float:
                due = (datetime.now(UTC) + timedelta(seconds=2)).replace(microsecond=0)
                rec = make_recurrence("Minute", 1, start_time=due.replace(tzinfo=None))
                record = create_schedule(
                    store,
                    folder,
                    ScheduleRecord(
                        id="", name=f"s{i}", experiment_name="bench", pipeline_id=pipeline_id, recurrence=rec.to_dict()
                    ),
                )
                fire = _wait("fire", lambda: [f for f in store.list_fires(record.id) if f.run_id or f.detail])[0]
                update_schedule(store, folder, record.id, status="Disabled")
                if fire.run_id is None:
                    raise BenchError(f"scheduler delay: the fire failed: {fire.detail}")
                delay = (_created(store, fire.run_id) - due).total_seconds()
                _finish(bench, store, fire.run_id, "scheduler delay")
                return delay

            floor(), scheduled(-1)  # warm-up
            floors, samples = bench.repeat_pairs("scheduler delay", floor, scheduled)
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
            "schedule.delay",
            "scheduler delay: due time → pipeline run recorded",
            "s",
            samples,
            "submit_published called directly",
            floors,
            Target("max", 1.0, "< 1 s after the due time"),
            ran=[STEP],
        )
    ]
