"""The studio's dataset pages (scope ``read``).

- ``GET /studio/datasets``: the registered datasets (latest version, how many versions).
- ``GET /studio/datasets/{name}?version=N``: a dataset's versions; one version's digest, files
  and their digests, whether its data changed since it was registered (``data_changed()``,
  stat-cached), and its lineage: the run that produced it and the runs that consumed it.
- ``GET /studio/runs/{run_id}/datasets``: the other way round: the versions a run (or its steps)
  produced and consumed.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from headwater.errors import HeadwaterError, NotFoundError
from headwater.server.auth import require
from headwater.server.deps import get_store, get_ws_folder, get_ws_name
from headwater.server.studio.lookups import studio_run
from headwater.server.studio.templating import render
from headwater.store.metadata import MetadataStore

__all__ = ["FILES_SHOWN", "router"]

#: How many files of a version the page lists (the digest covers them all).
FILES_SHOWN = 500

router = APIRouter(include_in_schema=False, dependencies=[Depends(require("read"))])


@router.get("/studio/datasets", response_class=HTMLResponse)
def datasets_page(request: Request, store: MetadataStore = Depends(get_store)) -> HTMLResponse:
    from headwater.ops.studio_datasets import dataset_summaries

    return render(request, "datasets.html", title="Datasets", datasets=dataset_summaries(store))


@router.get("/studio/datasets/{name}", response_class=HTMLResponse)
def dataset_page(
    request: Request,
    name: str,
    version: int | None = Query(None, ge=1),
    store: MetadataStore = Depends(get_store),
    ws_folder: Path = Depends(get_ws_folder),
    ws_name: str = Depends(get_ws_name),
) -> HTMLResponse:
    from headwater.ops.studio_datasets import consumers, data_changed, producer

    versions = store.list_dataset_versions(name)
    if not versions:
        raise NotFoundError("Dataset", name, where=f"workspace {ws_name!r}", candidates=store.dataset_names())
    record = next((v for v in versions if v.version == version), None) if version else versions[-1]
    if record is None:
        raise NotFoundError(
            "Dataset version",
            f"{name}:{version}",
            where=f"workspace {ws_name!r}",
            hint=f"Its versions: {', '.join(str(v.version) for v in versions)}.",
        )
    changes: dict[str, list[str]] | None = None
    change_error = None
    try:
        changes = data_changed(store, ws_folder, ws_name, record)
    except HeadwaterError as exc:
        change_error = str(exc)
    made_by = producer(store, record)
    files = sorted((record.file_digests or {}).items())
    return render(
        request,
        "dataset.html",
        title=f"Dataset {name}",
        dataset_name=name,
        versions=list(reversed(versions)),
        record=record,
        files=files[:FILES_SHOWN],
        file_count=len(files),
        changes=changes,
        change_error=change_error,
        producer=made_by,
        consumers=consumers(store, record),
    )


@router.get("/studio/runs/{run_id}/datasets", response_class=HTMLResponse)
def run_datasets_page(
    request: Request,
    run_id: str,
    store: MetadataStore = Depends(get_store),
    ws_name: str = Depends(get_ws_name),
) -> HTMLResponse:
    from headwater.ops.studio_datasets import run_datasets

    run = studio_run(store, ws_name, run_id)
    produced, consumed = run_datasets(store, run)
    return render(
        request,
        "run_datasets.html",
        title=f"Datasets of {run.name or run.id}",
        tab="datasets",
        run=run,
        produced=produced,
        consumed=consumed,
    )
