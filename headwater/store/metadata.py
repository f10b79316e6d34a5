"""The metadata repository: every query Headwater makes, in plain SQL over DB-API drivers.

SQLite (stdlib ``sqlite3``, WAL mode) is the embedded default; PostgreSQL (``psycopg``) is used
when the workspace's ``metadata_url`` names one. SQL is written once with ``?`` placeholders and
translated for psycopg (:mod:`headwater.store.db` holds what differs). The schema belongs to
Alembic (:mod:`headwater.store.schema`); opening a store only reads its revision, so opening
stays cheap.

:class:`MetadataStore` is put together from one module per job:

- this one: opening, closing and checking the schema revision; the ``meta`` and datastore tables;
- :mod:`headwater.store.repo_base`: the query helpers (``_one``, ``_all``, ``_exec``,
  ``_transaction``) that the query groups rely on, and the JSON encoding of JSON columns;
- :mod:`headwater.store.repo_datasets`: datasets, environments and compute targets;
- :mod:`headwater.store.repo_runs`: experiments, runs, their properties, tags, metrics and
  outputs, and snapshots;
- :mod:`headwater.store.repo_tokens`: API tokens (hashes only) and leases;
- :mod:`headwater.store.repo_models`: registered models (versions and their file lists);
- :mod:`headwater.store.repo_drift`: data drift detectors, their runs and alerts.

Both databases must behave the same; ``tests/store/test_metadata_contract.py`` holds them to it.
Lists ordered by name are sorted here, in code-point order, rather than by the database: a
PostgreSQL server's collation (``en_US``: ``a`` < ``B``) would otherwise disagree with SQLite's.
"""

from __future__ import annotations

import sqlite3
import threading
import warnings
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar

from headwater.errors import AlreadyExistsError, MetadataStoreError
from headwater.store.db import Connection, connect, redact_url, sqlite_fault, sqlite_path
from headwater.store.new_sqlite import sqlite_url
from headwater.store.records import DatastoreRecord
from headwater.store.repo_base import dumps, loads
from headwater.store.repo_datasets import DatasetQueries
from headwater.store.repo_drafts import DraftQueries
from headwater.store.repo_drift import DriftQueries
from headwater.store.repo_models import ModelQueries
from headwater.store.repo_modules import ModuleQueries
from headwater.store.repo_published import PublishedQueries
from headwater.store.repo_runs import RunQueries
from headwater.store.repo_schedules import ScheduleQueries
from headwater.store.repo_studio import StudioQueries
from headwater.store.repo_tokens import TokenQueries
from headwater.store.schema import HEAD, MIGRATION_LOCK_KEY, SCHEMA_REVISIONS, upgrade_to_head
from headwater.store.schema_create import create_schema

__all__ = ["MetadataStore", "sqlite_url"]


def _warn_unclosed(url: str) -> None:
    # Python 3.11's sqlite3 says nothing about a connection that is never closed; this does.
    warnings.warn(
        f"MetadataStore({url}) was never closed; close it or use it as a context manager.",
        ResourceWarning,
        stacklevel=2,
    )


class MetadataStore(
    DatasetQueries,
    ModelQueries,
    RunQueries,
    PublishedQueries,
    TokenQueries,
    ScheduleQueries,
    DraftQueries,
    ModuleQueries,
    StudioQueries,
    DriftQueries,
):
    """All reads and writes of a workspace's metadata.

    Use :meth:`create` once (it creates the schema, or runs the Alembic migrations) and :meth:`open` after that. A store
    is a context manager; close it when done (one that is garbage-collected unclosed warns with
    a ``ResourceWarning``). It is safe to share between threads.
    """

    #: This process's stores, for :meth:`holding_sqlite` (weakly: a store is not kept alive here).
    _instances: ClassVar[weakref.WeakSet[MetadataStore]] = weakref.WeakSet()

    def __init__(self, url: str, connection: Connection, *, read_only: bool = False) -> None:
        self.url = url
        self._connection = connection
        self._released = False  # :meth:`release` closed the connection; the next use reopens it
        self._read_only = read_only
        self._closed = False
        MetadataStore._instances.add(self)
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
                # An empty database gets the generated DDL (no Alembic import); an older one migrates.
                with cls._unreadable_as_error(url):
                    created = revision is None and create_schema(store._db, HEAD, MIGRATION_LOCK_KEY)
                if not created:
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
            path = sqlite_path(url)
            fault = None if path is None else sqlite_fault(path, exc)
            if fault is not None:
                raise fault from exc
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
                f"The metadata store at {self.redacted_url} is at schema {revision}; this Headwater needs {HEAD}.",
                hint="Open it once for writing (any Headwater command or SDK call that writes) to migrate it.",
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
        return self._connection.is_postgres

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
            self._connection.conn.close()

    @property
    def _db(self) -> Connection:
        if self._released:
            with self._lock:
                if self._released and not self._closed:
                    with self._unreadable_as_error(self.url):
                        self._connection = connect(self.url, read_only=self._read_only)
                    self._released = False
        return self._connection

    @_db.setter
    def _db(self, connection: Connection) -> None:
        self._connection, self._released = connection, False

    @property
    def sqlite_file(self) -> Path | None:
        """The SQLite database file of the store, None for a PostgreSQL store."""
        return sqlite_path(self.url)

    def release(self) -> bool:
        """Close a SQLite store's connection for now; the next call reopens it. Nothing is done,
        and False returned, inside a transaction (or for PostgreSQL). For a fork
        (:mod:`headwater.ops.orchestrator_fork`): two processes must not share a SQLite connection."""
        with self._lock:
            if self._closed or self._released:
                return True
            db = self._connection
            if db.is_postgres or self._tx_depth or db.conn.in_transaction:
                return False
            db.conn.close()
            self._released = True
            return True

    @classmethod
    def holding_sqlite(cls) -> list[MetadataStore]:
        """This process's stores whose SQLite connection is open now (see :meth:`release`)."""
        return [s for s in list(cls._instances) if not (s._closed or s._released or s.is_postgres)]

    def __enter__(self) -> MetadataStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- meta ----------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        row = self._one("SELECT value FROM meta WHERE key = ?", (key,))
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self._exec(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # -- datastores ----------------------------------------------------------------------------

    def put_datastore(self, record: DatastoreRecord, *, overwrite: bool = False) -> None:
        """Insert a datastore; with ``overwrite`` replace one of the same name."""
        params = (record.name, record.kind, dumps(record.config), record.created_at)
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
                raise AlreadyExistsError("Datastore", record.name, hint="Pass overwrite=True to replace it.") from exc
            raise

    def get_datastore(self, name: str) -> DatastoreRecord | None:
        row = self._one("SELECT name, kind, config, created_at FROM datastores WHERE name = ?", (name,))
        return None if row is None else DatastoreRecord(row[0], row[1], loads(row[2]), row[3])

    def list_datastores(self) -> list[DatastoreRecord]:
        rows = self._all("SELECT name, kind, config, created_at FROM datastores")
        return sorted((DatastoreRecord(r[0], r[1], loads(r[2]), r[3]) for r in rows), key=lambda r: r.name)

    def delete_datastore(self, name: str) -> bool:
        return self._exec("DELETE FROM datastores WHERE name = ?", (name,)) > 0
