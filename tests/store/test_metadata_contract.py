"""One contract for :class:`MetadataStore`, held against SQLite and a real PostgreSQL server.

Every test runs once per backend (``store`` comes from ``tests/store/conftest.py``); a behaviour
that differs between the two databases is a bug in the store, not in the test.
"""

from __future__ import annotations

import gc
import uuid
from pathlib import Path
from typing import Any

import pytest

from headwater import Workspace
from headwater.errors import AlreadyExistsError, ConfigurationError, NotFoundError
from headwater.store.metadata import MetadataStore
from headwater.store.records import (
    ComputeTargetRecord,
    DatasetRecord,
    DatastoreRecord,
    MetricRecord,
    RunOutputRecord,
    RunRecord,
)
from headwater.store.schema import HEAD

FILE_DEF = {"paths": [{"datastore": "workspaceblobstore", "path": "raw/*.csv"}]}
OTHER_DEF = {"paths": [{"datastore": "workspaceblobstore", "path": "clean/*.csv"}]}


def ts(second: int, micro: int = 0) -> str:
    """A fixed timestamp in the stores' format, so ordering never depends on the clock."""
    return f"2026-01-01T00:00:{second:02d}.{micro:06d}+00:00"


def register(store: MetadataStore, name: str, definition: dict[str, Any], **kw: Any) -> DatasetRecord:
    kw.setdefault("kind", "file")
    kw.setdefault("digest", None)
    kw.setdefault("file_digests", None)
    return store.register_dataset_version(name, definition=definition, **kw)


def new_run(store: MetadataStore, experiment_id: str, **fields: Any) -> RunRecord:
    fields.setdefault("kind", "step")
    fields.setdefault("status", "NotStarted")
    return store.create_run(RunRecord(id=str(uuid.uuid4()), experiment_id=experiment_id, **fields))


@pytest.fixture
def exp_id(store: MetadataStore) -> str:
    return store.get_or_create_experiment("exp").id


# -- opening -------------------------------------------------------------------------------------


def test_a_created_store_is_at_head_and_says_which_database_it_is(store: MetadataStore, backend: str) -> None:
    assert store.schema_revision() == HEAD
    assert store.is_postgres is (backend == "postgres")
    assert not store.read_only
    assert not store.closed


def test_create_on_an_existing_store_keeps_its_data(store: MetadataStore, store_url: str) -> None:
    store.set_meta("k", "v")
    with MetadataStore.create(store_url) as again:
        assert again.get_meta("k") == "v"
    with MetadataStore.open(store_url) as reopened:
        assert reopened.get_meta("k") == "v"


def test_close_is_idempotent_and_reported(store_url: str) -> None:
    s = MetadataStore.create(store_url)
    s.close()
    s.close()
    assert s.closed


def test_a_store_that_is_never_closed_warns(store_url: str) -> None:
    MetadataStore.create(store_url).close()
    with pytest.warns(ResourceWarning) as record:
        MetadataStore.open(store_url)  # dropped at once, unclosed
        gc.collect()
    assert any("never closed" in str(w.message) for w in record)


# -- meta ----------------------------------------------------------------------------------------


def test_meta_is_a_key_value_upsert(store: MetadataStore) -> None:
    assert store.get_meta("workspace_name") is None
    store.set_meta("workspace_name", "a")
    store.set_meta("workspace_name", "b")
    store.set_meta("other", "100% ok?")  # '%' and '?' are data, not placeholders
    assert store.get_meta("workspace_name") == "b"
    assert store.get_meta("other") == "100% ok?"


# -- datastores ----------------------------------------------------------------------------------


def test_datastore_round_trip_and_duplicate_name(store: MetadataStore) -> None:
    rec = DatastoreRecord("blob", "local", {"root": "datastores/blob", "nested": {"n": 1}}, ts(1))
    store.put_datastore(rec)
    assert store.get_datastore("blob") == rec
    assert store.get_datastore("nope") is None
    with pytest.raises(AlreadyExistsError, match="overwrite=True") as info:
        store.put_datastore(DatastoreRecord("blob", "s3", {}))
    assert (info.value.kind, info.value.name) == ("Datastore", "blob")
    assert store.get_datastore("blob") == rec


