"""``headwater gc``'s 'progress' kind: ParallelRunStep progress folders nobody will resume.

A ParallelRunStep records its finished mini-batches in ``<ws>/parallel/progress/<fingerprint>/``
(and ``<fingerprint>.<pid>/`` when a second run of the same step ran at the same time); the driver
removes the folder when the step succeeds. A step that failed and is never run again with the same
inputs leaves it forever: gc removes such a folder when nothing in it changed since the cutoff and
no driver holds its ``lock`` file (a running driver holds an exclusive ``flock`` on it for its whole
life). The folder is removed while gc holds that lock, after being renamed aside, so a driver that
starts meanwhile either waits for nothing (it takes a private folder) or starts from an empty one.
"""

from __future__ import annotations

import os
import shutil
import time
from datetime import timedelta
from pathlib import Path

from headwater.layout import PARALLEL_PROGRESS_DIR

__all__ = ["LOCK_FILE", "progress_folders"]

#: The file a running driver holds locked (headwater.runtime.parallel_driver).
LOCK_FILE = "lock"


def _newest(folder: Path) -> float:
    newest = 0.0
    for base, dirs, files in os.walk(folder):
        for name in [*dirs, *files]:
            try:
                newest = max(newest, os.lstat(os.path.join(base, name)).st_mtime)
            except OSError:
                pass
    try:
        return max(newest, folder.stat().st_mtime)
    except OSError:
        return newest


def _size(folder: Path) -> int:
    total = 0
    for base, _dirs, files in os.walk(folder):
        for name in files:
            if name != LOCK_FILE or base != str(folder):
                try:
                    total += os.lstat(os.path.join(base, name)).st_size
                except OSError:
                    pass
    return total


def progress_folders(ws_folder: Path, older_than: timedelta, *, dry_run: bool) -> list[tuple[str, int]]:
    """Remove (with ``dry_run``: only list) the progress folders unchanged for ``older_than`` that no
    driver holds; return ``(folder name, bytes)`` for each."""
    import fcntl

    root = ws_folder.joinpath(*PARALLEL_PROGRESS_DIR)
    if not root.is_dir():
        return []
    cutoff = time.time() - older_than.total_seconds()
    removed: list[tuple[str, int]] = []
    for folder in sorted(root.iterdir()):
        if not folder.is_dir() or folder.name.startswith(".gc-") or _newest(folder) >= cutoff:
            continue
        try:
            lock = open(folder / LOCK_FILE, "a+b")  # noqa: SIM115 - closed below, after the removal
        except OSError:
            continue
        try:
            try:
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # a driver is using it
            size = _size(folder)
            if not dry_run:
                aside = root / f".gc-{folder.name}"
                os.replace(folder, aside)
                shutil.rmtree(aside, ignore_errors=True)
            removed.append((folder.name, size))
        finally:
            lock.close()
    return removed
