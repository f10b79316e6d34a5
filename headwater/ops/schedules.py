"""Firing schedules: one :func:`tick` looks at every active schedule and fires what is due.

A recurrence schedule is due when one of its occurrences (:mod:`headwater.ops.recurrence`) lies
after its last fired occurrence (or its creation) and at or before ``now``. When several are
(the scheduler was down), only the latest fires, once, and its fire is marked late; so is an
occurrence fired more than :data:`LATE_AFTER` after its due time.

A datastore trigger polls the files directly under ``path_on_datastore`` (not its subfolders, as
in SDK v1) every ``polling_interval`` minutes and fires once per file added or changed since the
last poll, by content digest (:mod:`headwater.plan.digests`): a re-upload of identical bytes does
not fire, and the changed path goes to the DataPath parameter ``data_path_parameter_name``. The
digests seen are kept in the schedule's state; the first ones are taken when it is created
(:func:`create_schedule`), so files changed before the first poll fire too.

Every fire is recorded FIRST (unique per schedule and occurrence, see
:meth:`~headwater.store.repo_schedules.ScheduleQueries.record_fire`) and submitted only by the
scheduler whose record won; the fire then records the run id or the error. ``submit`` is
:func:`headwater.ops.publish.submit_published`'s signature (injected by tests and the server).
"""

from __future__ import annotations

import logging
import posixpath
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from headwater.errors import HeadwaterError, NotFoundError
from headwater.ops.recurrence import Recurrence, occurrences
from headwater.store.repo_schedules import FireRecord, ScheduleRecord

__all__ = [
    "LATE_AFTER",
    "SubmitFn",
    "create_schedule",
    "due_occurrences",
    "next_due",
    "split_assignments",
    "tick",
    "upcoming",
    "update_schedule",
]

log = logging.getLogger(__name__)

#: A fire this long after its due time is marked late (it was missed while no scheduler ran).
LATE_AFTER = timedelta(seconds=60)

#: ``submit(store, workspace_ref, pipeline_id, *, experiment_name, parameter_assignments,
#: data_path_assignments=None, continue_on_step_failure=None, description=None, tags=None) -> run id``
SubmitFn = Callable[..., str]


def _parse(text: str) -> datetime:
    at = datetime.fromisoformat(text)
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _key(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def create_schedule(store: Any, ws_folder: Path, record: ScheduleRecord) -> ScheduleRecord:
    """Store ``record``; a datastore trigger first takes the digests of the files it watches, so
    only later additions and changes fire."""
    if record.datastore is not None:
        digests = _watched_digests(store, ws_folder, record)
        record = ScheduleRecord(**{**record.__dict__, "state": {**record.state, "digests": digests, "version": 0}})
    return store.create_schedule(record)


def update_schedule(
    store: Any, ws_folder: Path, schedule_id: str, *, now: datetime | None = None, **changes: Any
) -> ScheduleRecord:
    """Change a schedule's fields (None leaves one as it is). A new recurrence counts from ``now``
    (default: the current time), as a new schedule would; a trigger that now watches another
    datastore or folder takes that folder's digests again (only later changes fire)."""
    record = store.update_schedule(schedule_id, **changes)
    if changes.get("recurrence") is not None:
        # Fires of the old recurrence are not occurrences of the new one: it counts from now.
        since = _key(now or datetime.now(UTC))
        store.set_schedule_state(record.id, {**record.state, "recurrence_from": since})
        record = store.get_schedule(record.id)
    if record.datastore is not None and (changes.get("datastore") or changes.get("path_on_datastore")):
        digests = _watched_digests(store, ws_folder, record)
        store.set_schedule_state(record.id, {**record.state, "digests": digests, "last_poll": None})
        record = store.get_schedule(record.id)
    return record


def split_assignments(
    parameters: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, tuple[str, str]], dict[str, str]]:
    """A schedule's stored parameters as submit_published's plain values, DataPaths and datasets
    (stored in SDK v1's REST shapes: ``{"DataStoreName", "RelativePath"}``, ``{"SavedDataSetReference": {"Id"}}``)."""
    plain: dict[str, Any] = {}
    paths: dict[str, tuple[str, str]] = {}
    datasets: dict[str, str] = {}
    for name, value in parameters.items():
        if isinstance(value, dict) and "DataStoreName" in value:
            paths[name] = (value["DataStoreName"], value.get("RelativePath") or "")
        elif isinstance(value, dict) and "SavedDataSetReference" in value:
            datasets[name] = value["SavedDataSetReference"]["Id"]
        else:
            plain[name] = value
    return plain, paths, datasets


