"""New databases get their schema from the DDL generated from the migrations, without Alembic.

The generated files must be what the migrations make now (a migration added without
``python scripts/schema_ddl.py --write`` fails here), a schema created from them must equal a
migrated one, and creating a store must import neither Alembic nor SQLAlchemy.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory

from headwater.store import schema_create
from headwater.store.metadata import MetadataStore, sqlite_url
from headwater.store.schema import HEAD, MIGRATIONS_DIR, sqlalchemy_url, upgrade_to_head
from headwater.store.schema_gen import ddl_path, stale_files

ROOT = Path(__file__).resolve().parents[2]


def _plain(value: Any) -> Any:
    """``value`` with SQL expression objects (a partial index's WHERE) as their text, so two
    inspections compare by content, not by object identity."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def schema_of(url: str) -> dict[str, Any]:
    """Everything a schema is made of, read back by SQLAlchemy's inspector, plus the revision."""
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(sqlalchemy_url(url))
    try:
        insp = inspect(engine)
        tables: dict[str, Any] = {}
        for name in sorted(insp.get_table_names()):
            tables[name] = {
                "columns": [
                    (c["name"], str(c["type"]), c["nullable"], c.get("default"), c.get("autoincrement"))
                    for c in insp.get_columns(name)
                ],
                "primary_key": insp.get_pk_constraint(name),
                "foreign_keys": sorted(_plain(insp.get_foreign_keys(name)), key=repr),
                "indexes": sorted(_plain(insp.get_indexes(name)), key=repr),
                "unique": sorted(_plain(insp.get_unique_constraints(name)), key=repr),
                "checks": sorted(_plain(insp.get_check_constraints(name)), key=repr),
            }
        with engine.connect() as conn:
            revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
            if url.startswith("sqlite:///"):
                raw = conn.execute(text("SELECT type, name, tbl_name, sql FROM sqlite_master")).all()
                tables["<sqlite_master>"] = sorted(tuple(r) for r in raw)
    finally:
        engine.dispose()
    return {"revision": revision, "tables": tables}


@pytest.fixture
def second_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """Another empty store of the same kind as ``store_url``."""
    if backend == "sqlite":
        yield sqlite_url(tmp_path / "migrated" / "metadata.db")
        return
    import psycopg

    server = request.getfixturevalue("postgres_server")
    name = f"hw_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server.url(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.url(name)
    finally:
        with psycopg.connect(server.url(), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_ddl_files_are_what_the_migrations_generate_now() -> None:
    heads = ScriptDirectory(str(MIGRATIONS_DIR)).get_heads()
    assert heads == [HEAD]
    for dialect in schema_create.DIALECTS:
        revision, statements = schema_create.ddl_statements(dialect)
        assert revision == HEAD, f"{ddl_path(dialect)} is at {revision}: run python scripts/schema_ddl.py --write"
        assert statements
    assert stale_files() == [], "run: python scripts/schema_ddl.py --write"


def test_a_schema_created_from_the_ddl_equals_the_migrated_one(store_url: str, second_url: str) -> None:
    with MetadataStore.create(store_url) as store:
        assert store.schema_revision() == HEAD
    if second_url.startswith("sqlite:///"):
        Path(second_url[len("sqlite:///") :]).parent.mkdir(parents=True)
    upgrade_to_head(second_url)
    created, migrated = schema_of(store_url), schema_of(second_url)
    assert created["revision"] == migrated["revision"] == [HEAD]
    assert created["tables"].keys() == migrated["tables"].keys()
    for table in migrated["tables"]:
        assert created["tables"][table] == migrated["tables"][table], table


def test_creating_a_store_imports_neither_alembic_nor_sqlalchemy(store_url: str) -> None:
    code = (
        "import json, sys\n"
        "from headwater.store.metadata import MetadataStore\n"
        "MetadataStore.create(sys.argv[1]).close()\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('alembic', 'sqlalchemy'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, store_url], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
    with MetadataStore.open(store_url) as store:
        assert store.schema_revision() == HEAD


def test_a_ddl_file_of_another_revision_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store_url: str
) -> None:
    """A stale file (a migration added, the file not regenerated): Alembic creates the schema."""
    ddl = tmp_path / "ddl"
    ddl.mkdir()
    for dialect in schema_create.DIALECTS:
        # Only the revision table: had it been used, every other table would be missing.
        stale = "-- revision: 0001_initial\nCREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY);\n\n"
        (ddl / f"{dialect}.sql").write_text(stale, encoding="utf-8")
    monkeypatch.setattr(schema_create, "DDL_DIR", ddl)
    assert schema_create.ddl_statements("sqlite")[0] == "0001_initial"
    with MetadataStore.create(store_url) as store:
        assert store.schema_revision() == HEAD
        assert store._db.table_exists("models")


def test_the_script_checks_and_writes_the_files() -> None:
    script = ROOT / "scripts" / "schema_ddl.py"
    check = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
