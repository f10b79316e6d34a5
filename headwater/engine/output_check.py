"""Whether an earlier run's outputs are still what it wrote, so that it may be reused.

A reuse candidate's outputs on a **local** datastore only need to exist (Headwater commits them
by rename and nothing else writes there). On a **remote** datastore (Azure Blob, S3) any client
can rewrite a blob in place, so each output's recorded digest is compared with the tree of the
files' current fingerprints, taken from the store's metadata (listings and HEAD requests, no
data downloaded; see :mod:`headwater.plan.digests`). An output edited, added to or pruned by
another tool since the run wrote it makes the run non-reusable, and the reason says so.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable

from headwater.plan.digests import DigestCacheLike, digest_files, tree_digest
from headwater.store.datastores import DatastoreBackend
from headwater.store.metadata import MetadataStore

__all__ = ["GC_PROPERTY", "outputs_intact", "stored_output_digest"]

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
        return None
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
) -> str | None:
    """Why the outputs of run ``run_id`` cannot be reused, or None when they can.

    Every output must have a recorded digest (an output overwritten by a later commit has none)
    and still exist; on a remote datastore its current digest must also equal the recorded one.
    """
    missing = f"the outputs of run {run_id} no longer exist"
    for out in store.get_run_outputs(run_id):
        if out.digest is None:
            removed = store.get_properties(run_id).get(GC_PROPERTY)
            return f"the outputs of run {run_id} were removed by headwater gc ({removed})" if removed else missing
        backend = backend_for_name(out.datastore)
        if backend.is_local:
            if not backend.exists(out.path):
                return missing
            continue
        current = stored_output_digest(backend, out.path, cache)  # one listing, metadata reads
        if current is None:
            return missing
        if current != out.digest:
            return (
                f"output {out.name!r} of run {run_id} changed since that run wrote it "
                f"({out.path!r} on datastore {out.datastore!r})"
            )
    return None
