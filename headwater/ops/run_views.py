"""Runs as SDK v1's REST and ``get_metrics`` show them, for the server and the SDK alike.

:func:`run_view` is a run in the shape of SDK v1's run-history ``RunDto`` (camelCase keys:
``runId``, ``parentRunId``, ``status``, ``startTimeUtc`` ...) plus Headwater's ``kind``;
:func:`metrics_view` is ``Run.get_metrics()``'s shape.
"""

from __future__ import annotations

from typing import Any

from headwater.store.metadata import MetadataStore
from headwater.store.records import MetricRecord, RunRecord

__all__ = ["RUN_TYPES", "metrics_view", "run_view"]

#: SDK v1's run type of each kind of run (a reused step run says so in its ``azureml.runsource``).
RUN_TYPES = {"pipeline": "azureml.PipelineRun", "step": "azureml.StepRun", "script": "azureml.scriptrun"}


def metrics_view(records: list[MetricRecord]) -> dict[str, Any]:
    """SDK v1's ``get_metrics`` shape: a value logged once is a scalar, repeated a list; rows form a table."""
    out: dict[str, Any] = {}
    kinds: dict[str, str] = {}
    for m in records:
        if m.kind == "row":
            table = out.setdefault(m.name, {})
            for col, value in m.value.items():
                table.setdefault(col, []).append(value)
            kinds[m.name] = "row"
            continue
        if m.name not in out:
            out[m.name] = m.value
            kinds[m.name] = "one"
        elif kinds[m.name] == "one":
            out[m.name] = [out[m.name], m.value]
            kinds[m.name] = "many"
        else:
            out[m.name].append(m.value)
    return out


def run_view(store: MetadataStore, run: RunRecord, experiment_name: str | None = None) -> dict[str, Any]:
    """``run`` as SDK v1's REST shows a run (``experiment_name`` saves a look-up when known)."""
    properties = store.get_properties(run.id)
    if experiment_name is None:
        experiment_name = next((e.name for e in store.list_experiments() if e.id == run.experiment_id), None)
    view: dict[str, Any] = {
        "runId": run.id,
        "parentRunId": run.parent_id,
        "experimentId": run.experiment_id,
        "experimentName": experiment_name,
        "kind": run.kind,
        "runType": properties.get("azureml.runsource") or RUN_TYPES.get(run.kind, run.kind),
        "name": run.name,
        "displayName": run.name,
        "status": run.status,
        "createdUtc": run.created_at,
        "startTimeUtc": run.started_at,
        "endTimeUtc": run.ended_at,
        "target": run.compute_target or "local",
        "properties": properties,
        "tags": store.get_tags(run.id),
        "error": run.error,
    }
    if run.kind == "step":
        view["reusedRunId"] = run.reused_run_id
        view["reuseReason"] = run.reason
    if run.pipeline_id:
        view["pipelineId"] = run.pipeline_id
    return view
