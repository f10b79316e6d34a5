"""Writers in separate OS processes (and threads) never lose or duplicate a dataset version."""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pytest

from headwater.store.metadata import MetadataStore
from tests.store import _workers

PROCESSES = 2
PER_PROCESS = 20


def _process_pool(workers: int) -> ProcessPoolExecutor:
    ctx = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=ctx, initializer=_workers.init, initargs=(ctx.Barrier(workers),)
    )


def test_processes_registering_versions_of_one_dataset_get_each_number_once(
    store: MetadataStore, store_url: str
) -> None:
    with _process_pool(PROCESSES) as pool:
        futures = [
            pool.submit(_workers.register_versions, store_url, "shared", w, PER_PROCESS) for w in range(PROCESSES)
        ]
        results = [f.result() for f in futures]

    total = PROCESSES * PER_PROCESS
    returned = sorted(version for result in results for version, _id, _i in result)
    assert returned == list(range(1, total + 1))
    for result in results:  # each writer sees its own registrations in order
        versions = [version for version, _id, _i in result]
        assert versions == sorted(versions)

    stored = store.list_dataset_versions("shared")
    assert [r.version for r in stored] == list(range(1, total + 1))
    by_version = {r.version: r for r in stored}
    for worker, result in enumerate(results):
        for version, rec_id, i in result:
            assert by_version[version].id == rec_id
            assert by_version[version].definition == {"worker": worker, "i": i}


def test_processes_registering_one_definition_at_once_share_version_one(store: MetadataStore, store_url: str) -> None:
    workers = 3
    with _process_pool(workers) as pool:
        results = list(pool.map(_workers.register_same, [store_url] * workers, ["raw"] * workers))
    assert {version for version, _id, _exp in results} == {1}
    assert len({rec_id for _v, rec_id, _exp in results}) == 1
    assert len({exp for _v, _id, exp in results}) == 1
    assert [r.version for r in store.list_dataset_versions("raw")] == [1]
    assert [e.name for e in store.list_experiments()] == ["raw"]


def test_threads_sharing_one_store_get_each_version_once(store: MetadataStore) -> None:
    threads, per_thread = 4, 10
    barrier = threading.Barrier(threads)

    def work(worker: int) -> list[int]:
        barrier.wait(timeout=60)
        return [
            int(
                store.register_dataset_version(
                    "shared",
                    kind="file",
                    definition={"worker": worker, "i": i},
                    digest=None,
                    file_digests=None,
                    create_new_version=True,
                ).version
                or 0
            )
            for i in range(per_thread)
        ]

    with ThreadPoolExecutor(threads) as pool:
        versions = sorted(v for result in pool.map(work, range(threads)) for v in result)
    assert versions == list(range(1, threads * per_thread + 1))


@pytest.fixture(autouse=True)
def _no_stray_children() -> Iterator[None]:
    """Every worker process is gone when a test ends (the pools are joined on exit)."""
    yield
    assert multiprocessing.active_children() == []