def test_datastore_overwrite_replaces_kind_and_config_and_keeps_created_at(store: MetadataStore) -> None:
    store.put_datastore(DatastoreRecord("blob", "local", {"root": "a"}, ts(1)))
    store.put_datastore(DatastoreRecord("blob", "s3", {"bucket": "b"}, ts(2)), overwrite=True)
    store.put_datastore(DatastoreRecord("new", "local", {"root": "n"}, ts(3)), overwrite=True)
    assert store.get_datastore("blob") == DatastoreRecord("blob", "s3", {"bucket": "b"}, ts(1))
    assert store.get_datastore("new") is not None


def test_datastores_list_by_name_in_code_point_order_and_delete(store: MetadataStore) -> None:
    for name in ("beta", "Zulu", "alpha"):
        store.put_datastore(DatastoreRecord(name, "local", {}))
    assert [d.name for d in store.list_datastores()] == ["Zulu", "alpha", "beta"]
    assert store.delete_datastore("beta") is True
    assert store.delete_datastore("beta") is False
    assert [d.name for d in store.list_datastores()] == ["Zulu", "alpha"]


# -- datasets ------------------------------------------------------------------------------------


def test_dataset_versions_count_up_from_one(store: MetadataStore) -> None:
    versions = [register(store, "raw", {"paths": [i]}, create_new_version=True, digest=f"d{i}") for i in range(3)]
    assert [v.version for v in versions] == [1, 2, 3]
    assert len({v.id for v in versions}) == 3
    assert [v.version for v in store.list_dataset_versions("raw")] == [1, 2, 3]
    assert store.list_dataset_versions("missing") == []


def test_registering_the_same_definition_again_returns_the_existing_version(store: MetadataStore) -> None:
    first = register(store, "raw", FILE_DEF, digest="abc", tags={"team": "x"})
    again = register(store, "raw", FILE_DEF, digest="other")
    assert again == first
    assert [v.version for v in store.list_dataset_versions("raw")] == [1]


def test_a_definition_is_compared_as_stored(store: MetadataStore) -> None:
    # JSON has no tuples: what comes back is a list, and it is still the same definition.
    first = register(store, "raw", {"paths": ("a.csv", "b.csv")})
    assert first.definition == {"paths": ["a.csv", "b.csv"]}
    assert register(store, "raw", {"paths": ("a.csv", "b.csv")}) == first
    assert store.get_dataset("raw") == first


def test_a_different_definition_needs_create_new_version(store: MetadataStore) -> None:
    register(store, "raw", FILE_DEF)
    with pytest.raises(AlreadyExistsError, match="create_new_version") as info:
        register(store, "raw", OTHER_DEF)
    assert (info.value.kind, info.value.name) == ("Dataset", "raw")
    with pytest.raises(AlreadyExistsError, match="create_new_version"):
        register(store, "raw", FILE_DEF, kind="tabular")  # same definition, another kind
    assert [v.version for v in store.list_dataset_versions("raw")] == [1]
    assert register(store, "raw", OTHER_DEF, create_new_version=True).version == 2
    # and the same definition as the latest is accepted again without the flag
    assert register(store, "raw", OTHER_DEF).version == 2


def test_create_new_version_registers_even_an_unchanged_definition(store: MetadataStore) -> None:
    register(store, "raw", FILE_DEF)
    assert register(store, "raw", FILE_DEF, create_new_version=True).version == 2


def test_get_dataset_by_version_latest_and_id(store: MetadataStore) -> None:
    v1 = register(
        store,
        "raw",
        FILE_DEF,
        kind="tabular",
        digest="d1",
        file_digests={"raw/a.csv": "h1"},
        description="first",
        tags={"k": "v", "n": 1},
    )
    v2 = register(store, "raw", OTHER_DEF, create_new_version=True)
    assert store.get_dataset("raw", 1) == v1
    assert store.get_dataset("raw") == v2
    assert store.get_dataset("raw", 3) is None
    assert store.get_dataset("nope") is None
    got = store.get_dataset_by_id(v1.id)
    assert got == v1
    assert got is not None
    assert (got.kind, got.digest, got.file_digests, got.description, got.tags) == (
        "tabular",
        "d1",
        {"raw/a.csv": "h1"},
        "first",
        {"k": "v", "n": 1},
    )
    assert store.get_dataset_by_id("no-such-id") is None


def test_list_datasets_gives_the_latest_version_of_each_name(store: MetadataStore) -> None:
    register(store, "b", FILE_DEF)
    register(store, "b", OTHER_DEF, create_new_version=True)
    register(store, "a", FILE_DEF)
    register(store, "B", FILE_DEF)
    store.save_dataset(DatasetRecord(id="unregistered", kind="file", definition=FILE_DEF))
    assert [(d.name, d.version) for d in store.list_datasets()] == [("B", 1), ("a", 1), ("b", 2)]
    assert store.dataset_names() == ["B", "a", "b"]


