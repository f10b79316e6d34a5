"""The studio's log queries: which log files a run has, and ranged reads and searches of one.

Every read is bounded: a page gets a run's log as a window of whole lines ending or starting at
a byte offset (:func:`read_before`, :func:`read_after`), never the whole file; :func:`search`
streams the file in blocks and stops after ``limit`` matching lines, returning where to go on;
:func:`read_new` is what a live stream polls (complete lines after an offset). Offsets are byte
offsets into the file, always at the start of a line.

Paths come from the layout (:class:`~headwater.layout.RunLayout`): ``user_logs/std_log.txt`` and
``system_logs/*`` of the run's folder. :func:`run_file` is the only way a request names a file,
and it refuses anything that is not a regular file inside the run's folder once resolved (``..``,
absolute paths, symbolic links that lead out).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from headwater.errors import DataAccessError, HeadwaterError, NotFoundError
from headwater.layout import STD_LOG, SYSTEM_LOGS_DIR, RunLayout, WorkspaceLayout

__all__ = [
    "BLOCK",
    "LogChunk",
    "LogFile",
    "RunFileError",
    "SearchHit",
    "SearchError",
    "SearchResult",
    "log_files",
    "read_after",
    "read_before",
    "read_new",
    "run_file",
    "run_folder",
    "search",
]

#: How many bytes one window of a log holds at most (a page shows the last one first).
BLOCK = 64 * 1024
_SCAN = 1024 * 1024  # bytes read at a time by search
_STD_LOG = "/".join(STD_LOG)


class RunFileError(DataAccessError):
    """A request for a file that is not inside the run's folder (``..``, an absolute path, a link out)."""


class SearchError(HeadwaterError):
    """A log search that cannot run (an empty query)."""


@dataclass(frozen=True)
class LogFile:
    """One log file of a run: ``name`` is its path inside the run folder (``user_logs/std_log.txt``)."""

    name: str
    size: int


@dataclass(frozen=True)
class LogChunk:
    """Whole lines of a log between byte ``start`` (included) and ``end`` (excluded); ``size`` is the
    file's size when it was read (``start > 0``: there is more before, ``end < size``: more after)."""

    start: int
    end: int
    size: int
    text: str

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()


@dataclass(frozen=True)
class SearchHit:
    offset: int  #: byte offset of the line's start
    line: int  #: 1-based line number
    text: str


@dataclass(frozen=True)
class SearchResult:
    hits: list[SearchHit]
    next_offset: int | None  #: where to continue (None: the whole file was searched)
    next_line: int  #: the line number at ``next_offset``


def run_folder(ws_folder: str | os.PathLike[str], run_id: str) -> Path:
    """The run's folder (resolved), refusing a run id that would name another folder."""
    runs = WorkspaceLayout(ws_folder).runs.resolve()
    if not run_id or run_id in (".", "..") or "/" in run_id or "\\" in run_id or "\0" in run_id:
        raise RunFileError(f"{run_id!r} is not a run id.", path=run_id, hint="Use the id shown on the runs page.")
    return (runs / run_id).resolve()


def run_file(ws_folder: str | os.PathLike[str], run_id: str, name: str) -> Path:
    """The file ``name`` (relative, ``/``-separated) of run ``run_id``'s folder.

    Raises PathEscapeError when ``name`` is absolute, contains ``..``, or resolves (through
    symbolic links) outside the run's folder, and NotFoundError when it is not a regular file.
    """
    folder = run_folder(ws_folder, run_id)
    parts = name.replace("\\", "/").split("/")
    if not name or name.startswith("/") or "\0" in name or any(p in ("", ".", "..") for p in parts):
        raise RunFileError(
            f"{name!r} is not a file name inside run {run_id}'s folder.",
            path=name,
            hint="Name a file by its path inside the run folder, e.g. user_logs/std_log.txt.",
        )
    path = folder.joinpath(*parts).resolve()
    if not path.is_relative_to(folder):
        raise RunFileError(
            f"{name!r} leads outside run {run_id}'s folder (a symbolic link?); it is not served.",
            path=name,
            hint="Only files inside the run folder are served.",
        )
    if not path.is_file():
        raise NotFoundError("Run file", name, where=f"run {run_id}'s folder")
    return path


