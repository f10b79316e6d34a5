"""``properties_of``: chosen properties of many runs in a query per 500 runs (the studio timeline's
build phases), on every backend."""

from __future__ import annotations

from headwater.store.metadata import MetadataStore
from headwater.store.records import RunRecord


def test_properties_of_many_runs_returns_only_the_keys_asked_for(store: MetadataStore) -> None:
    exp = store.get_or_create_experiment("props")
    ids = [f"run-{i:04d}" for i in range(1203)]  # more than two chunks
    for run_id in ids:
        store.create_run(RunRecord(run_id, exp.id, kind="step", status="Finished"))
    store.add_properties(ids[0], {"headwater.build_started": "t0", "headwater.build_ended": "t1", "other": "x"})
    store.add_properties(ids[1202], {"headwater.build_started": "t2"})
    got = store.properties_of(ids, ("headwater.build_started", "headwater.build_ended"))
    assert got == {
        ids[0]: {"headwater.build_started": "t0", "headwater.build_ended": "t1"},
        ids[1202]: {"headwater.build_started": "t2"},
    }
    assert store.properties_of([], ("a",)) == {} and store.properties_of(ids[:3], ()) == {}
