"""Registered models' files: stored once per content in the workspace folder, read-only.

``<workspace>/models/<sha[:2]>/<sha256>`` holds one file's bytes (see
:meth:`headwater.layout.WorkspaceLayout.model_file`). A model version's record lists its files as
``{relative path: sha256}``; registering identical bytes again stores nothing new. A file is written
to a temporary name beside its final place and renamed into it, so a reader never sees half a
file, and made read-only. Files are never changed; ``headwater gc`` removes the ones no version
lists any more.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from headwater.errors import DataAccessError
from headwater.layout import WorkspaceLayout

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from headwater.store.metadata import MetadataStore
    from headwater.store.repo_models import ModelRecord

__all__ = ["collect_model_files", "files_digest", "materialize", "register_model_files", "store_model_files"]

_CHUNK = 1 << 20
_READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def collect_model_files(
    model_path: str | os.PathLike[str], child_paths: Iterable[str] | None = None
) -> dict[str, Path]:
    """The files a registration of ``model_path`` takes, by the name they get in the model.

    As SDK v1 names them: relative to the folder holding ``model_path``, so a file ``m.pkl`` is
    ``m.pkl`` and a folder ``m/`` gives ``m/...``; ``child_paths`` (with a folder) takes only those
    files or sub-folders of it.
    """
    root = Path(model_path).absolute()
    if not root.exists():
        raise DataAccessError(
            f"The model path {str(model_path)!r} does not exist.",
            path=str(root),
            hint="Pass the path of the model's file or folder (relative paths are taken from the current directory).",
        )
    parent = root.parent
    if child_paths:
        picked: list[Path] = []
        for child in child_paths:
            full = root / child
            if not full.exists():
                raise DataAccessError(
                    f"The child path {child!r} of model path {str(model_path)!r} does not exist.", path=str(full)
                )
            picked.extend(sorted(p for p in full.rglob("*") if p.is_file()) if full.is_dir() else [full])
    elif root.is_dir():
        picked = sorted(p for p in root.rglob("*") if p.is_file())
        if not picked:
            raise DataAccessError(f"The model folder {str(model_path)!r} holds no files.", path=str(root))
    else:
        picked = [root]
    return {p.relative_to(parent).as_posix(): p for p in picked}


def files_digest(files: Mapping[str, str]) -> str:
    """The sha256 of a model version's file list (paths and content digests)."""
    return hashlib.sha256(json.dumps(dict(files), sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def store_model_files(layout: WorkspaceLayout, sources: Mapping[str, Path]) -> dict[str, str]:
    """Store each file of ``sources`` by content (once per content); returns ``{name: sha256}``."""
    files: dict[str, str] = {}
    for name, source in sources.items():
        digest = _sha256(source)
        files[name] = digest
        target = layout.model_file(digest)
        if target.exists():
            with contextlib.suppress(OSError):  # stored already: fresh again, so gc leaves them to this version
                os.utime(target)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
                shutil.copyfileobj(src, out, _CHUNK)
            os.chmod(tmp, _READ_ONLY)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return files


def register_model_files(
    store: MetadataStore, layout: WorkspaceLayout, name: str, sources: Mapping[str, Path], **fields: Any
) -> ModelRecord:
    """Store ``sources`` by content and record them as the next version of model ``name``
    (``fields``: the other columns of :meth:`~headwater.store.metadata.MetadataStore.register_model_version`)."""
    files = store_model_files(layout, sources)
    return store.register_model_version(name, files=files, digest=files_digest(files), **fields)


def materialize(layout: WorkspaceLayout, files: Mapping[str, str], target_dir: Path, *, exist_ok: bool) -> list[Path]:
    """Copy a model version's files under ``target_dir`` (by their names in the model); their paths.

    Without ``exist_ok`` a file that exists already is an error (SDK v1's ``download``). Copies are
    writable: changing one never changes the stored model.
    """
    written: list[Path] = []
    for name, digest in sorted(files.items()):
        dest = target_dir.joinpath(*name.split("/"))
        if dest.exists() and not exist_ok:
            raise DataAccessError(
                f"File {str(dest)!r} already exists.", path=str(dest), hint="To overwrite it, pass exist_ok=True."
            )
        blob = layout.model_file(digest)
        if not blob.is_file():
            raise DataAccessError(
                f"The stored model file {name!r} (sha256 {digest}) is missing from {layout.models}.",
                path=str(blob),
                hint="The workspace folder was changed outside Headwater; register the model again.",
            )
        dest.parent.mkdir(parents=True, exist_ok=True)
        # Through a temporary file and a rename: a concurrent reader (another worker) sees a whole file.
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.")
        try:
            with os.fdopen(fd, "wb") as out, open(blob, "rb") as src:
                shutil.copyfileobj(src, out, _CHUNK)
            os.replace(tmp, dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        written.append(dest)
    return written
