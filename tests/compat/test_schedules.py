"""Schedules as SDK v1 code writes them, through the ``azureml`` layer (issue 13): ``Schedule``,
``ScheduleRecurrence``, ``TimeZone``; a recurrence and a datastore trigger firing through the
workspace's server, which ``Schedule.create`` starts in the background."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from headwater import Workspace
from headwater.errors import NotFoundError
from headwater.ops.server_process import running_server, stop_server
from tests.conftest import gen

pytestmark = pytest.mark.usefixtures("azureml_on")

ECHO = """
import sys
args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
print("msg=" + args["--msg"])
if "--data" in args:
    print("data=" + open(args["--data"]).read().strip())
"""


@pytest.fixture
def ws(proj: Path, pws: Workspace) -> Iterator[Workspace]:
    gen(proj, {"src": {"echo.py": ECHO}})
    yield pws
    stop_server(pws.folder)  # Schedule.create started it


def _publish(ws: Workspace, *, with_data: bool = False) -> Any:
    from azureml.core import Datastore
    from azureml.data.datapath import DataPath, DataPathComputeBinding
    from azureml.pipeline.core import Pipeline, PipelineParameter
    from azureml.pipeline.steps import PythonScriptStep

    args: list[Any] = ["--msg", PipelineParameter(name="msg", default_value="default")]
    inputs: list[Any] = []
    if with_data:
        ds = Datastore(ws, "workspaceblobstore")
        ds.upload_files([str(_seed(ws))], target_path="seed", show_progress=False)
        data = PipelineParameter(name="input", default_value=DataPath(ds, "seed/seed.csv"))
        binding = (data, DataPathComputeBinding(mode="mount"))
        args += ["--data", binding]
        inputs.append(binding)
    step = PythonScriptStep("echo.py", name="echo", source_directory="src", arguments=args, inputs=inputs)
    return Pipeline(ws, steps=[step]).publish(name="echo")


def _seed(ws: Workspace) -> Path:
    return gen(ws.folder.parent / "seed", {"seed.csv": "seed\n"}) / "seed.csv"


def _wait_runs(schedule: Any, count: int) -> list[Any]:
    deadline = time.monotonic() + 90
    while len(runs := schedule.get_pipeline_runs()) < count:
        assert time.monotonic() < deadline, f"{len(runs)} of {count} scheduled runs after 90 s"
        time.sleep(0.1)
    return runs


def _stdout(run: Any) -> str:
    assert run.wait_for_completion(show_output=False) == "Finished"
    (step,) = run.get_steps()
    return str(step.get_stdout_log())


def test_sdk_v1_checks_and_messages(ws: Workspace) -> None:
    from azureml.core import Datastore
    from azureml.pipeline.core import Schedule, ScheduleRecurrence, TimeZone

    published = _publish(ws)
    daily = ScheduleRecurrence(frequency="Day", interval=1, time_of_day="5:30", time_zone=TimeZone.UTC)
    store = Datastore(ws, "workspaceblobstore")
    with pytest.raises(ValueError, match="Can not specify both a Recurrence and a Datastore"):
        Schedule.create(ws, "s", published.id, "exp", recurrence=daily, datastore=store)
    with pytest.raises(ValueError, match="Data Path parameter name can only be specified for Datastore schedules"):
        Schedule.create(ws, "s", published.id, "exp", recurrence=daily, data_path_parameter_name="x")
    with pytest.raises(ValueError, match="Interval must be an integer greater than 0"):
        Schedule.create(ws, "s", published.id, "exp", recurrence=ScheduleRecurrence("Hour", 0))
    with pytest.raises(ValueError, match="Time zone is not a valid TimeZone enum"):
        ScheduleRecurrence("Day", 1, time_zone="UTC").validate()
    with pytest.raises(NotFoundError, match="Published pipeline 'nope' does not exist"):
        Schedule.create(ws, "s", "nope", "exp", recurrence=daily)
    assert running_server(ws.folder) is None  # nothing created, no server started


def test_create_get_list_update_disable(ws: Workspace) -> None:
    from azureml.pipeline.core import Schedule, ScheduleRecurrence, TimeZone

    published = _publish(ws)
    weekly = ScheduleRecurrence(
        frequency="Week",
        interval=2,
        start_time=datetime(2030, 1, 7, 0, 0),
        time_zone=TimeZone.PacificStandardTime,
        week_days=["Monday", "Friday"],
        time_of_day="9:15",
    )
    sched = Schedule.create(
        ws, "weekly", published.id, "exp", recurrence=weekly, description="d", pipeline_parameters={"msg": "hi"}
    )
    assert running_server(ws.folder) is not None  # the scheduler's server was started
    got = Schedule.get(ws, sched.id)
    assert (got.name, got.status, got.pipeline_id, got.description) == ("weekly", "Active", published.id, "d")
    rec = got.recurrence
    assert (rec.frequency, rec.interval, rec.hours, rec.minutes, rec.week_days) == (
        "Week",
        2,
        [9],
        [15],
        ["Monday", "Friday"],
    )
    assert (rec.start_time, rec.time_zone) == ("2030-01-07T00:00:00", TimeZone.PacificStandardTime)
    assert "Recurrence Details: Runs at 9:15 on Monday, Friday every 2 Weeks" in str(got)
    assert [s.id for s in Schedule.list(ws)] == [sched.id]
    assert [s.id for s in Schedule.get_schedules_for_pipeline_id(ws, published.id)] == [sched.id]

    got.disable()
    assert got.status == "Disabled" and Schedule.list(ws) == []
    assert [s.status for s in Schedule.list(ws, active_only=False)] == ["Disabled"]
    got.update(name="weekly2", recurrence=ScheduleRecurrence("Hour", 3))
    again = Schedule.get(ws, sched.id)
    assert (again.name, again.recurrence.frequency, again.status) == ("weekly2", "Hour", "Disabled")
    with pytest.raises(ValueError, match="Can not specify a Datastore for a Recurrence schedule"):
        again.update(datastore="workspaceblobstore")
    with pytest.raises(ValueError, match="Status must be either Active or Disabled"):
        again.update(status="Paused")
    again.enable()
    assert Schedule.get(ws, sched.id).status == "Active"
    assert again.get_last_pipeline_run() is None and again.get_pipeline_runs() == []


def test_load_yaml_reads_sdk_v1_files(ws: Workspace, tmp_path: Path) -> None:
    from azureml.pipeline.core import Schedule, TimeZone

    path = gen(
        tmp_path,
        {
            "s.yaml": """Schedule:
    description: "Test create with recurrence"
    recurrence:
        frequency: Week
        interval: 1
        start_time: 2019-06-07T10:50:00
        time_zone: UTC
        hours:
        - 1
        minutes:
        - 0
        time_of_day: null
        week_days:
        - Friday
    pipeline_parameters: {'a':1}
    wait_for_provisioning: True
    datastore_name: ~
