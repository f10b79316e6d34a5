"""The runs pages: ``/studio/`` (every experiment's top-level runs)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from headwater.server.auth import require
from headwater.server.deps import get_store
from headwater.server.studio.templating import render
from headwater.store.metadata import MetadataStore

__all__ = ["router"]

router = APIRouter(include_in_schema=False, dependencies=[Depends(require("read"))])


@router.get("/studio/", response_class=HTMLResponse)
def runs_page(request: Request, store: MetadataStore = Depends(get_store)) -> HTMLResponse:
    experiments = {e.id: e.name for e in store.list_experiments()}
    runs = store.list_runs(top_level=True, limit=50)
    return render(request, "runs.html", title="Runs", runs=runs, experiments=experiments)
