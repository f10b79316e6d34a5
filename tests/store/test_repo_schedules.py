"""Schedules and their fires in the store, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from headwater.errors import NotFoundError
from headwater.store.metadata import MetadataStore
from headwater.store.records import utcnow
from headwater.store.repo_schedules import ScheduleRecord


def _pipeline(store: MetadataStore, pid: str = "p1") -> str:
    store._exec(
        "INSERT INTO pipelines (id, name, graph, published, created_at) VALUES (?, 'pub', '{}', 1, ?)", (pid, utcnow())
    )
    return pid


def test_schedules_are_stored_listed_and_updated(store: MetadataStore) -> None:
    _pipeline(store)
    _pipeline(store, "p2")
    a = store.create_schedule(
        ScheduleRecord(
            id="",
            name="nightly",
            experiment_name="e",
            pipeline_id="p1",
            pipeline_parameters={"n": 1},
            continue_on_step_failure=True,
            recurrence={"frequency": "Day", "interval": 1},
        )
    )
    b = store.create_schedule(
        ScheduleRecord(id="", name="on-data", experiment_name="e", pipeline_id="p2", datastore="ds", polling_interval=5)
    )
    assert store.get_schedule(a.id) == a
    assert [s.name for s in store.list_schedules()] == ["nightly", "on-data"]
    assert [s.id for s in store.list_schedules(pipeline_id="p2")] == [b.id]
    updated = store.update_schedule(a.id, status="Disabled", description="d", pipeline_parameters={"n": 2})
    assert (updated.status, updated.description, updated.pipeline_parameters) == ("Disabled", "d", {"n": 2})
    assert updated.continue_on_step_failure is True and updated.updated_at
    assert [s.id for s in store.list_schedules(active_only=True)] == [b.id]
    store.set_schedule_state(b.id, {"digests": {"x": "1"}})
    stored = store.get_schedule(b.id)
    assert stored is not None and stored.state == {"digests": {"x": "1"}}
    with pytest.raises(NotFoundError, match="schedule 'nope' does not exist"):
        store.update_schedule("nope", name="x")


def test_an_occurrence_is_recorded_once(store: MetadataStore) -> None:
    _pipeline(store)
    s = store.create_schedule(ScheduleRecord(id="", name="s", experiment_name="e", pipeline_id="p1"))
    first = store.record_fire(s.id, "2027-01-01T00:00:00", due_at="2027-01-01T00:00:00", holder="a")
    assert first is not None and first.status == "Pending" and not first.late
    assert store.record_fire(s.id, "2027-01-01T00:00:00", due_at="2027-01-01T00:00:00", holder="b") is None
    late = store.record_fire(s.id, "2027-01-02T00:00:00", due_at="2027-01-02T00:00:00", late=True, holder="b")
    assert late is not None
    store.finish_fire(first.id, run_id="r1")
    store.finish_fire(late.id, error="boom")
    assert [(f.status, f.run_id, f.detail, f.late) for f in store.list_fires(s.id)] == [
        ("Failed", None, "boom", True),
        ("Submitted", "r1", None, False),
    ]
    last = store.last_due_fire(s.id)
    assert last is not None and last.id == late.id
    assert len(store.list_fires(s.id, limit=1)) == 1
