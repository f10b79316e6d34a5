"""Model look-ups and reuse: a recorded look-up is asked again; a ParallelRunStep's finished
mini-batches scored with a model the registry no longer gives are dropped before it starts."""

from __future__ import annotations

import fcntl
import json
from pathlib import Path
from typing import Any

from headwater import Experiment, Workspace
from headwater.engine.model_check import (
    LOOKUPS_PROPERTY,
    discard_stale_progress,
    list_models,
    models_unchanged,
    record_model_lookups,
    resolve_lookup,
)
from headwater.layout import WorkspaceLayout
from headwater.runtime.model_lookups import MODEL_LOOKUPS_FILE
from headwater.sdk.model import Model
from tests.conftest import gen


def _register(ws: Workspace, tmp_path: Path, text: str, **tags: str) -> Model:
    folder = gen(tmp_path / "models" / text, {"model.txt": text})
    return Model.register(ws, model_path=str(folder / "model.txt"), model_name="clf", tags=tags or None)


def _note(folder: Path, model: Model, **query: object) -> None:
    entry: dict[str, object] = {
        "name": "clf",
        "version": None,
        "tags": None,
        "properties": None,
        "run_id": None,
        "framework": None,
    }
    entry.update(query)
    entry.update(resolved_version=model.version, digest=model._record.digest if model._record else "")
    with open(folder / MODEL_LOOKUPS_FILE, "a") as fh:
        fh.write(json.dumps(entry) + "\n")


def test_look_ups_resolve_as_the_sdk_does(ws: Workspace, tmp_path: Path) -> None:
    one = _register(ws, tmp_path, "one", stage="prod")
    _register(ws, tmp_path, "two")
    store = ws.metadata_store
    assert resolve_lookup(store, {"name": "clf"}).version == 2  # type: ignore[union-attr]
    assert resolve_lookup(store, {"name": "clf", "version": 1}).version == 1  # type: ignore[union-attr]
    by_tag = resolve_lookup(store, {"name": "clf", "tags": [["stage", "prod"]]})
    assert by_tag is not None and by_tag.version == one.version == 1
    assert Model(ws, "clf", tags=[["stage", "prod"]]).version == 1  # the SDK's answer to the same question
    assert resolve_lookup(store, {"name": "other"}) is None


def test_a_run_without_look_ups_is_reusable_and_one_with_a_changed_answer_is_not(ws: Workspace, tmp_path: Path) -> None:
    store = ws.metadata_store
    one = _register(ws, tmp_path, "one")
    run = Experiment(ws, "lookups").start_logging()
    run.complete()
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    assert record_model_lookups(store, run.id, run_dir) == 0 and LOOKUPS_PROPERTY not in store.get_properties(run.id)
    assert models_unchanged(store, run.id) is None
    _note(run_dir, one)
    _note(run_dir, one)  # the same look-up twice (two workers): kept once
    assert record_model_lookups(store, run.id, run_dir) == 1
    assert models_unchanged(store, run.id) is None
    _register(ws, tmp_path, "two")
    blocker = models_unchanged(store, run.id)
    assert blocker is not None and blocker.message == "model 'clf' resolved to version 2, was 1"


def test_stale_progress_is_dropped_unless_a_driver_holds_it(ws: Workspace, tmp_path: Path) -> None:
    one = _register(ws, tmp_path, "one")
    folder = WorkspaceLayout(ws.folder).parallel_progress("f" * 64)
    gen(folder, {"done": {"0.json": "{}"}, "lock": ""})
    _note(folder, one)
    assert discard_stale_progress(ws.metadata_store, folder) is None and (folder / "done" / "0.json").is_file()
    _register(ws, tmp_path, "two")
    with open(folder / "lock", "a+b") as held:  # a live driver of another run: left alone
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        assert discard_stale_progress(ws.metadata_store, folder) is None and folder.is_dir()
    reason = discard_stale_progress(ws.metadata_store, folder)
    assert reason == "model 'clf' resolved to version 2, was 1"
    assert not folder.exists() and not list(folder.parent.iterdir())  # nothing left aside


def test_a_recorded_model_list_is_listed_again_and_any_other_answer_blocks_reuse(ws: Workspace, tmp_path: Path) -> None:
    store = ws.metadata_store
    one = _register(ws, tmp_path, "one", stage="prod")
    run = Experiment(ws, "listings").start_logging()
    run.complete()
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    query: dict[str, Any] = {"name": "clf", "tags": [["stage", "prod"]], "latest": False}
    listed = Model.list(ws, name="clf", tags=[["stage", "prod"]])
    assert [r.version for r in list_models(store, query)] == [m.version for m in listed] == [1]
    digest = one._record.digest if one._record else ""
    entry = {"list": query, "resolved": [["clf", 1, digest]]}
    (run_dir / MODEL_LOOKUPS_FILE).write_text(json.dumps(entry) + "\n")
    assert record_model_lookups(store, run.id, run_dir) == 1
    assert models_unchanged(store, run.id) is None
    _register(ws, tmp_path, "two")  # not tagged: not in the listing
    assert models_unchanged(store, run.id) is None
    _register(ws, tmp_path, "three", stage="prod")
    blocker = models_unchanged(store, run.id)
    assert blocker is not None and blocker.code == "models-changed"
    assert blocker.message == "Model.list(name='clf', tags=[['stage', 'prod']]) returned clf:3, clf:1, was clf:1"
    entry["resolved"] = [["clf", 3, "other bytes"], ["clf", 1, digest]]
    (run_dir / MODEL_LOOKUPS_FILE).write_text(json.dumps(entry) + "\n")
    other = Experiment(ws, "listings").start_logging()  # a run that read version 3 with other bytes
    other.complete()
    record_model_lookups(store, other.id, run_dir)
    blocker = models_unchanged(store, other.id)
    assert blocker is not None and "returned clf:3 with other files than when run" in blocker.message
