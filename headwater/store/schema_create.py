"""Creating a new database's schema from the generated DDL, without Alembic or SQLAlchemy.

``ddl/sqlite.sql`` and ``ddl/postgresql.sql`` hold the schema the migrations build, generated
from them (:mod:`headwater.store.schema_gen`, ``scripts/schema_ddl.py``). Creating a workspace
runs that DDL and stamps ``alembic_version`` with the revision the file names, in one transaction
— the ~0.5 s of importing Alembic and SQLAlchemy is then paid only to upgrade an old database.
A file generated for another revision than this Headwater's head is not used (the caller falls
back to Alembic), so a migration added without regenerating costs speed, never correctness;
``tests/store/test_schema_ddl.py`` fails on it.
"""

from __future__ import annotations

from pathlib import Path

TYPE_CHECKING = False  # no `typing` import: creating a workspace imports this module
if TYPE_CHECKING:
    from headwater.store.db import Connection

__all__ = ["DDL_DIR", "DIALECTS", "STATEMENT_END", "create_schema", "ddl_statements"]

DDL_DIR = Path(__file__).with_name("ddl")
DIALECTS = ("sqlite", "postgresql")
#: What ends each statement in a DDL file.
STATEMENT_END = ";\n\n"
_REVISION_LINE = "-- revision: "


def ddl_statements(dialect: str) -> tuple[str | None, list[str]]:
    """The revision a dialect's DDL file was generated at, and its statements; (None, []) when
    the file is missing."""
    try:
        text = (DDL_DIR / f"{dialect}.sql").read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, []
    revision = None
    statements = []
    for chunk in text.split(STATEMENT_END):
        lines = []
        for line in chunk.splitlines():
            if line.startswith(_REVISION_LINE):
                revision = line[len(_REVISION_LINE) :].strip()
            elif not line.startswith("--"):
                lines.append(line)
        sql = "\n".join(lines).strip()
        if sql:
            statements.append(sql)
    return revision, statements


def create_schema(db: Connection, head: str, lock_key: int) -> bool:
    """Create the schema at ``head`` in the empty database behind ``db`` from the DDL file.

    Returns False, touching nothing, when the file is missing or was generated at another
    revision (the caller migrates with Alembic instead). Processes creating one PostgreSQL
    database at once take turns on the advisory lock ``lock_key`` (as Alembic's upgrade does);
    the later ones find the schema there and do nothing.
    """
    revision, statements = ddl_statements("postgresql" if db.is_postgres else "sqlite")
    if revision != head or not statements:
        return False
    conn = db.conn
    db.begin(write=True)
    try:
        if db.is_postgres:
            conn.execute(db.sql("SELECT pg_advisory_xact_lock(?)"), (lock_key,))
        if not db.table_exists("alembic_version"):
            for sql in statements:
                conn.execute(sql)
            conn.execute(db.sql("INSERT INTO alembic_version (version_num) VALUES (?)"), (head,))
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return True
