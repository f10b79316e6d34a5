"""The store tests run once per backend: ``store_url`` is a SQLite file or a fresh PostgreSQL database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from headwater.store.metadata import MetadataStore, sqlite_url

BACKENDS = [pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """``"sqlite"`` or ``"postgres"``."""
    return str(request.param)


@pytest.fixture
def store_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """The URL of an empty store: a SQLite file not created yet, or an empty PostgreSQL database."""
    if backend == "postgres":
        # Asked for here, not in the signature, so SQLite-only runs never start the server.
        return str(request.getfixturevalue("postgres_url"))
    return sqlite_url(tmp_path / "store" / "metadata.db")


@pytest.fixture
def store(store_url: str) -> Iterator[MetadataStore]:
    """A store created at HEAD, closed after the test."""
    with MetadataStore.create(store_url) as s:
        yield s
