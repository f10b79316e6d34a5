"""The runs pages (scope read).

``/studio/`` every experiment's top-level runs (filters, sort and page in the query string);
``/studio/runs/{run_id}`` a pipeline run's graph and step table (a script run's own panel; a step
run redirects to its pipeline run's page with its panel open);
``/studio/runs/{run_id}/steps/{step_id}`` that page with the step's panel open (``?partial=1``: the
panel alone, which the page's script fetches when a step is clicked);
``/studio/runs/{run_id}/outputs/{name}/files/{path}`` a file of an output on a local datastore;
``/studio/api/runs/{run_id}/graph`` the graph as JSON and ``/studio/api/runs/{run_id}/events`` its
changes as server-sent events (``steps`` events with the graph's JSON; ``end`` once the run ended).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse

from headwater.errors import NotFoundError
from headwater.server.auth import require
from headwater.server.deps import get_store, get_ws_folder, get_ws_name
from headwater.server.studio.templating import render
from headwater.status import TERMINAL
from headwater.store.metadata import MetadataStore
from headwater.store.records import RunRecord

__all__ = ["router"]

router = APIRouter(include_in_schema=False, dependencies=[Depends(require("read"))])

#: How often the events route looks at the store while a run is under way (seconds).
POLL_SECONDS = 0.5


def _get_run(store: MetadataStore, ws_name: str, run_id: str) -> RunRecord:
    from headwater.ops.runs import refresh_status

    record = refresh_status(store, run_id)
    if record is None:
        raise NotFoundError("Run", run_id, where=f"workspace {ws_name!r}", hint="The runs are listed at /studio/.")
    return record


def _experiment_name(store: MetadataStore, run: RunRecord) -> str:
    return next((e.name for e in store.list_experiments() if e.id == run.experiment_id), "")


@router.get("/studio/", response_class=HTMLResponse)
def runs_page(request: Request, store: MetadataStore = Depends(get_store)) -> HTMLResponse:
    from headwater.ops.studio_queries import list_runs_page, parse_runs_query

    page = list_runs_page(store, parse_runs_query(request.query_params))
    return render(request, "runs.html", title="Runs", page=page, params=page.query.params())


def _run_page(
    request: Request, store: MetadataStore, ws_folder: Path, ws_name: str, run: RunRecord, step_id: str | None
) -> Response:
    from headwater.ops.studio_drift import detector_of_run
    from headwater.ops.studio_queries import run_graph
    from headwater.ops.studio_steps import StepDetail, step_detail

    experiment = _experiment_name(store, run)
    if run.kind != "pipeline":  # a script run: its own panel
        own = step_detail(store, ws_folder, run, None)
        return render(request, "script_run.html", title=run.name or run.id, run=run, experiment=experiment, d=own)
    graph = run_graph(store, run)
    detail: StepDetail | None = None
    if step_id is not None:
        step = store.get_run(step_id)
        if step is None or step.parent_id != run.id:
            raise NotFoundError("Step run", step_id, where=f"pipeline run {run.id!r}")
        detail = step_detail(store, ws_folder, step, run)
    return render(
        request,
        "run.html",
        title=run.name or run.id,
        run=run,
        experiment=experiment,
        graph=graph,
        graph_json=graph.to_json(),
        d=detail,
        properties=store.get_properties(run.id),
        tags=store.get_tags(run.id),
        drift=detector_of_run(store, run.id),
    )


@router.get("/studio/runs/{run_id}", response_class=HTMLResponse)
def run_page(
    request: Request,
    run_id: str,
    store: MetadataStore = Depends(get_store),
    ws_folder: Path = Depends(get_ws_folder),
    ws_name: str = Depends(get_ws_name),
) -> Response:
    run = _get_run(store, ws_name, run_id)
    if run.kind == "step" and run.parent_id is not None:
        return RedirectResponse(f"/studio/runs/{quote(run.parent_id)}/steps/{quote(run.id)}", status_code=303)
    return _run_page(request, store, ws_folder, ws_name, run, None)


@router.get("/studio/runs/{run_id}/steps/{step_id}", response_class=HTMLResponse)
def step_page(
    request: Request,
    run_id: str,
    step_id: str,
    partial: bool = False,
    store: MetadataStore = Depends(get_store),
    ws_folder: Path = Depends(get_ws_folder),
    ws_name: str = Depends(get_ws_name),
) -> Response:
    run = _get_run(store, ws_name, run_id)
    if not partial:
        return _run_page(request, store, ws_folder, ws_name, run, step_id)
    from headwater.ops.studio_steps import step_detail

    step = store.get_run(step_id)
    if step is None or step.parent_id != run.id:
        raise NotFoundError("Step run", step_id, where=f"pipeline run {run.id!r}")
    return render(request, "step_panel.html", d=step_detail(store, ws_folder, step, run), run=run)


@router.get("/studio/runs/{run_id}/outputs/{name}/files/{path:path}")
def output_file(
    run_id: str,
    name: str,
    path: str,
    store: MetadataStore = Depends(get_store),
    ws_folder: Path = Depends(get_ws_folder),
) -> Response:
    from headwater.ops.studio_steps import output_file as find

    target = find(store, ws_folder, run_id, name, path)
    return FileResponse(target, filename=target.name)


@router.get("/studio/api/runs/{run_id}/graph")
def graph_json(
    run_id: str, store: MetadataStore = Depends(get_store), ws_name: str = Depends(get_ws_name)
) -> JSONResponse:
    from headwater.ops.studio_queries import run_graph

    return JSONResponse(run_graph(store, _get_run(store, ws_name, run_id)).to_json())


def _snapshot(store: MetadataStore, run_id: str, refresh: bool) -> tuple[RunRecord | None, Any]:
    from headwater.ops.runs import refresh_status

    run = refresh_status(store, run_id) if refresh else store.get_run(run_id)
    return run, None if run is None else (run.status, tuple(sorted(store.step_statuses(run_id))))


@router.get("/studio/api/runs/{run_id}/events")
async def run_events(
    request: Request, run_id: str, store: MetadataStore = Depends(get_store), ws_name: str = Depends(get_ws_name)
) -> StreamingResponse:
    from headwater.ops.studio_queries import run_graph

    first = await run_in_threadpool(_get_run, store, ws_name, run_id)

    async def events() -> AsyncIterator[str]:
        last: Any = None
        polls = 0
        run: RunRecord | None = first
        stopping = request.app.state.stopping
        while run is not None and not stopping.is_set() and not await request.is_disconnected():
            run, key = await run_in_threadpool(_snapshot, store, run_id, polls % 8 == 0)
            polls += 1
            if run is None:
                break
            if key != last:
                last = key
                graph = await run_in_threadpool(run_graph, store, run)
                yield f"event: steps\ndata: {json.dumps(graph.to_json())}\n\n"
            if run.status in TERMINAL:
                yield f"event: end\ndata: {json.dumps({'status': run.status})}\n\n"
                break
            await asyncio.sleep(POLL_SECONDS)

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )
