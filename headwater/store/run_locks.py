"""A run's orchestrator lock in PostgreSQL: a session advisory lock, for readers on other machines.

On a PostgreSQL workspace the orchestrator also holds ``pg_advisory_lock(<key of its run>)`` on
its store's connection for its whole life. The server releases a session lock only when that
session ends — the orchestrator's process is gone (its connection closes with it), or its
connection to the server is lost, after which the orchestrator cannot record anything either. So a
reader on a machine that cannot see the orchestrator's process or its run folder's ``flock`` can
still tell, with ``pg_try_advisory_lock``, that the orchestrator is gone. (On the orchestrator's
own machine the ``flock`` decides: :mod:`headwater.engine.liveness`.) SQLite has no such locks:
every function here does nothing there.
"""

from __future__ import annotations

import hashlib
import time

from headwater.store.metadata import MetadataStore

__all__ = ["advisory_key", "hold_run_lock", "release_run_lock", "try_run_lock"]


def advisory_key(run_id: str) -> int:
    """The signed 64-bit advisory-lock key of a run's orchestrator."""
    digest = hashlib.sha256(f"headwater-orchestrator:{run_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def try_run_lock(store: MetadataStore, run_id: str) -> bool | None:
    """Take the run's lock if no session holds it: True (the caller holds it now: release it),
    False (held), None (not a PostgreSQL store)."""
    if not store.is_postgres:
        return None
    row = store._one("SELECT pg_try_advisory_lock(?)", (advisory_key(run_id),))
    return bool(row and row[0])


def release_run_lock(store: MetadataStore, run_id: str) -> None:
    if store.is_postgres:
        store._one("SELECT pg_advisory_unlock(?)", (advisory_key(run_id),))


def hold_run_lock(store: MetadataStore, run_id: str, *, wait_seconds: float = 30.0) -> bool:
    """Take the run's lock for the life of the store's connection (the orchestrator's). Waits
    while a reader holds it for a moment; False when it could not be taken (or SQLite)."""
    if not store.is_postgres:
        return False
    deadline = time.monotonic() + wait_seconds
    while not try_run_lock(store, run_id):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
