"""Published pipelines and pipeline endpoints in the store, held against SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from headwater.errors import AlreadyExistsError, NotFoundError
from headwater.store.metadata import MetadataStore
from headwater.store.repo_published import PublishedRecord

GRAPH = {"steps": [], "parameters": {"lr": 0.1}}


def publish(store: MetadataStore, pid: str, created_at: str, **kw: object) -> PublishedRecord:
    return store.create_published_pipeline(
        PublishedRecord(id=pid, name=f"p-{pid}", graph=GRAPH, created_at=created_at, **kw)  # type: ignore[arg-type]
    )


def test_published_pipelines_round_trip_list_and_disable(store: MetadataStore) -> None:
    publish(
        store,
        "a",
        "2026-01-01T00:00:01.000000+00:00",
        description="first",
        version="1.0",
        continue_on_step_failure=True,
        source_run_id="run-1",
        properties={"snapshot_ids": ["d1"]},
    )
    publish(store, "b", "2026-01-01T00:00:02.000000+00:00")
    a = store.get_published_pipeline("a")
    assert a is not None
    assert (a.name, a.description, a.version, a.status) == ("p-a", "first", "1.0", "Active")
    assert a.graph == GRAPH and a.continue_on_step_failure is True and a.source_run_id == "run-1"
    assert a.properties == {"snapshot_ids": ["d1"]}
    assert [p.id for p in store.list_published_pipelines()] == ["a", "b"]

    disabled = store.set_published_pipeline_status("a", "Disabled")
    assert disabled.status == "Disabled" and disabled.updated_at is not None
    assert [p.id for p in store.list_published_pipelines()] == ["b"]
    assert [p.id for p in store.list_published_pipelines(active_only=False)] == ["a", "b"]
    assert store.get_published_pipeline("nope") is None
    with pytest.raises(NotFoundError):
        store.set_published_pipeline_status("nope", "Active")


def test_endpoints_number_versions_keep_a_default_and_unique_names(store: MetadataStore) -> None:
    for i, pid in enumerate(("p0", "p1", "p2")):
        publish(store, pid, f"2026-01-01T00:00:0{i}.000000+00:00")
    ep = store.create_pipeline_endpoint("ep", "an endpoint", "p0")
    assert (ep.name, ep.default_version, ep.status) == ("ep", "0", "Active")
    with pytest.raises(AlreadyExistsError, match="'ep'"):
        store.create_pipeline_endpoint("ep", None, "p1")

    assert store.add_endpoint_version(ep.id, "p1") == "1"
    assert store.add_endpoint_version(ep.id, "p2", make_default=True) == "2"
    assert store.add_endpoint_version(ep.id, "p1") == "1"  # already there: keeps its version
    assert [(v.version, v.pipeline_id) for v in store.list_endpoint_versions(ep.id)] == [
        ("0", "p0"),
        ("1", "p1"),
        ("2", "p2"),
    ]
    got = store.get_pipeline_endpoint(name="ep")
    assert got is not None and got.id == ep.id and got.default_version == "2"

    changed = store.update_pipeline_endpoint(ep.id, default_version="1", name="renamed")
    assert (changed.name, changed.default_version) == ("renamed", "1")
    with pytest.raises(ValueError, match="version 7"):
        store.update_pipeline_endpoint(ep.id, default_version="7")
    other = store.create_pipeline_endpoint("other", None, "p0")
    with pytest.raises(AlreadyExistsError):
        store.update_pipeline_endpoint(other.id, name="renamed")

    store.update_pipeline_endpoint(other.id, status="Disabled")
    assert [e.name for e in store.list_pipeline_endpoints()] == ["renamed"]
    assert [e.name for e in store.list_pipeline_endpoints(active_only=False)] == ["renamed", "other"]
    assert store.get_pipeline_endpoint(endpoint_id="missing") is None
    with pytest.raises(NotFoundError):
        store.add_endpoint_version("missing", "p0")
