"""Two writers numbering a new version of the same name at once get the next two numbers, not an error.

The race is provoked, not hoped for: writer B takes the next number inside an open transaction,
then writer A (another connection, in a thread) starts; on PostgreSQL the test waits until A's
insert is blocked on B's uncommitted row (so A has read the same highest number as B), then B
commits and A must try again with the next number. On SQLite ``BEGIN IMMEDIATE`` makes A wait
before it reads, so it never clashes; the test checks the same outcome there.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

import pytest

from headwater.store.metadata import MetadataStore
from headwater.store.repo_published import PublishedRecord


@dataclass
class Kind:
    """How to register the n-th version of one name in a store, and the number the first one gets."""

    prepare: Callable[[MetadataStore], None]
    register: Callable[[MetadataStore, int], int]
    first: int = 1


def _no_setup(store: MetadataStore) -> None:
    return None


def _dataset(store: MetadataStore, n: int) -> int:
    rec = store.register_dataset_version(
        "raced", kind="file", definition={"n": n}, digest=None, file_digests=None, create_new_version=True
    )
    return int(rec.version or 0)


def _environment(store: MetadataStore, n: int) -> int:
    return store.register_environment("raced", {"n": n}, digest=f"d{n}").version


def _model(store: MetadataStore, n: int) -> int:
    return store.register_model_version("raced", files={"model.pkl": f"{n:064x}"}, digest=f"d{n}").version


def _module_setup(store: MetadataStore) -> None:
    store.create_module("raced")


def _module(store: MetadataStore, n: int) -> int:
    module = store.get_module(name="raced")
    assert module is not None
    return int(store.add_module_version(module.id, {"n": n}).version)


def _endpoint_setup(store: MetadataStore) -> None:
    for n in range(3):
        store.create_published_pipeline(PublishedRecord(id=f"p{n}", name=f"p{n}", graph={}))
    store.create_pipeline_endpoint("raced", None, "p0")


def _endpoint(store: MetadataStore, n: int) -> int:
    endpoint = store.get_pipeline_endpoint(name="raced")
    assert endpoint is not None
    return int(store.add_endpoint_version(endpoint.id, f"p{n}"))


KINDS = {
    "dataset": Kind(_no_setup, _dataset),
    "environment": Kind(_no_setup, _environment),
    "model": Kind(_no_setup, _model),
    "module": Kind(_module_setup, _module),
    "endpoint": Kind(_endpoint_setup, _endpoint, first=1),  # version 0 is the endpoint's first pipeline
}


def _wait_until_blocked(url: str, done: Future[int]) -> None:
    """On PostgreSQL: until a connection waits for a lock (A's insert waits for B's row)."""
    if not url.startswith("postgresql"):
        return  # SQLite: A waits in BEGIN IMMEDIATE, which nothing outside A can see
    import psycopg

    deadline = time.monotonic() + 60
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline and not done.done():
            row = conn.execute("SELECT count(*) FROM pg_locks WHERE NOT granted").fetchone()
            if row is not None and row[0] > 0:
                return
            time.sleep(0.02)
    done.result(timeout=0)  # A finished (or failed) without waiting: show why
    raise AssertionError("writer A never waited for writer B's uncommitted version")


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_two_writers_at_once_get_consecutive_versions(kind: str, store: MetadataStore, store_url: str) -> None:
    spec = KINDS[kind]
    spec.prepare(store)
    result_a: Future[int] = Future()

    def writer_a() -> None:
        try:
            result_a.set_result(spec.register(store, 2))
        except BaseException as exc:
            result_a.set_exception(exc)

    with MetadataStore.open(store_url) as other:
        thread = threading.Thread(target=writer_a)
        with other.transaction():
            version_b = spec.register(other, 1)
            thread.start()
            _wait_until_blocked(store_url, result_a)
        thread.join(timeout=120)
    assert not thread.is_alive()
    assert (version_b, result_a.result(timeout=0)) == (spec.first, spec.first + 1)
