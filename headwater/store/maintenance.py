"""Checking and copying a metadata database as a whole: integrity, expected tables, online backup.

Used by ``headwater workspace check`` and ``headwater workspace backup``
(:mod:`headwater.ops.workspace_check`). Stdlib ``sqlite3`` for SQLite; PostgreSQL through the
store's own connection.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from urllib.parse import quote

from headwater.errors import MetadataStoreError
from headwater.store.db import sqlite_fault

__all__ = ["TABLES", "backup_sqlite", "sqlite_integrity_problems"]

#: The tables Headwater's schema (at its head revision) has; a test keeps this in step with Alembic's.
TABLES = (
    "alembic_version",
    "api_tokens",
    "compute_targets",
    "datasets",
    "datastores",
    "drift_alerts",
    "drift_detectors",
    "drift_runs",
    "environments",
    "experiments",
    "leases",
    "meta",
    "metrics",
    "module_versions",
    "modules",
    "models",
    "pipeline_drafts",
    "pipeline_endpoint_versions",
    "pipeline_endpoints",
    "pipelines",
    "run_outputs",
    "run_properties",
    "run_tags",
    "runs",
    "schedule_fires",
    "schedules",
    "snapshots",
)

_MAX_INTEGRITY_LINES = 20
_BUSY_TIMEOUT_MS = 30_000


def _connect_read_only(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
    return conn


def sqlite_integrity_problems(path: Path) -> list[str]:
    """What SQLite's ``PRAGMA integrity_check`` finds wrong in the database at ``path`` (at most
    20 lines), plus the Headwater tables it lacks; empty when it is sound."""
    if not path.is_file():
        return [f"the metadata database {path} does not exist"]
    try:
        conn = _connect_read_only(path)
        try:
            rows = [str(r[0]) for r in conn.execute(f"PRAGMA integrity_check({_MAX_INTEGRITY_LINES})")]
            tables = {str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return [f"SQLite cannot check {path}: {exc}"]
    problems = [] if rows == ["ok"] else [f"integrity_check: {row}" for row in rows]
    missing = [t for t in TABLES if t not in tables]
    if missing and not problems:
        problems.append(f"tables missing from {path}: {', '.join(missing)}")
    return problems


def backup_sqlite(path: Path, dest: Path) -> int:
    """Copy the SQLite database at ``path`` to the new file ``dest`` with SQLite's online backup
    API; returns how many runs the copy holds.

    The copy is one consistent snapshot even while other processes write (a WAL-mode reader does
    not block writers, nor they it). It is written next to ``dest`` under a temporary name and
    renamed when complete, so ``dest`` never holds half a copy.
    """
    tmp = dest.with_name(f".{dest.name}.partial-{os.getpid()}")
    try:
        try:
            src = sqlite3.connect(str(path), isolation_level=None)
            try:
                src.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
                dst = sqlite3.connect(str(tmp), isolation_level=None)
                try:
                    src.backup(dst)
                    check = [str(r[0]) for r in dst.execute("PRAGMA quick_check")]
                    runs = int(dst.execute("SELECT count(*) FROM runs").fetchone()[0]) if check == ["ok"] else 0
                finally:
                    dst.close()
            finally:
                src.close()
        except sqlite3.DatabaseError as exc:
            fault = sqlite_fault(path, exc)
            raise MetadataStoreError(
                f"Cannot back up {path} to {dest}: {exc}.",
                hint=fault.hint
                if fault is not None and fault.hint
                else "Check that there is room on the destination's disk and that you may write there.",
            ) from exc
        if check != ["ok"]:
            raise MetadataStoreError(
                f"The backup of {path} does not check out ({'; '.join(check[:3])}).",
                hint="Run `headwater workspace check`: the database itself may be damaged.",
            )
        os.replace(tmp, dest)
        return runs
    finally:
        for leftover in (tmp, *(Path(f"{tmp}{suffix}") for suffix in ("-wal", "-shm", "-journal"))):
            leftover.unlink(missing_ok=True)
