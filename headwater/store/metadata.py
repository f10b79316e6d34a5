"""The metadata repository: every query Headwater makes, in plain SQL over DB-API drivers.

SQLite (stdlib ``sqlite3``, WAL mode) is the embedded default; PostgreSQL (``psycopg``) is used
when the workspace's ``metadata_url`` names one. SQL is written once with ``?`` placeholders and
translated for psycopg (:mod:`headwater.store.backends` holds what differs). The schema belongs to
Alembic (:mod:`headwater.store.schema`); opening a store only reads its revision, so opening
stays cheap.

Both databases must behave the same; ``tests/store/test_metadata_contract.py`` holds them to it.
Lists ordered by name are sorted here, in code-point order, rather than by the database: a
PostgreSQL server's collation (``en_US``: ``a`` < ``B``) would otherwise disagree with SQLite's.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
import warnings
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from headwater.errors import AlreadyExistsError, MetadataStoreError
from headwater.store.backends import Backend, connect, redact_url, sqlite_path
from headwater.store.records import (
    ComputeTargetRecord,
    DatasetRecord,
    DatastoreRecord,
    EnvironmentRecord,
    ExperimentRecord,
    MetricRecord,
    RunOutputRecord,
    RunRecord,
    utcnow,
)
from headwater.store.schema import HEAD, SCHEMA_REVISIONS, upgrade_to_head

__all__ = ["MetadataStore", "sqlite_url"]

_RUN_COLUMNS = (
    "id, experiment_id, kind, status, name, parent_id, pipeline_id, created_at, started_at, ended_at, "
    "heartbeat_at, fingerprint, reused_run_id, reason, snapshot_id, compute_target, definition, error"
)
_DATASET_COLUMNS = "id, kind, definition, name, version, digest, file_digests, description, tags, created_at"
_RETRIES = 100


def sqlite_url(path: Path) -> str:
    """The store URL of a SQLite database file."""
    return f"sqlite:///{Path(path).resolve()}"


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _as_stored(value: Any) -> Any:
    """``value`` as it reads back from a JSON column (tuples become lists, paths strings ...)."""
    return _loads(_dumps(value))


def _warn_unclosed(url: str) -> None:
    # Python 3.11's sqlite3 says nothing about a connection that is never closed; this does.
    warnings.warn(
        f"MetadataStore({url}) was never closed; close it or use it as a context manager.",
        ResourceWarning,
        stacklevel=2,
    )


class MetadataStore:
    """All reads and writes of a workspace's metadata.

    Use :meth:`create` once (it runs the Alembic migrations) and :meth:`open` after that. A store
    is a context manager; close it when done (one that is garbage-collected unclosed warns with
    a ``ResourceWarning``). It is safe to share between threads.
    """

    def __init__(self, url: str, backend: Backend, *, read_only: bool = False) -> None:
        self.url = url
        self._db = backend
        self._read_only = read_only
        self._closed = False
        self._lock = threading.RLock()
        self._finalizer = weakref.finalize(self, _warn_unclosed, redact_url(url))
        self._finalizer.atexit = False

    # -- opening -------------------------------------------------------------------------------

    @classmethod
    def create(cls, url: str) -> MetadataStore:
        """Create (or upgrade) the schema at ``url`` and open the store.

        A database written by a newer Headwater is refused, as :meth:`open` refuses it.
        """
        path = sqlite_path(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            with cls._unreadable_as_error(url):
                conn = sqlite3.connect(str(path))
                try:
                    conn.execute("PRAGMA journal_mode=WAL")  # persistent: set once, at creation
                finally:
                    conn.close()
        with cls._unreadable_as_error(url):
            store = cls(url, connect(url, read_only=False))
        try:
            with cls._unreadable_as_error(url):
                revision = store.schema_revision()
            if revision != HEAD:
                store._refuse_newer(revision)
                upgrade_to_head(url)
        except BaseException:
            store.close()
            raise
        return store

    @classmethod
    def open(cls, url: str, *, read_only: bool = False) -> MetadataStore:
        """Open an existing store, migrating an older schema (unless ``read_only``).

        Refuses a database without Headwater's schema, and one whose schema is newer than this
        Headwater knows. A ``read_only`` store refuses every write with :class:`MetadataStoreError`.
        """
        with cls._unreadable_as_error(url):
            store = cls(url, connect(url, read_only=read_only), read_only=read_only)
        try:
            with cls._unreadable_as_error(url):
                store._check_revision(read_only=read_only)
        except BaseException:
            store.close()
            raise
        return store

    @staticmethod
    @contextmanager
    def _unreadable_as_error(url: str) -> Iterator[None]:
        """Turn SQLite's "file is not a database" and the like into a MetadataStoreError."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            raise MetadataStoreError(
                f"Cannot read the metadata database at {redact_url(url)}: {exc}.",
                hint="Is it a Headwater workspace's metadata.db? Restore it from a backup if it is damaged.",
            ) from exc

    def _refuse_newer(self, revision: str | None) -> None:
        if revision is not None and revision not in SCHEMA_REVISIONS:
            raise MetadataStoreError(
                f"The metadata store at {self.redacted_url} was written by a newer Headwater "
                f"(schema {revision}; this version knows up to {HEAD}).",
                hint="Upgrade Headwater (pip install -U headwater) to open it.",
            )

    def _check_revision(self, *, read_only: bool) -> None:
        revision = self.schema_revision()
        if revision == HEAD:
            return
        self._refuse_newer(revision)
        if revision is None:
            raise MetadataStoreError(
                f"The database at {self.redacted_url} holds no Headwater metadata (no schema revision).",
                hint="Create the workspace first (Workspace.create or `headwater workspace create`), "
                "or check the metadata_url.",
            )
        if read_only:
            raise MetadataStoreError(
                f"The metadata store at {self.redacted_url} is at schema {revision}; "
                f"this Headwater needs {HEAD}.",
                hint="Open it once for writing (or run `headwater workspace upgrade`) to migrate it.",
            )
        upgrade_to_head(self.url)

    def schema_revision(self) -> str | None:
        """The Alembic revision the database is at, or None for an empty database."""
        with self._lock:
            if not self._db.table_exists("alembic_version"):
                return None
            row = self._db.conn.execute("SELECT version_num FROM alembic_version").fetchone()
            return None if row is None else str(row[0])

    @property
    def redacted_url(self) -> str:
        """The URL with any password replaced by ``***``."""
        return redact_url(self.url)

    @property
    def is_postgres(self) -> bool:
        return self._db.is_postgres

    @property
    def read_only(self) -> bool:
        """Whether the store was opened with ``read_only=True`` (every write then raises)."""
        return self._read_only

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Close the connection; closing twice is harmless."""
        with self._lock:
            self._finalizer.detach()
            self._closed = True
            self._db.conn.close()

    def __enter__(self) -> MetadataStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- low level -----------------------------------------------------------------------------

    def _check_writable(self) -> None:
        if self._read_only:
            raise MetadataStoreError(
                f"The metadata store at {self.redacted_url} is open read-only; this call writes to it.",
                hint="Open it without read_only=True to change it.",
            )

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return [tuple(r) for r in self._db.conn.execute(self._db.sql(sql), tuple(params)).fetchall()]

    def _one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        with self._lock:
            row = self._db.conn.execute(self._db.sql(sql), tuple(params)).fetchone()
            return None if row is None else tuple(row)

    def _exec(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a write statement; returns the number of rows it changed."""
        self._check_writable()
        with self._lock:
            cur = self._db.conn.execute(self._db.sql(sql), tuple(params))
            return int(cur.rowcount or 0)

    @contextmanager
    def _transaction(self, *, write: bool = True) -> Iterator[None]:
        if write:
            self._check_writable()
        with self._lock:
            self._db.begin(write=write)
            try:
                yield
            except BaseException:
                self._db.conn.execute("ROLLBACK")
                raise
            self._db.conn.execute("COMMIT")


    # -- meta ----------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        row = self._one("SELECT value FROM meta WHERE key = ?", (key,))
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self._exec(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # -- datastores ----------------------------------------------------------------------------

    def put_datastore(self, record: DatastoreRecord, *, overwrite: bool = False) -> None:
        """Insert a datastore; with ``overwrite`` replace one of the same name."""
        params = (record.name, record.kind, _dumps(record.config), record.created_at)
        if overwrite:
            self._exec(
                "INSERT INTO datastores (name, kind, config, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, config = excluded.config",
                params,
            )
            return
        try:
            self._exec("INSERT INTO datastores (name, kind, config, created_at) VALUES (?, ?, ?, ?)", params)
        except Exception as exc:
            if self._db.is_unique_violation(exc):
                raise AlreadyExistsError(
                    "Datastore", record.name, hint="Pass overwrite=True to replace it."
                ) from exc
            raise

    def get_datastore(self, name: str) -> DatastoreRecord | None:
        row = self._one("SELECT name, kind, config, created_at FROM datastores WHERE name = ?", (name,))
        return None if row is None else DatastoreRecord(row[0], row[1], _loads(row[2]), row[3])

    def list_datastores(self) -> list[DatastoreRecord]:
        rows = self._all("SELECT name, kind, config, created_at FROM datastores")
        return sorted((DatastoreRecord(r[0], r[1], _loads(r[2]), r[3]) for r in rows), key=lambda r: r.name)

    def delete_datastore(self, name: str) -> bool:
        return self._exec("DELETE FROM datastores WHERE name = ?", (name,)) > 0

    # -- datasets ------------------------------------------------------------------------------

    @staticmethod
    def _dataset(row: tuple[Any, ...]) -> DatasetRecord:
        return DatasetRecord(
            id=row[0],
            kind=row[1],
            definition=_loads(row[2]),
            name=row[3],
            version=row[4],
            digest=row[5],
            file_digests=_loads(row[6]),
            description=row[7],
            tags=_loads(row[8]) or {},
            created_at=row[9],
        )

    def save_dataset(self, record: DatasetRecord) -> DatasetRecord:
        """Store an unregistered dataset definition (kept so ``Dataset.get_by_id`` finds it)."""
        if self._insert_dataset(record, ignore_existing=True):
            return record
        existing = self.get_dataset_by_id(record.id)
        assert existing is not None
        return existing

    def _insert_dataset(self, r: DatasetRecord, *, ignore_existing: bool = False) -> bool:
        """Insert ``r``; with ``ignore_existing`` an existing id is left alone (returns False)."""
        conflict = " ON CONFLICT (id) DO NOTHING" if ignore_existing else ""
        return self._exec(
            f"INSERT INTO datasets ({_DATASET_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?){conflict}",
            (
                r.id,
                r.kind,
                _dumps(r.definition),
                r.name,
                r.version,
                r.digest,
                None if r.file_digests is None else _dumps(r.file_digests),
                r.description,
                _dumps(r.tags),
                r.created_at,
            ),
        ) > 0

    def register_dataset_version(
        self,
        name: str,
        *,
        kind: str,
        definition: dict[str, Any],
        digest: str | None,
        file_digests: dict[str, str] | None,
        description: str | None = None,
        tags: dict[str, Any] | None = None,
        create_new_version: bool = False,
    ) -> DatasetRecord:
        """Register ``definition`` under ``name`` as the next integer version.

        Without ``create_new_version`` an existing name is only accepted when its latest version
        has the same definition (that version is returned), as in SDK v1. Concurrent registrations
        never lose a version: the version number is taken inside a write transaction and a clash on
        the (name, version) key is retried.
        """
        definition = _as_stored(definition)
        tags = _as_stored(dict(tags or {}))
        for _attempt in range(_RETRIES):
            try:
                with self._transaction(write=True):
                    row = self._one(
                        f"SELECT {_DATASET_COLUMNS} FROM datasets WHERE name = ? "
                        "ORDER BY version DESC LIMIT 1",
                        (name,),
                    )
                    latest = None if row is None else self._dataset(row)
                    if latest is not None and not create_new_version:
                        if latest.kind == kind and latest.definition == definition:
                            return latest
                        raise AlreadyExistsError(
                            "Dataset",
                            name,
                            hint=f"Its latest version ({latest.version}) has another definition; "
                            "pass create_new_version=True to register a new version.",
                        )
                    record = DatasetRecord(
                        id=str(uuid.uuid4()),
                        kind=kind,
                        definition=definition,
                        name=name,
                        version=1 if latest is None else int(latest.version or 0) + 1,
                        digest=digest,
                        file_digests=file_digests,
                        description=description,
                        tags=tags,
                    )
                    self._insert_dataset(record)
                    return record
            except Exception as exc:
                if self._db.is_unique_violation(exc):
                    continue  # another writer took this version number: take the next one
                raise
        raise MetadataStoreError(
            f"Could not register a new version of dataset {name!r}: too much contention.",
            hint="Try again.",
        )

    def get_dataset(self, name: str, version: int | None = None) -> DatasetRecord | None:
        """A registered version (``None`` = the latest), or None."""
        if version is None:
            row = self._one(
                f"SELECT {_DATASET_COLUMNS} FROM datasets WHERE name = ? ORDER BY version DESC LIMIT 1",
                (name,),
            )
        else:
            row = self._one(
                f"SELECT {_DATASET_COLUMNS} FROM datasets WHERE name = ? AND version = ?", (name, version)
            )
        return None if row is None else self._dataset(row)

    def get_dataset_by_id(self, dataset_id: str) -> DatasetRecord | None:
        row = self._one(f"SELECT {_DATASET_COLUMNS} FROM datasets WHERE id = ?", (dataset_id,))
        return None if row is None else self._dataset(row)

    def list_dataset_versions(self, name: str) -> list[DatasetRecord]:
        rows = self._all(
            f"SELECT {_DATASET_COLUMNS} FROM datasets WHERE name = ? ORDER BY version", (name,)
        )
        return [self._dataset(r) for r in rows]

    def list_datasets(self) -> list[DatasetRecord]:
        """The latest version of every registered dataset, by name."""
        rows = self._all(
            f"SELECT {_DATASET_COLUMNS} FROM datasets d WHERE name IS NOT NULL AND version = "
            "(SELECT MAX(version) FROM datasets d2 WHERE d2.name = d.name)"
        )
        return sorted((self._dataset(r) for r in rows), key=lambda r: r.name or "")

    def dataset_names(self) -> list[str]:
        return sorted(r[0] for r in self._all("SELECT DISTINCT name FROM datasets WHERE name IS NOT NULL"))

    # -- environments --------------------------------------------------------------------------

    def register_environment(self, name: str, definition: dict[str, Any], digest: str) -> EnvironmentRecord:
        """Register an environment definition; a new version only when the definition changed."""
        definition = _as_stored(definition)
        for _attempt in range(_RETRIES):
            try:
                with self._transaction(write=True):
                    latest = self.get_environment(name)
                    if latest is not None and latest.definition == definition:
                        return latest
                    record = EnvironmentRecord(
                        name, 1 if latest is None else latest.version + 1, definition, digest
                    )
                    self._exec(
                        "INSERT INTO environments (name, version, definition, digest, created_at) "
                        "VALUES (?, ?, ?, ?, ?)",
                        (record.name, record.version, _dumps(definition), digest, record.created_at),
                    )
                    return record
            except Exception as exc:
                if self._db.is_unique_violation(exc):
                    continue
                raise
        raise MetadataStoreError(
            f"Could not register environment {name!r}: too much contention.", hint="Try again."
        )

    def get_environment(self, name: str, version: int | None = None) -> EnvironmentRecord | None:
        sql = "SELECT name, version, definition, digest, created_at FROM environments WHERE name = ? "
        if version is None:
            row = self._one(sql + "ORDER BY version DESC LIMIT 1", (name,))
        else:
            row = self._one(sql + "AND version = ?", (name, version))
        return None if row is None else EnvironmentRecord(row[0], row[1], _loads(row[2]), row[3], row[4])

    def list_environments(self) -> list[EnvironmentRecord]:
        rows = self._all(
            "SELECT name, version, definition, digest, created_at FROM environments e WHERE version = "
            "(SELECT MAX(version) FROM environments e2 WHERE e2.name = e.name)"
        )
        records = (EnvironmentRecord(r[0], r[1], _loads(r[2]), r[3], r[4]) for r in rows)
        return sorted(records, key=lambda r: r.name)

    # -- compute targets -----------------------------------------------------------------------

    def put_compute_target(self, record: ComputeTargetRecord, *, overwrite: bool = False) -> None:
        params = (record.name, record.kind, _dumps(record.config), record.created_at)
        sql = "INSERT INTO compute_targets (name, kind, config, created_at) VALUES (?, ?, ?, ?)"
        if overwrite:
            sql += " ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, config = excluded.config"
        try:
            self._exec(sql, params)
        except Exception as exc:
            if self._db.is_unique_violation(exc):
                raise AlreadyExistsError(
                    "Compute target", record.name, hint="Pass overwrite=True to replace it."
                ) from exc
            raise

    def get_compute_target(self, name: str) -> ComputeTargetRecord | None:
        row = self._one("SELECT name, kind, config, created_at FROM compute_targets WHERE name = ?", (name,))
        return None if row is None else ComputeTargetRecord(row[0], row[1], _loads(row[2]), row[3])

    def list_compute_targets(self) -> list[ComputeTargetRecord]:
        rows = self._all("SELECT name, kind, config, created_at FROM compute_targets")
        records = (ComputeTargetRecord(r[0], r[1], _loads(r[2]), r[3]) for r in rows)
        return sorted(records, key=lambda r: r.name)

    def delete_compute_target(self, name: str) -> bool:
        return self._exec("DELETE FROM compute_targets WHERE name = ?", (name,)) > 0

    # -- experiments ---------------------------------------------------------------------------

    def get_or_create_experiment(self, name: str) -> ExperimentRecord:
        """The experiment called ``name``, created on first use (safe under concurrency)."""
        row = self._one("SELECT id, name, created_at FROM experiments WHERE name = ?", (name,))
        if row is not None:
            return ExperimentRecord(row[0], row[1], row[2])
        record = ExperimentRecord(str(uuid.uuid4()), name)
        try:
            self._exec(
                "INSERT INTO experiments (id, name, created_at) VALUES (?, ?, ?)",
                (record.id, record.name, record.created_at),
            )
        except Exception as exc:
            if not self._db.is_unique_violation(exc):
                raise
            row = self._one("SELECT id, name, created_at FROM experiments WHERE name = ?", (name,))
            assert row is not None
            return ExperimentRecord(row[0], row[1], row[2])
        return record

    def get_experiment(self, name: str) -> ExperimentRecord | None:
        row = self._one("SELECT id, name, created_at FROM experiments WHERE name = ?", (name,))
        return None if row is None else ExperimentRecord(row[0], row[1], row[2])

    def list_experiments(self) -> list[ExperimentRecord]:
        rows = self._all("SELECT id, name, created_at FROM experiments")
        return sorted((ExperimentRecord(*r) for r in rows), key=lambda r: r.name)

    # -- runs ----------------------------------------------------------------------------------

    @staticmethod
    def _run(row: tuple[Any, ...]) -> RunRecord:
        return RunRecord(
            id=row[0],
            experiment_id=row[1],
            kind=row[2],
            status=row[3],
            name=row[4],
            parent_id=row[5],
            pipeline_id=row[6],
            created_at=row[7],
            started_at=row[8],
            ended_at=row[9],
            heartbeat_at=row[10],
            fingerprint=row[11],
            reused_run_id=row[12],
            reason=row[13],
            snapshot_id=row[14],
            compute_target=row[15],
            definition=_loads(row[16]) or {},
            error=_loads(row[17]),
        )

    def create_run(self, r: RunRecord) -> RunRecord:
        self._exec(
            f"INSERT INTO runs ({_RUN_COLUMNS}) VALUES ({', '.join('?' * 18)})",
            (
                r.id,
                r.experiment_id,
                r.kind,
                r.status,
                r.name,
                r.parent_id,
                r.pipeline_id,
                r.created_at,
                r.started_at,
                r.ended_at,
                r.heartbeat_at,
                r.fingerprint,
                r.reused_run_id,
                r.reason,
                r.snapshot_id,
                r.compute_target,
                _dumps(r.definition),
                None if r.error is None else _dumps(r.error),
            ),
        )
        return r

    _RUN_UPDATABLE = frozenset(
        {"status", "started_at", "ended_at", "heartbeat_at", "fingerprint", "reused_run_id", "reason",
         "snapshot_id", "compute_target", "definition", "error", "name"}
    )

    def update_run(self, run_id: str, **fields: Any) -> None:
        """Set columns of a run (``definition`` and ``error`` are JSON-encoded here)."""
        unknown = set(fields) - self._RUN_UPDATABLE
        if unknown:
            raise ValueError(f"Cannot update run columns {sorted(unknown)}")
        if not fields:
            return
        for key in ("definition", "error"):
            if key in fields and fields[key] is not None:
                fields[key] = _dumps(fields[key])
        assignments = ", ".join(f"{k} = ?" for k in fields)
        self._exec(f"UPDATE runs SET {assignments} WHERE id = ?", (*fields.values(), run_id))

    def merge_run_definition(self, run_id: str, changes: dict[str, Any]) -> None:
        """Add ``changes`` to a run's JSON ``definition`` (the keys it names are replaced), atomically.

        More than one process writes the definition of some runs (a script run's submitter records
        its orchestrator there while that orchestrator records the step): the read and the write
        happen in one write transaction with the row locked, so neither loses the other's keys.
        A run that does not exist is left alone.
        """
        lock = " FOR UPDATE" if self._db.is_postgres else ""  # SQLite's BEGIN IMMEDIATE already serializes
        with self._transaction(write=True):
            row = self._one(f"SELECT definition FROM runs WHERE id = ?{lock}", (run_id,))
            if row is None:
                return
            merged = {**(_loads(row[0]) or {}), **changes}
            self._exec("UPDATE runs SET definition = ? WHERE id = ?", (_dumps(merged), run_id))

    def get_run(self, run_id: str) -> RunRecord | None:
        row = self._one(f"SELECT {_RUN_COLUMNS} FROM runs WHERE id = ?", (run_id,))
        return None if row is None else self._run(row)

    def list_runs(
        self,
        *,
        experiment_id: str | None = None,
        parent_id: str | None = None,
        kind: str | None = None,
        top_level: bool = False,
        limit: int | None = None,
    ) -> list[RunRecord]:
        """Runs, newest first, filtered by experiment, parent or kind."""
        where, params = [], []
        if experiment_id is not None:
            where.append("experiment_id = ?")
            params.append(experiment_id)
        if parent_id is not None:
            where.append("parent_id = ?")
            params.append(parent_id)
        if kind is not None:
            where.append("kind = ?")
            params.append(kind)
        if top_level:
            where.append("parent_id IS NULL")
        sql = f"SELECT {_RUN_COLUMNS} FROM runs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at DESC, id"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [self._run(r) for r in self._all(sql, params)]

    def find_reusable_run(self, fingerprint: str, *, status: str = "Finished") -> RunRecord | None:
        """The newest run with ``fingerprint`` and ``status`` that ran itself (not a reuse).

        Newest by ``ended_at``; a run without one comes last (PostgreSQL would sort NULL first).
        """
        row = self._one(
            f"SELECT {_RUN_COLUMNS} FROM runs WHERE fingerprint = ? AND status = ? AND reused_run_id IS NULL "
            "ORDER BY ended_at IS NULL, ended_at DESC, created_at DESC, id LIMIT 1",
            (fingerprint, status),
        )
        return None if row is None else self._run(row)

    def find_latest_step_run(self, name: str, *, experiment_id: str | None = None) -> RunRecord | None:
        """The newest step run called ``name`` that got past planning (it ran or was reused),
        preferring ``experiment_id``, else anywhere in the workspace."""
        sql = (
            f"SELECT {_RUN_COLUMNS} FROM runs WHERE kind = 'step' AND name = ? AND fingerprint IS NOT NULL"
        )
        if experiment_id is not None:
            row = self._one(
                sql + " AND experiment_id = ? ORDER BY created_at DESC LIMIT 1", (name, experiment_id)
            )
            if row is not None:
                return self._run(row)
        row = self._one(sql + " ORDER BY created_at DESC LIMIT 1", (name,))
        return None if row is None else self._run(row)

    # -- properties, tags, metrics, outputs ----------------------------------------------------

    def add_properties(self, run_id: str, properties: dict[str, str]) -> None:
        """Add immutable properties; setting an existing key to another value is an error.

        All or nothing: when one key is refused, none of the others is added.
        """
        with self._transaction(write=True):
            for key, value in properties.items():
                text = str(value)
                # Insert-or-keep, then compare: safe when two writers add the same key at once.
                self._exec(
                    "INSERT INTO run_properties (run_id, key, value) VALUES (?, ?, ?) "
                    "ON CONFLICT (run_id, key) DO NOTHING",
                    (run_id, key, text),
                )
                row = self._one(
                    "SELECT value FROM run_properties WHERE run_id = ? AND key = ?", (run_id, key)
                )
                if row is None or row[0] != text:
                    raise AlreadyExistsError(
                        "Run property",
                        key,
                        hint=f"It is {None if row is None else row[0]!r} on run {run_id}; properties are "
                        "immutable, use tags for values that change.",
                    )

    def get_properties(self, run_id: str) -> dict[str, str]:
        return dict(sorted(self._all("SELECT key, value FROM run_properties WHERE run_id = ?", (run_id,))))

    def set_tags(self, run_id: str, tags: dict[str, str | None]) -> None:
        with self._transaction(write=True):
            for key, value in tags.items():
                self._exec(
                    "INSERT INTO run_tags (run_id, key, value) VALUES (?, ?, ?) "
                    "ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value",
                    (run_id, key, None if value is None else str(value)),
                )

    def remove_tags(self, run_id: str, keys: Sequence[str]) -> None:
        """Remove tags (missing keys are ignored)."""
        with self._transaction(write=True):
            for key in keys:
                self._exec("DELETE FROM run_tags WHERE run_id = ? AND key = ?", (run_id, key))

    def get_tags(self, run_id: str) -> dict[str, str | None]:
        return dict(sorted(self._all("SELECT key, value FROM run_tags WHERE run_id = ?", (run_id,))))

    def add_metrics(self, metrics: Sequence[MetricRecord]) -> None:
        """Append metrics in one transaction (what the orchestrator does when it ingests events)."""
        if not metrics:
            return
        with self._transaction(write=True):
            for m in metrics:
                self._exec(
                    "INSERT INTO metrics (run_id, name, kind, value, description, logged_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (m.run_id, m.name, m.kind, _dumps(m.value), m.description, m.logged_at),
                )

    def get_metrics(self, run_id: str, name: str | None = None) -> list[MetricRecord]:
        """Metrics of a run in the order they were logged."""
        sql = "SELECT run_id, name, kind, value, description, logged_at FROM metrics WHERE run_id = ?"
        params: list[Any] = [run_id]
        if name is not None:
            sql += " AND name = ?"
            params.append(name)
        rows = self._all(sql + " ORDER BY id", params)
        return [MetricRecord(r[0], r[1], r[2], _loads(r[3]), r[4], r[5]) for r in rows]

    def put_run_output(self, record: RunOutputRecord) -> None:
        self._exec(
            "INSERT INTO run_outputs (run_id, name, datastore, path, digest) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (run_id, name) DO UPDATE SET datastore = excluded.datastore, "
            "path = excluded.path, digest = excluded.digest",
            (record.run_id, record.name, record.datastore, record.path, record.digest),
        )

    def supersede_run_outputs(self, datastore: str, path: str, *, keep_run_id: str) -> int:
        """Forget the digest of other runs' outputs at ``datastore``/``path`` (it was overwritten),
        so they are no longer reusable; returns how many records were affected."""
        return self._exec(
            "UPDATE run_outputs SET digest = NULL WHERE datastore = ? AND path = ? AND run_id <> ? "
            "AND digest IS NOT NULL",
            (datastore, path, keep_run_id),
        )

    def get_run_outputs(self, run_id: str) -> list[RunOutputRecord]:
        rows = self._all(
            "SELECT run_id, name, datastore, path, digest FROM run_outputs WHERE run_id = ?", (run_id,)
        )
        return sorted((RunOutputRecord(*r) for r in rows), key=lambda r: r.name)

    # -- snapshots -----------------------------------------------------------------------------

    def put_snapshot(self, snapshot_id: str, *, file_count: int, size: int) -> None:
        self._exec(
            "INSERT INTO snapshots (id, file_count, size, created_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (id) DO NOTHING",
            (snapshot_id, file_count, size, utcnow()),
        )

    def has_snapshot(self, snapshot_id: str) -> bool:
        return self._one("SELECT 1 FROM snapshots WHERE id = ?", (snapshot_id,)) is not None