def test_save_dataset_keeps_an_unregistered_definition_once(store: MetadataStore) -> None:
    rec = DatasetRecord(id="ds-1", kind="file", definition=FILE_DEF, created_at=ts(1))
    assert store.save_dataset(rec) == rec
    assert store.save_dataset(DatasetRecord(id="ds-1", kind="file", definition=OTHER_DEF)) == rec
    assert store.get_dataset_by_id("ds-1") == rec
    assert store.list_datasets() == []


# -- environments --------------------------------------------------------------------------------


def test_environment_versions_change_only_with_the_definition(store: MetadataStore) -> None:
    e1 = store.register_environment("env", {"pip": ("pandas",)}, "d1")
    assert e1.version == 1
    assert store.register_environment("env", {"pip": ["pandas"]}, "d1") == e1
    e2 = store.register_environment("env", {"pip": ["pandas", "numpy"]}, "d2")
    assert e2.version == 2
    assert store.get_environment("env") == e2
    assert store.get_environment("env", 1) == e1
    assert store.get_environment("env", 3) is None
    assert store.get_environment("nope") is None
    store.register_environment("Base", {}, "d0")
    assert [(e.name, e.version) for e in store.list_environments()] == [("Base", 1), ("env", 2)]


# -- compute targets -----------------------------------------------------------------------------


def test_compute_targets(store: MetadataStore) -> None:
    ray = ComputeTargetRecord("ray", "ray", {"address": "ray://head:10001"}, ts(1))
    store.put_compute_target(ray)
    assert store.get_compute_target("ray") == ray
    assert store.get_compute_target("nope") is None
    with pytest.raises(AlreadyExistsError, match="overwrite=True"):
        store.put_compute_target(ComputeTargetRecord("ray", "local", {}))
    store.put_compute_target(ComputeTargetRecord("ray", "ray", {"address": "auto"}, ts(2)), overwrite=True)
    assert store.get_compute_target("ray") == ComputeTargetRecord("ray", "ray", {"address": "auto"}, ts(1))
    store.put_compute_target(ComputeTargetRecord("Cpu", "local", {}))
    assert [c.name for c in store.list_compute_targets()] == ["Cpu", "ray"]
    assert store.delete_compute_target("ray") is True
    assert store.delete_compute_target("ray") is False
    assert [c.name for c in store.list_compute_targets()] == ["Cpu"]


# -- experiments ---------------------------------------------------------------------------------


def test_get_or_create_experiment_is_idempotent(store: MetadataStore) -> None:
    assert store.get_experiment("train") is None
    first = store.get_or_create_experiment("train")
    assert store.get_or_create_experiment("train") == first
    assert store.get_experiment("train") == first
    store.get_or_create_experiment("Eval")
    assert [e.name for e in store.list_experiments()] == ["Eval", "train"]


def test_get_or_create_experiment_from_two_stores(store: MetadataStore, store_url: str) -> None:
    with MetadataStore.open(store_url) as other:
        assert other.get_or_create_experiment("x") == store.get_or_create_experiment("x")


# -- runs ----------------------------------------------------------------------------------------


def test_run_round_trip(store: MetadataStore, exp_id: str) -> None:
    store.put_snapshot("snap", file_count=1, size=10)
    run = RunRecord(
        id="run-1",
        experiment_id=exp_id,
        kind="step",
        status="Running",
        name="train",
        created_at=ts(1),
        started_at=ts(2),
        heartbeat_at=ts(3),
        fingerprint="fp",
        reason="train.py changed",
        snapshot_id="snap",
        compute_target="local",
        definition={"script": "train.py", "args": ["--lr", 0.1], "nested": {"a": None}},
        error=None,
    )
    assert store.create_run(run) == run
    assert store.get_run("run-1") == run
    assert store.get_run("nope") is None


def test_update_run_sets_columns_and_encodes_json(store: MetadataStore, exp_id: str) -> None:
    run = new_run(store, exp_id, status="Running", definition={"a": 1})
    store.update_run(
        run.id,
        status="Failed",
        ended_at=ts(9),
        error={"message": "boom", "step": "train"},
        definition={"a": 2},
        reason="failed",
    )
    got = store.get_run(run.id)
    assert got is not None
    assert (got.status, got.ended_at, got.error, got.definition, got.reason) == (
        "Failed",
        ts(9),
        {"message": "boom", "step": "train"},
        {"a": 2},
        "failed",
    )
    store.update_run(run.id, error=None)
    store.update_run(run.id)  # nothing to set
    after = store.get_run(run.id)
    assert after is not None
    assert after.error is None
    assert after.status == "Failed"


