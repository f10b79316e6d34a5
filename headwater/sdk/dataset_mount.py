"""Delivering a FileDataset's files to a local folder: ``download`` (copies) and ``mount`` (a view).

Mounting without FUSE: for files that are already on this machine (local-folder datastores, the
workspace's built-in ones) the mount point gets a tree of **symbolic links** to the datastore's
files, so nothing is copied however big the data is, and reads go straight to the originals.
Files that are not local (URLs; remote datastores, until they get a real mount) are downloaded
into the mount point instead. The folders of the view are made read-only (0o555) so nothing can
be added, removed or renamed in it; note that a process that opens a linked file for *writing*
reaches the datastore file itself (the dataset's ``data_changed()`` would then report it).
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import tempfile
from pathlib import Path
from typing import Any

from headwater.data.files import DataAccess, DatasetFile, describe_source
from headwater.errors import DataAccessError

__all__ = ["MountContext", "download_files"]

log = logging.getLogger(__name__)


def _target(root: Path, f: DatasetFile) -> Path:
    return root.joinpath(*f.display.lstrip("/").split("/"))


def report_missing(missing: list[dict[str, str]], *, ignore: bool) -> None:
    """Raise (or, with ``ignore``, log) sources that matched no file."""
    if not missing:
        return
    text = "; ".join(describe_source(s) for s in missing)
    if ignore:
        log.warning("Dataset download: no file matches %s (ignored: ignore_not_found=True).", text)
        return
    raise DataAccessError(
        f"No file matches {text}.",
        path=missing[0].get("path") or missing[0].get("url"),
        hint="Check the path, or pass ignore_not_found=True to download what exists.",
    )


def download_files(files: list[DatasetFile], access: DataAccess, target: Path, *, overwrite: bool) -> list[str]:
    """Copy ``files`` under ``target`` by their display paths; existing files need ``overwrite``.

    Every conflict is checked before anything is copied, so a refused download writes nothing.
    """
    dests = [_target(target, f) for f in files]
    if not overwrite:
        existing = [d for d in dests if d.exists() or d.is_symlink()]
        if existing:
            shown = ", ".join(str(d) for d in existing[:5]) + (" ..." if len(existing) > 5 else "")
            raise DataAccessError(
                f"{len(existing)} file(s) already exist in {target}: {shown}.",
                path=str(existing[0]),
                hint="Pass overwrite=True to replace them, or download to an empty folder.",
            )
    for f, dest in zip(files, dests, strict=True):
        if dest.is_symlink():
            dest.unlink()
        access.fetch(f, dest)
    return [str(d) for d in dests]


class MountContext:
    """A read-only local view of a FileDataset's files; a context manager (SDK v1's MountContext).

    ``start()`` builds the view at :attr:`mount_point` (a new temporary folder unless one was
    given; a given folder must be empty or absent), ``stop()`` removes what ``start()`` created.
    """

    def __init__(self, files: list[DatasetFile], workspace: Any, mount_point: str | os.PathLike[str] | None) -> None:
        self._files = list(files)
        self._workspace = workspace
        self._requested = None if mount_point is None else Path(mount_point).expanduser().absolute()
        self._mount_point: Path | None = self._requested
        self._created_root = False
        self._root_mode: int | None = None  # the mode of a given mount point, restored on stop()
        self._started = False

    @property
    def mount_point(self) -> str:
        """The folder holding the view (a temporary folder is chosen on ``start()`` if none was given)."""
        if self._mount_point is None:
            self._mount_point = Path(tempfile.mkdtemp(prefix="headwater-mount-"))
            self._created_root = True
        return str(self._mount_point)

    @property
    def is_mounted(self) -> bool:
        return self._started

    def start(self) -> None:
        """Build the view (symbolic links for local files, copies otherwise). Idempotent."""
        if self._started:
            return
        root = Path(self.mount_point)
        if root.exists() and not self._created_root:
            if not root.is_dir() or any(root.iterdir()):
                raise DataAccessError(
                    f"Cannot mount at {root}: it is not an empty folder.",
                    path=str(root),
                    hint="Pass an empty or new folder, or mount_point=None for a temporary one.",
                )
            self._root_mode = stat.S_IMODE(root.stat().st_mode)
        elif not root.exists():
            root.mkdir(parents=True)
            self._created_root = True
        try:
            with DataAccess(self._workspace) as access:
                for f in self._files:
                    dest = _target(root, f)
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    local = access.local_path(f)
                    if local is not None:
                        os.symlink(local.resolve(), dest)
                    else:
                        access.fetch(f, dest)
                        dest.chmod(0o444)
            self._set_dir_modes(root, inner=0o555, root_mode=0o555)
        except BaseException:
            self._remove(root)
            raise
        self._started = True

    def stop(self) -> None:
        """Remove the view; a mount point that existed before ``start()`` is left, empty."""
        if not self._started or self._mount_point is None:
            return
        self._remove(self._mount_point)
        self._started = False

    def _remove(self, root: Path) -> None:
        if not root.exists():
            return
        root_mode = 0o755 if self._root_mode is None else self._root_mode
        self._set_dir_modes(root, inner=0o755, root_mode=root_mode)
        if self._created_root:
            shutil.rmtree(root)
        else:
            for child in root.iterdir():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                else:
                    child.unlink()

    @staticmethod
    def _set_dir_modes(root: Path, *, inner: int, root_mode: int) -> None:
        """Folders below ``root`` get mode ``inner``; ``root`` itself gets ``root_mode``."""
        for dirpath, dirnames, _files in os.walk(root):
            for d in dirnames:
                os.chmod(os.path.join(dirpath, d), inner)
        root.chmod(root_mode)

    def __enter__(self) -> MountContext:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "mounted" if self._started else "not mounted"
        return f"MountContext(mount_point={str(self._mount_point)!r}, files={len(self._files)}, {state})"
