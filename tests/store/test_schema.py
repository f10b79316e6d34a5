"""The schema's versions, and how a store opens: at HEAD, newer, empty, read-only, missing, broken."""

from __future__ import annotations

import socket
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from headwater.errors import MetadataStoreError
from headwater.store.metadata import MetadataStore, sqlite_url
from headwater.store.schema import HEAD, MIGRATIONS_DIR, SCHEMA_REVISIONS

TABLES = {
    "alembic_version",
    "meta",
    "datastores",
    "datasets",
    "environments",
    "compute_targets",
    "experiments",
    "pipelines",
    "snapshots",
    "runs",
    "run_properties",
    "run_tags",
    "metrics",
    "run_outputs",
    # 0002_sharing
    "pipeline_endpoints",
    "pipeline_endpoint_versions",
    "pipeline_drafts",
    "modules",
    "module_versions",
    "schedules",
    "schedule_fires",
    "api_tokens",
    "leases",
    "models",
    # 0003_drift
    "drift_detectors",
    "drift_runs",
    "drift_alerts",
}


def execute_raw(url: str, sql: str) -> list[tuple[object, ...]]:
    """Run ``sql`` on the database behind ``url`` with the plain driver, outside the store."""
    if url.startswith("sqlite:///"):
        with closing(sqlite3.connect(url[len("sqlite:///") :], isolation_level=None)) as conn:
            return conn.execute(sql).fetchall()
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(sql)
        return cur.fetchall() if cur.description else []


