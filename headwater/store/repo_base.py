"""What the query groups of :class:`~headwater.store.metadata.MetadataStore` stand on.

:class:`RepoBase` holds the connection state (set by ``MetadataStore.__init__``) and the few
private helpers every query goes through: ``_one``, ``_all``, ``_exec`` and ``_transaction``.
The query groups (:mod:`headwater.store.repo_datasets`, :mod:`headwater.store.repo_runs`) derive
from it and use nothing else of the store, so mypy checks them on their own. The JSON encoding
of JSON columns, shared by every group, is :mod:`headwater.store.values` (re-exported here).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from headwater.errors import MetadataStoreError
from headwater.store.db import Connection, redact_url
from headwater.store.values import dumps, loads

__all__ = ["RETRIES", "RepoBase", "as_stored", "dumps", "loads"]

RETRIES = 100
"""How often a write that lost a race on a unique key (a version number ...) is tried again."""


def as_stored(value: Any) -> Any:
    """``value`` as it reads back from a JSON column (tuples become lists, paths strings ...)."""
    return loads(dumps(value))


class RepoBase:
    """The connection and the query helpers; :class:`MetadataStore` sets the attributes."""

    url: str
    _db: Connection
    _read_only: bool
    _lock: threading.RLock
    _tx_depth: int = 0

    def _check_writable(self) -> None:
        if self._read_only:
            raise MetadataStoreError(
                f"The metadata store at {redact_url(self.url)} is open read-only; this call writes to it.",
                hint="Open it without read_only=True to change it.",
            )

    def _fault(self, exc: Exception) -> None:
        """Raise the database-at-fault error ``exc`` stands for (read-only, damaged ...), if any."""
        err = self._db.store_error(exc)
        if err is not None:
            raise err from exc

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return [tuple(r) for r in self._db.conn.execute(self._db.sql(sql), tuple(params)).fetchall()]
            except Exception as exc:
                self._fault(exc)
                raise

    def _one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        with self._lock:
            try:
                row = self._db.conn.execute(self._db.sql(sql), tuple(params)).fetchone()
            except Exception as exc:
                self._fault(exc)
                raise
            return None if row is None else tuple(row)

    def _exec(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a write statement; returns the number of rows it changed."""
        self._check_writable()
        with self._lock:
            try:
                cur = self._db.conn.execute(self._db.sql(sql), tuple(params))
            except Exception as exc:
                self._fault(exc)
                raise
            return int(cur.rowcount or 0)

    @contextmanager
    def _transaction(self, *, write: bool = True) -> Iterator[None]:
        """One transaction around the body; a transaction opened inside another joins it (so a
        caller can make several writes, each transactional on its own, all-or-nothing)."""
        if write:
            self._check_writable()
        with self._lock:
            if self._tx_depth:
                self._tx_depth += 1
                try:
                    yield
                finally:
                    self._tx_depth -= 1
                return
            try:
                self._db.begin(write=write)
            except Exception as exc:
                self._fault(exc)
                raise
            self._tx_depth = 1
            try:
                yield
            except BaseException:
                self._tx_depth = 0
                self._rollback()
                raise
            self._tx_depth = 0
            try:
                self._db.conn.execute("COMMIT")
            except Exception as exc:
                self._rollback()
                self._fault(exc)
                raise

    def _rollback(self) -> None:
        try:
            self._db.conn.execute("ROLLBACK")
        except Exception as exc:  # nothing to roll back (SQLite ended it on the error), or the connection is gone
            if self._db.store_error(exc) is None and "no transaction is active" not in str(exc):
                raise

    def transaction(self) -> AbstractContextManager[None]:
        """A write transaction: the writes made inside it (this store's methods) are committed
        together at the end, or not at all when it raises."""
        return self._transaction(write=True)
