"""Statuses written as :mod:`headwater.status` members are stored, and read back, as plain text
(SQLite and PostgreSQL): the SDK returns ``str``, equal to the word and printed as it."""

from __future__ import annotations

import uuid

from headwater.status import TERMINAL, PipelineRunStatus, ScriptRunStatus, StepRunStatus
from headwater.store.metadata import MetadataStore
from headwater.store.records import RunRecord


def test_a_status_member_is_stored_as_its_word_and_read_back_as_plain_text(store: MetadataStore) -> None:
    experiment = store.get_or_create_experiment("exp").id
    run_id = str(uuid.uuid4())
    store.create_run(RunRecord(id=run_id, experiment_id=experiment, kind="step", status=StepRunStatus.NotStarted))
    record = store.get_run(run_id)
    assert record is not None and type(record.status) is str and record.status == "NotStarted"

    assert store.update_run(run_id, status=StepRunStatus.Running)
    assert store.update_run(run_id, status=StepRunStatus.Finished)
    record = store.get_run(run_id)
    assert record is not None and type(record.status) is str and record.status == "Finished"
    assert not store.update_run(run_id, status=StepRunStatus.Failed)  # a final status stays (TERMINAL)
    assert [r.status for r in store.list_runs() if r.id == run_id] == ["Finished"]


def test_every_word_round_trips_and_the_terminal_guard_knows_them_all(store: MetadataStore) -> None:
    experiment = store.get_or_create_experiment("exp").id
    for status in (*PipelineRunStatus, *StepRunStatus, *ScriptRunStatus):
        run_id = str(uuid.uuid4())
        store.create_run(RunRecord(id=run_id, experiment_id=experiment, kind="script", status="NotStarted"))
        store.update_run(run_id, status=status)
        record = store.get_run(run_id)
        assert record is not None and type(record.status) is str and record.status == status.value
        refused = not store.update_run(run_id, status=ScriptRunStatus.Running)
        assert refused == (status in TERMINAL), status
