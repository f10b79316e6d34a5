"""Whether a run's orchestrator is alive, as the operating system tells it — never a clock.

The orchestrator holds an exclusive ``flock`` on ``runs/<run id>/orchestrator.lock`` for its
whole life (:func:`hold_run_lock`) and, once it holds it, writes its identity there: its pid and
its process start time. The kernel releases such a lock only when the process is gone (exit,
crash, ``kill -9``) — not while it is stopped (SIGSTOP, a laptop suspend, a paused VM) however
long — so a reader that can take the lock while the file names the run's orchestrator knows for
sure that it is dead (:func:`probe`). The reader keeps the lock while it cleans up, so an
orchestrator started again for the run (resume) waits until it is done.

Before its orchestrator has taken the lock (it is still starting; a resumed run's new one), and
for records an older Headwater wrote, the recorded process decides: it is dead when its pid is
gone, a zombie, or another process now (a different start time). On a machine other than the
orchestrator's (a PostgreSQL workspace read from elsewhere) neither can be seen; there the
orchestrator's session advisory lock in PostgreSQL tells (:func:`claim_store_lock`; the reader's
side is in :mod:`headwater.ops.runs`), and without one the orchestrator counts as alive.

The heartbeat the orchestrator writes stays, as information for the studio (a stalled run); it is
never taken for death. Stdlib only; ``fcntl`` is POSIX (elsewhere only the process fallback holds).
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

from headwater.layout import RunLayout

if TYPE_CHECKING:
    from headwater.store.metadata import MetadataStore

__all__ = [
    "Liveness",
    "LockBusyError",
    "claim_store_lock",
    "hold_run_lock",
    "hostname",
    "identity",
    "orchestrator_record",
    "probe",
    "process_alive",
    "process_start",
    "same_identity",
]

#: The lock is held but its orchestrator's main thread is gone (killed; its other threads are
#: still exiting, and they hold the lock until the last one is gone): wait this long for it.
DYING_WAIT_SECONDS = 2.0


class Liveness(Enum):
    ALIVE = "alive"  # or: cannot be told from here — never acted on
    DEAD = "dead"


class LockBusyError(OSError):
    """Another live process holds the run's orchestrator lock."""


def hostname() -> str:
    return socket.gethostname()


def process_start(pid: int) -> str | None:
    """When process ``pid`` started, in clock ticks since boot (Linux), as text; None elsewhere
    or when it is gone. With the pid it names one process: a pid taken again starts later."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[19].decode()
    except (OSError, IndexError):
        return None


def identity(pid: int | None = None) -> str:
    """``"<pid> <start time>"`` of ``pid`` (default: this process), as the lock file holds it."""
    pid = os.getpid() if pid is None else pid
    return f"{pid} {process_start(pid) or ''}".strip()


def orchestrator_record(pid: int) -> dict[str, object]:
    """What a run's record keeps of its orchestrator ``pid`` (merged into its ``definition`` when
    the orchestrator is started: by submit, and by resume): what :func:`probe` is given."""
    from datetime import UTC, datetime

    return {
        "orchestrator_pid": pid,
        "orchestrator_start": process_start(pid),
        "orchestrator_host": hostname(),
        "orchestrator_started_at": datetime.now(UTC).isoformat(timespec="microseconds"),
    }


def process_alive(pid: int, start: str | None = None) -> bool:
    """Whether ``pid`` is a live process (not a zombie) that started at ``start`` (when known)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return True  # no /proc (macOS): os.kill said it exists
    if fields[0] in (b"Z", b"X"):
        return False
    return start is None or fields[19].decode() == str(start)


def same_identity(held_by: str, pid: int, start: str | None) -> bool:
    """Whether ``held_by`` (an :func:`identity`) is the process ``pid`` started at ``start``."""
    held_pid, _, held_start = held_by.partition(" ")
    if held_pid != str(pid):
        return False
    return start is None or not held_start or held_start == str(start)


def hold_run_lock(run_dir: Path, *, wait_seconds: float = 30.0) -> int:
    """Take the run's orchestrator lock for the life of this process; returns its descriptor
    (keep it open: closing it releases the lock). Waits while a reader holds it for a moment;
    raises :class:`LockBusyError` when another orchestrator holds it."""
    import fcntl

    run_dir.mkdir(parents=True, exist_ok=True)
    lock = RunLayout(run_dir).orchestrator_lock
    fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() > deadline:
                os.close(fd)
                raise LockBusyError(f"another process holds {lock}: this run already has an orchestrator") from None
            time.sleep(0.01)
    os.ftruncate(fd, 0)
    os.pwrite(fd, identity().encode(), 0)
    return fd


def claim_store_lock(store: MetadataStore, run_id: str) -> bool:
    """On PostgreSQL, also hold the run's session advisory lock (:mod:`headwater.store.run_locks`)
    for the life of this process's store connection, and record who holds it, so readers on other
    machines can tell too. False on SQLite (nothing to do) or when it could not be taken."""
    from headwater.store.run_locks import hold_run_lock as hold_store_lock

    if not hold_store_lock(store, run_id):
        return False
    store.merge_run_definition(run_id, {"orchestrator_pg_lock": identity()})
    return True


@contextmanager
def probe(run_dir: Path | None, pid: int, start: str | None = None, host: str | None = None) -> Iterator[Liveness]:
    """Whether the run's orchestrator (``pid`` started at ``start`` on ``host``) is alive.

    Yields :attr:`Liveness.DEAD` only when that is certain; while the caller is inside the
    ``with`` block after DEAD from the lock, it holds the lock (no orchestrator can start for the
    run meanwhile)."""
    if host is not None and host != hostname():
        yield Liveness.ALIVE  # its processes and lock are on another machine
        return
    fd = _open_lock(run_dir)
    if fd is None:
        yield Liveness.ALIVE if process_alive(pid, start) else Liveness.DEAD
        return
    try:
        if not _take(fd, 0.0) and (process_alive(pid, start) or not _take(fd, DYING_WAIT_SECONDS)):
            yield Liveness.ALIVE  # held: its orchestrator lives (stopped or not), or a reader looks
            return
        held_by = os.pread(fd, 256, 0).decode(errors="replace").strip()
        if same_identity(held_by, pid, start):
            yield Liveness.DEAD  # the recorded orchestrator took the lock, and the kernel let go of it
        else:  # not taken yet by the recorded orchestrator (starting up, or an older Headwater's run)
            yield Liveness.ALIVE if process_alive(pid, start) else Liveness.DEAD
    finally:
        os.close(fd)  # releases the lock if we took it


def _take(fd: int, seconds: float) -> bool:
    """Take the lock on ``fd``, trying for up to ``seconds``."""
    import fcntl

    deadline = time.monotonic() + seconds
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)


def _open_lock(run_dir: Path | None) -> int | None:
    if run_dir is None:
        return None
    try:
        return os.open(RunLayout(run_dir).orchestrator_lock, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
