"""``headwater gc`` and ParallelRunStep progress folders: old, unlocked ones go; a driver's stays."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from headwater import Workspace
from headwater.layout import WorkspaceLayout
from headwater.ops.gc import collect_garbage


def _progress(ws: Workspace, name: str, *, age_seconds: float) -> Path:
    """A progress folder as a driver leaves it: a lock file, finished mini-batches and their rows."""
    folder = WorkspaceLayout(ws.folder).parallel_progress(name)
    (folder / "done").mkdir(parents=True)
    (folder / "rows").mkdir()
    (folder / "lock").write_bytes(b"")
    (folder / "done" / "0.json").write_text('{"items": 2, "returned": 2, "total": 3}')
    (folder / "rows" / "0.txt").write_text("a\nb\n")
    old = time.time() - age_seconds
    for p in [folder, *folder.rglob("*")]:
        os.utime(p, (old, old))
    return folder


@pytest.fixture
def holder() -> Iterator[list[subprocess.Popen[str]]]:
    procs: list[subprocess.Popen[str]] = []
    yield procs
    for p in procs:
        p.kill()
        p.wait()
        assert p.stdin is not None and p.stdout is not None
        p.stdin.close()
        p.stdout.close()


def _hold(lock: Path, procs: list[subprocess.Popen[str]]) -> None:
    """Another process holds ``lock`` as a running driver does (flock, exclusive)."""
    code = (
        "import fcntl, sys\n"
        f"f = open({str(lock)!r}, 'a+b')\n"
        "fcntl.flock(f.fileno(), fcntl.LOCK_EX)\n"
        "print('locked', flush=True)\n"
        "sys.stdin.read()\n"
    )
    p = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    procs.append(p)
    assert p.stdout is not None and p.stdout.readline().strip() == "locked"


def test_gc_removes_old_progress_folders_but_not_fresh_or_locked_ones(
    ws: Workspace, holder: list[subprocess.Popen[str]]
) -> None:
    old = _progress(ws, "f" * 64, age_seconds=3 * 86400)
    private = _progress(ws, "e" * 64 + ".4242", age_seconds=3 * 86400)  # a second run's private folder
    fresh = _progress(ws, "a" * 64, age_seconds=60)
    held = _progress(ws, "b" * 64, age_seconds=3 * 86400)
    _hold(held / "lock", holder)

    dry = collect_garbage(Path(ws.folder), ws.metadata_store, older_than=timedelta(days=1), dry_run=True)
    assert sorted(i.what for i in dry.removed if i.kind == "progress") == sorted([old.name, private.name])
    assert old.is_dir() and private.is_dir()

    report = collect_garbage(Path(ws.folder), ws.metadata_store, older_than=timedelta(days=1))
    removed = [i for i in report.removed if i.kind == "progress"]
    assert sorted(i.what for i in removed) == sorted([old.name, private.name])
    assert all(i.bytes == len('{"items": 2, "returned": 2, "total": 3}') + 4 for i in removed)
    assert not old.exists() and not private.exists()
    assert fresh.is_dir() and held.is_dir() and (held / "done" / "0.json").is_file()
    assert report.totals()["progress"]["count"] == 2 and not report.errors
    assert sorted(p.name for p in old.parent.iterdir()) == sorted([fresh.name, held.name])  # nothing left aside


def test_gc_keeps_progress_folders_with_keep_last_only(ws: Workspace) -> None:
    old = _progress(ws, "c" * 64, age_seconds=30 * 86400)
    report = collect_garbage(Path(ws.folder), ws.metadata_store, keep_last=1)
    assert old.is_dir() and not [i for i in report.removed if i.kind == "progress"]


def test_a_driver_that_locks_a_folder_gc_just_removed_locks_the_new_one(
    ws: Workspace, holder: list[subprocess.Popen[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race, provoked: the driver has opened ``lock`` when gc locks, renames and removes the
    folder; the driver's flock then succeeds on the removed file. It must notice (the inode at
    ``folder/lock`` is another one) and lock the new folder's, so a second driver cannot."""
    import fcntl

    from headwater.ops.gc_progress import progress_folders
    from headwater.runtime.parallel_claims import lock_progress

    folder = _progress(ws, "d" * 64, age_seconds=3 * 86400)
    real_flock = fcntl.flock
    gc_ran: list[list[tuple[str, int]]] = []

    def flock_after_gc(fd: int, operation: int) -> None:
        if not gc_ran:  # between the driver's open() and its flock(): gc takes the folder
            monkeypatch.setattr(fcntl, "flock", real_flock)  # gc's own flock, and the driver's from now on
            gc_ran.append(progress_folders(Path(ws.folder), timedelta(days=1), dry_run=False))
        real_flock(fd, operation)

    monkeypatch.setattr(fcntl, "flock", flock_after_gc)
    lock = lock_progress(str(folder))
    assert gc_ran == [[(folder.name, len('{"items": 2, "returned": 2, "total": 3}') + 4)]]  # gc did remove it
    assert lock is not None
    try:
        assert os.fstat(lock.fileno()).st_ino == os.stat(folder / "lock").st_ino  # the lock of the folder in use
        probe = (
            "import fcntl, sys\n"
            f"f = open({str(folder / 'lock')!r}, 'a+b')\n"
            "try:\n    fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)\nexcept OSError:\n    sys.exit(7)\n"
        )
        assert subprocess.run([sys.executable, "-c", probe]).returncode == 7  # a second driver is kept out
    finally:
        lock.close()
