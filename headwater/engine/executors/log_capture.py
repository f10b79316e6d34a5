"""A step's log with a size cap: the head and the tail are kept, the middle is cut and counted.

A step's stdout and stderr reach the executor through a pipe; one reader thread per step copies
them to ``user_logs/std_log.txt``. The first half of the cap (``HEADWATER_MAX_LOG_MB``, default
:data:`DEFAULT_MAX_LOG_MB`) is written to the log as it comes, so following a step's log works as
before. Past that, a note line says the rest is held back, and what comes is written into a ring
file of the cap's other half next to the log (``.std_log.txt.tail``); when the step ends, a marker
line says how many bytes were cut, the ring's bytes follow in order and the ring file goes.

So the log file only ever grows (readers following it by offset see nothing rewritten), memory is
one read buffer per step whatever the step prints, and disk is at most the cap plus the ring. The
step writes at full speed: the thread does nothing but copy. When the reading process dies, the
step's next write gets EPIPE (SIGPIPE): a dead orchestrator's steps are stopped anyway.

This module is stdlib-only: a Ray worker imports it to run a step.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from headwater.layout import log_ring

__all__ = ["DEFAULT_MAX_LOG_MB", "MAX_LOG_ENV", "LogCapture", "max_log_bytes"]

MAX_LOG_ENV = "HEADWATER_MAX_LOG_MB"
#: The default cap of one step's log, in MiB (0 or unset means this).
DEFAULT_MAX_LOG_MB = 1024
_MB = 1024 * 1024
_CHUNK = 256 * 1024
#: How long the reader waits for readiness before it looks whether it was told to stop.
_POLL_SECONDS = 0.2


def max_log_bytes(environ: Mapping[str, str] = os.environ) -> tuple[int, str]:
    """The cap of a step's log in bytes, from ``HEADWATER_MAX_LOG_MB``, and a note when it was ignored.

    Unset, empty or 0 give the default; fractions are allowed (0.5 is 512 KiB). A value that is
    not a positive number gives the default too, and the note (written into the step's log) says so.
    """
    raw = environ.get(MAX_LOG_ENV, "").strip()
    default = DEFAULT_MAX_LOG_MB * _MB
    if not raw:
        return default, ""
    try:
        mb = float(raw)
    except ValueError:
        mb = -1.0
    if mb == 0:
        return default, ""
    if not mb > 0 or mb == float("inf"):
        return default, (
            f"[headwater] {MAX_LOG_ENV}={raw!r} is not a positive number of MiB; the default "
            f"{DEFAULT_MAX_LOG_MB} is used. Set it to a number such as 256, or unset it.\n"
        )
    return max(2, int(mb * _MB)), ""


def _setting(cap: int) -> str:
    mb = cap / _MB
    return f"{MAX_LOG_ENV}={mb:g}"


class LogCapture:
    """Copies a step's output pipe into its log file, keeping the head and the tail within ``cap`` bytes.

    Call :meth:`start` once the process runs and :meth:`close` once it has ended.
    """

    def __init__(self, source: IO[bytes], log_path: str | os.PathLike[str], cap: int, *, note: str = "") -> None:
        """``note``: a line to write first (e.g. that the setting was ignored)."""
        self._source = source
        self._fd = source.fileno()
        with contextlib.suppress(OSError, AttributeError):  # Linux: a larger pipe, fewer switches
            fcntl.fcntl(self._fd, fcntl.F_SETPIPE_SZ, _CHUNK * 4)
        self._path = Path(log_path)
        self._cap = cap
        self._out = open(self._path, "ab", buffering=0)  # noqa: SIM115  (closed in close())
        if note:
            self._append(note.encode())
        existing = self._out.tell()
        self._head_left = max(0, cap - cap // 2 - existing)
        self._tail_size = cap // 2
        self._ring: int | None = None
        self._ring_path = log_ring(self._path)
        self._ring_pos = 0
        self._tail_total = 0
        self._stop = threading.Event()
        self._poller = select.poll()
        self._poller.register(self._fd, select.POLLIN | select.POLLHUP | select.POLLERR)
        self._error: str | None = None
        self._thread = threading.Thread(target=self._copy, name=f"log-{self._path.parent.parent.name}", daemon=True)

    def start(self) -> LogCapture:
        self._thread.start()
        return self

    def _copy(self) -> None:
        fd = self._fd
        try:
            while self._ready():
                data = os.read(fd, _CHUNK)
                if not data:
                    return
                self._take(memoryview(data))
        except OSError as exc:  # a full disk: the step goes on, its log says why it stops here
            self._error = f"[headwater] the log could not be written on: {exc.strerror or exc}\n"
            self._drain()

    def _ready(self) -> bool:
        """Wait until the pipe can be read (True) or the capture was told to stop (False).

        poll(), not select(): an orchestrator with many steps may hold descriptors above 1024.
        """
        while not self._stop.is_set():
            if self._poller.poll(_POLL_SECONDS * 1000):
                return True
        return False

    def _drain(self) -> None:
        """Read and drop what the step writes until it ends, so it never blocks on a full pipe."""
        while self._ready():
            if not os.read(self._fd, _CHUNK):
                return

    def _take(self, data: memoryview) -> None:
        if self._head_left > 0:
            head = data[: self._head_left]
            self._append(head)
            self._head_left -= len(head)
            data = data[len(head) :]
            if not data:
                return
        if self._ring is None:
            self._open_ring()
        self._tail_total += len(data)
        size = self._tail_size
        if size == 0:
            return
        if len(data) > size:  # only its last `size` bytes can survive
            self._ring_pos = (self._ring_pos + len(data) - size) % size
            data = data[len(data) - size :]
        assert self._ring is not None
        while data:
            n = os.pwrite(self._ring, data[: size - self._ring_pos], self._ring_pos)
            self._ring_pos = (self._ring_pos + n) % size
            data = data[n:]

    def _append(self, data: bytes | memoryview) -> None:
        """Write all of ``data`` to the log (an unbuffered write may take only part of it)."""
        view = memoryview(data)
        while view:
            view = view[self._out.write(view) :]

    def _open_ring(self) -> None:
        self._ring = os.open(self._ring_path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        kept = self._tail_size
        self._append(
            (
                f"\n[headwater] The log reached half of its cap ({_setting(self._cap)}): the rest of the step's "
                f"output is held back and its last {kept:,} bytes are written below when the step ends.\n"
            ).encode()
        )

    def close(self, linger: float) -> None:
        """Wait (at most ``linger`` seconds) for the pipe's end, then finish the log.

        A process the step started in the background may still hold the pipe after the step
        ended: the log is finished without it, and its next write fails (EPIPE).
        """
        self._thread.join(linger)
        self._stop.set()
        self._thread.join()
        try:
            self._finish()
        except OSError:  # a full disk: the log ends where it could be written
            pass
        finally:
            self._out.close()
            self._source.close()
            if self._ring is not None:
                os.close(self._ring)
                self._ring_path.unlink(missing_ok=True)

    def _finish(self) -> None:
        if self._ring is not None:
            size = self._tail_size
            kept = min(self._tail_total, size)
            cut = self._tail_total - kept
            if cut:
                self._append(
                    f"\n[headwater] {cut:,} bytes cut here ({_setting(self._cap)}); the last {kept:,} "
                    f"bytes of the step's output follow.\n".encode()
                )
            else:
                self._append(b"\n[headwater] Nothing was cut; the rest of the step's output follows.\n")
            start = self._ring_pos if self._tail_total > size else 0
            for begin, end in ((start, size), (0, start)) if self._tail_total > size else ((0, kept),):
                pos = begin
                while pos < end:
                    chunk = os.pread(self._ring, min(_CHUNK, end - pos), pos)
                    if not chunk:
                        break
                    self._append(chunk)
                    pos += len(chunk)
        if self._error:
            self._append(self._error.encode())
