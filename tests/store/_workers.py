"""Code the concurrency tests run in separate processes (kept apart so a child imports little)."""

from __future__ import annotations

from typing import Any

from headwater.store.metadata import MetadataStore

_barrier: Any = None


def init(barrier: Any) -> None:
    """Pool initializer: keep the barrier the workers meet at before each write."""
    global _barrier
    _barrier = barrier


def _start_together() -> None:
    assert _barrier is not None, "init() was not run"
    _barrier.wait(timeout=60)


def register_versions(url: str, name: str, worker: int, count: int) -> list[tuple[int, str, int]]:
    """Register ``count`` new versions of ``name``; returns (version, id, i) for each.

    Every registration starts at a barrier, in step with the other workers, so each one races
    them (without it one SQLite writer would finish all of its versions before another woke up).
    """
    out: list[tuple[int, str, int]] = []
    with MetadataStore.open(url) as store:
        for i in range(count):
            _start_together()
            try:
                rec = store.register_dataset_version(
                    name,
                    kind="file",
                    definition={"worker": worker, "i": i},
                    digest=None,
                    file_digests=None,
                    create_new_version=True,
                )
            except BaseException:
                _barrier.abort()  # the others stop waiting for this worker and fail at once
                raise
            assert rec.version is not None
            out.append((rec.version, rec.id, i))
    return out


def register_same(url: str, name: str) -> tuple[int, str, str]:
    """Register one shared definition without create_new_version; returns (version, id, experiment id)."""
    with MetadataStore.open(url) as store:
        _start_together()
        rec = store.register_dataset_version(
            name, kind="file", definition={"same": True}, digest=None, file_digests=None
        )
        exp = store.get_or_create_experiment(name)
    assert rec.version is not None
    return rec.version, rec.id, exp.id
