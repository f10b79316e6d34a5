"""Moving files in and out of a datastore for ``upload``, ``upload_files`` and ``download``.

Transfers go through the backend's parallel ``put_files``/``get_files`` (retries of transient
errors are the backend's). What is printed follows SDK v1 line for line (``Uploading an estimated
of 3 files``, ``Uploaded a.csv, 1 files out of an estimated total of 3`` ...), in a stable order
(the files' order, whichever finishes first), unless stdout is a terminal: then one rich progress
bar (files and bytes) replaces the per-file lines.
"""

from __future__ import annotations

import os
import posixpath
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from headwater.errors import DataAccessError

if TYPE_CHECKING:
    from headwater.store.datastores import DatastoreBackend

__all__ = ["download_files", "upload_files"]


def _wants_bar(stream: TextIO) -> bool:
    """Whether ``stream`` is a terminal, as rich decides it (a TTY, or FORCE_COLOR/TTY_COMPATIBLE set)."""
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    if not tty and not any(v in os.environ for v in ("FORCE_COLOR", "TTY_COMPATIBLE")):
        return False  # the common case decided without importing rich
    from rich.console import Console

    return bool(Console(file=stream).is_terminal)


class _Reporter:
    """What a transfer prints: SDK v1's lines, a progress bar, or nothing. Thread-safe."""

    def __init__(self, show: bool, *, verb: str, total_files: int, total_bytes: int | None) -> None:
        self.verb = verb  # "Upload" | "Download"
        self.show = show
        self.lines = show  # one line per file (False when a bar shows them)
        self.stream = sys.stdout
        self.done = 0
        self.nbytes = 0
        self.total_files = total_files
        self._total_bytes = total_bytes
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self._bar: Any = None
        self._task: Any = None
        self._order: list[str] = []
        self._position: dict[str, int] = {}
        self._finished: set[int] = set()
        self._next = 0
        self._printed = 0
        self._want_bar = bool(show and total_files and _wants_bar(self.stream))
        if self._want_bar:
            self.lines = False

    def begin(self, header: str | None = None) -> None:
        """Print ``header`` (if any), then start the bar when there is one."""
        if header is not None:
            self.say(header)
        if self._want_bar:
            self._start_bar()

    def say(self, message: str) -> None:
        """Print a line that is not about one file (shown with the bar, too)."""
        if self.show:
            with self._lock:
                if self._bar is not None:
                    self._bar.console.print(message, markup=False, highlight=False)
                else:
                    print(message, file=self.stream, flush=True)

    def _start_bar(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self._started = time.monotonic()
        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} files"),
            TextColumn("{task.fields[bytes]}"),
            TimeElapsedColumn(),
            console=Console(file=self.stream),
            transient=False,
        )
        self._task = self._bar.add_task(f"{self.verb}ing", total=self.total_files, bytes=self._bytes_text())
        self._bar.start()

    def _bytes_text(self) -> str:
        from rich.filesize import decimal

        elapsed = max(time.monotonic() - self._started, 1e-6)
        done = decimal(self.nbytes)
        total = f"/{decimal(self._total_bytes)}" if self._total_bytes is not None else ""
        return f"{done}{total} ({decimal(int(self.nbytes / elapsed))}/s)"

    def expect(self, names: Sequence[str]) -> None:
        """The files about to move, in the order their lines are printed (see :meth:`file_done`)."""
        self._order = list(names)
        self._position = {name: i for i, name in enumerate(self._order)}

    def file_done(self, name: str, nbytes: int) -> None:
        """One file finished: SDK v1's ``Uploaded <name>, 2 files out of an estimated total of 5``.

        Files finish in any order; their lines are printed in the order of :meth:`expect` (a line
        waits for the files before it), so the output is the same from run to run.
        """
        with self._lock:
            self.done += 1
            self.nbytes += nbytes
            if self._bar is not None:
                self._bar.update(self._task, advance=1, bytes=self._bytes_text())
                return
            if not self.lines:
                return
            if name not in self._position:
                self._print_done(name)
                return
            self._finished.add(self._position[name])
            while self._next in self._finished:
                self._print_done(self._order[self._next])
                self._next += 1

    def _print_done(self, name: str) -> None:
        self._printed += 1
        line = f"{self.verb}ed {name}, {self._printed} files out of an estimated total of {self.total_files}"
        print(line, file=self.stream, flush=True)

    def skipped(self, line: str) -> None:
        with self._lock:
            self.total_files -= 1
            if self._bar is not None:
                self._bar.update(self._task, total=max(self.total_files, 0))
            elif self.lines:
                print(line, file=self.stream, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def _progress_lookup(keys: Sequence[Sequence[str]]) -> Callable[[str], str]:
    """Maps what a backend passes to ``progress`` (the local or the datastore path) to the shown name.

    Each item of ``keys`` is the shown name followed by the other names the same file may be given.
    """
    table: dict[str, str] = {}
    for names in keys:
        for alias in names:
            table[alias] = names[0]
    return lambda path: table.get(os.fspath(path), os.fspath(path))


def upload_files(
    datastore: str, backend: DatastoreBackend, pairs: list[tuple[Path, str]], *, overwrite: bool, show: bool
) -> int:
    """Upload ``(local file, datastore path)`` pairs; returns how many were written."""
    for _src, dest in pairs:
        backend.full_path(dest)  # refuse before anything is written
    existing = _existing_targets(backend, [dest for _src, dest in pairs]) if not overwrite else set()
    todo = [(src, dest) for src, dest in pairs if dest not in existing]
    total_bytes = sum(src.stat().st_size for src, _dest in todo)
    report = _Reporter(show, verb="Upload", total_files=len(pairs), total_bytes=total_bytes)
    try:
        report.begin(f"Uploading an estimated of {len(pairs)} files")
        for _src, dest in pairs:
            if dest in existing:
                report.skipped(f"Target already exists. Skipping upload for {dest}")
        shown = _progress_lookup([(str(src), dest, src.as_posix()) for src, dest in todo])
        report.expect([str(src) for src, _dest in todo])
        finished: set[str] = set()

        def progress(path: str, nbytes: int) -> None:
            finished.add(shown(path))
            report.file_done(shown(path), nbytes)

        try:
            written = backend.put_files(todo, overwrite=overwrite, progress=progress)
        except OSError as exc:
            failed = [(str(src), dest) for src, dest in todo if str(src) not in finished]
            what = f"Uploading {failed[0][0]} to {failed[0][1]!r}" if failed else "Uploading"
            raise DataAccessError(
                f"{what} on datastore {datastore!r} failed: {exc}",
                path=failed[0][0] if failed else getattr(exc, "filename", None),
                hint="Check that the files are readable and the datastore is reachable, then upload again "
                "(files already uploaded are skipped unless overwrite=True).",
            ) from exc
        for (_src, dest), ok in zip(todo, written, strict=True):
            if not ok:  # appeared since it was checked
                report.skipped(f"Target already exists. Skipping upload for {dest}")
        count = sum(written)
        report.close()
        report.say(f"Uploaded {count} files")
    finally:
        report.close()
    return count


def download_files(
    datastore: str, backend: DatastoreBackend, plan: list[tuple[str, Path]], *, overwrite: bool, show: bool
) -> int:
    """Download ``(datastore path, local file)`` pairs; returns how many were written."""
    existing = {dest for _rel, dest in plan if dest.exists()} if not overwrite else set()
    todo = [(rel, dest) for rel, dest in plan if dest not in existing]
    report = _Reporter(show, verb="Download", total_files=len(plan), total_bytes=None)
    try:
        report.begin()
        for _rel, dest in plan:
            if dest in existing:
                report.skipped(f"Path already exists. Skipping download for {dest}")
        shown = _progress_lookup([(rel, str(dest), dest.as_posix()) for rel, dest in todo])
        report.expect([rel for rel, _dest in todo])
        finished: set[str] = set()

        def progress(path: str, nbytes: int) -> None:
            finished.add(shown(path))
            report.file_done(shown(path), nbytes)

        try:
            written = backend.get_files(todo, overwrite=overwrite, progress=progress)
        except OSError as exc:
            failed = [(rel, dest) for rel, dest in todo if rel not in finished]
            what = (
                f"Downloading {failed[0][0]!r} from datastore {datastore!r} to {failed[0][1]}"
                if failed
                else f"Downloading from datastore {datastore!r}"
            )
            raise DataAccessError(
                f"{what} failed: {exc}",
                path=failed[0][0] if failed else getattr(exc, "filename", None),
                hint="Check that the target folder is writable and the datastore is reachable, then download "
                "again (files already downloaded are kept unless overwrite=True).",
            ) from exc
        for (_rel, dest), ok in zip(todo, written, strict=True):
            if not ok:
                report.skipped(f"Path already exists. Skipping download for {dest}")
        count = sum(written)
        report.close()
        report.say(f"Downloaded {count} files")
    finally:
        report.close()
    return count


def _existing_targets(backend: DatastoreBackend, dests: list[str]) -> set[str]:
    """Which of ``dests`` exist: one listing of their common folder on a remote store, stat calls locally."""
    if backend.is_local or len(dests) == 1:
        return {d for d in dests if backend.exists(d)}
    if not dests:
        return set()
    common = posixpath.commonpath([posixpath.dirname(d) for d in dests])
    listed = set(backend.list_files(common or None))
    return {d for d in dests if d in listed}
