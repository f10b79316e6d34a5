"""Queries of the studio's sharing pages: published pipelines, pipeline endpoints, schedules.

Reads the store (PublishedQueries, ScheduleQueries); the pages submit through
:func:`headwater.ops.publish.submit_published` — the verb the REST route uses — via
:func:`submit_from_form`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from headwater.errors import NotFoundError
from headwater.store.metadata import MetadataStore
from headwater.store.records import RunRecord
from headwater.store.repo_published import EndpointRecord, EndpointVersionRecord, PublishedRecord
from headwater.store.repo_schedules import FireRecord, ScheduleRecord

__all__ = [
    "EndpointView",
    "ParameterField",
    "PublishedView",
    "ScheduleView",
    "endpoint_view",
    "list_endpoints",
    "list_published",
    "list_schedules",
    "published_view",
    "schedule_view",
    "submit_from_form",
]

#: At most this many runs on a published pipeline's page.
RUNS_SHOWN = 50


@dataclass(frozen=True)
class ParameterField:
    """A pipeline parameter on the submit form: ``kind`` int, float, bool, str, DataPath, dataset ..."""

    name: str
    default: Any
    kind: str | None

    @property
    def in_form(self) -> bool:
        """Plain values are typed into the form; DataPath and dataset parameters go through REST."""
        return self.kind not in ("DataPath", "dataset")

    @property
    def default_text(self) -> str:
        if isinstance(self.default, bool):
            return "true" if self.default else "false"
        return "" if self.default is None else str(self.default)


@dataclass(frozen=True)
class PublishedView:
    record: PublishedRecord
    parameters: list[ParameterField]
    steps: list[str]
    runs: list[RunRecord]
    run_count: int
    endpoints: list[EndpointRecord]
    schedules: list[ScheduleRecord]


@dataclass(frozen=True)
class EndpointView:
    record: EndpointRecord
    versions: list[tuple[EndpointVersionRecord, PublishedRecord | None]]
    schedules: list[ScheduleRecord]


@dataclass(frozen=True)
class ScheduleView:
    record: ScheduleRecord
    target: PublishedRecord | EndpointRecord | None
    fires: list[FireRecord]
    next_due: list[datetime] = field(default_factory=list)
    late_count: int = 0


def list_published(store: MetadataStore) -> list[tuple[PublishedRecord, int]]:
    """Every published pipeline (Active and Disabled), newest first, with its number of runs."""
    records = store.list_published_pipelines(active_only=False)
    return [(r, len(store.runs_of_published(r.id))) for r in reversed(records)]


def _published(store: MetadataStore, pipeline_id: str) -> PublishedRecord:
    record = store.get_published_pipeline(pipeline_id)
    if record is None:
        raise NotFoundError("Published pipeline", pipeline_id, hint="The Pipelines page lists them.")
    return record


def published_view(store: MetadataStore, pipeline_id: str) -> PublishedView:
    """A published pipeline: its parameters (for the form), steps, runs (newest first), endpoints, schedules."""
    from headwater.ops.parameters import parameter_kind

    record = _published(store, pipeline_id)
    graph = record.graph
    parameters = [
        ParameterField(name, default, parameter_kind(default))
        for name, default in sorted((graph.get("parameters") or {}).items())
    ]
    steps = [str(s.get("name")) for s in graph.get("steps") or []]
    run_ids = store.runs_of_published(record.id)
    runs = [r for r in (store.get_run(i) for i in reversed(run_ids[-RUNS_SHOWN:])) if r is not None]
    endpoints = [
        e
        for e in store.list_pipeline_endpoints(active_only=False)
        if any(v.pipeline_id == record.id for v in store.list_endpoint_versions(e.id))
    ]
    schedules = store.list_schedules(pipeline_id=record.id)
    return PublishedView(record, parameters, steps, runs, len(run_ids), endpoints, schedules)


def list_endpoints(store: MetadataStore) -> list[tuple[EndpointRecord, int]]:
    """Every pipeline endpoint with its number of versions."""
    return [(e, len(store.list_endpoint_versions(e.id))) for e in store.list_pipeline_endpoints(active_only=False)]


def endpoint_view(store: MetadataStore, endpoint_id: str) -> EndpointView:
    record = store.get_pipeline_endpoint(endpoint_id=endpoint_id)
    if record is None:
        raise NotFoundError("PipelineEndpoint", endpoint_id, hint="The Endpoints page lists them.")
    versions = [(v, store.get_published_pipeline(v.pipeline_id)) for v in store.list_endpoint_versions(record.id)]
    return EndpointView(record, versions, store.list_schedules(pipeline_endpoint_id=record.id))


def list_schedules(store: MetadataStore, now: datetime | None = None) -> list[tuple[ScheduleRecord, datetime | None]]:
    """Every schedule with its next due time (None: a datastore trigger, or no further occurrence)."""
    from headwater.ops.schedules import upcoming

    now = now or datetime.now(UTC)
    out = []
    for s in store.list_schedules():
        nxt = upcoming(store, s, now, 1) if s.recurrence is not None else []
        out.append((s, nxt[0] if nxt else None))
    return out


def schedule_view(
    store: MetadataStore, schedule_id: str, now: datetime | None = None, fires: int = 100
) -> ScheduleView:
    """A schedule: its past fires (newest first; late ones marked) and its next due times."""
    from headwater.ops.schedules import upcoming

    record = store.get_schedule(schedule_id)
    if record is None:
        raise NotFoundError("Schedule", schedule_id, hint="The Schedules page lists them.")
    now = now or datetime.now(UTC)
    target: PublishedRecord | EndpointRecord | None = None
    if record.pipeline_id:
        target = store.get_published_pipeline(record.pipeline_id)
    elif record.pipeline_endpoint_id:
        target = store.get_pipeline_endpoint(endpoint_id=record.pipeline_endpoint_id)
    past = store.list_fires(record.id)  # newest first
    shown = past[:fires]
    nxt = upcoming(store, record, now, 5) if record.recurrence is not None else []
    return ScheduleView(record, target, shown, nxt, sum(1 for f in past if f.late))


def submit_from_form(store: MetadataStore, ws_folder: Path, pipeline_id: str, form: dict[str, str]) -> str:
    """Submit published pipeline ``pipeline_id`` from the studio's form; returns the run id.

    ``form``: ``experiment_name`` and ``param.<name>`` fields (strings, converted to each
    parameter's type as SDK v1's service converts REST values; an empty field keeps the default).
    Raises what :func:`~headwater.ops.publish.submit_published` raises, before recording anything.
    """
    from headwater.ops.publish import submit_published, workspace_ref

    assignments = {k[len("param.") :]: v for k, v in form.items() if k.startswith("param.") and v.strip() != ""}
    return submit_published(
        store,
        workspace_ref(ws_folder, store),
        pipeline_id,
        experiment_name=form.get("experiment_name", "").strip(),
        parameter_assignments=assignments,
    )