def table_names(url: str) -> set[str]:
    if url.startswith("sqlite:///"):
        rows = execute_raw(url, "SELECT name FROM sqlite_master WHERE type = 'table'")
    else:
        rows = execute_raw(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return {str(r[0]) for r in rows} - {"sqlite_sequence"}


# -- revisions -----------------------------------------------------------------------------------


def test_schema_revisions_match_alembic_history() -> None:
    script = ScriptDirectory(str(MIGRATIONS_DIR))
    history = [rev.revision for rev in script.walk_revisions()]  # newest first
    assert tuple(reversed(history)) == SCHEMA_REVISIONS
    assert script.get_heads() == [HEAD]


def test_a_fresh_store_is_at_head_with_every_table(store_url: str) -> None:
    with MetadataStore.create(store_url) as store:
        assert store.schema_revision() == HEAD
    assert execute_raw(store_url, "SELECT version_num FROM alembic_version") == [(HEAD,)]
    assert table_names(store_url) == TABLES


def test_a_store_at_an_older_revision_is_migrated_on_open_and_keeps_its_rows(store_url: str) -> None:
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine

    from headwater.store.schema import sqlalchemy_url

    if store_url.startswith("sqlite:///"):
        Path(store_url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(sqlalchemy_url(store_url))
    try:
        with engine.begin() as conn:
            cfg = Config()
            cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, SCHEMA_REVISIONS[0])
    finally:
        engine.dispose()
    execute_raw(
        store_url,
        "INSERT INTO pipelines (id, graph, status, published, created_at) "
        "VALUES ('p1', '{}', 'Active', 0, '2026-01-01T00:00:00+00:00')",
    )
    with pytest.raises(MetadataStoreError, match="needs " + HEAD) as info:
        MetadataStore.open(store_url, read_only=True)
    assert info.value.hint is not None and "workspace upgrade" not in info.value.hint
    with MetadataStore.open(store_url) as store:
        assert store.schema_revision() == HEAD
    assert table_names(store_url) == TABLES
    rows = execute_raw(store_url, "SELECT id, continue_on_step_failure, properties FROM pipelines")
    assert rows == [("p1", 0, "{}")]


def test_a_store_written_by_a_newer_headwater_is_refused(store_url: str) -> None:
    MetadataStore.create(store_url).close()
    execute_raw(store_url, "UPDATE alembic_version SET version_num = '9999_future'")
    with pytest.raises(MetadataStoreError, match="newer") as info:
        MetadataStore.open(store_url)
    assert info.value.hint is not None
    assert "Upgrade Headwater" in info.value.hint
    with pytest.raises(MetadataStoreError, match="newer"):
        MetadataStore.open(store_url, read_only=True)
    with pytest.raises(MetadataStoreError, match="newer"):
        MetadataStore.create(store_url)  # not migrated "down", not an Alembic traceback
    assert execute_raw(store_url, "SELECT version_num FROM alembic_version") == [("9999_future",)]


def test_a_database_without_the_schema_is_not_opened_but_can_be_created(store_url: str) -> None:
    if store_url.startswith("sqlite:///"):
        path = Path(store_url[len("sqlite:///") :])
        path.parent.mkdir(parents=True)
        sqlite3.connect(path).close()  # an empty database file
    with pytest.raises(MetadataStoreError, match="no Headwater metadata") as info:
        MetadataStore.open(store_url)
    assert info.value.hint is not None
    assert "Workspace.create" in info.value.hint
    assert table_names(store_url) == set()  # opening did not create tables behind our back
    with MetadataStore.create(store_url) as store:
        assert store.schema_revision() == HEAD


# -- read-only -----------------------------------------------------------------------------------


def test_read_only_store_reads_and_refuses_writes(store_url: str) -> None:
    with MetadataStore.create(store_url) as writer:
        writer.set_meta("k", "v")
        exp = writer.get_or_create_experiment("exp")
        with MetadataStore.open(store_url, read_only=True) as reader:
            assert reader.read_only
            assert reader.get_meta("k") == "v"
            assert reader.get_experiment("exp") == exp
            writer.set_meta("k", "v2")  # a writer alongside; the reader sees committed changes
            assert reader.get_meta("k") == "v2"
            with pytest.raises(MetadataStoreError, match="read-only"):
                reader.set_meta("k", "other")
            with pytest.raises(MetadataStoreError, match="read-only"):
                reader.get_or_create_experiment("new")
            with pytest.raises(MetadataStoreError, match="read-only"):
                reader.register_dataset_version("raw", kind="file", definition={}, digest=None, file_digests=None)
            with pytest.raises(MetadataStoreError, match="read-only"):
                reader.add_properties("run", {"a": "1"})
        assert writer.get_meta("k") == "v2"
        assert writer.get_experiment("new") is None


def test_read_only_sqlite_is_read_only_in_the_database_too(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "metadata.db")
    MetadataStore.create(url).close()
    with (
        MetadataStore.open(url, read_only=True) as reader,
        pytest.raises(sqlite3.OperationalError, match="readonly"),
    ):
        reader._db.conn.execute("INSERT INTO meta (key, value) VALUES ('a', 'b')")


@pytest.mark.postgres
def test_read_only_postgres_is_read_only_in_the_server_too(postgres_url: str) -> None:
    import psycopg

    MetadataStore.create(postgres_url).close()
    with (
        MetadataStore.open(postgres_url, read_only=True) as reader,
        pytest.raises(psycopg.errors.ReadOnlySqlTransaction),
    ):
        reader._db.conn.execute("INSERT INTO meta (key, value) VALUES ('a', 'b')")


def test_read_only_sqlite_in_a_folder_whose_name_looks_like_a_uri(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "odd?name #1 %20" / "metadata.db")
    with MetadataStore.create(url) as store:
        store.set_meta("k", "v")
    with MetadataStore.open(url, read_only=True) as reader:
        assert reader.get_meta("k") == "v"


# -- SQLite specifics ----------------------------------------------------------------------------


def test_sqlite_store_is_in_wal_mode(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "metadata.db")
    MetadataStore.create(url).close()
    assert execute_raw(url, "PRAGMA journal_mode") == [("wal",)]


def test_opening_a_missing_sqlite_file_says_how_to_create_it(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "metadata.db"
    for read_only in (False, True):
        with pytest.raises(MetadataStoreError, match="does not exist") as info:
            MetadataStore.open(sqlite_url(path), read_only=read_only)
        assert info.value.hint is not None
        assert "Workspace.create" in info.value.hint
    assert not path.exists()


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "metadata.db"
    path.write_bytes(b"this is not a SQLite database, just some text long enough" * 20)
    for verb in (MetadataStore.open, MetadataStore.create):
        with pytest.raises(MetadataStoreError, match="is not a SQLite database") as err:
            verb(sqlite_url(path))
        assert str(path) in str(err.value) and "backup" in str(err.value)


def test_an_unsupported_url_is_refused_without_showing_its_password() -> None:
    with pytest.raises(MetadataStoreError, match="Unsupported") as info:
        MetadataStore.open("mysql://me:s3cret@db/x")
    assert "s3cret" not in str(info.value)


# -- PostgreSQL specifics ------------------------------------------------------------------------


def test_an_unreachable_postgres_server_is_a_metadata_store_error() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(MetadataStoreError, match="Cannot connect") as info:
        MetadataStore.open(f"postgresql://postgres@127.0.0.1:{port}/headwater")
    assert info.value.hint is not None
    assert "metadata_url" in info.value.hint


@pytest.mark.postgres
def test_a_missing_postgres_database_is_a_metadata_store_error(postgres_url: str) -> None:
    with pytest.raises(MetadataStoreError, match="Cannot connect"):
        MetadataStore.open(postgres_url.rsplit("/", 1)[0] + "/no_such_database")


@pytest.mark.postgres
def test_a_postgres_password_is_redacted(postgres_url: str) -> None:
    # The test server trusts every local connection, so any password is accepted (and unused).
    url = postgres_url.replace("postgres@", "postgres:s3cret@")
    with MetadataStore.create(url) as store:
        assert "s3cret" not in store.redacted_url
        assert store.redacted_url == postgres_url.replace("postgres@", "postgres:***@")
