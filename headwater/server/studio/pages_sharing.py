"""Sharing pages: published pipelines (list, detail, enable/disable, submit form), pipeline
endpoints (versions, default) and schedules (past fires, late ones marked; next due times).

Queries: :mod:`headwater.ops.studio_sharing`. Viewing needs a read token; enable, disable and
submit need submit scope (the form posts through ``submit_published``, the REST route's verb).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from headwater.errors import HeadwaterError, NotFoundError
from headwater.ops import studio_sharing as q
from headwater.server.auth import require
from headwater.server.deps import get_store, get_ws_folder
from headwater.server.studio.templating import render
from headwater.store.metadata import MetadataStore
from headwater.store.repo_tokens import TokenRecord

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/studio/pipelines", response_class=HTMLResponse)
def pipelines_page(
    request: Request, store: MetadataStore = Depends(get_store), _t: TokenRecord = Depends(require("read"))
) -> HTMLResponse:
    return render(request, "pipelines.html", title="Published pipelines", pipelines=q.list_published(store))


def _detail(
    request: Request,
    store: MetadataStore,
    token: TokenRecord,
    pipeline_id: str,
    *,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    view = q.published_view(store, pipeline_id)
    return render(
        request,
        "pipeline.html",
        status_code=status_code,
        title=view.record.name or view.record.id,
        view=view,
        can_submit=token.allows("submit"),
        error=error,
        form=form or {},
    )


@router.get("/studio/pipelines/{pipeline_id}", response_class=HTMLResponse)
def pipeline_page(
    request: Request,
    pipeline_id: str,
    store: MetadataStore = Depends(get_store),
    token: TokenRecord = Depends(require("read")),
) -> HTMLResponse:
    return _detail(request, store, token, pipeline_id)


@router.post("/studio/pipelines/{pipeline_id}/submit", response_model=None)
async def submit_form(
    request: Request,
    pipeline_id: str,
    store: MetadataStore = Depends(get_store),
    ws_folder: Path = Depends(get_ws_folder),
    token: TokenRecord = Depends(require("submit")),
) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    try:
        run_id = await run_in_threadpool(q.submit_from_form, store, ws_folder, pipeline_id, form)
    except NotFoundError:
        raise
    except HeadwaterError as exc:  # nothing was recorded: the form again, saying what is wrong
        return _detail(request, store, token, pipeline_id, error=str(exc), form=form, status_code=400)
    return RedirectResponse(f"/studio/runs/{run_id}", status_code=303)


@router.post("/studio/pipelines/{pipeline_id}/{action}", response_model=None)
def set_status(
    pipeline_id: str,
    action: str,
    store: MetadataStore = Depends(get_store),
    _t: TokenRecord = Depends(require("submit")),
) -> Response:
    from headwater.store.repo_published import ACTIVE, DISABLED

    if action not in ("enable", "disable"):
        raise NotFoundError("Action", action, hint="enable or disable")
    store.set_published_pipeline_status(pipeline_id, ACTIVE if action == "enable" else DISABLED)
    return RedirectResponse(f"/studio/pipelines/{pipeline_id}", status_code=303)


@router.get("/studio/endpoints", response_class=HTMLResponse)
def endpoints_page(
    request: Request, store: MetadataStore = Depends(get_store), _t: TokenRecord = Depends(require("read"))
) -> HTMLResponse:
    return render(request, "endpoints.html", title="Pipeline endpoints", endpoints=q.list_endpoints(store))


@router.get("/studio/endpoints/{endpoint_id}", response_class=HTMLResponse)
def endpoint_page(
    request: Request,
    endpoint_id: str,
    store: MetadataStore = Depends(get_store),
    _t: TokenRecord = Depends(require("read")),
) -> HTMLResponse:
    view = q.endpoint_view(store, endpoint_id)
    return render(request, "endpoint.html", title=view.record.name, view=view)


@router.get("/studio/schedules", response_class=HTMLResponse)
def schedules_page(
    request: Request, store: MetadataStore = Depends(get_store), _t: TokenRecord = Depends(require("read"))
) -> HTMLResponse:
    return render(request, "schedules.html", title="Schedules", schedules=q.list_schedules(store))


@router.get("/studio/schedules/{schedule_id}", response_class=HTMLResponse)
def schedule_page(
    request: Request,
    schedule_id: str,
    store: MetadataStore = Depends(get_store),
    _t: TokenRecord = Depends(require("read")),
) -> HTMLResponse:
    view = q.schedule_view(store, schedule_id)
    return render(request, "schedule.html", title=view.record.name, view=view)
