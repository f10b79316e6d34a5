"""Alembic environment: runs Headwater's migrations on the connection or URL it is given.

Offline (``command.upgrade(cfg, "head", sql=True)``), with ``cfg.attributes["dialect_name"]``, it
writes the migrations' SQL for that dialect instead: :mod:`headwater.store.schema_gen` makes the
DDL that creates new workspaces from it.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

config = context.config


def run_migrations_offline() -> None:
    context.configure(dialect_name=config.attributes["dialect_name"], literal_binds=True, transactional_ddl=False)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    try:
        with engine.connect() as conn:
            context.configure(connection=conn, render_as_batch=True)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
