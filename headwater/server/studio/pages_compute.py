"""Compute pages: ``/studio/compute`` (compute targets, runs per target) and ``/studio/environments``
(registered and used environments, runs per environment). Queries: :mod:`headwater.ops.studio_compute`."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from headwater.ops.studio_compute import RECENT_RUNS, compute_targets, environments
from headwater.server.auth import require
from headwater.server.deps import get_store, get_ws_folder
from headwater.server.studio.templating import render
from headwater.store.metadata import MetadataStore

__all__ = ["router"]

router = APIRouter(include_in_schema=False, dependencies=[Depends(require("read"))])


@router.get("/studio/compute", response_class=HTMLResponse)
def compute_page(request: Request, store: MetadataStore = Depends(get_store)) -> HTMLResponse:
    return render(request, "compute.html", title="Compute", targets=compute_targets(store), recent=RECENT_RUNS)


@router.get("/studio/environments", response_class=HTMLResponse)
def environments_page(
    request: Request, store: MetadataStore = Depends(get_store), ws_folder: Path = Depends(get_ws_folder)
) -> HTMLResponse:
    rows = environments(store, ws_folder)
    return render(request, "environments.html", title="Environments", environments=rows, recent=RECENT_RUNS)