def due_occurrences(record: ScheduleRecord, last_due: datetime | None, now: datetime) -> list[datetime]:
    """The occurrences of a recurrence schedule due at ``now`` and not fired yet (oldest first)."""
    rec, created, since = _recurrence(record, last_due)
    due = occurrences(rec, created_at=created, after=last_due, until=now, since=since)
    floor = created.replace(microsecond=0)
    return [at for at in due if at >= floor]


# schedule id -> (its recurrence, an occurrence before its creation): where a schedule that never
# fired restarts its rule, so an old start is iterated from once per process, not every round.
_ANCHORS: dict[str, tuple[tuple[dict[str, Any], datetime], datetime | None]] = {}


def _origin(record: ScheduleRecord) -> datetime:
    """When the schedule's recurrence began: its creation, or the update that last changed it."""
    return _parse(record.state.get("recurrence_from") or record.created_at)


def _last_due(store: Any, record: ScheduleRecord) -> datetime | None:
    """The due time of the schedule's last fire under its current recurrence, or None."""
    last = store.last_due_fire(record.id)
    if last is None or last.due_at is None:
        return None
    due = _parse(last.due_at)
    return due if due >= _origin(record).replace(microsecond=0) else None


def _recurrence(record: ScheduleRecord, last_due: datetime | None) -> tuple[Recurrence, datetime, datetime | None]:
    """The recurrence, when it began and the ``since=`` for :func:`occurrences`."""
    assert record.recurrence is not None
    rec = Recurrence.from_dict(record.recurrence)
    created = _origin(record)
    if last_due is not None:
        return rec, created, last_due
    known = _ANCHORS.get(record.id)
    if known is None or known[0] != (record.recurrence, created):
        from headwater.ops.recurrence import last_before

        since = last_before(rec, created_at=created, moment=created.replace(microsecond=0))
        known = ((record.recurrence, created), since)
        _ANCHORS[record.id] = known
    return rec, created, known[1]


def upcoming(store: Any, record: ScheduleRecord, now: datetime, count: int) -> list[datetime]:
    """The next ``count`` due times of a recurrence schedule after ``now`` (for display)."""
    if record.recurrence is None or count <= 0:
        return []
    rec, created, since = _recurrence(record, _last_due(store, record))
    floor = created.replace(microsecond=0)
    after = max(now, floor - timedelta(microseconds=1))
    return occurrences(rec, created_at=created, after=after, limit=count, since=since)


def next_due(store: Any, now: datetime) -> datetime | None:
    """The earliest time after ``now`` when an active schedule is due (an occurrence, a trigger's
    next poll), or None: the scheduler sleeps until then."""
    times: list[datetime] = []
    for record in store.list_schedules(active_only=True):
        try:
            if record.recurrence is not None:
                rec, created, since = _recurrence(record, _last_due(store, record))
                times.extend(occurrences(rec, created_at=created, after=now, limit=1, since=since))
            elif record.datastore is not None and record.state.get("last_poll"):
                times.append(_parse(record.state["last_poll"]) + timedelta(minutes=record.polling_interval or 0))
        except Exception:  # reported by tick
            continue
    return min(times, default=None)


def tick(
    store: Any, ws_folder: Path, now: datetime, holder: str | None = None, submit: SubmitFn | None = None
) -> list[FireRecord]:
    """Fire every active schedule that is due at ``now``; returns the fires this call recorded."""
    if submit is None:
        from headwater.ops.publish import submit_published

        submit = submit_published
    fired: list[FireRecord] = []
    for record in store.list_schedules(active_only=True):
        try:
            if record.recurrence is not None:
                fired.extend(_tick_recurrence(store, ws_folder, record, now, holder, submit))
            elif record.datastore is not None:
                fired.extend(_tick_trigger(store, ws_folder, record, now, holder, submit))
        except Exception:  # one broken schedule must not stop the others
            log.exception("Schedule %r (%s) could not be checked", record.name, record.id)
    return fired


