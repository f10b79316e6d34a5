"""A step's panel: what changed since its previous run, and files of its outputs (inside the datastore only)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from headwater import Workspace
from headwater.errors import NotFoundError, PathEscapeError
from headwater.ops.studio_steps import flatten_parts, output_file, part_changes, step_detail
from headwater.store.datastores import local_backend_for
from headwater.store.records import RunOutputRecord, RunRecord


def test_part_changes_name_each_differing_part_with_both_values() -> None:
    before = {"script": "train.py", "parameters": {"lr": 0.1}, "inputs": {"raw": {"digest": "aa", "mode": "mount"}}}
    now = {
        "script": "train.py",
        "parameters": {"lr": 0.2, "k": 3},
        "inputs": {"raw": {"digest": "bb", "mode": "mount"}},
    }
    assert part_changes(before, now) == [
        ("inputs.raw.digest", "aa", "bb"),
        ("parameters.k", "", "3"),
        ("parameters.lr", "0.1", "0.2"),
    ]
    assert flatten_parts({"outputs": {}, "version": None}) == {"outputs": "{}", "version": "null"}


def test_output_files_are_served_from_inside_the_datastore_only(ws: Workspace) -> None:
    store = ws.metadata_store
    exp = store.get_or_create_experiment("e")
    store.create_run(RunRecord(id="s1", experiment_id=exp.id, kind="step", status="Finished", name="train"))
    record = store.get_datastore("workspaceblobstore")
    assert record is not None
    backend = local_backend_for(record, ws.folder)
    assert backend is not None
    root = backend.root_path
    (root / "dataset/s1/model/sub").mkdir(parents=True)
    (root / "dataset/s1/model/sub/w.txt").write_text("weights")
    (root / "secret.txt").write_text("outside the output")
    os.symlink(ws.folder / "metadata.db", root / "dataset/s1/model/db")  # a link that leads out of the datastore
    store.put_run_output(RunOutputRecord("s1", "model", "workspaceblobstore", "dataset/s1/model", "d1"))
    assert output_file(store, ws.folder, "s1", "model", "sub/w.txt").read_text() == "weights"
    with pytest.raises(PathEscapeError):
        output_file(store, ws.folder, "s1", "model", "../../../../metadata.db")
    with pytest.raises(PathEscapeError):
        output_file(store, ws.folder, "s1", "model", "db")
    with pytest.raises(NotFoundError):
        output_file(store, ws.folder, "s1", "model", "sub")  # a folder is not a file
    with pytest.raises(NotFoundError, match="Output 'nope'"):
        output_file(store, ws.folder, "s1", "nope", "w.txt")
    detail = step_detail(store, ws.folder, store.get_run("s1"), None)  # type: ignore[arg-type]
    assert [(o.name, o.local, o.files) for o in detail.outputs] == [("model", True, ["db", "sub/w.txt"])]


def test_a_step_that_ran_again_shows_what_changed_since_its_previous_run(ws: Workspace) -> None:
    store = ws.metadata_store
    exp = store.get_or_create_experiment("e")
    parts = {"script": "train.py", "snapshot": "s-old", "parameters": {"lr": 0.1}, "arguments": [{"parameter": "lr"}]}
    store.create_run(
        RunRecord(id="old", experiment_id=exp.id, kind="step", status="Finished", name="train", fingerprint="f1",
                  created_at="2026-01-01T00:00:00+00:00", definition={"fingerprint_parts": parts})
    )  # fmt: skip
    new_parts = {**parts, "snapshot": "s-new", "parameters": {"lr": 0.2}}
    store.create_run(
        RunRecord(id="new", experiment_id=exp.id, kind="step", status="Finished", name="train", fingerprint="f2",
                  created_at="2026-01-02T00:00:00+00:00", reason="train.py changed; parameter lr 0.1 → 0.2",
                  definition={"fingerprint_parts": new_parts})
    )  # fmt: skip
    detail = step_detail(store, ws.folder, store.get_run("new"), None)  # type: ignore[arg-type]
    assert detail.state == "ran" and detail.reason == "train.py changed; parameter lr 0.1 → 0.2"
    assert detail.previous_run_id == "old"
    assert detail.changes == [("parameters.lr", "0.1", "0.2"), ("snapshot", "s-old", "s-new")]
    assert detail.arguments == ["lr=0.2"]
    assert detail.parameters == {"lr": 0.2}


def test_a_changed_snapshot_lists_its_files_with_a_diff_of_the_changed_text(ws: Workspace, tmp_path: Path) -> None:
    from headwater.ops.studio_steps import snapshot_changes

    root = ws.folder / "snapshots"
    versions = {
        "aa": {"train.py": "lr = 0.1\nfit()\n", "gone.txt": "x"},
        "bb": {"train.py": "lr = 0.2\nfit()\n", "new.txt": "y"},
    }
    for digest, files in versions.items():
        for name, text in files.items():
            (root / digest).mkdir(parents=True, exist_ok=True)
            (root / digest / name).write_text(text)
        manifest = {"files": {n: {"digest": f"d-{t}", "size": len(t)} for n, t in files.items()}}
        (root / f"{digest}.json").write_text(json.dumps(manifest))
    changes = snapshot_changes(ws.folder, "aa", "bb")
    assert [(p, c) for p, c, _ in changes] == [("gone.txt", "removed"), ("new.txt", "added"), ("train.py", "changed")]
    diff = changes[2][2]
    assert "-lr = 0.1\n+lr = 0.2\n" in diff and diff.startswith("--- before/train.py")
    assert snapshot_changes(ws.folder, "aa", "../x") == []  # not digests: nothing read
    assert snapshot_changes(ws.folder, "aa", "cc") == []  # no manifest
