"""The scheduler's tick with an injected clock: due occurrences, record-first, missed fires, triggers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from headwater import Workspace
from headwater.ops.recurrence import make_recurrence
from headwater.ops.schedules import create_schedule, tick
from headwater.store.records import utcnow
from headwater.store.repo_schedules import ScheduleRecord

T0 = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


class Submits:
    """A recording stand-in for submit_published: returns run ids, or raises when told to."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.fail: Exception | None = None

    def __call__(self, store: Any, ref: Any, pipeline_id: str, **kw: Any) -> str:
        self.calls.append({"pipeline_id": pipeline_id, "workspace": ref.name, **kw})
        if self.fail is not None:
            raise self.fail
        return f"run-{len(self.calls)}"


@pytest.fixture
def ws(headwater_home: Path) -> Iterator[Workspace]:
    with Workspace.create("sched") as w:
        w.metadata_store._exec(
            "INSERT INTO pipelines (id, name, graph, published, created_at) VALUES ('p1', 'pub', '{}', 1, ?)",
            (utcnow(),),
        )
        yield w


def _every(ws: Workspace, minutes: int, created: datetime = T0, **kw: Any) -> ScheduleRecord:
    rec = make_recurrence("Minute", minutes, **kw)
    record = ScheduleRecord(
        id="",
        name="every",
        experiment_name="exp",
        pipeline_id="p1",
        pipeline_parameters={"alpha": 2},
        recurrence=rec.to_dict(),
        created_at=created.isoformat(),
    )
    return create_schedule(ws.metadata_store, ws.folder, record)


def test_a_due_occurrence_is_recorded_then_submitted_once(ws: Workspace) -> None:
    store, submit = ws.metadata_store, Submits()
    sched = _every(ws, 5)
    fired = tick(store, ws.folder, T0 + timedelta(seconds=1), "a", submit)  # no start: fires at creation
    assert [f.occurrence for f in fired] == [T0.isoformat(timespec="microseconds")]
    assert tick(store, ws.folder, T0 + timedelta(minutes=4), "a", submit) == []  # nothing new is due
    assert [f.occurrence[11:16] for f in tick(store, ws.folder, T0 + timedelta(minutes=5), "a", submit)] == ["12:05"]
    assert submit.calls[0] == {
        "pipeline_id": "p1",
        "workspace": "sched",
        "experiment_name": "exp",
        "parameter_assignments": {"alpha": 2},
        "data_path_assignments": None,
        "dataset_assignments": None,
        "continue_on_step_failure": None,
        "description": "Schedule 'every'",
        "tags": {"azureml.schedule_id": sched.id},
    }
    history = store.list_fires(sched.id)
    assert [(f.status, f.run_id, f.late, f.holder) for f in history] == [
        ("Submitted", "run-2", False, "a"),
        ("Submitted", "run-1", False, "a"),
    ]


def test_a_second_recorder_loses_and_does_not_submit(ws: Workspace) -> None:
    store = ws.metadata_store
    _every(ws, 5)
    inner: list[Any] = []

    def submit_a(*args: Any, **kw: Any) -> str:
        # While A submits (its fire already recorded), B ticks at the same moment: it must not submit.
        inner.append(tick(store, ws.folder, T0, "b", Submits()))
        return "run-a"

    fired = tick(store, ws.folder, T0, "a", submit_a)
    assert len(fired) == 1 and inner == [[]]
    assert [f.holder for f in store.list_fires(fired[0].schedule_id)] == ["a"]


def test_a_failed_submit_is_recorded_and_not_retried(ws: Workspace) -> None:
    store, submit = ws.metadata_store, Submits()
    from headwater.errors import HeadwaterError

    submit.fail = HeadwaterError("Unknown pipeline parameter 'alpha'.")
    sched = _every(ws, 5)
    tick(store, ws.folder, T0, "a", submit)
    tick(store, ws.folder, T0 + timedelta(seconds=30), "a", submit)
    [fire] = store.list_fires(sched.id)
    assert (fire.status, fire.run_id, fire.detail) == ("Failed", None, "Unknown pipeline parameter 'alpha'.")
    assert len(submit.calls) == 1


def test_after_downtime_the_latest_missed_occurrence_fires_once_marked_late(ws: Workspace) -> None:
    store, submit = ws.metadata_store, Submits()
    sched = _every(ws, 5)
    tick(store, ws.folder, T0, "a", submit)
    fired = tick(store, ws.folder, T0 + timedelta(hours=1, minutes=2), "a", submit)  # 12 occurrences missed
    assert [(f.occurrence[11:16], f.late) for f in fired] == [("13:00", True)]
    assert tick(store, ws.folder, T0 + timedelta(hours=1, minutes=3), "a", submit) == []
    assert [(f.late, f.run_id) for f in store.list_fires(sched.id)] == [(True, "run-2"), (False, "run-1")]


def test_one_occurrence_fired_well_after_its_time_is_late(ws: Workspace) -> None:
    store = ws.metadata_store
    _every(ws, 60, start_time="2027-03-01T13:00:00")
    [fire] = tick(store, ws.folder, T0 + timedelta(hours=1, minutes=10), "a", Submits())
    assert fire.late and fire.occurrence[11:16] == "13:00"


def test_occurrences_before_creation_do_not_fire(ws: Workspace) -> None:
    store, submit = ws.metadata_store, Submits()
    _every(ws, 10, T0 + timedelta(seconds=30), start_time="2027-01-01T00:00:00")  # a start in the past
    assert tick(store, ws.folder, T0 + timedelta(minutes=5), "a", submit) == []
    assert [f.occurrence[11:16] for f in tick(store, ws.folder, T0 + timedelta(minutes=10), "a", submit)] == ["12:10"]


