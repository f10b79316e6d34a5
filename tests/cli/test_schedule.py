"""``headwater schedule list|show|enable|disable``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from headwater import Workspace
from headwater.ops.recurrence import make_recurrence
from headwater.ops.schedules import create_schedule
from headwater.ops.server_process import running_server, stop_server
from headwater.store.records import utcnow
from headwater.store.repo_schedules import ScheduleRecord
from tests.cli.conftest import Cli, fields, one_error_line, section, table


@pytest.fixture
def sched(cli_ws: Workspace) -> Iterator[ScheduleRecord]:
    store = cli_ws.metadata_store
    store._exec(
        "INSERT INTO pipelines (id, name, graph, published, created_at) VALUES ('p1', 'pub', '{}', 1, ?)", (utcnow(),)
    )
    created = datetime.now(UTC) - timedelta(hours=2)
    rec = make_recurrence("Hour", 1, start_time=created.replace(tzinfo=None, microsecond=0, minute=0, second=0))
    record = create_schedule(
        store,
        cli_ws.folder,
        ScheduleRecord(
            id="",
            name="hourly",
            experiment_name="exp",
            pipeline_id="p1",
            pipeline_parameters={"n": 3},
            recurrence=rec.to_dict(),
            created_at=created.isoformat(),
        ),
    )
    on_time = store.record_fire(record.id, "a", due_at="2027-01-01T10:00:00.000000+00:00", holder="h")
    late = store.record_fire(record.id, "b", due_at="2027-01-01T13:00:00.000000+00:00", late=True, holder="h")
    assert on_time is not None and late is not None
    store.finish_fire(on_time.id, run_id="run-1")
    store.finish_fire(late.id, error="Published pipeline 'p1' is Disabled.")
    yield record
    stop_server(cli_ws.folder)  # `enable` starts it


def test_list_and_show_with_fires_and_next_due_times(hw: Cli, sched: ScheduleRecord) -> None:
    assert table(hw("schedule", "list", "-w", "test-ws").stdout) == [
        {"id": sched.id, "name": "hourly", "status": "Active", "runs": "pipeline p1", "trigger": "every 1 Hour"}
    ]
    out = hw("schedule", "show", "hourly", "-w", "test-ws", "--next", "3").stdout
    info = fields(out)
    assert (info["id"], info["status"], info["parameters"], info["experiment"]) == (sched.id, "Active", "n=3", "exp")
    assert len(info["next due"].split(", ")) == 3
    fires = table(section(out, 1))
    assert [(f["late"], f["status"], f["run"]) for f in fires] == [("LATE", "Failed", "-"), ("", "Submitted", "run-1")]
    assert fires[0]["detail"] == "Published pipeline 'p1' is Disabled."


def test_disable_and_enable(hw: Cli, sched: ScheduleRecord, cli_ws: Workspace) -> None:
    assert "is Disabled" in hw("schedule", "disable", sched.id, "-w", "test-ws").stdout
    assert table(hw("schedule", "list", "-w", "test-ws").stdout or "id\tname\tstatus\truns\ttrigger\n") == []
    assert table(hw("schedule", "list", "--all", "-w", "test-ws").stdout)[0]["status"] == "Disabled"
    assert running_server(cli_ws.folder) is None
    assert "is Active; the server at http://127.0.0.1:" in hw("schedule", "enable", "hourly", "-w", "test-ws").stdout
    assert running_server(cli_ws.folder) is not None
    stored = cli_ws.metadata_store.get_schedule(sched.id)
    assert stored is not None and stored.status == "Active"


def test_an_unknown_schedule_is_one_error_line(hw: Cli, sched: ScheduleRecord) -> None:
    line = one_error_line(hw("schedule", "show", "hourlyy", "-w", "test-ws", code=1))
    assert "Schedule 'hourlyy' does not exist" in line and "hourly" in line
