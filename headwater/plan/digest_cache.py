"""The digest cache: a file's BLAKE3 under its absolute path with ``(size, mtime_ns, inode)``.

A small SQLite file (WAL mode, a schema-version row; a cache of another version is dropped, not
migrated), for a workspace at ``<workspace folder>/cache/digests.db`` (:func:`workspace_cache_path`).
:class:`NullDigestCache` has the cache's interface and caches nothing, for callers that must not
write (or cannot create) a cache file. :mod:`headwater.plan.digests` decides when an entry may be
used; this module only stores them. Standard library only.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import weakref
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import ClassVar, Protocol

from headwater.layout import WorkspaceLayout

__all__ = [
    "CACHE_SCHEMA_VERSION",
    "NULL_CACHE",
    "DigestCache",
    "DigestCacheLike",
    "NullDigestCache",
    "open_digest_cache",
    "workspace_cache_path",
]

#: Bump when the cache table changes; an old cache file is then emptied and rebuilt.
CACHE_SCHEMA_VERSION = 1

_BUSY_TIMEOUT_S = 30.0
#: Every cached entry of a JSON array of paths, in one statement (the primary key is used per path).
_LOOKUP_SQL = "SELECT path, size, mtime_ns, inode, digest FROM digests WHERE path IN (SELECT value FROM json_each(?))"
_CHUNK_SQL = "SELECT path, size, mtime_ns, inode, digest FROM digests WHERE path IN "
_LOOKUP_CHUNK = 500  # paths per statement without JSON (SQLite allows at least 999 parameters)


def workspace_cache_path(workspace_folder: str | os.PathLike[str]) -> Path:
    """Where a workspace keeps its digest cache: ``<folder>/cache/digests.db``."""
    return WorkspaceLayout(workspace_folder).digest_cache


class DigestCacheLike(Protocol):
    """What :func:`file_digest` needs from a cache: look up, store (one or many), close."""

    def get(self, path: str, st: os.stat_result) -> str | None: ...

    def get_many(self, entries: Sequence[tuple[str, os.stat_result]]) -> list[str | None]: ...

    def put(self, path: str, st: os.stat_result, digest: str) -> None: ...

    def put_many(self, entries: Iterable[tuple[str, os.stat_result, str]]) -> None: ...

    def close(self) -> None: ...


class NullDigestCache:
    """A cache that remembers nothing: every file is hashed every time."""

    def get(self, path: str, st: os.stat_result) -> str | None:
        """Always a miss."""
        return None

    def get_many(self, entries: Sequence[tuple[str, os.stat_result]]) -> list[str | None]:
        """Always misses."""
        return [None] * len(entries)

    def put(self, path: str, st: os.stat_result, digest: str) -> None:
        """Forget the digest."""

    def put_many(self, entries: Iterable[tuple[str, os.stat_result, str]]) -> None:
        """Forget the digests."""

    def close(self) -> None:
        """Nothing to close."""

    def __enter__(self) -> NullDigestCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class DigestCache:
    """Digests of local files keyed by absolute path and validated by ``(size, mtime_ns, inode)``.

    The SQLite file is opened on first use and closed by :meth:`close` (or leaving a ``with``
    block). Several processes may share one cache file: writes are upserts under WAL (one
    transaction per :meth:`put_many`), and a stale or missing entry only costs a re-hash.
    """

    #: This process's caches, for :meth:`holding_sqlite` (weakly: a cache is not kept alive here).
    _instances: ClassVar[weakref.WeakSet[DigestCache]] = weakref.WeakSet()

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        DigestCache._instances.add(self)

    # -- connection ----------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        if self._conn is not None:
            return self._conn
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._ensure_schema(conn)
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        return conn

    @staticmethod
    def _schema_version(conn: sqlite3.Connection) -> str | None:
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        except sqlite3.OperationalError:  # no meta table yet
            return None
        return None if row is None else str(row[0])

    @classmethod
    def _ensure_schema(cls, conn: sqlite3.Connection) -> None:
        """Create the tables, or empty a cache of another schema version; a plain read when current."""
        if cls._schema_version(conn) == str(CACHE_SCHEMA_VERSION):
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row is None or row[0] != str(CACHE_SCHEMA_VERSION):
                conn.execute("DROP TABLE IF EXISTS digests")
                conn.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)",
                    (str(CACHE_SCHEMA_VERSION),),
                )
            conn.execute(
                "CREATE TABLE IF NOT EXISTS digests (path TEXT PRIMARY KEY, size INTEGER NOT NULL, "
                "mtime_ns INTEGER NOT NULL, inode INTEGER NOT NULL, digest TEXT NOT NULL)"
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def close(self) -> None:
        """Close the database connection (it is reopened on next use)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    @property
    def sqlite_file(self) -> Path:
        """The cache's SQLite database file."""
        return self.path

    def release(self) -> bool:
        """Close the connection for now (it is reopened on next use); False, and nothing done, while
        a transaction is open. For a fork (:mod:`headwater.ops.orchestrator_fork`)."""
        with self._lock:
            if self._conn is not None:
                if self._conn.in_transaction:
                    return False
                self._conn.close()
                self._conn = None
        return True

    @classmethod
    def holding_sqlite(cls) -> list[DigestCache]:
        """This process's caches whose SQLite connection is open now (see :meth:`release`)."""
        return [c for c in list(cls._instances) if c._conn is not None]

    def __enter__(self) -> DigestCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- entries -------------------------------------------------------------------------------

    def get(self, path: str, st: os.stat_result) -> str | None:
        """The cached digest of ``path`` if ``st`` still matches what was cached, else None."""
        with self._lock:
            row = (
                self._connect()
                .execute("SELECT size, mtime_ns, inode, digest FROM digests WHERE path = ?", (path,))
                .fetchone()
            )
        if row is None or (row[0], row[1], row[2]) != (st.st_size, st.st_mtime_ns, st.st_ino):
            return None
        return str(row[3])

    def get_many(self, entries: Sequence[tuple[str, os.stat_result]]) -> list[str | None]:
        """:meth:`get` for many ``(path, stat)`` entries with one query, whatever their number.

        The paths go in as one JSON array (SQLite's ``json_each``), so neither the statements nor
        the parameters grow with the files; each row is then checked against its ``stat``.
        """
        if not entries:
            return []
        paths = list(dict.fromkeys(path for path, _ in entries))
        with self._lock:
            conn = self._connect()
            try:
                rows = {r[0]: r for r in conn.execute(_LOOKUP_SQL, (json.dumps(paths, ensure_ascii=False),))}
            except sqlite3.OperationalError:  # an SQLite built without JSON: a statement per chunk
                rows = {}
                for i in range(0, len(paths), _LOOKUP_CHUNK):
                    chunk = paths[i : i + _LOOKUP_CHUNK]
                    sql = _CHUNK_SQL + "(" + ",".join("?" * len(chunk)) + ")"
                    rows.update((r[0], r) for r in conn.execute(sql, chunk))
        out: list[str | None] = []
        for path, st in entries:
            row = rows.get(path)
            ok = row is not None and row[1] == st.st_size and row[2] == st.st_mtime_ns and row[3] == st.st_ino
            out.append(str(row[4]) if ok and row is not None else None)
        return out

    def put(self, path: str, st: os.stat_result, digest: str) -> None:
        """Remember ``digest`` for ``path`` as it was when ``st`` was taken."""
        self.put_many([(path, st, digest)])

    def put_many(self, entries: Iterable[tuple[str, os.stat_result, str]]) -> None:
        """Remember many ``(path, stat, digest)`` entries in one transaction (one commit, not one each)."""
        rows = [(path, st.st_size, st.st_mtime_ns, st.st_ino, digest) for path, st, digest in entries]
        if not rows:
            return
        with self._lock:
            conn = self._connect()
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany(
                    "INSERT OR REPLACE INTO digests (path, size, mtime_ns, inode, digest) VALUES (?, ?, ?, ?, ?)",
                    rows,
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def __len__(self) -> int:
        with self._lock:
            row = self._connect().execute("SELECT COUNT(*) FROM digests").fetchone()
        return int(row[0])


#: The shared no-op cache: the default wherever a cache is optional.
NULL_CACHE = NullDigestCache()


def open_digest_cache(path: str | os.PathLike[str]) -> DigestCache | NullDigestCache:
    """A :class:`DigestCache` at ``path``, or a :class:`NullDigestCache` when it cannot be created.

    A read-only workspace (a step reading another host's files) still gets correct digests, only
    without caching.
    """
    cache = DigestCache(path)
    try:
        cache._connect()
    except (OSError, sqlite3.Error):
        cache.close()
        return NullDigestCache()
    return cache


# -- hashing -----------------------------------------------------------------------------------
