"""Schedule and fire queries of :class:`~headwater.store.metadata.MetadataStore`.

A schedule fires a published pipeline (or a pipeline endpoint's default version) on a recurrence
or when files change under a datastore path. Each fire is a row of ``schedule_fires``, unique per
``(schedule_id, occurrence)``: :meth:`ScheduleQueries.record_fire` inserts it or reports that
another scheduler already did, so an occurrence is submitted at most once whatever the number of
servers; the row then records the run id or the error.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from typing import Any

from headwater.errors import NotFoundError
from headwater.status import FireStatus
from headwater.store.records import utcnow
from headwater.store.repo_base import RepoBase, dumps, loads

__all__ = ["FireRecord", "ScheduleQueries", "ScheduleRecord"]

ACTIVE = "Active"
DISABLED = "Disabled"


@dataclass(frozen=True)
class ScheduleRecord:
    """A schedule; ``recurrence`` is :meth:`Recurrence.to_dict` (None for a datastore trigger)."""

    id: str
    name: str
    experiment_name: str
    pipeline_id: str | None = None
    pipeline_endpoint_id: str | None = None
    description: str | None = None
    status: str = ACTIVE
    pipeline_parameters: dict[str, Any] = field(default_factory=dict)
    continue_on_step_failure: bool | None = None
    recurrence: dict[str, Any] | None = None
    datastore: str | None = None
    path_on_datastore: str | None = None
    polling_interval: int | None = None
    data_path_parameter_name: str | None = None
    state: dict[str, Any] = field(default_factory=dict)
    created_at: str = ""
    updated_at: str | None = None


@dataclass(frozen=True)
class FireRecord:
    """One fire of a schedule: its occurrence (due time or change key), whether it was late, its run."""

    id: int
    schedule_id: str
    occurrence: str
    due_at: str | None
    recorded_at: str
    late: bool
    status: str  # Pending | Submitted | Failed
    run_id: str | None
    detail: str | None
    holder: str | None


_SCHEDULE_COLUMNS = (
    "id, name, description, status, pipeline_id, pipeline_endpoint_id, experiment_name, pipeline_parameters, "
    "continue_on_step_failure, recurrence, datastore, path_on_datastore, polling_interval, "
    "data_path_parameter_name, state, created_at, updated_at"
)
_FIRE_COLUMNS = "id, schedule_id, occurrence, due_at, recorded_at, late, status, run_id, detail, holder"
_UPDATABLE = frozenset(
    {
        "name",
        "description",
        "status",
        "pipeline_parameters",
        "continue_on_step_failure",
        "recurrence",
        "datastore",
        "path_on_datastore",
        "polling_interval",
        "data_path_parameter_name",
    }
)
_JSON = frozenset({"pipeline_parameters", "recurrence", "state"})


def _schedule(row: tuple[Any, ...]) -> ScheduleRecord:
    return ScheduleRecord(
        id=row[0],
        name=row[1],
        description=row[2],
        status=row[3],
        pipeline_id=row[4],
        pipeline_endpoint_id=row[5],
        experiment_name=row[6],
        pipeline_parameters=loads(row[7]) or {},
        continue_on_step_failure=None if row[8] is None else bool(row[8]),
        recurrence=loads(row[9]),
        datastore=row[10],
        path_on_datastore=row[11],
        polling_interval=row[12],
        data_path_parameter_name=row[13],
        state=loads(row[14]) or {},
        created_at=row[15],
        updated_at=row[16],
    )


def _fire(row: tuple[Any, ...]) -> FireRecord:
    return FireRecord(
        id=int(row[0]),
        schedule_id=row[1],
        occurrence=row[2],
        due_at=row[3],
        recorded_at=row[4],
        late=bool(row[5]),
        status=row[6],
        run_id=row[7],
        detail=row[8],
        holder=row[9],
    )


def _column_value(name: str, value: Any) -> Any:
    if name in _JSON:
        return None if value is None else dumps(value)
    if name == "continue_on_step_failure":
        return None if value is None else int(bool(value))
    return value


class ScheduleQueries(RepoBase):
    """Schedules and their fires (a part of :class:`MetadataStore`)."""

    def create_schedule(self, record: ScheduleRecord) -> ScheduleRecord:
        """Store a new schedule (a fresh id when ``record.id`` is empty); returns it as stored."""
        record = replace(record, id=record.id or str(uuid.uuid4()), created_at=record.created_at or utcnow())
        values = [_column_value(c, getattr(record, c)) for c in _SCHEDULE_COLUMNS.split(", ")]
        self._exec(f"INSERT INTO schedules ({_SCHEDULE_COLUMNS}) VALUES ({', '.join('?' * len(values))})", values)
        return record

    def get_schedule(self, schedule_id: str) -> ScheduleRecord | None:
        """The schedule with this id, or None."""
        row = self._one(f"SELECT {_SCHEDULE_COLUMNS} FROM schedules WHERE id = ?", (schedule_id,))
        return None if row is None else _schedule(row)

    def list_schedules(
        self, *, active_only: bool = False, pipeline_id: str | None = None, pipeline_endpoint_id: str | None = None
    ) -> list[ScheduleRecord]:
        """Schedules, oldest first, optionally only active ones or those of a pipeline / endpoint."""
        where, params = [], []
        if active_only:
            where.append("status = ?")
            params.append(ACTIVE)
        if pipeline_id is not None:
            where.append("pipeline_id = ?")
            params.append(pipeline_id)
        if pipeline_endpoint_id is not None:
            where.append("pipeline_endpoint_id = ?")
            params.append(pipeline_endpoint_id)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        rows = self._all(f"SELECT {_SCHEDULE_COLUMNS} FROM schedules{clause} ORDER BY created_at, id", params)
        return [_schedule(r) for r in rows]

    def update_schedule(self, schedule_id: str, **changes: Any) -> ScheduleRecord:
        """Change the given fields (None values are left as they are); NotFoundError for an unknown id."""
        unknown = set(changes) - _UPDATABLE
        if unknown:
            raise TypeError(f"update_schedule() cannot change {sorted(unknown)}")
        sets = {k: _column_value(k, v) for k, v in changes.items() if v is not None}
        sets["updated_at"] = utcnow()
        assignments = ", ".join(f"{k} = ?" for k in sets)
        if not self._exec(f"UPDATE schedules SET {assignments} WHERE id = ?", [*sets.values(), schedule_id]):
            raise NotFoundError("schedule", schedule_id)
        found = self.get_schedule(schedule_id)
        assert found is not None
        return found

    def set_schedule_state(self, schedule_id: str, state: dict[str, Any]) -> None:
        """Replace the scheduler's own state of a schedule (a trigger's digests, its last poll ...)."""
        self._exec("UPDATE schedules SET state = ? WHERE id = ?", (dumps(state), schedule_id))

    # -- fires ---------------------------------------------------------------------------------

    def record_fire(
        self, schedule_id: str, occurrence: str, *, due_at: str | None, late: bool = False, holder: str | None = None
    ) -> FireRecord | None:
        """Record that ``occurrence`` fires (status Pending); None when it was recorded already
        (by this or another scheduler): the caller then must not submit it."""
        inserted = self._exec(
            "INSERT INTO schedule_fires (schedule_id, occurrence, due_at, recorded_at, late, status, holder) "
            f"VALUES (?, ?, ?, ?, ?, '{FireStatus.Pending}', ?) ON CONFLICT (schedule_id, occurrence) DO NOTHING",
            (schedule_id, occurrence, due_at, utcnow(), int(late), holder),
        )
        if not inserted:
            return None
        row = self._one(
            f"SELECT {_FIRE_COLUMNS} FROM schedule_fires WHERE schedule_id = ? AND occurrence = ?",
            (schedule_id, occurrence),
        )
        assert row is not None
        return _fire(row)

    def finish_fire(self, fire_id: int, *, run_id: str | None = None, error: str | None = None) -> None:
        """Record how a fire's submit ended: its run id (Submitted) or the error (Failed)."""
        status = FireStatus.Failed if error is not None else FireStatus.Submitted
        self._exec(
            "UPDATE schedule_fires SET status = ?, run_id = ?, detail = ? WHERE id = ?",
            (status, run_id, error, fire_id),
        )

    def list_fires(self, schedule_id: str, *, limit: int | None = None) -> list[FireRecord]:
        """A schedule's fires, newest first."""
        sql = f"SELECT {_FIRE_COLUMNS} FROM schedule_fires WHERE schedule_id = ? ORDER BY id DESC"
        params: list[Any] = [schedule_id]
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        return [_fire(r) for r in self._all(sql, params)]

    def last_due_fire(self, schedule_id: str) -> FireRecord | None:
        """The fire with the latest due time (the scheduler's watermark), or None."""
        row = self._one(
            f"SELECT {_FIRE_COLUMNS} FROM schedule_fires WHERE schedule_id = ? AND due_at IS NOT NULL "
            "ORDER BY due_at DESC LIMIT 1",
            (schedule_id,),
        )
        return None if row is None else _fire(row)
