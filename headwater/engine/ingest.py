"""Apply a step's events (JSON lines written by :mod:`headwater.runtime`) to the metadata store.

The event shapes are the executor contract in :mod:`headwater.runtime.context`. How each lands:

- ``metric``: a :class:`~headwater.store.records.MetricRecord` (``t`` becomes ``logged_at``; the
  optional ``table_type`` is not stored: SDK v1's table values carry their ``schema_type``);
- ``tags``: :meth:`MetadataStore.set_tags`; ``remove_tags``: ``MetadataStore.remove_tags`` (a
  store without that method reports a problem and keeps the tags);
- ``properties``: :meth:`MetadataStore.add_properties` (a key that already has another value is a
  problem, not a crash);
- ``file``: checked only. Artifacts stay files in ``<run_dir>/artifacts/``, where the step copied
  them; there is no artifacts table.

``"run": "parent"`` events go to the parent (pipeline) run. Client-side runs call
:func:`apply_event` for each event as it happens; the orchestrator calls :func:`ingest_events`
on a step's events file, while the step runs and once more when it has ended.
"""

from __future__ import annotations

import json
import os
from typing import NamedTuple

from headwater.errors import AlreadyExistsError, DataAccessError, NotSupportedError
from headwater.runtime.events import event_problem, to_jsonable, utc_now
from headwater.store.metadata import MetadataStore
from headwater.store.records import MetricRecord

__all__ = ["Ingested", "apply_event", "ingest_events"]

# What one bad event raises; anything else (the store unreachable, read-only ...) propagates.
_EVENT_ERRORS = (DataAccessError, AlreadyExistsError, NotSupportedError)


class Ingested(NamedTuple):
    """What :func:`ingest_events` did."""

    offset: int  #: the first byte not read yet: pass it to the next call
    applied: int  #: events applied
    problems: list[str]  #: lines skipped and why, for the caller to log (system_logs)


def apply_event(store: MetadataStore, run_id: str, parent_run_id: str | None, event: object) -> None:
    """Apply one event to the store for ``run_id`` (``"run": "parent"``: for ``parent_run_id``).

    Raises :class:`~headwater.errors.DataAccessError` for an invalid event (and for one about the
    parent of a run without one), :class:`~headwater.errors.AlreadyExistsError` for a property
    that already has another value.
    """
    metrics: list[MetricRecord] = []
    _apply(store, run_id, parent_run_id, event, metrics)
    store.add_metrics(metrics)


def _apply(
    store: MetadataStore, run_id: str, parent_run_id: str | None, event: object, metrics: list[MetricRecord]
) -> None:
    """Apply ``event``, except metrics, which are appended to ``metrics`` for one batch insert."""
    problem = event_problem(event)
    if problem is not None:
        raise DataAccessError(f"Invalid event: {problem}")
    assert isinstance(event, dict)  # event_problem checked it
    kind = event["type"]
    target = run_id
    if event.get("run", "self") == "parent":
        if not parent_run_id:
            raise DataAccessError(f"A {kind} event for the parent run, but run {run_id} has no parent.")
        target = parent_run_id
    if kind == "metric":
        metrics.append(
            MetricRecord(
                run_id=target,
                name=event["name"],
                kind=event["kind"],
                value=to_jsonable(event["value"]),
                description=event.get("description"),
                logged_at=event.get("t") or utc_now(),
            )
        )
    elif kind == "tags":
        store.set_tags(target, event["tags"])
    elif kind == "remove_tags":
        store.remove_tags(target, event["keys"])
    elif kind == "properties":
        store.add_properties(target, event["properties"])
    # "file": validated by event_problem; the artifact is already in the run folder.


def ingest_events(
    store: MetadataStore,
    run_id: str,
    parent_run_id: str | None,
    events_file: str | os.PathLike[str],
    offset: int = 0,
    *,
    final: bool = False,
) -> Ingested:
    """Apply the complete lines of ``events_file`` from byte ``offset`` on; return where to go on.

    A trailing line without its ``\\n`` is still being written and is left for the next call,
    unless ``final`` (the step has ended): then it is reported and skipped. A line that is not
    JSON, or not a valid event, is skipped and reported in ``problems``; the others are applied.
    Tags and properties are applied as they come, then all metrics in one transaction. If the
    store fails, the exception propagates and no offset is returned: calling again from the same
    offset is safe, because tags and properties are idempotent and the metrics were not written.
    A missing file (the step has logged nothing yet) ingests nothing.
    """
    path = os.fspath(events_file)
    try:
        with open(path, "rb") as fh:
            fh.seek(offset)
            data = fh.read()
    except FileNotFoundError:
        return Ingested(offset, 0, [])
    complete = data.rfind(b"\n") + 1
    problems: list[str] = []
    consumed = complete
    if final and complete < len(data):
        problems.append(
            f"{path} at byte {offset + complete}: the last line is incomplete (the step ended while "
            "writing it); skipped"
        )
        consumed = len(data)
    run_dir = os.path.dirname(path)
    metrics: list[MetricRecord] = []
    applied = 0
    position = offset
    for raw in data[:complete].split(b"\n")[:-1]:
        where = f"{path} at byte {position}"
        position += len(raw) + 1
        if not raw.strip():
            continue
        try:
            event = json.loads(raw)
        except ValueError as exc:  # includes UnicodeDecodeError
            problems.append(f"{where}: not a JSON line ({exc}); skipped")
            continue
        try:
            _apply(store, run_id, parent_run_id, event, metrics)
        except _EVENT_ERRORS as exc:
            problems.append(f"{where}: {exc}; skipped")
            continue
        applied += 1
        if event["type"] == "file" and not os.path.isfile(os.path.join(run_dir, *event["path"].split("/"))):
            problems.append(f"{where}: the file {event['path']} of artifact {event['name']!r} is missing")
    store.add_metrics(metrics)
    return Ingested(offset + consumed, applied, problems)
