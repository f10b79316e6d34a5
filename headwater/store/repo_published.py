"""Published pipelines, pipeline endpoints and their versions (a part of
:class:`~headwater.store.metadata.MetadataStore`).

A published pipeline is a row of ``pipelines`` with ``published = 1``: its ``graph`` is the frozen
pipeline spec (JSON), its ``status`` ``Active`` or ``Disabled``. An endpoint has a unique name,
a status and a default version; its versions (``"0"``, ``"1"`` ... as SDK v1 numbers them) each
name one published pipeline. A version number is taken inside a write transaction and tried
again when another writer took it first.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from headwater.errors import AlreadyExistsError, NotFoundError
from headwater.store.records import utcnow
from headwater.store.repo_base import dumps, loads
from headwater.store.versioning import VersionedQueries

__all__ = ["EndpointRecord", "EndpointVersionRecord", "PublishedQueries", "PublishedRecord"]

ACTIVE, DISABLED = "Active", "Disabled"

_PIPELINE_COLUMNS = (
    "id, name, description, version, graph, status, continue_on_step_failure, source_run_id, properties, "
    "created_at, updated_at"
)
_ENDPOINT_COLUMNS = "id, name, description, status, default_version, created_at, updated_at"


@dataclass(frozen=True)
class PublishedRecord:
    """A published pipeline: ``graph`` is the frozen :class:`~headwater.graph.spec.PipelineSpec` as a dict."""

    id: str
    name: str | None
    graph: dict[str, Any]
    description: str | None = None
    version: str | None = None
    status: str = ACTIVE
    continue_on_step_failure: bool = False
    source_run_id: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)  # snapshot_ids, ...
    created_at: str = field(default_factory=utcnow)
    updated_at: str | None = None


@dataclass(frozen=True)
class EndpointRecord:
    id: str
    name: str
    description: str | None = None
    status: str = ACTIVE
    default_version: str | None = None
    created_at: str = field(default_factory=utcnow)
    updated_at: str | None = None


@dataclass(frozen=True)
class EndpointVersionRecord:
    endpoint_id: str
    version: str
    pipeline_id: str
    created_at: str = field(default_factory=utcnow)


class PublishedQueries(VersionedQueries):
    """Published pipelines and pipeline endpoints (a part of :class:`MetadataStore`)."""

    # -- published pipelines --------------------------------------------------------------------

    @staticmethod
    def _published(row: tuple[Any, ...]) -> PublishedRecord:
        return PublishedRecord(
            id=row[0],
            name=row[1],
            description=row[2],
            version=row[3],
            graph=loads(row[4]),
            status=row[5],
            continue_on_step_failure=bool(row[6]),
            source_run_id=row[7],
            properties=loads(row[8]) or {},
            created_at=row[9],
            updated_at=row[10],
        )

    def create_published_pipeline(self, r: PublishedRecord) -> PublishedRecord:
        """Store a published pipeline (``r.id`` must be new)."""
        self._exec(
            f"INSERT INTO pipelines ({_PIPELINE_COLUMNS}, published) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
            (
                r.id,
                r.name,
                r.description,
                r.version,
                dumps(r.graph),
                r.status,
                int(r.continue_on_step_failure),
                r.source_run_id,
                dumps(r.properties),
                r.created_at,
                r.updated_at,
            ),
        )
        return r

    def get_published_pipeline(self, pipeline_id: str) -> PublishedRecord | None:
        row = self._one(f"SELECT {_PIPELINE_COLUMNS} FROM pipelines WHERE id = ? AND published = 1", (pipeline_id,))
        return None if row is None else self._published(row)

    def list_published_pipelines(self, *, active_only: bool = True) -> list[PublishedRecord]:
        """Published pipelines, oldest first (only the Active ones with ``active_only``)."""
        where = " AND status = ?" if active_only else ""
        rows = self._all(
            f"SELECT {_PIPELINE_COLUMNS} FROM pipelines WHERE published = 1{where} ORDER BY created_at, id",
            (ACTIVE,) if active_only else (),
        )
        return [self._published(r) for r in rows]

    def set_published_pipeline_status(self, pipeline_id: str, status: str) -> PublishedRecord:
        """Set a published pipeline's status (``Active`` or ``Disabled``); returns the new record."""
        if status not in (ACTIVE, DISABLED):
            raise ValueError(f"status must be {ACTIVE!r} or {DISABLED!r}, not {status!r}")
        changed = self._exec(
            "UPDATE pipelines SET status = ?, updated_at = ? WHERE id = ? AND published = 1",
            (status, utcnow(), pipeline_id),
        )
        record = self.get_published_pipeline(pipeline_id)
        if not changed or record is None:
            raise NotFoundError("Published pipeline", pipeline_id)
        return record

    def link_run_to_published(self, run_id: str, pipeline_id: str) -> None:
        """Record that run ``run_id`` is a run of published pipeline ``pipeline_id``."""
        self._exec("UPDATE runs SET pipeline_id = ? WHERE id = ?", (pipeline_id, run_id))

    def runs_of_published(self, pipeline_id: str) -> list[str]:
        """The ids of the runs of a published pipeline, oldest first."""
        rows = self._all("SELECT id FROM runs WHERE pipeline_id = ? ORDER BY created_at, id", (pipeline_id,))
        return [str(r[0]) for r in rows]

    # -- endpoints ------------------------------------------------------------------------------

    @staticmethod
    def _endpoint(row: tuple[Any, ...]) -> EndpointRecord:
        return EndpointRecord(
            id=row[0],
            name=row[1],
            description=row[2],
            status=row[3],
            default_version=row[4],
            created_at=row[5],
            updated_at=row[6],
        )

    def create_pipeline_endpoint(self, name: str, description: str | None, pipeline_id: str) -> EndpointRecord:
        """A new endpoint whose version ``"0"`` (its default) is ``pipeline_id``; the name must be new."""
        record = EndpointRecord(id=str(uuid.uuid4()), name=name, description=description, default_version="0")
        try:
            with self._transaction():
                self._exec(
                    f"INSERT INTO pipeline_endpoints ({_ENDPOINT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (record.id, name, description, record.status, "0", record.created_at, None),
                )
                self._exec(
                    "INSERT INTO pipeline_endpoint_versions (endpoint_id, version, pipeline_id, created_at) "
                    "VALUES (?, ?, ?, ?)",
                    (record.id, "0", pipeline_id, record.created_at),
                )
        except Exception as exc:
            if self._db.is_unique_violation(exc):
                raise AlreadyExistsError(
                    "PipelineEndpoint", name, hint="Choose another name, or add the pipeline to it with add()."
                ) from exc
            raise
        return record

    def get_pipeline_endpoint(
        self, *, endpoint_id: str | None = None, name: str | None = None
    ) -> EndpointRecord | None:
        """The endpoint with this id, else with this name (None when there is none)."""
        if endpoint_id is not None:
            row = self._one(f"SELECT {_ENDPOINT_COLUMNS} FROM pipeline_endpoints WHERE id = ?", (endpoint_id,))
        elif name is not None:
            row = self._one(f"SELECT {_ENDPOINT_COLUMNS} FROM pipeline_endpoints WHERE name = ?", (name,))
        else:
            raise ValueError("give endpoint_id or name")
        return None if row is None else self._endpoint(row)

    def list_pipeline_endpoints(self, *, active_only: bool = True) -> list[EndpointRecord]:
        where = " WHERE status = ?" if active_only else ""
        rows = self._all(
            f"SELECT {_ENDPOINT_COLUMNS} FROM pipeline_endpoints{where} ORDER BY created_at, id",
            (ACTIVE,) if active_only else (),
        )
        return [self._endpoint(r) for r in rows]

    def update_pipeline_endpoint(
        self,
        endpoint_id: str,
        *,
        name: str | None = None,
        status: str | None = None,
        default_version: str | None = None,
        description: str | None = None,
    ) -> EndpointRecord:
        """Change what is given; a name another endpoint has is AlreadyExistsError, a default
        version the endpoint lacks a ValueError (as in SDK v1)."""
        sets: list[str] = []
        params: list[Any] = []
        for column, value in (
            ("name", name),
            ("status", status),
            ("default_version", default_version),
            ("description", description),
        ):
            if value is not None:
                sets.append(f"{column} = ?")
                params.append(value)
        try:
            with self._transaction():
                if (
                    default_version is not None
                    and self._one(
                        "SELECT 1 FROM pipeline_endpoint_versions WHERE endpoint_id = ? AND version = ?",
                        (endpoint_id, default_version),
                    )
                    is None
                ):
                    raise ValueError(
                        f"Cannot set version {default_version}, it does not exist in pipeline endpoint {endpoint_id}. "
                        "Use add() or add_default() to add a pipeline."
                    )
                changed = self._exec(
                    f"UPDATE pipeline_endpoints SET {', '.join([*sets, 'updated_at = ?'])} WHERE id = ?",
                    (*params, utcnow(), endpoint_id),
                )
        except Exception as exc:
            if self._db.is_unique_violation(exc):
                raise AlreadyExistsError("PipelineEndpoint", str(name), hint="Choose another name.") from exc
            raise
        record = self.get_pipeline_endpoint(endpoint_id=endpoint_id)
        if not changed or record is None:
            raise NotFoundError("PipelineEndpoint", endpoint_id)
        return record

    def add_endpoint_version(self, endpoint_id: str, pipeline_id: str, *, make_default: bool = False) -> str:
        """Add ``pipeline_id`` as the endpoint's next version (returns it); a pipeline already in
        the endpoint keeps its version (made the default with ``make_default``)."""

        def attempt() -> str:
            existing = self._one(
                "SELECT version FROM pipeline_endpoint_versions WHERE endpoint_id = ? AND pipeline_id = ?",
                (endpoint_id, pipeline_id),
            )
            if existing is not None:
                version = str(existing[0])
            else:
                taken = self._all(
                    "SELECT version FROM pipeline_endpoint_versions WHERE endpoint_id = ?", (endpoint_id,)
                )
                if not taken and self.get_pipeline_endpoint(endpoint_id=endpoint_id) is None:
                    raise NotFoundError("PipelineEndpoint", endpoint_id)
                version = str(max((int(v[0]) for v in taken), default=-1) + 1)
                self._exec(
                    "INSERT INTO pipeline_endpoint_versions (endpoint_id, version, pipeline_id, created_at) "
                    "VALUES (?, ?, ?, ?)",
                    (endpoint_id, version, pipeline_id, utcnow()),
                )
            if make_default:
                self._exec(
                    "UPDATE pipeline_endpoints SET default_version = ?, updated_at = ? WHERE id = ?",
                    (version, utcnow(), endpoint_id),
                )
            return version

        return self._insert_version(attempt, what=f"add a version to pipeline endpoint {endpoint_id!r}")

    def list_endpoint_versions(self, endpoint_id: str) -> list[EndpointVersionRecord]:
        """The endpoint's versions in number order."""
        rows = self._all(
            "SELECT endpoint_id, version, pipeline_id, created_at FROM pipeline_endpoint_versions "
            "WHERE endpoint_id = ?",
            (endpoint_id,),
        )
        records = [EndpointVersionRecord(*r) for r in rows]
        return sorted(records, key=lambda v: int(v.version))
