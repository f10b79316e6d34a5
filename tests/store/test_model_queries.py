"""Registered-model queries, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import threading

from headwater.store.metadata import MetadataStore
from headwater.store.repo_models import matches_filters


def _register(store: MetadataStore, name: str, **kwargs: object) -> object:
    return store.register_model_version(name, files={f"{name}.pkl": "d" * 64}, digest="x", **kwargs)  # type: ignore[arg-type]


def test_versions_are_numbered_per_name_and_the_latest_is_found(store: MetadataStore) -> None:
    a1 = store.register_model_version("a", files={"a.pkl": "1" * 64}, digest="1", tags={"k": "v"}, run_id="r1")
    a2 = store.register_model_version("a", files={"a/x.bin": "2" * 64, "a/y.bin": "3" * 64}, digest="2")
    b1 = store.register_model_version("b", files={"b.onnx": "4" * 64}, digest="4", framework="Onnx")
    assert (a1.id, a2.id, b1.id) == ("a:1", "a:2", "b:1")
    assert store.get_model("a") == a2
    assert store.get_model("a", 1) == a1
    assert store.get_model_by_id("b:1") == b1
    assert store.get_model("a", 3) is None
    assert a2.root == "a" and a1.root == "a.pkl"
    assert [r.id for r in store.list_models()] == ["a:2", "a:1", "b:1"]
    assert [r.id for r in store.list_models(latest=True)] == ["a:2", "b:1"]
    assert [r.id for r in store.list_models(name="a", run_id="r1")] == ["a:1"]
    assert [r.id for r in store.list_models(framework="Onnx")] == ["b:1"]
    assert store.model_file_digests() == {"1" * 64, "2" * 64, "3" * 64, "4" * 64}
    assert store.model_names() == ["a", "b"]


def test_updates_and_deletes_touch_one_version(store: MetadataStore) -> None:
    _register(store, "m", tags={"a": "1"}, properties={"p": "x"})
    _register(store, "m")
    updated = store.update_model("m:1", tags={"b": "2"}, description="new", datasets=[{"name": "training", "id": "d"}])
    assert updated is not None
    assert (updated.tags, updated.description, updated.properties) == ({"b": "2"}, "new", {"p": "x"})
    assert matches_filters(updated, tags=[["b", "2"]], properties=["p"], dataset_id="d")
    assert not matches_filters(updated, tags=["a"])
    assert store.delete_model("m:2")
    assert store.get_model("m").version == 1  # type: ignore[union-attr]
    assert _register(store, "m").version == 2  # type: ignore[attr-defined]  # the number after the highest kept


def test_concurrent_registrations_never_lose_a_version(store_url: str, store: MetadataStore) -> None:
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with MetadataStore.open(store_url) as s:
                for _ in range(5):
                    _register(s, "race")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(r.version for r in store.list_models(name="race")) == list(range(1, 21))
