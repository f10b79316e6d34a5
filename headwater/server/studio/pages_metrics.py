"""The studio's metric pages (scope ``read``).

- ``GET /studio/runs/{run_id}/metrics``: scalars as a table, series (a metric logged several
  times) as line charts (uPlot, vendored), ``log_table``/``log_row``/``log_list`` as tables,
  ``log_image`` as images; a pipeline run shows its own metrics (``run.parent.log``) then each
  step's.
- ``GET /studio/runs/{run_id}/images/{artifact}``: an image a metric of the run names, from the
  run folder (or, for ``run.parent.log_image``, from the step's).
- ``GET /studio/experiments``: the experiments, each linking to:
- ``GET /studio/experiments/{name}?metric=M&runs=ID...``: one metric across the experiment's
  runs: a chart overlaying the chosen runs (tick or untick them) and a table.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, HTMLResponse

from headwater.errors import NotFoundError
from headwater.server.auth import require
from headwater.server.deps import get_store, get_ws_folder, get_ws_name
from headwater.server.studio.lookups import studio_run
from headwater.server.studio.templating import render
from headwater.store.metadata import MetadataStore
from headwater.store.records import RunRecord

__all__ = ["EXPERIMENT_RUNS", "router"]

#: How many of an experiment's newest runs the experiment view compares.
EXPERIMENT_RUNS = 50
_PRESELECTED = 5

router = APIRouter(include_in_schema=False, dependencies=[Depends(require("read"))])


def _chart(name: str, series: list[tuple[str, list[float | None]]]) -> str:
    """The JSON a chart element carries: x = 1..n (the n-th logged value), one y list per series."""
    length = max((len(v) for _, v in series), default=0)
    return json.dumps(
        {
            "title": name,
            "x": list(range(1, length + 1)),
            "series": [
                {"label": label, "values": values + [None] * (length - len(values))} for label, values in series
            ],
        }
    )


def _label(run: RunRecord) -> str:
    """A run's label on a chart: its time and short id (several runs share a name)."""
    return f"{(run.created_at or '')[:19].replace('T', ' ')} {run.id[:8]}"


@router.get("/studio/runs/{run_id}/metrics", response_class=HTMLResponse)
def metrics_page(
    request: Request,
    run_id: str,
    store: MetadataStore = Depends(get_store),
    ws_name: str = Depends(get_ws_name),
) -> HTMLResponse:
    from headwater.ops.studio_metrics import run_metrics

    run = studio_run(store, ws_name, run_id)
    metrics = run_metrics(store, run)
    experiment = next((e.name for e in store.list_experiments() if e.id == run.experiment_id), None)
    return render(
        request,
        "metrics.html",
        title=f"Metrics of {run.name or run.id}",
        tab="metrics",
        run=run,
        metrics=metrics,
        experiment=experiment,
        chart=_chart,
    )


@router.get("/studio/runs/{run_id}/images/{artifact:path}")
def metric_image(
    run_id: str,
    artifact: str,
    store: MetadataStore = Depends(get_store),
    ws_folder: Path = Depends(get_ws_folder),
    ws_name: str = Depends(get_ws_name),
) -> FileResponse:
    from headwater.ops.studio_metrics import image_file

    run = studio_run(store, ws_name, run_id)
    return FileResponse(image_file(store, ws_folder, run, artifact))


@router.get("/studio/experiments", response_class=HTMLResponse)
def experiments_page(request: Request, store: MetadataStore = Depends(get_store)) -> HTMLResponse:
    """Every experiment, linking to its comparison view."""
    return render(request, "experiments.html", title="Experiments", experiments=store.list_experiments())


@router.get("/studio/experiments/{name}", response_class=HTMLResponse)
def experiment_page(
    request: Request,
    name: str,
    metric: str | None = Query(None),
    runs: list[str] = Query([]),
    store: MetadataStore = Depends(get_store),
    ws_name: str = Depends(get_ws_name),
) -> HTMLResponse:
    from headwater.ops.studio_metrics import experiment_metric, experiment_metric_names

    experiment = store.get_experiment(name)
    if experiment is None:
        raise NotFoundError(
            "Experiment",
            name,
            where=f"workspace {ws_name!r}",
            candidates=[e.name for e in store.list_experiments()],
        )
    recent = store.list_runs(experiment_id=experiment.id, top_level=True, limit=EXPERIMENT_RUNS)
    names = experiment_metric_names(store, recent)
    chosen_metric = metric if metric in names else (names[0] if names else None)
    values = {} if chosen_metric is None else experiment_metric(store, recent, chosen_metric)
    logged = [r for r in recent if r.id in values]
    selected = set(runs) & set(values) or {r.id for r in logged[:_PRESELECTED]}
    rows: list[dict[str, Any]] = []
    for r in logged:
        numbers = [v for v in values[r.id] if v is not None]
        rows.append(
            {
                "run": r,
                "selected": r.id in selected,
                "count": len(values[r.id]),
                "last": numbers[-1] if numbers else None,
                "min": min(numbers) if numbers else None,
                "max": max(numbers) if numbers else None,
            }
        )
    chart = None
    if chosen_metric is not None:
        chart = _chart(chosen_metric, [(_label(r), values[r.id]) for r in logged])
    return render(
        request,
        "experiment.html",
        title=f"Experiment {name}",
        experiment=experiment,
        names=names,
        metric=chosen_metric,
        rows=rows,
        chart_json=chart,
        run_ids=json.dumps([r.id for r in logged]),
    )
