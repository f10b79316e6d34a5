"""The DB-API connection behind a :class:`~headwater.store.metadata.MetadataStore`.

One small class per database, holding the few things that differ between SQLite (stdlib
``sqlite3``, WAL mode) and PostgreSQL (``psycopg``, imported only when a store uses it): how a
store URL connects, placeholders, how a write transaction starts, how a unique-key clash looks.
They are called connections, not backends: in Headwater a backend is where a datastore's files
are (:mod:`headwater.store.datastores`).
"""

from __future__ import annotations

import sqlite3
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any
from urllib.parse import quote

from headwater.errors import MetadataStoreError

__all__ = [
    "Connection",
    "PostgresConnection",
    "SQLiteConnection",
    "connect",
    "redact_url",
    "sqlite_fault",
    "sqlite_path",
]

_BUSY_TIMEOUT_MS = 30_000
_SQLITE_PREFIX = "sqlite:///"
_POSTGRES_PREFIXES = ("postgresql://", "postgres://")


def sqlite_path(url: str) -> Path | None:
    """The database file of a ``sqlite:///`` URL, or None for another kind of URL."""
    return Path(url[len(_SQLITE_PREFIX) :]) if url.startswith(_SQLITE_PREFIX) else None


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***``."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


class Connection(ABC):
    """One DB-API connection (in autocommit mode; transactions are explicit)."""

    is_postgres = False

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def sql(self, text: str) -> str:
        """``text`` (written with ``?`` placeholders) in the driver's paramstyle."""
        return text

    @abstractmethod
    def begin(self, *, write: bool) -> None: ...

    @abstractmethod
    def is_unique_violation(self, exc: BaseException) -> bool:
        """Whether ``exc`` is a clash on a primary or unique key (and not, say, a NOT NULL)."""

    @abstractmethod
    def table_exists(self, name: str) -> bool: ...

    def store_error(self, exc: BaseException) -> MetadataStoreError | None:
        """What ``exc`` means for the user when the database itself is at fault (read-only, damaged,
        full, unreachable ...), naming it and what to do; None for any other error."""
        return None


#: SQLite's primary result codes for a database file at fault -> (what is wrong, what to do).
_SQLITE_FAULTS = {
    "SQLITE_READONLY": (
        "is read-only",
        "Check the permissions and owner of the file and of its folder (SQLite also writes "
        "metadata.db-wal and metadata.db-shm there), or use the workspace as a user who may write it.",
    ),
    "SQLITE_CORRUPT": (
        "is damaged",
        "Run `headwater workspace check` to see what is wrong, and restore metadata.db from a backup "
        "(`headwater workspace backup DEST` makes one).",
    ),
    "SQLITE_NOTADB": (
        "is not a SQLite database (or is damaged)",
        "Is it a Headwater workspace's metadata.db? Restore it from a backup "
        "(`headwater workspace backup DEST` makes one).",
    ),
    "SQLITE_FULL": ("cannot grow: the disk is full", "Free some space on its disk, then try again."),
    "SQLITE_BUSY": (
        f"stayed locked by another process for more than {_BUSY_TIMEOUT_MS // 1000} s",
        "Try again when the other process is done.",
    ),
    "SQLITE_IOERR": ("cannot be read or written (an I/O error)", "Check its disk, then try again."),
    "SQLITE_CANTOPEN": (
        "cannot be opened",
        "Check that it and its folder exist and that you may read and write them.",
    ),
    "SQLITE_PERM": ("may not be accessed", "Check the permissions and owner of the file and of its folder."),
}


def sqlite_fault(path: Path, exc: BaseException) -> MetadataStoreError | None:
    """A :class:`MetadataStoreError` naming ``path`` for a SQLite error caused by the file itself
    (read-only, damaged, disk full, locked, I/O ...); None for any other error (a constraint, a bug)."""
    if not isinstance(exc, sqlite3.DatabaseError) or isinstance(exc, sqlite3.IntegrityError):
        return None
    code = getattr(exc, "sqlite_errorname", None) or ""
    # Extended codes (SQLITE_READONLY_DBMOVED, SQLITE_IOERR_SHORT_READ ...) by their primary code.
    fault = next((f for key, f in _SQLITE_FAULTS.items() if code == key or code.startswith(key + "_")), None)
    if fault is None and str(exc) in ("file is not a database", "database disk image is malformed"):
        fault = _SQLITE_FAULTS["SQLITE_NOTADB" if str(exc).startswith("file") else "SQLITE_CORRUPT"]
    if fault is None:
        return None
    what, hint = fault
    return MetadataStoreError(f"The metadata database {path} {what} (SQLite: {exc}).", hint=hint)


class SQLiteConnection(Connection):
    def __init__(self, path: Path, *, read_only: bool) -> None:
        self.path = path
        if read_only:
            # A URI, so the path must be quoted: '?' or '#' in a folder name would end it.
            conn = sqlite3.connect(
                f"file:{quote(str(path))}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
            )
        else:
            conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        try:
            conn.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA foreign_keys=ON")
            if not read_only:
                conn.execute("PRAGMA synchronous=NORMAL")
        except BaseException:
            conn.close()
            raise
        super().__init__(conn)

    def begin(self, *, write: bool) -> None:
        # IMMEDIATE takes the write lock up front, so read-then-write sequences cannot interleave.
        self.conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")

    def store_error(self, exc: BaseException) -> MetadataStoreError | None:
        return sqlite_fault(self.path, exc)

    def is_unique_violation(self, exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.IntegrityError) and getattr(exc, "sqlite_errorname", "") in (
            "SQLITE_CONSTRAINT_UNIQUE",
            "SQLITE_CONSTRAINT_PRIMARYKEY",
        )

    def table_exists(self, name: str) -> bool:
        row = self.conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)).fetchone()
        return row is not None


class PostgresConnection(Connection):
    is_postgres = True

    def __init__(self, url: str, *, read_only: bool) -> None:
        import psycopg

        try:
            conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
        except psycopg.OperationalError as exc:
            lines = str(exc).strip().splitlines()
            raise MetadataStoreError(
                "Cannot connect to the PostgreSQL metadata store: " + (lines[0] if lines else type(exc).__name__),
                hint="Check that the server is running and that metadata_url is right.",
            ) from exc
        try:
            if read_only:
                # The server refuses writes too, not only this class.
                conn.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        except BaseException:
            conn.close()
            raise
        self._unique_violation = psycopg.errors.UniqueViolation
        self._url = redact_url(url)
        self._cache: dict[str, str] = {}
        super().__init__(conn)

    def sql(self, text: str) -> str:
        out = self._cache.get(text)
        if out is None:
            out = self._cache[text] = text.replace("%", "%%").replace("?", "%s")
        return out

    def begin(self, *, write: bool) -> None:
        self.conn.execute("BEGIN")

    def is_unique_violation(self, exc: BaseException) -> bool:
        return isinstance(exc, self._unique_violation)

    def store_error(self, exc: BaseException) -> MetadataStoreError | None:
        import psycopg

        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        if isinstance(exc, psycopg.errors.ReadOnlySqlTransaction):
            return MetadataStoreError(
                f"The PostgreSQL metadata store {self._url} is read-only ({first}).",
                hint="Point metadata_url at the primary server, or at a database you may write.",
            )
        if isinstance(exc, psycopg.errors.DiskFull):
            return MetadataStoreError(
                f"The PostgreSQL metadata store {self._url} is out of disk space ({first}).",
                hint="Free space on the database server, then try again.",
            )
        if isinstance(exc, psycopg.OperationalError):
            return MetadataStoreError(
                f"Lost the connection to the PostgreSQL metadata store {self._url} ({first}).",
                hint="Check that the server is running and reachable, then try again.",
            )
        return None

    def table_exists(self, name: str) -> bool:
        row = self.conn.execute("SELECT to_regclass(%s)", (name,)).fetchone()
        return row is not None and row[0] is not None


def connect(url: str, *, read_only: bool) -> Connection:
    """Connect to the store at ``url``; a SQLite file must exist already."""
    path = sqlite_path(url)
    if path is not None:
        if not path.is_file():
            raise MetadataStoreError(
                f"The metadata database {path} does not exist.",
                hint="Create the workspace first (Workspace.create or `headwater workspace create`).",
            )
        return SQLiteConnection(path, read_only=read_only)
    if url.startswith(_POSTGRES_PREFIXES):
        return PostgresConnection(url, read_only=read_only)
    raise MetadataStoreError(
        f"Unsupported metadata store URL {redact_url(url)!r}.",
        hint="Use sqlite:///<path> or postgresql://user@host:port/database.",
    )
