"""Run diff and timeline pages: ``/studio/diff?a=RUN&b=RUN`` and ``/studio/runs/{run_id}/timeline``.

Queries: :mod:`headwater.ops.studio_diff` and :mod:`headwater.ops.studio_timeline`.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from headwater.ops.studio_diff import run_diff
from headwater.ops.studio_timeline import run_timeline
from headwater.server.auth import require
from headwater.server.deps import get_store, get_ws_folder
from headwater.server.studio.templating import render
from headwater.status import TERMINAL
from headwater.store.metadata import MetadataStore

__all__ = ["router"]

router = APIRouter(include_in_schema=False, dependencies=[Depends(require("read"))])


def diff_lines(text: str | None) -> list[tuple[str, str]]:
    """A unified diff's lines with a CSS class each: add, del, hunk, head or ctx."""
    out = []
    for line in (text or "").splitlines():
        if line.startswith(("+++", "---")):
            cls = "head"
        elif line.startswith("@@"):
            cls = "hunk"
        elif line.startswith("+"):
            cls = "add"
        elif line.startswith("-"):
            cls = "del"
        else:
            cls = "ctx"
        out.append((cls, line))
    return out


@router.get("/studio/diff", response_class=HTMLResponse)
def diff_page(
    request: Request,
    a: str | None = None,
    b: str | None = None,
    store: MetadataStore = Depends(get_store),
    ws_folder: Path = Depends(get_ws_folder),
) -> HTMLResponse:
    if not a or not b:  # choose two runs
        runs = store.list_runs(kind="pipeline", top_level=True, limit=50)
        experiments = {e.id: e.name for e in store.list_experiments()}
        return render(request, "diff_choose.html", title="Compare runs", runs=runs, experiments=experiments, a=a, b=b)
    diff = run_diff(store, ws_folder, a, b)
    return render(request, "diff.html", title="Compare runs", diff=diff, diff_lines=diff_lines)


@router.get("/studio/runs/{run_id}/timeline", response_class=HTMLResponse)
def timeline_page(request: Request, run_id: str, store: MetadataStore = Depends(get_store)) -> HTMLResponse:
    timeline = run_timeline(store, run_id)
    live = timeline.run.status not in TERMINAL
    return render(request, "timeline.html", title="Timeline", timeline=timeline, live=live)
