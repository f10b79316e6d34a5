"""TokenQueries (API tokens by hash, leases) on SQLite and PostgreSQL alike."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from headwater.errors import AlreadyExistsError
from headwater.store.metadata import MetadataStore

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_a_token_is_found_by_its_hash_and_listed_without_it(store: MetadataStore) -> None:
    made = store.insert_token("ci", "submit", "h" * 64)
    assert store.get_token_by_hash("h" * 64) == made
    assert store.get_token_by_hash("x" * 64) is None
    assert [t.name for t in store.list_tokens()] == ["ci"]
    assert "h" * 64 not in repr(store.list_tokens())
    assert made.allows("read") and made.allows("submit") and not made.allows("admin")


def test_a_token_name_is_never_reused_and_a_revoked_token_allows_nothing(store: MetadataStore) -> None:
    store.insert_token("ci", "admin", "a" * 64)
    with pytest.raises(AlreadyExistsError, match="'ci'"):
        store.insert_token("ci", "read", "b" * 64)
    assert store.revoke_token("ci") is True
    assert store.revoke_token("ci") is False
    revoked = store.get_token("ci")
    assert revoked is not None and revoked.revoked and not revoked.allows("read")


def test_touch_records_the_last_use(store: MetadataStore) -> None:
    made = store.insert_token("ci", "read", "a" * 64)
    store.touch_token(made.id, "2026-02-02T00:00:00.000000+00:00")
    got = store.get_token("ci")
    assert got is not None and got.last_used_at == "2026-02-02T00:00:00.000000+00:00"


def test_a_lease_is_held_by_one_holder_until_it_expires(store: MetadataStore) -> None:
    assert store.acquire_lease("scheduler", "a", 30, now=T0)
    assert not store.acquire_lease("scheduler", "b", 30, now=T0 + timedelta(seconds=10))
    assert store.acquire_lease("scheduler", "a", 30, now=T0 + timedelta(seconds=20))  # renewed until T0+50
    assert not store.acquire_lease("scheduler", "b", 30, now=T0 + timedelta(seconds=40))
    assert store.lease_holder("scheduler", now=T0 + timedelta(seconds=40)) == "a"
    assert store.acquire_lease("scheduler", "b", 30, now=T0 + timedelta(seconds=51))  # expired: taken over
    assert store.lease_holder("scheduler", now=T0 + timedelta(seconds=52)) == "b"


def test_releasing_a_lease_frees_it_only_for_its_holder(store: MetadataStore) -> None:
    assert store.acquire_lease("scheduler", "a", 30, now=T0)
    store.release_lease("scheduler", "b")
    assert not store.acquire_lease("scheduler", "b", 30, now=T0)
    store.release_lease("scheduler", "a")
    assert store.acquire_lease("scheduler", "b", 30, now=T0)


def test_racing_holders_never_both_win(store_url: str, store: MetadataStore) -> None:
    stores = [MetadataStore.open(store_url) for _ in range(4)]
    wins: list[str] = []
    barrier = threading.Barrier(len(stores))

    def race(i: int) -> None:
        barrier.wait()
        if stores[i].acquire_lease("scheduler", f"h{i}", 60, now=T0):
            wins.append(f"h{i}")

    threads = [threading.Thread(target=race, args=(i,)) for i in range(len(stores))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in stores:
        s.close()
    assert len(wins) == 1
    assert store.lease_holder("scheduler", now=T0) == wins[0]
