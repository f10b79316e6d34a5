"""Creating a workspace: cheap to import, written once, durable before it is visible.

``Workspace.create`` of a new SQLite workspace writes its database in one go (schema, revision
and first records) without the metadata store's query modules; the result must be what the full
store makes, open with the full store later, survive the creating process being killed, and be
on disk (database, ``workspace.json``, folder entries) before the folder is renamed into place.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from headwater import Workspace
from headwater.sdk.workspace_create import init_store
from headwater.store import schema_create
from headwater.store.metadata import MetadataStore, sqlite_url
from headwater.store.schema import HEAD

#: What creating a workspace must not import: the store's query modules and records (and so
#: ``dataclasses``), Alembic and SQLAlchemy, and the stdlib modules only a failure path needs.
_HEAVY_PREFIXES = ("headwater.store.repo_", "sqlalchemy", "alembic")
_HEAVY = {
    "headwater.store.metadata",
    "headwater.store.records",
    "headwater.config",
    "headwater.status",
    "dataclasses",
    "inspect",
    "typing",
    "uuid",
    "shutil",
}


def _rows(db: Path) -> dict[str, Any]:
    """Everything in a SQLite file that is not a timestamp: schema text, settings, every row."""
    with closing(sqlite3.connect(db)) as conn:
        master = sorted(conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall())
        tables = [r[1] for r in master if r[0] == "table"]
        out: dict[str, Any] = {"<sqlite_master>": master}
        for pragma in ("journal_mode", "page_size", "user_version", "application_id", "auto_vacuum", "encoding"):
            out[f"<{pragma}>"] = conn.execute(f"PRAGMA {pragma}").fetchone()[0]
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        for table in tables:
            cursor = conn.execute(f'SELECT * FROM "{table}"')
            names = [d[0] for d in cursor.description]
            rows = [
                tuple(
                    "<time>" if name == "created_at" and value else value
                    for name, value in zip(names, row, strict=True)
                )
                for row in cursor.fetchall()
            ]
            out[table] = sorted(rows, key=repr)
    return out


def test_creating_a_workspace_imports_no_query_module_nor_dataclasses(tmp_path: Path) -> None:
    """What ``Workspace.create`` of a new workspace costs is mostly its imports: keep them few."""
    code = (
        "import json, sys\n"
        "from headwater import Workspace\n"
        "Workspace.create('fresh', folder=sys.argv[1]).close()\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    folder = tmp_path / "fresh"
    out = subprocess.run([sys.executable, "-c", code, str(folder)], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout))
    heavy = sorted(m for m in loaded if m in _HEAVY or m.startswith(_HEAVY_PREFIXES))
    assert heavy == []
    with Workspace.get("fresh", folder=folder) as ws:
        assert ws.metadata_store.schema_revision() == HEAD
        assert sorted(ws.datastores) == ["workspaceblobstore", "workspacefilestore"]
        assert ws.get_default_datastore().name == "workspaceblobstore"


def test_a_created_workspace_equals_one_made_through_the_full_store(tmp_path: Path) -> None:
    """Same schema text, settings (WAL) and records as ``MetadataStore.create`` plus the first records."""
    Workspace.create("same", folder=tmp_path / "lean").close()
    full = tmp_path / "full" / "metadata.db"
    full.parent.mkdir()
    init_store(sqlite_url(full), "same")
    lean, reference = _rows(tmp_path / "lean" / "metadata.db"), _rows(full)
    assert lean.keys() == reference.keys()
    for key in reference:
        assert lean[key] == reference[key], key
    assert lean["<journal_mode>"] == "wal"
    assert not (tmp_path / "lean" / "metadata.db-wal").exists()
    assert not (tmp_path / "lean" / "metadata.db-journal").exists()


def test_the_records_of_a_created_workspace_read_back_through_the_store(tmp_path: Path) -> None:
    with Workspace.create("back", folder=tmp_path / "back") as ws:
        store = ws.metadata_store
        assert store.get_meta("workspace_name") == "back"
        blob = store.get_datastore("workspaceblobstore")
        assert blob is not None and blob.kind == "azure_blob"
        assert blob.config == {"root": "datastores/workspaceblobstore", "builtin": True}
        assert blob.created_at.endswith("+00:00")
        assert ws.get_details()["creationTime"] == json.loads((ws.folder / "workspace.json").read_text())["created_at"]


def test_a_stale_ddl_file_still_creates_the_workspace_with_alembic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A DDL file of another revision is not used (a migration added without regenerating)."""
    ddl = tmp_path / "ddl"
    ddl.mkdir()
    for dialect in schema_create.DIALECTS:
        stale = "-- revision: 0001_initial\nCREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY);\n\n"
        (ddl / f"{dialect}.sql").write_text(stale, encoding="utf-8")
    monkeypatch.setattr(schema_create, "DDL_DIR", ddl)
    with Workspace.create("stale", folder=tmp_path / "stale") as ws:
        assert ws.metadata_store.schema_revision() == HEAD
        assert ws.metadata_store._db.table_exists("models")
        assert ws.get_default_datastore().name == "workspaceblobstore"


def test_a_new_workspace_is_on_disk_before_it_is_visible(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A power loss after the rename finds a complete workspace: the database, ``workspace.json``
    and the temporary folder's entries are flushed before it, the parent's entry right after."""
    events: list[tuple[str, str]] = []
    real_fsync, real_rename = os.fsync, os.rename

    def fsync(fd: int) -> None:
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def rename(src: Any, dst: Any, **kwargs: Any) -> None:
        real_rename(src, dst, **kwargs)
        events.append(("rename", str(dst)))

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "rename", rename)
    root = (tmp_path / "durable").resolve()
    Workspace.create("durable", folder=root).close()
    place = events.index(("rename", str(root)))
    before = [path for op, path in events[:place] if op == "fsync"]
    assert any(p.endswith("/metadata.db") for p in before), events
    assert any(Path(p).name.lstrip(".").startswith("workspace.json") for p in before), events
    assert any(Path(p).name.startswith(".durable.creating-") for p in before), events
    assert ("fsync", str(root.parent)) in events[place:], events


@pytest.mark.slow
def test_a_created_workspace_survives_the_creating_process_being_killed(tmp_path: Path) -> None:
    """SIGKILL right after create returns: nothing of the workspace is lost (no buffer left to write)."""
    code = (
        "import sys, time\n"
        "from headwater import Workspace\n"
        "Workspace.create('killed', folder=sys.argv[1])\n"
        "print('created', flush=True)\n"
        "time.sleep(60)\n"
    )
    folder = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-c", code, str(folder)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "created\n"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    with closing(MetadataStore.open(sqlite_url(folder / "metadata.db"))) as store:
        assert store.schema_revision() == HEAD
        assert store.get_meta("default_datastore") == "workspaceblobstore"
        assert [d.name for d in store.list_datastores()] == ["workspaceblobstore", "workspacefilestore"]
    with Workspace.get("killed", folder=folder) as ws:
        assert ws.get_default_datastore().name == "workspaceblobstore"
