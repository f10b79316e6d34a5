"""scheduler delay: from a schedule's due time to its pipeline run being recorded, through ``headwater serve``.

A real server runs on the workspace (its scheduler thread wakes at the next due time). Each sample
creates a schedule of a published one-step pipeline (``allow_reuse=False``: the step runs every
time) due at the next whole second plus one, waits for its fire's run and takes the run's
``created_at`` minus the due time; the schedule is then disabled and the run waited for. Floor,
measured the same way in the same invocation: ``submit_published`` of the same pipeline called
directly (call → run recorded), which is what the scheduler does once the time has come.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from typing import Any

from benchmarks.figures import Figure, Target
from benchmarks.harness import SCRIPTS, Bench, BenchError
from benchmarks.serve import bench_environment, finish_run, serving, wait_for

__all__ = ["run"]

STEP = "sched"


def _created(store: Any, run_id: str) -> datetime:
    record = store.get_run(run_id)
    if record is None:
        raise BenchError(f"scheduler delay: run {run_id} is not recorded")
    return datetime.fromisoformat(record.created_at)


def run(bench: Bench) -> list[Figure]:
    from headwater import Pipeline, PythonScriptStep, Workspace
    from headwater.ops.publish import submit_published, workspace_ref
    from headwater.ops.recurrence import make_recurrence
    from headwater.ops.schedules import create_schedule, update_schedule
    from headwater.store.repo_schedules import ScheduleRecord

    bench.say("scheduler delay: a published one-step pipeline, a real `headwater serve`")
    project = bench.project("schedule")
    (project / "src").mkdir()
    shutil.copy(SCRIPTS / "step.py", project / "src" / "step.py")
    folder = bench.workspace(project, "schedule")
    with (
        serving(bench, folder, "schedule-serve.log"),
        bench_environment(bench),
        Workspace.get("schedule", folder=folder) as ws,
    ):
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

        def floor() -> float:
            called = datetime.now(UTC)
            run_id = submit_published(store, ref, pipeline_id, experiment_name="bench", parameter_assignments={})
            delay = (_created(store, run_id) - called).total_seconds()
            finish_run(bench, store, run_id, "scheduler delay floor", [STEP])
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
            fire = wait_for(
                "scheduler delay: fire", lambda: [f for f in store.list_fires(record.id) if f.run_id or f.detail]
            )[0]
            update_schedule(store, folder, record.id, status="Disabled")
            if fire.run_id is None:
                raise BenchError(f"scheduler delay: the fire failed: {fire.detail}")
            delay = (_created(store, fire.run_id) - due).total_seconds()
            finish_run(bench, store, fire.run_id, "scheduler delay", [STEP])
            return delay

        floor(), scheduled(-1)  # warm-up
        floors, samples = bench.repeat_pairs("scheduler delay", floor, scheduled)
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