def test_a_disabled_schedule_does_not_fire(ws: Workspace) -> None:
    store, submit = ws.metadata_store, Submits()
    sched = _every(ws, 5)
    store.update_schedule(sched.id, status="Disabled")
    assert tick(store, ws.folder, T0 + timedelta(minutes=10), "a", submit) == []
    store.update_schedule(sched.id, status="Active")
    assert len(tick(store, ws.folder, T0 + timedelta(minutes=10), "a", submit)) == 1


def test_a_datastore_trigger_fires_once_per_change_by_digest(ws: Workspace) -> None:
    store, submit = ws.metadata_store, Submits()
    root = ws.folder / "datastores" / "workspaceblobstore"
    (root / "incoming").mkdir(parents=True)
    (root / "incoming" / "old.csv").write_text("a\n")
    record = ScheduleRecord(
        id="",
        name="on-data",
        experiment_name="exp",
        pipeline_id="p1",
        datastore="workspaceblobstore",
        path_on_datastore="incoming",
        polling_interval=5,
        data_path_parameter_name="input_path",
        created_at=T0.isoformat(),
    )
    sched = create_schedule(store, ws.folder, record)
    assert tick(store, ws.folder, T0, "a", submit) == []  # files present at creation do not fire

    (root / "incoming" / "new.csv").write_text("b\n")
    (root / "incoming" / "sub").mkdir()
    (root / "incoming" / "sub" / "deep.csv").write_text("c\n")  # subfolders are not watched (SDK v1)
    (root / "elsewhere.csv").write_text("d\n")
    assert tick(store, ws.folder, T0 + timedelta(minutes=1), "a", submit) == []  # polled every 5 minutes
    fired = tick(store, ws.folder, T0 + timedelta(minutes=5), "a", submit)
    assert len(fired) == 1
    assert submit.calls[-1]["data_path_assignments"] == {"input_path": ("workspaceblobstore", "incoming/new.csv")}

    (root / "incoming" / "new.csv").unlink()
    (root / "incoming" / "new.csv").write_text("b\n")  # a re-upload of the same bytes
    assert tick(store, ws.folder, T0 + timedelta(minutes=10), "a", submit) == []
    (root / "incoming" / "old.csv").write_text("a changed\n")
    assert len(tick(store, ws.folder, T0 + timedelta(minutes=15), "a", submit)) == 1
    assert submit.calls[-1]["data_path_assignments"]["input_path"] == ("workspaceblobstore", "incoming/old.csv")
    (root / "incoming" / "old.csv").write_text("a\n")  # back to the first bytes: a change again
    assert len(tick(store, ws.folder, T0 + timedelta(minutes=20), "a", submit)) == 1
    assert len(submit.calls) == 3
    assert [f.run_id for f in store.list_fires(sched.id)] == ["run-3", "run-2", "run-1"]


def test_a_trigger_path_cannot_leave_the_datastore(ws: Workspace) -> None:
    from headwater.errors import PathEscapeError

    record = ScheduleRecord(
        id="",
        name="x",
        experiment_name="e",
        pipeline_id="p1",
        datastore="workspaceblobstore",
        path_on_datastore="../..",
    )
    with pytest.raises(PathEscapeError):
        create_schedule(ws.metadata_store, ws.folder, record)


def test_an_endpoint_schedule_runs_the_default_version_at_fire_time(ws: Workspace) -> None:
    store, submit = ws.metadata_store, Submits()
    store._exec(
        "INSERT INTO pipelines (id, name, graph, published, created_at) VALUES ('p2', 'pub2', '{}', 1, ?)", (utcnow(),)
    )
    endpoint = store.create_pipeline_endpoint("ep", None, "p1")
    record = ScheduleRecord(
        id="",
        name="ep-every",
        experiment_name="exp",
        pipeline_endpoint_id=endpoint.id,
        recurrence=make_recurrence("Minute", 5).to_dict(),
        created_at=T0.isoformat(),
    )
    create_schedule(store, ws.folder, record)
    tick(store, ws.folder, T0, "a", submit)
    store.add_endpoint_version(endpoint.id, "p2", make_default=True)
    tick(store, ws.folder, T0 + timedelta(minutes=5), "a", submit)
    assert [c["pipeline_id"] for c in submit.calls] == ["p1", "p2"]


def test_a_new_recurrence_counts_from_its_update(ws: Workspace) -> None:
    from headwater.ops.schedules import update_schedule

    store, submit = ws.metadata_store, Submits()
    sched = _every(ws, 5)
    tick(store, ws.folder, T0, "a", submit)
    tick(store, ws.folder, T0 + timedelta(minutes=5), "a", submit)
    changed = T0 + timedelta(minutes=7)
    update_schedule(store, ws.folder, sched.id, now=changed, recurrence=make_recurrence("Minute", 15).to_dict())
    fired = [f.occurrence[11:16] for f in tick(store, ws.folder, changed, "a", submit)]
    fired += [f.occurrence[11:16] for f in tick(store, ws.folder, T0 + timedelta(minutes=20), "a", submit)]
    fired += [f.occurrence[11:16] for f in tick(store, ws.folder, T0 + timedelta(minutes=22), "a", submit)]
    assert fired == ["12:07", "12:22"]  # not 12:20, as the old fires' times would have it
    assert not any(f.late for f in store.list_fires(sched.id))
