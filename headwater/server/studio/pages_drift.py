"""The studio's data drift pages (scope ``read``). Queries: :mod:`headwater.ops.studio_drift`.

- ``GET /studio/drift``: the detectors, each with its state, frequency, threshold, latest
  magnitude and number of alerts.
- ``GET /studio/drift/{name}?period=ISO``: one detector: its settings (e-mail addresses; a webhook
  only as "configured" and its host), the magnitude over time against the threshold (uPlot), the
  periods with their runs and alerts, and for the chosen period (default: the latest) each
  feature's contribution, statistics and baseline-vs-target distribution.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from headwater.server.auth import require
from headwater.server.deps import get_store, get_ws_folder
from headwater.server.studio.templating import render
from headwater.store.metadata import MetadataStore

__all__ = ["router"]

router = APIRouter(include_in_schema=False, dependencies=[Depends(require("read"))])


@router.get("/studio/drift", response_class=HTMLResponse)
def detectors_page(
    request: Request, store: MetadataStore = Depends(get_store), ws_folder: Path = Depends(get_ws_folder)
) -> HTMLResponse:
    from headwater.ops.studio_drift import detectors_overview

    return render(request, "drift_detectors.html", title="Data drift", rows=detectors_overview(store, ws_folder))


@router.get("/studio/drift/{name}", response_class=HTMLResponse)
def detector_page(
    request: Request,
    name: str,
    period: str | None = Query(None),
    store: MetadataStore = Depends(get_store),
    ws_folder: Path = Depends(get_ws_folder),
) -> HTMLResponse:
    from headwater.ops.studio_drift import detector_view

    view = detector_view(store, ws_folder, name, period)
    return render(request, "drift_detector.html", title=f"Data drift detector {name}", view=view)
