"""Whether an earlier run's outputs are still what it wrote, so that it may be reused.

Each output's recorded digest is compared with the digest of what is at its path now, in the
same shape (:func:`stored_output_digest`). On a **local** datastore that costs one listing and a
``stat`` per file: file digests come from the workspace's digest cache, keyed by path, size,
mtime and inode, so an unchanged file is never re-read (the digests taken when the output was
committed are carried over to the committed files, :func:`remember_committed`); a file edited,
emptied, added or removed since is hashed again and the difference shows. On a **remote**
datastore (Azure Blob, S3) the files' current fingerprints come from the store's metadata
(listings and HEAD requests, no data downloaded; see :mod:`headwater.plan.digests`). An output
changed since the run wrote it makes the run non-reusable, and the reason says so.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable
from pathlib import Path

from headwater.errors import DataAccessError
from headwater.plan.digests import DigestCacheLike, carry_over, digest_files, tree_digest
from headwater.status import ReuseBlocker
from headwater.store.datastores import DatastoreBackend
from headwater.store.metadata import MetadataStore

__all__ = ["GC_PROPERTY", "outputs_intact", "remember_committed", "stored_output_digest"]

#: The digest of an output folder with no file in it.
EMPTY_OUTPUT_DIGEST = tree_digest({})
#: The run property ``headwater gc`` sets (to the time) when it removed outputs of the run.
GC_PROPERTY = "headwater.gc.outputsRemovedAt"


def stored_output_digest(backend: DatastoreBackend, path: str, cache: DigestCacheLike) -> str | None:
    """The digest of what is at ``path`` now, in the shape of a committed output's digest, or None
    when nothing is there.

    The shape is the tree digest of ``{path below the output: file digest}`` (a single file by its
    name), as :func:`headwater.engine.outputs.output_digest` gives it for the staged folder.
    """
    files = backend.list_files(path)
    if not files:
        # a local folder that exists but holds nothing is an empty output, not a missing one
        return EMPTY_OUTPUT_DIGEST if backend.is_local and path and backend.is_dir(path) else None
    try:
        digests = digest_files(backend, files, cache)
    except FileNotFoundError:  # removed between the listing and the fingerprints
        return None
    if files == [path] and path:
        return tree_digest({posixpath.basename(path): digests[path]})
    return tree_digest({(rel[len(path) :].lstrip("/") if path else rel): d for rel, d in digests.items()})


def outputs_intact(
    store: MetadataStore,
    backend_for_name: Callable[[str], DatastoreBackend],
    run_id: str,
    cache: DigestCacheLike,
) -> ReuseBlocker | None:
    """Why the outputs of run ``run_id`` cannot be reused, or None when they can.

    Every output must have a recorded digest (an output overwritten by a later commit has none),
    still exist, and have the recorded digest now.
    """
    missing = ReuseBlocker("outputs-missing", f"the outputs of run {run_id} no longer exist")
    for out in store.get_run_outputs(run_id):
        if out.digest is None:
            removed = store.get_properties(run_id).get(GC_PROPERTY)
            if removed:
                return ReuseBlocker(
                    "outputs-removed-by-gc", f"the outputs of run {run_id} were removed by headwater gc ({removed})"
                )
            return missing
        backend = backend_for_name(out.datastore)
        # local: a listing and a stat per file (cached digests); remote: a listing, metadata reads
        try:
            current = stored_output_digest(backend, out.path, cache)
        except (OSError, DataAccessError) as exc:  # a FIFO, an unreadable file, a link leaving the store
            if not backend.is_local:
                raise  # a store that cannot be reached is not a reason to run the step again
            return ReuseBlocker(
                "outputs-unreadable", f"output {out.name!r} of the reused run {run_id} cannot be read ({exc})"
            )
        if current is None:
            return missing
        if current != out.digest:
            where = f"({out.path!r} on datastore {out.datastore!r})"
            if backend.is_local:
                return ReuseBlocker(
                    "outputs-changed", f"output {out.name!r} of the reused run {run_id} changed on disk {where}"
                )
            return ReuseBlocker(
                "outputs-changed", f"output {out.name!r} of run {run_id} changed since that run wrote it {where}"
            )
    return None


def remember_committed(backend: DatastoreBackend, path: str, staged: Path, cache: DigestCacheLike) -> int:
    """Carry the digests cached for an output's staged files over to where a local commit moved them
    (``path`` on ``backend``), so the next reuse check does not re-read them; returns how many.

    A rename keeps a file's inode, size and mtime: an entry is carried over only when the committed
    file's ``stat`` still matches what was cached for the staged one (a file modified in the last
    seconds before the commit is never cached, so it is hashed once more by the next check).
    Nothing is done on a remote datastore: its fingerprints come from the store's metadata.
    """
    if not backend.is_local:
        return 0
    dest = backend.local_path(path)
    if dest is None or not dest.is_dir():
        return 0
    moves = []
    for folder, _dirs, files in os.walk(dest):
        below = os.path.relpath(folder, dest)
        for name in files:
            rel = name if below == "." else os.path.join(below, name)
            moves.append((staged / rel, os.path.join(folder, name)))
    return carry_over(cache, moves)
