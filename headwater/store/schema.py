"""The metadata schema's versions, and the one place that runs Alembic.

Alembic (and so SQLAlchemy, ~0.2 s to import) is only loaded here, when a store is created or
upgraded; opening a store reads ``alembic_version`` with the plain DB-API driver and compares it
with :data:`SCHEMA_REVISIONS`.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["HEAD", "MIGRATION_LOCK_KEY", "MIGRATIONS_DIR", "SCHEMA_REVISIONS", "sqlalchemy_url", "upgrade_to_head"]

#: Every revision in ``migrations/versions``, oldest first. A test checks it against Alembic's history.
SCHEMA_REVISIONS: tuple[str, ...] = ("0001_initial", "0002_sharing", "0003_drift")
HEAD = SCHEMA_REVISIONS[-1]
#: The PostgreSQL advisory lock key that serializes migrations of one database ("hw-schema").
MIGRATION_LOCK_KEY = 0x68772D736368656D
MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def sqlalchemy_url(url: str) -> str:
    """Turn a store URL (``sqlite:///...``, ``postgresql://...``) into SQLAlchemy's form."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def upgrade_to_head(url: str) -> None:
    """Create or upgrade the schema at ``url`` to :data:`HEAD` with Alembic.

    On PostgreSQL, processes migrating one database at once (workspaces created or opened
    together) take turns: each holds a transaction-scoped advisory lock while Alembic reads the
    revision and migrates, so the later ones find the schema at head and do nothing. (A SQLite
    database is created inside the folder of the workspace being built, which only one process sees.)
    """
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import URL

    from headwater.store.db import sqlite_path

    path = sqlite_path(url)
    # A SQLite path goes in as a URL *object*: parsed from text, a '?' or '#' in a folder name
    # would end the path and Alembic would migrate some other file.
    engine = create_engine(URL.create("sqlite", database=str(path)) if path is not None else sqlalchemy_url(url))
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            cfg = Config()
            cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
            cfg.attributes["connection"] = conn  # migrations/env.py runs on it
            command.upgrade(cfg, "head")
    finally:
        engine.dispose()