"""
        },
    )
    info = Schedule.load_yaml(ws, str(path / "s.yaml"))
    rec = info["recurrence"]
    assert (rec.frequency, rec.start_time, rec.time_zone, rec.week_days) == (
        "Week",
        "2019-06-07T10:50:00",
        TimeZone.UTC,
        ["Friday"],
    )
    assert info["pipeline_parameters"] == {"a": 1} and info["datastore_name"] is None


@pytest.mark.slow
def test_a_recurrence_fires_through_the_autostarted_server(ws: Workspace) -> None:
    from azureml.pipeline.core import Schedule, ScheduleRecurrence

    published = _publish(ws)
    start = (datetime.now(UTC) + timedelta(seconds=2)).replace(tzinfo=None, microsecond=0)
    sched = Schedule.create(
        ws,
        "soon",
        published.id,
        "scheduled",
        recurrence=ScheduleRecurrence("Minute", 1, start_time=start),
        pipeline_parameters={"msg": "from-schedule"},
    )
    (run,) = _wait_runs(sched, 1)
    assert "msg=from-schedule" in _stdout(run)
    assert sched.get_last_pipeline_run().id == run.id
    assert run.experiment.name == "scheduled"


@pytest.mark.slow
def test_a_datastore_trigger_fires_once_per_change_with_the_path(ws: Workspace) -> None:
    from azureml.core import Datastore
    from azureml.pipeline.core import Schedule

    published = _publish(ws, with_data=True)
    ds = Datastore(ws, "workspaceblobstore")
    sched = Schedule.create(
        ws,
        "on-data",
        published.id,
        "triggered",
        datastore=ds,
        path_on_datastore="incoming",
        polling_interval=0,  # every round of the scheduler (SDK v1 polls every 5 minutes by default)
        data_path_parameter_name="input",
    )
    assert (sched.datastore_name, sched.path_on_datastore, sched.polling_interval) == (
        "workspaceblobstore",
        "incoming",
        0,
    )
    files = gen(ws.folder.parent / "up", {"a.csv": "first\n", "b.csv": "second\n"})
    ds.upload_files([str(files / "a.csv")], target_path="incoming", show_progress=False)
    (run,) = _wait_runs(sched, 1)
    assert "data=first" in _stdout(run)

    ds.upload_files([str(files / "a.csv")], target_path="incoming", overwrite=True, show_progress=False)  # same bytes
    uploaded = datetime.now(UTC)
    _wait_poll_after(ws, sched.id, uploaded)  # the scheduler looked at the re-upload ...
    assert len(sched.get_pipeline_runs()) == 1  # ... and fired nothing
    ds.upload_files([str(files / "b.csv")], target_path="incoming", show_progress=False)
    runs = _wait_runs(sched, 2)
    assert "data=second" in _stdout(runs[0])
    assert [f.status for f in ws.metadata_store.list_fires(sched.id)] == ["Submitted", "Submitted"]


def _wait_poll_after(ws: Workspace, schedule_id: str, moment: datetime) -> None:
    deadline = time.monotonic() + 60
    while True:
        record = ws.metadata_store.get_schedule(schedule_id)
        assert record is not None
        last = record.state.get("last_poll")
        if last is not None and datetime.fromisoformat(last) > moment:
            return
        assert time.monotonic() < deadline, "no poll of the datastore within 60 s"
        time.sleep(0.05)
