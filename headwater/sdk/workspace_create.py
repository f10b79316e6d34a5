"""Creating a workspace folder atomically, so that racing or interrupted creates never break it;
and what a new workspace holds (its built-in datastores, the first records of its store).

A workspace is built in a temporary sibling folder (``.<name>.creating-<random>``) and renamed
into place: a workspace folder is either absent or complete, never half-made. Of processes that
create the same workspace at once, the first rename wins; the others' renames fail (the target is
no longer empty) and they use the winner's workspace, or are told it exists.

When the parent folder may not be written but the workspace's (empty) folder exists, the
workspace is built inside it instead, with creates taking turns on a lock on that folder.

Each temporary folder is locked (``flock`` on the folder itself) by the process building it for
as long as it does; the kernel releases the lock when that process dies, however it dies. Every
create first removes the temporary folders of the same name that nobody holds: the leftovers of
creates that were killed.

A power loss after a create returned keeps the workspace: ``build`` flushes the files it writes,
the temporary folder's entries are flushed before the rename and the parent folder's after it.
Had the power gone before, the workspace is either absent (the next create removes the abandoned
temporary folder) or complete — never half-made.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
from pathlib import Path

from headwater.errors import AlreadyExistsError, ConfigurationError
from headwater.layout import DATASTORES_DIR

TYPE_CHECKING = False  # no `typing` import on Workspace.create's path
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

__all__ = [
    "BUILTIN_DATASTORES",
    "DEFAULT_DATASTORE",
    "DEFAULT_DATASTORE_KEY",
    "build_atomically",
    "check_target_folder",
    "first_records",
    "init_store",
    "remove_abandoned",
    "write_json_atomic",
]

_TEMP_INFIX = ".creating-"

DEFAULT_DATASTORE = "workspaceblobstore"
#: The datastores every workspace has, as in SDK v1: name -> (kind, folder under datastores/).
BUILTIN_DATASTORES = {"workspaceblobstore": "azure_blob", "workspacefilestore": "azure_file"}
DEFAULT_DATASTORE_KEY = "default_datastore"


def write_json_atomic(path: Path, data: dict[str, Any], *, durable: bool = False) -> None:
    """Write ``path`` by renaming a temporary file over it; ``durable``: flushed to disk first."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(json.dumps(data, indent=2, sort_keys=True) + "\n")
        if durable:
            f.flush()
            os.fsync(f.fileno())
    os.replace(tmp, path)


def first_records(name: str) -> tuple[dict[str, str], list[tuple[str, str, dict[str, Any]]]]:
    """A new workspace's ``meta`` rows and built-in datastores (name, kind, config)."""
    meta = {"workspace_name": name, DEFAULT_DATASTORE_KEY: DEFAULT_DATASTORE}
    datastores = [
        (ds_name, kind, {"root": f"{DATASTORES_DIR}/{ds_name}", "builtin": True})
        for ds_name, kind in BUILTIN_DATASTORES.items()
    ]
    return meta, datastores


def init_store(url: str, name: str) -> None:
    """Create (or upgrade) the metadata schema at ``url`` and record the workspace's name and
    built-in datastores; safe when other processes do the same at once (a shared PostgreSQL).

    Through the store: for PostgreSQL, and for SQLite when the generated DDL is stale; a new
    SQLite file is otherwise written by :func:`~headwater.store.new_sqlite.create_sqlite_database`.
    """
    from headwater.store.metadata import MetadataStore
    from headwater.store.records import DatastoreRecord

    meta, datastores = first_records(name)
    with MetadataStore.create(url) as store:
        existing = store.get_meta("workspace_name")
        if existing is not None and existing != name:
            raise ConfigurationError(
                f"The metadata store at {store.redacted_url} belongs to workspace {existing!r}",
                key="metadata_url",
                hint="Use a separate PostgreSQL database for each workspace.",
            )
        store.set_meta("workspace_name", name)
        for ds_name, kind, config in datastores:
            if store.get_datastore(ds_name) is None:
                try:
                    store.put_datastore(DatastoreRecord(ds_name, kind, config))
                except AlreadyExistsError:
                    pass  # another process creating the same workspace recorded it first
        if store.get_meta(DEFAULT_DATASTORE_KEY) is None:
            store.set_meta(DEFAULT_DATASTORE_KEY, meta[DEFAULT_DATASTORE_KEY])


