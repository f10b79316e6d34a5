"""A step run's folder on disk: its working copy of the snapshot, its log names, and the check that
the step did not write through its working copy into the shared snapshot.

The working directory is a fresh checkout of the step's snapshot made of hard links (see
:func:`headwater.plan.snapshots.checkout`). Snapshot files are read-only, but a process running as
root, or one that chmods a file first, can still write through a link and so change the stored
snapshot that later runs check out. :func:`check_snapshot` runs after every step: a snapshot that
is no longer as stored is discarded, and the next submit stores it again from the source folder.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from headwater.layout import STD_LOG, WORKDIR_FOLDERS, RunLayout
from headwater.plan.snapshots import Manifest, checkout, discard, verify

__all__ = ["check_snapshot", "prepare_workdir", "stored_manifest"]


def prepare_workdir(snapshot_dir: Path, run_dir: Path) -> Path:
    """Check the snapshot out into ``run_dir/wd`` (with ``outputs/`` and ``logs/``) and create the
    step's log file under both its names; return the working directory."""
    run = RunLayout(run_dir)
    workdir = run.workdir
    checkout(snapshot_dir, workdir)
    for sub in WORKDIR_FOLDERS:
        (workdir / sub).mkdir(exist_ok=True)
    log = run.std_log
    log.parent.mkdir(parents=True, exist_ok=True)
    log.touch()
    legacy = run.driver_log
    legacy.parent.mkdir(parents=True, exist_ok=True)
    if not legacy.exists():
        try:
            os.link(log, legacy)  # one file, two names: the executor appends to the same inode
        except OSError:
            legacy.symlink_to(Path("..", *STD_LOG))
    return workdir


def stored_manifest(snapshots_root: Path, digest: str) -> Manifest | None:
    """The manifest written beside a stored snapshot (``<digest>.json``), or None when unreadable."""
    try:
        body = json.loads((snapshots_root / f"{digest}.json").read_text(encoding="utf-8"))
        entries = body["files"]
        files = {rel: str(e["digest"]) for rel, e in entries.items()}
        sizes = {rel: int(e["size"]) for rel, e in entries.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return Manifest(files=files, sizes=sizes, mtimes={}, total_size=sum(sizes.values()), digest=digest)


def check_snapshot(snapshots_root: Path, digest: str) -> list[str]:
    """Files of the stored snapshot ``digest`` that a step changed; if any, the snapshot is discarded."""
    manifest = stored_manifest(snapshots_root, digest)
    folder = snapshots_root / digest
    if manifest is None or not folder.is_dir():
        return []
    bad = verify(folder, manifest)
    if bad:
        discard(folder)
    return bad