def test_merge_run_definition_keeps_the_keys_it_does_not_name(store: MetadataStore, exp_id: str) -> None:
    run = new_run(store, exp_id, kind="script", definition={"plan": "/p/plan.json", "pid": 1})
    store.merge_run_definition(run.id, {"orchestrator_pid": 42})
    store.merge_run_definition(run.id, {"pid": 7, "argv": ["python", "train.py"]})
    got = store.get_run(run.id)
    assert got is not None
    assert got.definition == {"plan": "/p/plan.json", "pid": 7, "orchestrator_pid": 42, "argv": ["python", "train.py"]}
    store.merge_run_definition("no-such-run", {"x": 1})  # nothing to merge into: nothing happens
    assert store.get_run("no-such-run") is None


@pytest.mark.parametrize("final", ["Finished", "Failed", "Canceled", "Completed"])
def test_a_final_status_is_never_rewritten_unless_reopened(store: MetadataStore, exp_id: str, final: str) -> None:
    run = new_run(store, exp_id, status="Running")
    assert store.update_run(run.id, status=final, ended_at=ts(1), error={"message": "first"}) is True
    # a late writer (a stalled orchestrator, a second reader) changes nothing: status, end, error
    for other in ("Running", "Failed", "Canceled", "Finished", final):
        assert store.update_run(run.id, status=other, ended_at=ts(2), error={"message": "late"}) is False
    got = store.get_run(run.id)
    assert got is not None
    assert (got.status, got.ended_at, got.error) == (final, ts(1), {"message": "first"})
    # columns other than the status may still change (the studio's heartbeat, a name)
    assert store.update_run(run.id, name="renamed") is True
    # resume reopens it on purpose
    assert store.update_run(run.id, status="Running", ended_at=None, error=None, reopen=True) is True
    got = store.get_run(run.id)
    assert got is not None
    assert (got.status, got.ended_at, got.error, got.name) == ("Running", None, None, "renamed")
    assert store.update_run("no-such-run", status="Failed") is False


def test_update_run_refuses_columns_that_are_not_updatable(store: MetadataStore, exp_id: str) -> None:
    run = new_run(store, exp_id)
    with pytest.raises(ValueError, match="experiment_id"):
        store.update_run(run.id, experiment_id="other")
    with pytest.raises(ValueError, match="id"):
        store.update_run(run.id, id="x")


def test_list_runs_newest_first_with_filters(store: MetadataStore, exp_id: str) -> None:
    other_exp = store.get_or_create_experiment("other").id
    pipe = new_run(store, exp_id, kind="pipeline", name="p", created_at=ts(1))
    steps = [
        new_run(store, exp_id, kind="step", name=f"s{i}", parent_id=pipe.id, created_at=ts(2 + i)) for i in range(3)
    ]
    script = new_run(store, exp_id, kind="script", name="sc", created_at=ts(10))
    elsewhere = new_run(store, other_exp, kind="pipeline", name="q", created_at=ts(11))

    def names(runs: list[RunRecord]) -> list[str | None]:
        return [r.name for r in runs]

    assert names(store.list_runs()) == ["q", "sc", "s2", "s1", "s0", "p"]
    assert names(store.list_runs(experiment_id=exp_id)) == ["sc", "s2", "s1", "s0", "p"]
    assert names(store.list_runs(parent_id=pipe.id)) == ["s2", "s1", "s0"]
    assert names(store.list_runs(kind="pipeline")) == ["q", "p"]
    assert names(store.list_runs(top_level=True)) == ["q", "sc", "p"]
    assert names(store.list_runs(experiment_id=exp_id, top_level=True, limit=1)) == ["sc"]
    assert names(store.list_runs(limit=2)) == ["q", "sc"]
    assert {r.parent_id for r in store.list_runs(parent_id=pipe.id)} == {pipe.id}
    assert store.list_runs(parent_id=steps[0].id) == []
    assert script.parent_id is None
    assert elsewhere.experiment_id == other_exp


def test_list_runs_breaks_created_at_ties_by_id(store: MetadataStore, exp_id: str) -> None:
    for run_id in ("c", "a", "b"):
        store.create_run(RunRecord(run_id, exp_id, kind="step", status="Queued", created_at=ts(5)))
    assert [r.id for r in store.list_runs()] == ["a", "b", "c"]