def _tick_recurrence(
    store: Any, ws_folder: Path, record: ScheduleRecord, now: datetime, holder: str | None, submit: SubmitFn
) -> list[FireRecord]:
    due = due_occurrences(record, _last_due(store, record), now)
    if not due:
        return []
    at = due[-1]
    late = len(due) > 1 or now - at > LATE_AFTER
    fire = store.record_fire(record.id, _key(at), due_at=_key(at), late=late, holder=holder)
    if fire is None:
        return []  # another scheduler recorded it first: it submits, not us
    _submit(store, ws_folder, record, fire, submit, data_path=None)
    return [fire]


def _tick_trigger(
    store: Any, ws_folder: Path, record: ScheduleRecord, now: datetime, holder: str | None, submit: SubmitFn
) -> list[FireRecord]:
    state = dict(record.state)
    last_poll = state.get("last_poll")
    interval = timedelta(minutes=record.polling_interval or 0)
    if last_poll is not None and now < _parse(last_poll) + interval:
        return []
    digests = _watched_digests(store, ws_folder, record)
    seen: dict[str, str] = state.get("digests") or {}
    version = int(state.get("version", 0))
    changed = sorted(rel for rel, digest in digests.items() if seen.get(rel) != digest)
    fired = []
    for rel in changed:
        # The key is the same for every scheduler that saw this state: only one records it.
        fire = store.record_fire(record.id, f"{version}:{rel}:{digests[rel]}", due_at=None, holder=holder)
        if fire is not None:
            _submit(store, ws_folder, record, fire, submit, data_path=rel)
            fired.append(fire)
    state.update(last_poll=_key(now), digests=digests, version=version + (1 if changed else 0))
    store.set_schedule_state(record.id, state)
    return fired


def _watched_digests(store: Any, ws_folder: Path, record: ScheduleRecord) -> dict[str, str]:
    """``{relative path: digest}`` of the files directly in the watched folder of the datastore."""
    from headwater.plan.digests import digest_files, open_digest_cache, workspace_cache_path
    from headwater.store.datastores import backend_for, normalize_relative

    assert record.datastore is not None
    ds = store.get_datastore(record.datastore)
    if ds is None:
        raise NotFoundError("Datastore", record.datastore, where=f"the workspace (schedule {record.name!r})")
    backend = backend_for(ds, Path(ws_folder))
    try:
        folder = normalize_relative(
            (record.path_on_datastore or "").lstrip("/") or None, root=backend.root, datastore=ds.name
        )
        files = [rel for rel in backend.list_files(folder or None) if posixpath.dirname(rel) == folder]
        with open_digest_cache(workspace_cache_path(ws_folder)) as cache:
            return digest_files(backend, files, cache)
    finally:
        backend.close()


def _submit(
    store: Any,
    ws_folder: Path,
    record: ScheduleRecord,
    fire: FireRecord,
    submit: SubmitFn,
    *,
    data_path: str | None,
) -> None:
    """Submit the fire's run and record its id, or the error (the fire stays recorded either way)."""
    from headwater.ops.publish import workspace_ref

    try:
        pipeline_id = record.pipeline_id
        if pipeline_id is None:
            from headwater.ops.publish import resolve_endpoint

            pipeline_id = resolve_endpoint(store, endpoint_id=record.pipeline_endpoint_id)
        plain, data_paths, datasets = split_assignments(record.pipeline_parameters)
        if data_path is not None and record.data_path_parameter_name:
            assert record.datastore is not None
            data_paths[record.data_path_parameter_name] = (record.datastore, data_path)
        run_id = submit(
            store,
            workspace_ref(ws_folder, store),
            pipeline_id,
            experiment_name=record.experiment_name,
            parameter_assignments=plain,
            data_path_assignments=data_paths or None,
            dataset_assignments=datasets or None,
            continue_on_step_failure=record.continue_on_step_failure,
            description=f"Schedule {record.name!r}",
            tags={"azureml.schedule_id": record.id},
        )
    except Exception as exc:
        text = str(exc) if isinstance(exc, HeadwaterError) else f"{type(exc).__name__}: {exc}"
        log.warning("Schedule %r could not submit occurrence %s: %s", record.name, fire.occurrence, text)
        store.finish_fire(fire.id, error=text)
        return
    store.finish_fire(fire.id, run_id=run_id)
