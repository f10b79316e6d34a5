"""The scheduler inside ``headwater serve``: real servers, real time, real runs.

One server fires a schedule within seconds; two servers on one PostgreSQL workspace (two folders,
one database) fire each occurrence once between them, also when the lease holder stops.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from headwater import Pipeline, PipelineParameter, PythonScriptStep, Workspace
from headwater.ops.recurrence import make_recurrence
from headwater.ops.schedules import create_schedule
from headwater.status import TERMINAL
from headwater.store.repo_schedules import ScheduleRecord
from tests.conftest import gen
from tests.server.conftest import LiveServer, start_serve, stop_process, wait_until


def publish_echo(ws: Workspace, src: Path) -> str:
    """Publish a one-step pipeline printing its parameter ``msg``; returns its id."""
    gen(src, {"echo.py": "import sys\nprint('msg=' + sys.argv[2])\n"})
    msg = PipelineParameter("msg", "default")
    step = PythonScriptStep("echo.py", name="echo", source_directory=str(src), arguments=["--msg", msg])
    return str(Pipeline(ws, [step]).publish("echo").id)


def every_minute(ws: Workspace, pipeline_id: str, start: datetime, name: str = "soon") -> ScheduleRecord:
    rec = make_recurrence("Minute", 1, start_time=start.astimezone(UTC).replace(tzinfo=None, microsecond=0))
    record = ScheduleRecord(
        id="",
        name=name,
        experiment_name="scheduled",
        pipeline_id=pipeline_id,
        pipeline_parameters={"msg": "from-schedule"},
        recurrence=rec.to_dict(),
    )
    return create_schedule(ws.metadata_store, ws.folder, record)


def _fires(ws: Workspace, schedule_ids: list[str]) -> list[Any]:
    return [f for sid in schedule_ids for f in ws.metadata_store.list_fires(sid)]


@pytest.mark.slow
def test_a_schedule_fires_within_seconds_through_a_real_server(live_server: LiveServer, tmp_path: Path) -> None:
    ws = live_server.ws
    pid = publish_echo(ws, tmp_path / "src")
    due = datetime.now(UTC) + timedelta(seconds=3)
    sched = every_minute(ws, pid, due)

    [fire] = wait_until(lambda: [f for f in ws.metadata_store.list_fires(sched.id) if f.run_id], what="the fire's run")
    assert fire.status == "Submitted" and not fire.late
    assert fire.occurrence == due.replace(microsecond=0).isoformat(timespec="microseconds")
    run = wait_until(
        lambda: (r := ws.metadata_store.get_run(fire.run_id)) is not None and r.status in TERMINAL and r,
        what="the scheduled run to end",
    )
    assert (run.status, run.kind) == ("Finished", "pipeline")


@pytest.mark.slow
@pytest.mark.postgres
def test_two_servers_on_one_postgres_workspace_fire_each_occurrence_once(
    headwater_home: Path, tmp_path: Path, postgres_url: str
) -> None:
    ws = Workspace.create("shared", folder=tmp_path / "a", metadata_url=postgres_url)
    shutil.copytree(tmp_path / "a", tmp_path / "b")  # a second machine's folder for the same workspace
    procs = []
    try:
        pid = publish_echo(ws, tmp_path / "src")
        for folder in ("a", "b"):
            procs.append(start_serve(tmp_path / folder, "--port", "0", log=tmp_path / f"{folder}.log"))
        now = datetime.now(UTC)
        ids = [every_minute(ws, pid, now + timedelta(seconds=4 + 2 * i), name=f"s{i}").id for i in range(5)]

        wait_until(lambda: len(_fires(ws, ids[:2])) == 2, what="the first two occurrences")
        holder = ws.metadata_store.lease_holder("scheduler")
        assert holder is not None
        # Stop the server holding the lease: the other one takes over and fires the rest.
        [index] = [i for i, (proc, _out) in enumerate(procs) if holder.split(":")[1] == str(proc.pid)]
        stop_process(*procs.pop(index))
        wait_until(lambda: len([f for f in _fires(ws, ids) if f.run_id]) == 5, timeout=90, what="all five fires")

        fires = _fires(ws, ids)
        assert len(fires) == 5 and len({f.run_id for f in fires}) == 5
        assert len({f.holder for f in fires}) == 2  # both servers fired, each occurrence once
        assert len(ws.metadata_store.list_runs(top_level=True)) == 5  # five pipeline runs, not more
    finally:
        for proc, out in procs:
            stop_process(proc, out)
        ws.close()
