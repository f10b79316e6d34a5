"""A new workspace's SQLite database, written in one go: schema, revision and first records.

:meth:`MetadataStore.create <headwater.store.metadata.MetadataStore.create>` makes a database
through the store; for the SQLite file of a workspace being created, :func:`create_sqlite_database`
writes the same database (the same ``sqlite_master``, rows and WAL mode) more cheaply:

- it imports only :mod:`sqlite3`, :mod:`json` and the generated DDL
  (:mod:`headwater.store.schema_create`): no query module, record class, Alembic or SQLAlchemy;
- one transaction without a rollback journal and without SQLite's syncs. The file is new
  (``O_EXCL``) and inside the workspace's temporary folder, which no other process opens before
  it is renamed into place (:mod:`headwater.sdk.workspace_create`): a crash part-way leaves a file
  nobody reads, removed with the abandoned folder. The journal mode is then set to WAL (kept in
  the file's header, as every later connection expects);
- one ``fsync`` of the file at the end, so that it is on disk before the workspace can be found.

Through the store the same database took eight syncs: setting WAL mode in rollback mode (the
journal, its folder, the journal again, the database), then the WAL, its folder, the WAL again
and the database at the checkpoint on close.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from headwater.errors import MetadataStoreError
from headwater.store.schema import HEAD
from headwater.store.schema_create import ddl_statements
from headwater.store.values import dumps, utcnow

__all__ = ["create_sqlite_database", "sqlite_url"]

TYPE_CHECKING = False  # no `typing` import on Workspace.create's path
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import Any


def sqlite_url(path: str | os.PathLike[str]) -> str:
    """The store URL of a SQLite database file."""
    return f"sqlite:///{Path(path).resolve()}"


def create_sqlite_database(
    path: Path,
    *,
    meta: Mapping[str, str],
    datastores: Iterable[tuple[str, str, Mapping[str, Any]]],
) -> bool:
    """Create the database ``path`` (which must not exist) at the schema's head revision, holding
    the ``meta`` rows and the ``datastores`` (name, kind, config), durably on disk when it returns.

    Only for a file no other process opens before this returns (see the module's docstring).
    Returns False, creating nothing, when the generated DDL is not at this Headwater's head
    revision: the caller then creates the database through the store (Alembic).
    """
    revision, statements = ddl_statements("sqlite")
    if revision != HEAD or not statements:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644))
    try:
        conn = sqlite3.connect(str(path), isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=MEMORY")  # no journal file; ROLLBACK still works
            conn.execute("PRAGMA synchronous=OFF")  # one fsync below instead
            conn.execute("BEGIN IMMEDIATE")
            for sql in statements:
                conn.execute(sql)
            conn.execute("INSERT INTO alembic_version (version_num) VALUES (?)", (HEAD,))
            conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", list(meta.items()))
            now = utcnow()
            conn.executemany(
                "INSERT INTO datastores (name, kind, config, created_at) VALUES (?, ?, ?, ?)",
                [(name, kind, dumps(config), now) for name, kind, config in datastores],
            )
            conn.execute("COMMIT")
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if mode != "wal":
                raise sqlite3.OperationalError(f"journal_mode=WAL was refused (the file stays in {mode} mode)")
        finally:
            conn.close()
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException as exc:
        path.unlink(missing_ok=True)
        if isinstance(exc, sqlite3.Error):
            from headwater.store.db import sqlite_fault

            raise sqlite_fault(path, exc) or MetadataStoreError(
                f"Cannot create the metadata database {path}: {exc}.",
                hint="Check the folder's disk and permissions, then create the workspace again.",
            ) from exc
        raise
    return True
