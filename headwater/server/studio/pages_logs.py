"""The studio's log page of a run, and the routes it calls (scope ``read``).

- ``GET /studio/runs/{run_id}/logs?file=NAME``: the page. It shows the last 64 KiB of the log
  (whole lines), loads earlier windows on demand, searches on the server, and follows the log live
  while the run runs.
- ``GET /studio/api/runs/{run_id}/logs/chunk?file=&end=`` (or ``&start=``): the window of whole lines
  before byte ``end`` (or from byte ``start``).
- ``GET /studio/api/runs/{run_id}/logs/search?file=&q=&start=&line=``: matching lines, paged.
- ``GET /studio/api/runs/{run_id}/logs/stream?file=&offset=``: Server-Sent Events: ``lines`` events
  (``{"lines": [...], "end": offset}``, the event id is the offset, so a reconnecting browser goes on
  where it stopped) and one ``end`` event once the run is final and everything was sent.
- ``GET /studio/runs/{run_id}/raw?file=NAME``: the file itself (any file inside the run folder).

Every read is bounded (:mod:`headwater.ops.studio_logs`); nothing reads a whole log per request.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, StreamingResponse

from headwater.server.auth import require
from headwater.server.deps import get_store, get_ws_folder, get_ws_name
from headwater.server.studio.lookups import is_final, studio_run
from headwater.server.studio.templating import render
from headwater.store.metadata import MetadataStore

__all__ = ["POLL_SECONDS", "SEARCH_BYTES", "router"]

#: How often a live log stream looks for new lines.
POLL_SECONDS = 0.25
#: How much of a log one search request reads at most; the page asks again for the rest.
SEARCH_BYTES = 64 * 1024 * 1024
_DEFAULT_FILE = "user_logs/std_log.txt"

router = APIRouter(include_in_schema=False, dependencies=[Depends(require("read"))])


@router.get("/studio/runs/{run_id}/logs", response_class=HTMLResponse)
def logs_page(
    request: Request,
    run_id: str,
    file: str | None = Query(None),
    store: MetadataStore = Depends(get_store),
    ws_folder: Path = Depends(get_ws_folder),
    ws_name: str = Depends(get_ws_name),
) -> HTMLResponse:
    from headwater.ops.studio_logs import log_files, read_before, run_file

    run = studio_run(store, ws_name, run_id)
    files = log_files(ws_folder, run.id)
    names = [f.name for f in files]
    chosen = file or (_DEFAULT_FILE if _DEFAULT_FILE in names else (names[0] if names else None))
    chunk = None
    if chosen is not None:
        chunk = read_before(run_file(ws_folder, run.id, chosen))
    return render(
        request,
        "logs.html",
        title=f"Logs of {run.name or run.id}",
        tab="logs",
        run=run,
        files=files,
        chosen=chosen,
        chunk=chunk,
        live=not is_final(store, run),
        steps=list(reversed(store.list_runs(parent_id=run.id))) if run.kind == "pipeline" else [],
    )


@router.get("/studio/api/runs/{run_id}/logs/chunk")
def log_chunk(
    run_id: str,
    file: str = Query(...),
    end: int | None = Query(None, ge=0),
    start: int | None = Query(None, ge=0),
    store: MetadataStore = Depends(get_store),
    ws_folder: Path = Depends(get_ws_folder),
    ws_name: str = Depends(get_ws_name),
) -> dict[str, Any]:
    """The window of whole lines before byte ``end`` (None: the end), or from byte ``start`` on."""
    from headwater.ops.studio_logs import read_after, read_before, run_file

    run = studio_run(store, ws_name, run_id)
    path = run_file(ws_folder, run.id, file)
    chunk = read_after(path, start) if start is not None else read_before(path, end)
    return {"start": chunk.start, "end": chunk.end, "size": chunk.size, "lines": chunk.lines}


@router.get("/studio/api/runs/{run_id}/logs/search")
def log_search(
    run_id: str,
    file: str = Query(...),
    q: str = Query(..., min_length=1),
    start: int = Query(0, ge=0),
    line: int = Query(1, ge=1),
    limit: int = Query(200, ge=1, le=1000),
    store: MetadataStore = Depends(get_store),
    ws_folder: Path = Depends(get_ws_folder),
    ws_name: str = Depends(get_ws_name),
) -> dict[str, Any]:
    """Lines containing ``q`` (case-insensitive) from byte ``start``; ``next_offset`` goes on."""
    from headwater.ops.studio_logs import run_file, search

    run = studio_run(store, ws_name, run_id)
    path = run_file(ws_folder, run.id, file)
    result = search(path, q, start=start, line=line, limit=limit, max_bytes=SEARCH_BYTES)
    return {
        "hits": [{"offset": h.offset, "line": h.line, "text": h.text} for h in result.hits],
        "next_offset": result.next_offset,
        "next_line": result.next_line,
    }


@router.get("/studio/api/runs/{run_id}/logs/stream")
async def log_stream(
    request: Request,
    run_id: str,
    file: str = Query(_DEFAULT_FILE),
    offset: int = Query(0, ge=0),
    store: MetadataStore = Depends(get_store),
    ws_folder: Path = Depends(get_ws_folder),
    ws_name: str = Depends(get_ws_name),
) -> StreamingResponse:
    """New lines of the log as Server-Sent Events until the run is final."""
    from headwater.ops.studio_logs import RunFileError, run_folder

    run = await asyncio.to_thread(studio_run, store, ws_name, run_id)
    last_id = request.headers.get("last-event-id", "")
    if last_id.isdigit():
        offset = int(last_id)
    path = run_folder(ws_folder, run.id).joinpath(*file.split("/"))
    if ".." in file.split("/") or file.startswith("/"):
        raise RunFileError(f"{file!r} is not a file name inside run {run.id}'s folder.", path=file)

    async def events() -> AsyncIterator[str]:
        position = offset
        yield "retry: 1000\n\n"
        while True:
            final = await asyncio.to_thread(is_final, store, run)
            chunk = await asyncio.to_thread(_new_lines, ws_folder, run.id, file, path, position, final)
            if chunk is not None and chunk[1] > position:
                lines, position = chunk
                yield f"id: {position}\nevent: lines\ndata: {json.dumps({'lines': lines, 'end': position})}\n\n"
                continue  # more may be waiting: read again before sleeping
            if final:
                yield "event: end\ndata: {}\n\n"
                return
            if await request.is_disconnected():
                return
            await asyncio.sleep(POLL_SECONDS)

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    )


def _new_lines(
    ws_folder: Path, run_id: str, file: str, path: Path, offset: int, final: bool
) -> tuple[list[str], int] | None:
    """The complete lines after ``offset`` and the new offset; None while the file does not exist."""
    from headwater.errors import NotFoundError
    from headwater.ops.studio_logs import read_new, run_file

    if not path.exists():
        return None
    try:
        checked = run_file(ws_folder, run_id, file)  # refuses a link that leads out of the run folder
    except NotFoundError:
        return None
    chunk = read_new(checked, offset, final=final)
    return chunk.lines, chunk.end


@router.get("/studio/runs/{run_id}/raw")
def raw_file(
    run_id: str,
    file: str = Query(...),
    store: MetadataStore = Depends(get_store),
    ws_folder: Path = Depends(get_ws_folder),
    ws_name: str = Depends(get_ws_name),
) -> FileResponse:
    """A file of the run's folder as it is (logs as plain text)."""
    from headwater.ops.studio_logs import run_file

    run = studio_run(store, ws_name, run_id)
    path = run_file(ws_folder, run.id, file)
    textual = path.suffix in (".txt", ".log", ".json", ".jsonl", ".csv", "")
    return FileResponse(
        path,
        media_type="text/plain; charset=utf-8" if textual else None,
        filename=None if textual else path.name,
        content_disposition_type="inline",
    )
