"""Step outputs: staged in the run folder while the step runs, committed only when it succeeds.

Locally a commit is a rename of the staged folder into the datastore (atomic on one filesystem;
copy-then-rename across filesystems). On a remote datastore (Azure Blob, S3) the staged files are
uploaded in parallel (each object records Headwater's BLAKE3 as metadata, so the output's digest
can be checked later without downloading it), then files left under the path by an earlier
commit are deleted. A failed or killed step commits nothing, so no half-written output can ever
be reused. The output's digest is always computed from the staged files, before the commit.

What a step leaves in an output folder is checked before anything of it is digested or committed
(:func:`check_output`): an output holds regular files, folders and symlinks to *files inside the
output*. Such a link is kept as a link locally (rewritten relative, so it still points at the same
file once the folder is moved into the datastore) and uploaded as the bytes of its target to a
remote datastore; the digest covers the target's bytes either way. A link that leads out of the
output (to ``/etc/passwd``, to a sibling folder), a dangling link, a link to a folder (its files
would appear under two paths, and listings, downloads and digests do not follow folder links),
an output folder replaced by a link, and a FIFO, socket or device fail the commit with an error
naming the output, the entry and where it points: nothing is ever read through such a link.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import uuid
from pathlib import Path

from headwater.errors import DataAccessError
from headwater.graph.spec import OutputSpec
from headwater.layout import RunLayout
from headwater.plan.digests import DigestCacheLike, digest_files, tree_digest
from headwater.store.datastores import DatastoreBackend, LocalBackend

__all__ = [
    "resolve_output_path",
    "staging_dir",
    "check_output",
    "output_digest",
    "commit_output",
    "apply_upload_options",
]


def resolve_output_path(output: OutputSpec, run_id: str) -> str:
    """The datastore path of an output: ``{run-id}`` and ``{output-name}`` filled in."""
    return output.path_template.replace("{run-id}", run_id).replace("{output-name}", output.name)


def staging_dir(run_dir: Path, output_name: str) -> Path:
    return RunLayout(run_dir).staged_output(output_name)


_COPY = "Copy the file into the output instead of linking to it (shutil.copy2)."


def _refuse(output: str, rel: str, what: str, hint: str = _COPY) -> DataAccessError:
    where = f"{rel!r} in output {output!r}" if rel else f"The folder of output {output!r}"
    return DataAccessError(
        f"{where} {what}.", path=rel or None, hint=f"{hint} Nothing of the step's outputs was committed."
    )


def _check_link(root: Path, base: str, rel: str, output: str) -> None:
    """Refuse a link that leaves ``base`` (the output's real path), dangles or names a folder; make
    a link that stays inside relative, so it survives the move into the datastore."""
    link = os.path.join(root, rel)
    raw = os.readlink(link)
    target = os.path.realpath(link)
    if target != base and not target.startswith(base + os.sep):
        shown = "" if raw == target else f" (that is {target!r})"
        raise _refuse(output, rel, f"is a symlink to {raw!r}{shown}, outside the output folder")
    if not Path(target).exists():
        raise _refuse(
            output,
            rel,
            f"is a symlink to {raw!r}, which does not exist (a dangling link or a loop)",
            "Remove the link before the step ends, or write the file it points to.",
        )
    if Path(target).is_dir():
        raise _refuse(
            output,
            rel,
            f"is a symlink to the folder {raw!r}: outputs may link to files only, not to folders",
            "Link to the files one by one, or copy the folder (shutil.copytree).",
        )
    canonical = os.path.relpath(target, os.path.realpath(os.path.dirname(link)))
    if raw != canonical:
        tmp = f"{link}.hw-link-{uuid.uuid4().hex}"
        os.symlink(canonical, tmp)
        os.replace(tmp, link)


def check_output(folder: Path, output: str | None = None) -> list[str]:
    """The files of a staged output folder (relative, '/'-separated, sorted), once its entries are
    checked (see the module): raises DataAccessError naming the output (``output``, default the
    folder's name), the entry and where it points. Links to files inside are made relative."""
    name = output or folder.name
    if folder.is_symlink():
        raise _refuse(
            name,
            "",
            f"was replaced by a symlink to {os.readlink(folder)!r}",
            "Write the output's files into the folder the step was given.",
        )
    if not folder.is_dir():
        return []
    base = os.path.realpath(folder)
    out: list[str] = []
    todo = [""]
    while todo:
        rel_dir = todo.pop()
        with os.scandir(os.path.join(folder, rel_dir) if rel_dir else folder) as it:
            entries = list(it)
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            if entry.is_symlink():
                _check_link(folder, base, rel, name)
                out.append(rel)
            elif entry.is_dir(follow_symlinks=False):
                todo.append(rel)
            elif entry.is_file(follow_symlinks=False):
                out.append(rel)
            else:
                raise _refuse(
                    name,
                    rel,
                    "is not a regular file (a FIFO, socket or device): it cannot be committed",
                    "Remove it before the step ends.",
                )
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
        for rel in check_output(staged, output.name):
            if not any(fnmatch.fnmatchcase(rel, g.lstrip("/")) for g in globs):
                (staged / rel).unlink()
    if not options.get("overwrite", False):
        existing = set(backend.list_files(path)) if backend.exists(path) else set()
        staged_files = check_output(staged, output.name)
        clash = sorted(rel for rel in staged_files if (f"{path}/{rel}" if path else rel) in existing)
        if clash:
            raise DataAccessError(
                f"Output {output.name!r}: {clash[0]!r} already exists at {path!r} on datastore {backend.name!r}"
                + (f" (and {len(clash) - 1} more)" if len(clash) > 1 else ""),
                path=path,
                hint="Use as_upload(overwrite=True) to replace it, or a destination with {run-id} in it.",
            )


def output_digest(folder: Path, cache: DigestCacheLike) -> str:
    """Content digest of everything the step wrote into an output folder (checked first: :func:`check_output`)."""
    files = check_output(folder)
    return tree_digest(digest_files(folder, files, cache))


def commit_output(staged: Path, backend: DatastoreBackend, path: str) -> None:
    """Move a staged output folder to ``path`` on the datastore, replacing what was there.

    Its entries are checked first (:func:`check_output`): nothing is written when one is refused.
    """
    files = check_output(staged)
    staged.mkdir(parents=True, exist_ok=True)
    if isinstance(backend, LocalBackend):
        dest = backend.local_path(path)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".hw-tmp-{uuid.uuid4().hex}-{dest.name}")
        try:
            os.rename(staged, tmp)  # same filesystem: instant
        except OSError:
            shutil.copytree(staged, tmp, symlinks=True)  # checked: relative links to files inside
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
    targets = {f"{path}/{rel}" if path else rel: staged / rel for rel in files}  # a link: its target's bytes
    backend.put_files([(local, rel) for rel, local in targets.items()], overwrite=True)
    if path:  # never sweep a datastore's root
        for stale in backend.list_files(path):
            if stale not in targets:
                backend.delete(stale)
    shutil.rmtree(staged, ignore_errors=True)
