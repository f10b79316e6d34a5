"""``headwater gc`` and the model registry: registered models' files stay, unused ones go."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

import pytest

from headwater import Workspace
from headwater.layout import WorkspaceLayout
from headwater.ops.gc import RECENT_SNAPSHOT_SECONDS, collect_garbage
from headwater.sdk.model import Model
from tests.conftest import gen


def _age(folder: Path) -> None:
    """Make every stored model file look older than gc's grace period (no waiting)."""
    old = time.time() - RECENT_SNAPSHOT_SECONDS - 60
    for p in folder.rglob("*"):
        if p.is_file():
            os.utime(p, (old, old))


def _stored(ws: Workspace) -> set[str]:
    return {p.name for p in WorkspaceLayout(ws.folder).models.rglob("*") if p.is_file()}


def test_gc_keeps_registered_models_files_and_removes_unused_ones(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = gen(tmp_path / "src", {"kept.pkl": b"kept", "shared": {"a": b"a", "b": b"b"}, "gone.pkl": b"gone"})
    monkeypatch.chdir(src)
    Model.register(ws, "kept.pkl", "kept")
    Model.register(ws, "shared", "shared")
    gone = Model.register(ws, "gone.pkl", "gone")
    Model.register(ws, "shared", "shared")  # a second version of the same bytes
    Model(ws, "shared", version=1).delete()  # its files are still used by version 2
    gone.delete()
    _age(WorkspaceLayout(ws.folder).models)
    before = _stored(ws)
    dry = collect_garbage(Path(ws.folder), ws.metadata_store, older_than=timedelta(0), dry_run=True)
    assert [i.kind for i in dry.removed] == ["models"] and _stored(ws) == before
    report = collect_garbage(Path(ws.folder), ws.metadata_store, older_than=timedelta(0))
    assert [(i.kind, i.bytes) for i in report.removed] == [("models", 4)]
    assert len(_stored(ws)) == len(before) - 1
    assert Path(Model(ws, "kept").download(tmp_path / "k")).read_bytes() == b"kept"
    assert (Path(Model(ws, "shared").download(tmp_path / "s")) / "b").read_bytes() == b"b"


def test_gc_keeps_a_fresh_unreferenced_file_a_registration_may_be_using(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = gen(tmp_path / "src", {"m.pkl": b"m"})
    monkeypatch.chdir(src)
    Model.register(ws, "m.pkl", "m").delete()
    _age(WorkspaceLayout(ws.folder).models)
    Model.register(ws, "m.pkl", "again")  # the bytes are stored already: the file is touched, not rewritten
    Model(ws, "again").delete()
    report = collect_garbage(Path(ws.folder), ws.metadata_store, older_than=timedelta(0))
    assert report.removed == [] and len(_stored(ws)) == 1
