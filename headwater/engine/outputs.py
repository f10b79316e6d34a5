"""Step outputs: staged in the run folder while the step runs, committed only when it succeeds.

Locally a commit is a rename of the staged folder into the datastore (atomic on one filesystem;
copy-then-rename across filesystems). On a remote datastore (Azure Blob, S3) the staged files are
uploaded in parallel (each object records Headwater's BLAKE3 as metadata, so the output's digest
can be checked later without downloading it), then files left under the path by an earlier
commit are deleted. A failed or killed step commits nothing, so no half-written output can ever
be reused. The output's digest is always computed from the staged files, before the commit.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import uuid
from pathlib import Path

from headwater.errors import DataAccessError
from headwater.graph.spec import OutputSpec
from headwater.plan.digests import DigestCacheLike, digest_files, tree_digest
from headwater.store.datastores import DatastoreBackend, LocalBackend

__all__ = ["resolve_output_path", "staging_dir", "output_digest", "commit_output", "apply_upload_options"]


def resolve_output_path(output: OutputSpec, run_id: str) -> str:
    """The datastore path of an output: ``{run-id}`` and ``{output-name}`` filled in."""
    return output.path_template.replace("{run-id}", run_id).replace("{output-name}", output.name)


def staging_dir(run_dir: Path, output_name: str) -> Path:
    return run_dir / "staging" / output_name


def _files_under(root: Path) -> list[str]:
    out: list[str] = []
    for dirpath, _dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        for f in filenames:
            out.append(f if rel_dir == "." else f"{rel_dir}/{f}".replace(os.sep, "/"))
    return sorted(out)


def apply_upload_options(output: OutputSpec, staged: Path, backend: DatastoreBackend, path: str) -> None:
    """``as_upload(overwrite=, source_globs=)``, before the digest and the commit.

    Staged files that match none of ``source_globs`` are removed (so they are neither uploaded
    nor part of the digest); with ``overwrite=False`` a file already at the destination raises
    DataAccessError naming it, before anything is written.
    """
    options = output.upload
    if not options:
        return
    globs = options.get("source_globs")
    if globs:
        for rel in _files_under(staged):
            if not any(fnmatch.fnmatchcase(rel, g.lstrip("/")) for g in globs):
                (staged / rel).unlink()
    if not options.get("overwrite", False):
        existing = set(backend.list_files(path)) if backend.exists(path) else set()
        clash = sorted(rel for rel in _files_under(staged) if (f"{path}/{rel}" if path else rel) in existing)
        if clash:
            raise DataAccessError(
                f"Output {output.name!r}: {clash[0]!r} already exists at {path!r} on datastore {backend.name!r}"
                + (f" (and {len(clash) - 1} more)" if len(clash) > 1 else ""),
                path=path,
                hint="Use as_upload(overwrite=True) to replace it, or a destination with {run-id} in it.",
            )


def output_digest(folder: Path, cache: DigestCacheLike) -> str:
    """Content digest of everything the step wrote into an output folder."""
    files = _files_under(folder) if folder.is_dir() else []
    return tree_digest(digest_files(folder, files, cache))


def commit_output(staged: Path, backend: DatastoreBackend, path: str) -> None:
    """Move a staged output folder to ``path`` on the datastore, replacing what was there."""
    staged.mkdir(parents=True, exist_ok=True)
    if isinstance(backend, LocalBackend):
        dest = backend.local_path(path)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".hw-tmp-{uuid.uuid4().hex}-{dest.name}")
        try:
            os.rename(staged, tmp)  # same filesystem: instant
        except OSError:
            shutil.copytree(staged, tmp, symlinks=False)
            shutil.rmtree(staged, ignore_errors=True)
        old = None
        if dest.exists():
            old = dest.with_name(f".hw-old-{uuid.uuid4().hex}-{dest.name}")
            os.rename(dest, old)
        try:
            os.rename(tmp, dest)
        except OSError as exc:
            if old is not None:
                os.rename(old, dest)
            raise DataAccessError(f"Could not commit output to {dest}: {exc}", path=str(dest)) from exc
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return
    # Remote stores: upload every file (atomic per file, in parallel); the folder becomes visible
    # file by file. Then what an earlier commit left there is removed, as the local rename does.
    targets = {f"{path}/{rel}" if path else rel: staged / rel for rel in _files_under(staged)}
    backend.put_files([(local, rel) for rel, local in targets.items()], overwrite=True)
    if path:  # never sweep a datastore's root
        for stale in backend.list_files(path):
            if stale not in targets:
                backend.delete(stale)
    shutil.rmtree(staged, ignore_errors=True)