def test_find_reusable_run_takes_the_newest_finished_run_that_ran_itself(store: MetadataStore, exp_id: str) -> None:
    old = new_run(store, exp_id, fingerprint="fp", status="Finished", created_at=ts(1), ended_at=ts(2))
    newest = new_run(store, exp_id, fingerprint="fp", status="Finished", created_at=ts(3), ended_at=ts(4))
    new_run(
        store, exp_id, fingerprint="fp", status="Finished", created_at=ts(5), ended_at=ts(6), reused_run_id=newest.id
    )
    new_run(store, exp_id, fingerprint="fp", status="Failed", created_at=ts(7), ended_at=ts(8))
    new_run(store, exp_id, fingerprint="fp", status="Running", created_at=ts(9))
    new_run(store, exp_id, fingerprint="other", status="Finished", created_at=ts(10), ended_at=ts(11))
    found = store.find_reusable_run("fp")
    assert found is not None
    assert found.id == newest.id
    failed = store.find_reusable_run("fp", status="Failed")
    assert failed is not None
    assert failed.status == "Failed"
    assert store.find_reusable_run("unknown") is None
    assert old.id != newest.id


def test_find_reusable_run_puts_a_run_without_ended_at_last(store: MetadataStore, exp_id: str) -> None:
    ended = new_run(store, exp_id, fingerprint="fp", status="Finished", created_at=ts(1), ended_at=ts(2))
    new_run(store, exp_id, fingerprint="fp", status="Finished", created_at=ts(3), ended_at=None)
    found = store.find_reusable_run("fp")
    assert found is not None
    assert found.id == ended.id


def test_find_reusable_run_ignores_reused_runs_even_when_they_are_the_only_match(
    store: MetadataStore, exp_id: str
) -> None:
    origin = new_run(store, exp_id, fingerprint="fp-old", status="Finished", ended_at=ts(1))
    new_run(store, exp_id, fingerprint="fp", status="Finished", ended_at=ts(2), reused_run_id=origin.id)
    assert store.find_reusable_run("fp") is None


def test_find_latest_step_run_prefers_the_experiment(store: MetadataStore, exp_id: str) -> None:
    other = store.get_or_create_experiment("other").id
    mine = new_run(store, exp_id, name="train", fingerprint="f1", created_at=ts(1))
    new_run(store, other, name="train", fingerprint="f2", created_at=ts(2))
    new_run(store, exp_id, name="train", fingerprint=None, created_at=ts(3))  # never planned
    new_run(store, exp_id, kind="pipeline", name="train", fingerprint="f3", created_at=ts(4))

    def found_id(**kw: Any) -> str | None:
        run = store.find_latest_step_run("train", **kw)
        return None if run is None else run.id

    assert found_id(experiment_id=exp_id) == mine.id
    latest = store.find_latest_step_run("train")
    assert latest is not None
    assert latest.fingerprint == "f2"
    assert found_id(experiment_id=store.get_or_create_experiment("empty").id) == latest.id
    assert store.find_latest_step_run("nope") is None


# -- properties, tags, metrics, outputs ----------------------------------------------------------


def test_properties_are_immutable(store: MetadataStore, exp_id: str) -> None:
    run = new_run(store, exp_id)
    store.add_properties(run.id, {"b": "2", "a": 1})  # type: ignore[dict-item]
    store.add_properties(run.id, {"a": "1"})  # the same value again is fine
    with pytest.raises(AlreadyExistsError, match="immutable") as info:
        store.add_properties(run.id, {"c": "3", "a": "other"})
    assert (info.value.kind, info.value.name) == ("Run property", "a")
    assert store.get_properties(run.id) == {"a": "1", "b": "2"}  # 'c' was not added either
    assert list(store.get_properties(run.id)) == ["a", "b"]
    assert store.get_properties(new_run(store, exp_id).id) == {}


def test_tags_are_upserted(store: MetadataStore, exp_id: str) -> None:
    run = new_run(store, exp_id)
    store.set_tags(run.id, {"stage": "dev", "owner": "me"})
    store.set_tags(run.id, {"stage": "prod", "flag": None})
    assert store.get_tags(run.id) == {"flag": None, "owner": "me", "stage": "prod"}
    assert list(store.get_tags(run.id)) == ["flag", "owner", "stage"]


