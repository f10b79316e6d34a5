"""``MetadataStore.get_metrics_of_runs``: the metrics of many runs in one call (the studio's experiment view)."""

from __future__ import annotations

from typing import Any


def test_metrics_of_many_runs_come_in_one_call_past_the_parameter_limit(ws: Any) -> None:
    from headwater.store.records import MetricRecord, RunRecord

    store = ws.metadata_store
    experiment = store.get_or_create_experiment("many")
    ids = [f"run-{i:04d}" for i in range(1200)]
    for run_id in ids:
        store.create_run(RunRecord(run_id, experiment.id, "script", "Completed"))
    store.add_metrics([MetricRecord(run_id, "loss", "scalar", i) for i, run_id in enumerate(ids)])
    store.add_metrics([MetricRecord(ids[0], "loss", "scalar", -1.0)])
    found = store.get_metrics_of_runs([*ids, ids[0]])
    assert len(found) == 1201
    assert [m.value for m in found if m.run_id == ids[0]] == [0, -1.0]
    assert store.get_metrics_of_runs([]) == []