# -- building the folder ------------------------------------------------------------------------


def _temp_prefix(root: Path) -> str:
    return f".{root.name}{_TEMP_INFIX}"


def check_target_folder(root: Path, name: str, info_file: str) -> None:
    """Refuse, before any work, a ``root`` that is a file or a non-empty folder without a workspace."""
    try:
        is_dir = root.is_dir()
        exists = is_dir or root.exists()
    except OSError as exc:
        raise ConfigurationError(
            f"Cannot create workspace {name!r}: the folder {root} cannot be examined: {exc.strerror}",
            hint="Choose a folder you may read and write.",
        ) from exc
    if not exists:
        return
    if not is_dir:
        raise ConfigurationError(
            f"Cannot create workspace {name!r}: {root} is a file, not a folder",
            hint="Choose an empty or new folder for the workspace.",
        )
    if (root / info_file).is_file():
        return
    if any(root.iterdir()):
        raise ConfigurationError(
            f"Cannot create workspace {name!r}: the folder {root} exists and is not a workspace",
            hint="Choose an empty or new folder (if it holds a workspace whose creation was interrupted "
            "by an older Headwater, remove the folder and create the workspace again).",
        )


def _lock_new_temp(root: Path) -> tuple[Path, int]:
    """Make and lock a new temporary folder next to ``root``; returns it and its locked descriptor."""
    while True:
        tmp = root.parent / f"{_temp_prefix(root)}{os.urandom(8).hex()}"
        os.mkdir(tmp)
        try:
            fd = os.open(tmp, os.O_RDONLY | os.O_DIRECTORY)
        except FileNotFoundError:  # a concurrent clean-up took it before it was locked
            continue
        fcntl.flock(fd, fcntl.LOCK_EX)
        if os.fstat(fd).st_nlink > 0:
            return tmp, fd
        os.close(fd)  # removed by a clean-up between mkdir and flock: make another


def remove_abandoned(root: Path) -> list[Path]:
    """Remove the temporary folders of creates of ``root`` that were killed; returns them.

    A temporary folder whose lock can be taken has no live builder. A folder being built is
    left alone, and so is one renamed into place meanwhile (the name no longer leads to it).
    """
    removed: list[Path] = []
    try:
        entries = [p for p in root.parent.iterdir() if p.name.startswith(_temp_prefix(root))]
    except OSError:
        return removed
    for path in entries:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # being built right now
            try:
                same = os.stat(path, follow_symlinks=False).st_ino == os.fstat(fd).st_ino
            except OSError:
                same = False
            if same:
                import shutil

                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
        finally:
            os.close(fd)
    return removed


def build_atomically(root: Path, name: str, info_file: str, build: Callable[[Path], None]) -> bool:
    """Build a workspace with ``build(temporary_folder)`` and rename it to ``root``.

    Returns True when this call put its workspace in place, False when another process's
    workspace is at ``root`` (created meanwhile; this call's folder is removed). ``build`` must
    write ``info_file`` last.
    """
    root.parent.mkdir(parents=True, exist_ok=True)
    remove_abandoned(root)
    try:
        tmp, fd = _lock_new_temp(root)
    except PermissionError:
        if not root.is_dir():
            raise
        return _build_in_place(root, name, info_file, build)
    placed = False
    try:
        build(tmp)
        os.fsync(fd)  # the entries build made, on disk before the folder can be found
        try:
            os.rename(tmp, root)  # replaces an empty folder; fails on a non-empty one
            placed = True
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR):
                raise
            if (root / info_file).is_file():
                return False
            check_target_folder(root, name, info_file)
            raise
        _fsync_folder(root.parent)  # the rename itself
        return True
    finally:
        if not placed:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
        os.close(fd)  # releases the lock


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _build_in_place(root: Path, name: str, info_file: str, build: Callable[[Path], None]) -> bool:
    """Build in the existing empty folder ``root``, when its parent may not be written (a folder an
    administrator made for the user): creates take turns on a lock on ``root``, but a killed one
    leaves its partial workspace there, as before."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if (root / info_file).is_file():
            return False
        check_target_folder(root, name, info_file)
        build(root)
        os.fsync(fd)
        return True
    finally:
        os.close(fd)
