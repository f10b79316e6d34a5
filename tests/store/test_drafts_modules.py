"""Pipeline drafts and modules in the metadata store, held against SQLite and PostgreSQL alike."""

from __future__ import annotations

import pytest

from headwater.errors import AlreadyExistsError
from headwater.store.metadata import MetadataStore
from headwater.store.repo_drafts import DraftRecord

GRAPH = {"steps": [{"node_id": "a", "name": "a", "kind": "python", "source_directory": "/x"}], "parameters": {}}


def test_a_draft_is_created_read_listed_by_tag_updated_and_deleted(store: MetadataStore) -> None:
    first = store.create_draft(
        DraftRecord(
            name="nightly",
            graph=GRAPH,
            experiment_name="exp",
            pipeline_parameters={"n": 3},
            continue_on_step_failure=True,
            tags={"team": "a"},
            properties={"p": "1"},
        )
    )
    second = store.create_draft(DraftRecord(name="other", graph=GRAPH, tags={"team": "b"}))
    got = store.get_draft(first.id)
    assert got == first
    assert got is not None and got.continue_on_step_failure is True and got.pipeline_parameters == {"n": 3}
    assert store.get_draft(second.id) == second and second.continue_on_step_failure is None
    assert [d.name for d in store.list_drafts()] == ["nightly", "other"]
    assert [d.name for d in store.list_drafts(tags={"team": "b"})] == ["other"]
    assert [d.name for d in store.list_drafts(tags={"team": None})] == ["nightly", "other"]

    updated = store.update_draft(
        first.id, name="renamed", continue_on_step_failure=False, pipeline_parameters={}, last_submitted_run_id="r1"
    )
    assert updated is not None
    assert (updated.name, updated.continue_on_step_failure, updated.pipeline_parameters) == ("renamed", False, {})
    assert updated.last_submitted_run_id == "r1" and updated.updated_at is not None
    assert updated.tags == {"team": "a"} and updated.experiment_name == "exp"  # untouched
    assert store.update_draft("nope", name="x") is None
    with pytest.raises(ValueError, match="unknown fields"):
        store.update_draft(first.id, id="x")

    assert store.delete_draft(first.id) is True
    assert store.delete_draft(first.id) is False
    assert store.get_draft(first.id) is None


def test_modules_have_unique_names_and_numbered_versions_with_a_default(store: MetadataStore) -> None:
    module = store.create_module("prep", "prepares")
    with pytest.raises(AlreadyExistsError, match="Module 'prep' already exists"):
        store.create_module("prep", "again")
    assert store.get_module(name="prep") == module
    assert store.get_module(module_id=module.id) == module

    v1 = store.add_module_version(module.id, {"script": "a.py"}, description="first")
    v2 = store.add_module_version(module.id, {"script": "b.py"})
    named = store.add_module_version(module.id, {"script": "c.py"}, version="7.1", category="x")
    assert (v1.version, v2.version, named.version) == ("1", "2", "7.1")
    with pytest.raises(AlreadyExistsError, match=r"Module version '7\.1'"):
        store.add_module_version(module.id, {"script": "d.py"}, version="7.1")
    got = store.get_module(module_id=module.id)
    assert got is not None and got.default_version == "1"  # the first version, until another is made the default
    store.add_module_version(module.id, {"script": "e.py"}, is_default=True)
    got = store.get_module(module_id=module.id)
    assert got is not None and got.default_version == "3"
    assert [v.version for v in store.list_module_versions(module.id)] == ["1", "2", "7.1", "3"]
    assert store.get_module_version(v2.id) == v2

    disabled = store.update_module_version(v2.id, status="Disabled", description="old")
    assert disabled is not None and (disabled.status, disabled.description) == ("Disabled", "old")
    changed = store.update_module(module.id, name="prepare", status="Deprecated")
    assert changed is not None and (changed.name, changed.status) == ("prepare", "Deprecated")
    other = store.create_module("other", None)
    with pytest.raises(AlreadyExistsError):
        store.update_module(other.id, name="prepare")
    assert [m.name for m in store.list_modules()] == ["other", "prepare"]