def log_files(ws_folder: str | os.PathLike[str], run_id: str) -> list[LogFile]:
    """The run's logs: ``user_logs/std_log.txt`` first (when it exists), then ``system_logs/*`` by name."""
    layout = RunLayout(run_folder(ws_folder, run_id))
    found: list[LogFile] = []
    candidates = [(_STD_LOG, layout.std_log)]
    try:
        entries = sorted(os.scandir(layout.folder / SYSTEM_LOGS_DIR), key=lambda e: e.name)
    except (FileNotFoundError, NotADirectoryError):
        entries = []
    candidates += [(f"{SYSTEM_LOGS_DIR}/{e.name}", Path(e.path)) for e in entries]
    for name, path in candidates:
        try:
            resolved = path.resolve()
            if resolved.is_relative_to(layout.folder) and resolved.is_file():
                found.append(LogFile(name, resolved.stat().st_size))
        except OSError:
            continue
    return found


def _decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def read_before(path: Path, end: int | None = None, max_bytes: int = BLOCK) -> LogChunk:
    """The whole lines of ``path`` just before byte ``end`` (None: the end of the file; a line still
    being written is left out) within ``max_bytes``; a longer single line is cut at its start."""
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if end is None or end > size:
            end = size
        start = max(0, end - max_bytes)
        fh.seek(start)
        data = fh.read(end - start)
    if end == size and not data.endswith(b"\n"):
        cut = data.rfind(b"\n") + 1
        if cut > 0:  # leave the line being written for the live stream
            end, data = start + cut, data[:cut]
    if start > 0:
        first = data.find(b"\n") + 1
        if 0 < first < len(data):  # start at a line boundary (a line longer than the window stays cut)
            start, data = start + first, data[first:]
    return LogChunk(start, end, size, _decode(data))


def read_after(path: Path, start: int = 0, max_bytes: int = BLOCK) -> LogChunk:
    """The whole lines of ``path`` from byte ``start`` (a line start) within ``max_bytes``."""
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        start = min(max(0, start), size)
        fh.seek(start)
        data = fh.read(max_bytes)
    cut = data.rfind(b"\n") + 1
    if cut > 0:
        data = data[:cut]
    elif start + len(data) < size or len(data) == max_bytes:
        pass  # one line longer than the window: send it cut
    else:
        data = b""  # an incomplete last line: wait for its end
    return LogChunk(start, start + len(data), size, _decode(data))


def read_new(path: Path, offset: int, *, final: bool = False, max_bytes: int = BLOCK) -> LogChunk:
    """What a live stream sends next: the complete lines after ``offset`` (``final``: also a last line
    without its newline, since nothing more will come)."""
    chunk = read_after(path, offset, max_bytes)
    if final and chunk.end == offset and chunk.size > offset:
        with open(path, "rb") as fh:
            fh.seek(offset)
            data = fh.read(max_bytes)
        return LogChunk(offset, offset + len(data), chunk.size, _decode(data))
    return chunk


def search(
    path: Path, query: str, *, start: int = 0, line: int = 1, limit: int = 200, max_bytes: int | None = None
) -> SearchResult:
    """Lines of ``path`` containing ``query`` (case-insensitive), from byte ``start`` (line number
    ``line``), at most ``limit`` of them and reading at most ``max_bytes`` (None: to the end).

    The file is read in blocks of 1 MiB: memory stays bounded whatever its size. When it stops
    early, ``next_offset``/``next_line`` say where to continue.
    """
    if not query:
        raise SearchError("An empty search: type the text to look for.")
    needle = query.lower().encode("utf-8")
    hits: list[SearchHit] = []
    position, number, scanned = start, line, 0
    with open(path, "rb") as fh:
        fh.seek(start)
        rest = b""
        while True:
            block = fh.read(_SCAN)
            if not block:
                if rest:  # a last line without its newline
                    if needle in rest.lower():
                        hits.append(SearchHit(position, number, _decode(rest)))
                    position, number = position + len(rest), number + 1
                return SearchResult(hits, None, number)
            data = rest + block
            lines = data.split(b"\n")
            rest = lines.pop()
            for raw in lines:
                if needle in raw.lower():
                    hits.append(SearchHit(position, number, _decode(raw)))
                position += len(raw) + 1
                number += 1
                if len(hits) >= limit:
                    return SearchResult(hits, position, number)
            scanned += len(block)
            if max_bytes is not None and scanned >= max_bytes:
                return SearchResult(hits, position, number)