def test_metrics_come_back_in_the_order_they_were_logged(store: MetadataStore, exp_id: str) -> None:
    run = new_run(store, exp_id)
    other = new_run(store, exp_id)
    logged = [
        MetricRecord(run.id, "loss", "scalar", 0.5, logged_at=ts(3)),
        MetricRecord(run.id, "acc", "scalar", 1, "accuracy", logged_at=ts(1)),
        MetricRecord(run.id, "loss", "scalar", 0.25, logged_at=ts(2)),
        MetricRecord(run.id, "table", "table", {"col": [1, 2]}, logged_at=ts(4)),
        MetricRecord(other.id, "loss", "scalar", 9.0, logged_at=ts(0)),
    ]
    store.add_metrics(logged[:2])
    store.add_metrics(logged[2:])
    store.add_metrics([])
    assert store.get_metrics(run.id) == logged[:4]
    assert [m.value for m in store.get_metrics(run.id, "loss")] == [0.5, 0.25]
    assert store.get_metrics(run.id, "nope") == []
    assert store.get_metrics(other.id) == logged[4:]


def test_run_outputs_are_upserted_by_name(store: MetadataStore, exp_id: str) -> None:
    run = new_run(store, exp_id)
    store.put_run_output(RunOutputRecord(run.id, "model", "workspaceblobstore", "a/model"))
    store.put_run_output(RunOutputRecord(run.id, "Data", "workspaceblobstore", "a/data", "d0"))
    store.put_run_output(RunOutputRecord(run.id, "model", "other", "b/model", "d1"))
    assert store.get_run_outputs(run.id) == [
        RunOutputRecord(run.id, "Data", "workspaceblobstore", "a/data", "d0"),
        RunOutputRecord(run.id, "model", "other", "b/model", "d1"),
    ]
    assert store.get_run_outputs("nope") == []


def test_superseding_outputs_forgets_other_runs_digests_at_that_path(store: MetadataStore, exp_id: str) -> None:
    first, second, keeper = (new_run(store, exp_id) for _ in range(3))
    store.put_run_output(RunOutputRecord(first.id, "out", "blob", "shared/out", "d1"))
    store.put_run_output(RunOutputRecord(first.id, "other", "blob", "first/other", "d2"))
    store.put_run_output(RunOutputRecord(second.id, "out", "files", "shared/out", "d3"))  # other datastore
    store.put_run_output(RunOutputRecord(keeper.id, "out", "blob", "shared/out", "d4"))
    assert store.supersede_run_outputs("blob", "shared/out", keep_run_id=keeper.id) == 1
    assert store.supersede_run_outputs("blob", "shared/out", keep_run_id=keeper.id) == 0
    assert {o.name: o.digest for o in store.get_run_outputs(first.id)} == {"out": None, "other": "d2"}
    assert [o.digest for o in store.get_run_outputs(second.id)] == ["d3"]
    assert [o.digest for o in store.get_run_outputs(keeper.id)] == ["d4"]


def test_snapshots_are_recorded_once(store: MetadataStore) -> None:
    assert not store.has_snapshot("abc")
    store.put_snapshot("abc", file_count=3, size=5_000_000_000)
    store.put_snapshot("abc", file_count=3, size=5_000_000_000)
    assert store.has_snapshot("abc")


# -- the workspace on PostgreSQL -----------------------------------------------------------------


@pytest.mark.postgres
def test_workspace_on_postgres_end_to_end(postgres_url: str, tmp_path: Path) -> None:
    with Workspace.create("x", metadata_url=postgres_url) as ws:
        assert ws.metadata_url == postgres_url
        assert not (ws.folder / "metadata.db").exists()
        assert ws.get_details()["defaultDatastore"] == "workspaceblobstore"
    with Workspace.get("x") as again:
        assert again.metadata_url == postgres_url
        assert again.experiments == {}
    with MetadataStore.open(postgres_url) as store:
        assert store.get_meta("workspace_name") == "x"
        assert [d.name for d in store.list_datastores()] == ["workspaceblobstore", "workspacefilestore"]


@pytest.mark.postgres
def test_a_postgres_database_belongs_to_one_workspace(postgres_url: str) -> None:
    Workspace.create("x", metadata_url=postgres_url).close()
    with pytest.raises(ConfigurationError, match="belongs to workspace 'x'"):
        Workspace.create("y", metadata_url=postgres_url)
    with pytest.raises(NotFoundError):
        Workspace.get("y")
    with MetadataStore.open(postgres_url) as store:
        assert store.get_meta("workspace_name") == "x"
