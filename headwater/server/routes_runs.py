"""Read routes for polling runs without the SDK (scope ``read``): a run, its steps, its metrics, and
the runs of an experiment, in shapes close to SDK v1's run-history REST (see
:func:`headwater.ops.run_views.run_view`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from headwater.errors import NotFoundError
from headwater.server.auth import require
from headwater.server.deps import get_store, get_ws_name
from headwater.store.metadata import MetadataStore
from headwater.store.records import RunRecord

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["runs"], dependencies=[Depends(require("read"))])

_UNAUTHORIZED: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid token"},
    403: {"description": "The token's scope is too low"},
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such run (the message names the id)"},
    **_UNAUTHORIZED,
}


def _run(store: MetadataStore, ws_name: str, run_id: str) -> RunRecord:
    from headwater.ops.runs import refresh_status

    record = refresh_status(store, run_id)  # a run whose orchestrator died reads as Failed, as in the SDK
    if record is None:
        raise NotFoundError(
            "Run",
            run_id,
            where=f"workspace {ws_name!r}",
            hint="List an experiment's runs with GET /api/experiments/{name}/runs.",
        )
    return record


@router.get(
    "/runs/{run_id}",
    summary="A run: status, times, kind, experiment, parent",
    description="SDK v1's run-history shape (`runId`, `parentRunId`, `experimentName`, `status`, `runType`, "
    "`startTimeUtc`, `endTimeUtc`, `properties`, `tags`, `error`) plus Headwater's `kind` "
    "(pipeline, step or script). A pipeline run's status uses the pipeline vocabulary (`Finished`).",
    responses=_NOT_FOUND,
)
def get_run(
    run_id: str, store: MetadataStore = Depends(get_store), ws_name: str = Depends(get_ws_name)
) -> dict[str, Any]:
    from headwater.ops.run_views import run_view

    return run_view(store, _run(store, ws_name, run_id))


@router.get(
    "/runs/{run_id}/steps",
    summary="The step runs of a pipeline run",
    description='`{"value": [...]}`: the run\'s step runs, oldest first, each with its status, times, '
    "`reusedRunId` and `reuseReason` (why it ran or was reused).",
    responses=_NOT_FOUND,
)
def get_steps(
    run_id: str, store: MetadataStore = Depends(get_store), ws_name: str = Depends(get_ws_name)
) -> dict[str, Any]:
    from headwater.ops.run_views import run_view

    run = _run(store, ws_name, run_id)
    experiment = next((e.name for e in store.list_experiments() if e.id == run.experiment_id), None)
    steps = reversed(store.list_runs(parent_id=run.id))
    return {"value": [run_view(store, s, experiment) for s in steps]}


@router.get(
    "/runs/{run_id}/metrics",
    summary="The metrics a run logged",
    description='`{"runId": ..., "metrics": {...}}` in `Run.get_metrics()`\'s shape: a value logged once is a '
    "scalar, logged repeatedly a list, rows a table of columns. `name` selects one metric.",
    responses=_NOT_FOUND,
)
def get_metrics(
    run_id: str,
    name: str | None = Query(None, description="Only this metric."),
    store: MetadataStore = Depends(get_store),
    ws_name: str = Depends(get_ws_name),
) -> dict[str, Any]:
    from headwater.ops.run_views import metrics_view

    run = _run(store, ws_name, run_id)
    return {"runId": run.id, "metrics": metrics_view(store.get_metrics(run.id, name))}


@router.get(
    "/experiments/{experiment_name}/runs",
    summary="The runs of an experiment",
    description='`{"value": [...]}`: the experiment\'s top-level runs (pipeline and script runs), newest first; '
    "`include_children=true` adds their step runs; `top` limits how many.",
    responses={404: {"description": "No such experiment (the message names it)"}, **_UNAUTHORIZED},
)
def list_experiment_runs(
    experiment_name: str,
    include_children: bool = Query(False, description="Also list step runs."),
    top: int | None = Query(None, ge=1, description="At most this many runs (the newest)."),
    store: MetadataStore = Depends(get_store),
    ws_name: str = Depends(get_ws_name),
) -> dict[str, Any]:
    from headwater.ops.run_views import run_view

    experiment = store.get_experiment(experiment_name)
    if experiment is None:
        raise NotFoundError(
            "Experiment",
            experiment_name,
            where=f"workspace {ws_name!r}",
            candidates=[e.name for e in store.list_experiments()],
        )
    runs = store.list_runs(experiment_id=experiment.id, top_level=not include_children, limit=top)
    return {"value": [run_view(store, r, experiment.name) for r in runs]}
