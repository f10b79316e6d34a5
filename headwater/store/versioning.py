"""Numbering a new version of a named thing: one helper for every query group that does it.

Datasets, environments, models, modules and pipeline endpoints are versioned by name: a new
version takes the highest number so far plus one. Two writers may take the same number at once
(on PostgreSQL both read the same highest number before either commits; SQLite's ``BEGIN
IMMEDIATE`` serialises them), and the unique key on (name, version) lets only one of them insert
it. :meth:`VersionedQueries._insert_version` runs the caller's read-then-insert in a write
transaction and, when it loses such a race, runs it again in a new transaction, so the loser gets
the next number instead of an error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from headwater.errors import MetadataStoreError
from headwater.store.repo_base import RETRIES, RepoBase

__all__ = ["VersionedQueries"]

T = TypeVar("T")


class VersionedQueries(RepoBase):
    """The base of the query groups that number versions (a part of :class:`MetadataStore`)."""

    def _insert_version(
        self,
        attempt: Callable[[], T],
        *,
        what: str,
        on_clash: Callable[[], Exception | None] | None = None,
    ) -> T:
        """``attempt()`` (read the highest number, insert the next) in a write transaction; run
        again, up to ``RETRIES`` times, while it clashes on a unique key because another writer
        took that number first.

        ``on_clash`` returns the error to raise instead of trying again, for a clash a new attempt
        cannot solve (a version number the caller chose); ``what`` completes "Could not ..." in the
        error raised when every attempt lost.
        """
        for _attempt in range(RETRIES):
            try:
                with self._transaction(write=True):
                    return attempt()
            except Exception as exc:
                if not self._db.is_unique_violation(exc):
                    raise
                error = on_clash() if on_clash is not None else None
                if error is not None:
                    raise error from exc
                # another writer took this version number: take the next one
        raise MetadataStoreError(f"Could not {what}: too much contention.", hint="Try again.")
