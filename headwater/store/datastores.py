"""Datastore backends: where a datastore's files really are, behind one small interface.

Every backend is an fsspec filesystem plus a root; every path a caller passes is relative to that
root and validated first, so nothing escapes it (``..``, absolute paths, symlinks that lead out).
Writes are atomic per file: data goes to a hidden temporary name beside the target and is renamed
into place, so no half-written file is ever visible.

Local folders live in this module; the remote kinds (Azure Blob, S3) are in
:mod:`headwater.store.remote`, imported only when such a datastore is opened.
"""

from __future__ import annotations

import os
import posixpath
import stat
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, BinaryIO

from headwater.errors import ConfigurationError, DataAccessError, PathEscapeError
from headwater.store.records import DatastoreRecord
from headwater.store.secrets import resolve_secret

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

__all__ = [
    "DatastoreBackend",
    "LocalBackend",
    "Progress",
    "backend_for",
    "is_plain_relative",
    "local_backend_for",
    "normalize_relative",
]

_TMP_PREFIX = ".hw-tmp-"

#: ``progress(path, nbytes)``: called once per finished file of a batch transfer (0 bytes when skipped).
Progress = Callable[[str, int], None]


def is_plain_relative(rel: str) -> bool:
    """Whether ``rel`` is ``a/b/c``: no part of it is empty, ``.`` or ``..`` (a few string searches,
    no split: it is asked of every file of a listing)."""
    probe = f"/{rel}/"
    return "//" not in probe and "/./" not in probe and "/../" not in probe


def normalize_relative(path: str | os.PathLike[str] | None, *, root: str, datastore: str | None) -> str:
    """Normalise a datastore-relative path to ``a/b/c`` ('' for the root) or raise PathEscapeError.

    Refuses absolute paths, drive letters and any path whose ``..`` parts climb above the root.
    """
    if path is None:
        return ""
    text = os.fspath(path).replace("\\", "/")
    if text.startswith("/") or (len(text) > 1 and text[1] == ":"):
        raise PathEscapeError(text, root, datastore=datastore)
    if is_plain_relative(text):
        return text  # already normal (every listed file): no pathlib parsing
    parts: list[str] = []
    for part in PurePosixPath(text).parts:
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise PathEscapeError(text, root, datastore=datastore)
            parts.pop()
            continue
        parts.append(part)
    return "/".join(parts)


class DatastoreBackend(ABC):
    """The files of one datastore. Paths are relative to the datastore root, '/'-separated."""

    def __init__(self, name: str) -> None:
        self.name = name

    @property
    def is_local(self) -> bool:
        """Whether the files are on this host's disk (readable in place through :meth:`local_path`)."""
        return False

    @property
    def location(self) -> str:
        """Where the files are, for messages (never contains a secret)."""
        return f"{self.root}"

    def ensure_root(self, create: bool) -> None:
        """Check that the root exists and can be used; create it when ``create``."""
        root = self.fs._strip_protocol(self.root)
        if self.fs.isdir(root):
            return
        if not create:
            raise ConfigurationError(
                f"The root of datastore {self.name!r} does not exist: {self.location}",
                hint="Create it, or register the datastore with create_if_not_exists=True.",
            )
        self.fs.makedirs(root, exist_ok=True)

    def close(self) -> None:  # noqa: B027 - an optional hook: nothing to release by default
        """Release connections and sessions (nothing to release for a local folder)."""

    def content_digests(self, paths: Sequence[str]) -> dict[str, str]:
        """One content fingerprint per file: here the BLAKE3 hex digest of its bytes.

        Remote backends answer from object metadata without downloading (see
        :mod:`headwater.store.remote`). A missing file raises FileNotFoundError.
        """
        import blake3

        def digest(rel: str) -> str:
            hasher = blake3.blake3()
            with self.open(rel, "rb") as f:
                while chunk := f.read(1 << 20):
                    hasher.update(chunk)
            return str(hasher.hexdigest())

        rels = [normalize_relative(p, root=self.root, datastore=self.name) for p in paths]
        from concurrent.futures import ThreadPoolExecutor  # ~3 ms with logging: only for batches

        with ThreadPoolExecutor(max_workers=min(8, max(1, len(rels)))) as pool:
            return dict(zip(paths, pool.map(digest, rels), strict=True))

    def put_files(
        self,
        pairs: Sequence[tuple[Path, str]],
        *,
        overwrite: bool = True,
        max_workers: int = 8,
        progress: Progress | None = None,
    ) -> list[bool]:
        """Copy local files to datastore paths in parallel; per pair, whether it was written.

        Every path is validated before anything is copied. ``progress(path, nbytes)`` is called
        once per finished pair (``nbytes`` 0 when it existed and not ``overwrite``).
        """
        for _, rel in pairs:
            self.full_path(rel)

        def one(pair: tuple[Path, str]) -> bool:
            local, rel = pair
            written = self.put_file(local, rel, overwrite=overwrite)
            if progress is not None:
                progress(rel, os.path.getsize(local) if written else 0)
            return written

        return _run_all(one, pairs, max_workers)

    def get_files(
        self,
        pairs: Sequence[tuple[str, Path]],
        *,
        overwrite: bool = True,
        max_workers: int = 8,
        progress: Progress | None = None,
    ) -> list[bool]:
        """Copy datastore paths to local files in parallel; per pair, whether it was written."""
        for rel, _ in pairs:
            self.full_path(rel)

        def one(pair: tuple[str, Path]) -> bool:
            rel, local = pair
            written = self.get_file(rel, local, overwrite=overwrite)
            if progress is not None:
                progress(rel, os.path.getsize(local) if written else 0)
            return written

        return _run_all(one, pairs, max_workers)

    @property
    @abstractmethod
    def fs(self) -> AbstractFileSystem:
        """The fsspec filesystem (imported lazily)."""

    @property
    @abstractmethod
    def root(self) -> str:
        """The root as the filesystem names it (a local folder, ``container/prefix`` ...)."""

    @abstractmethod
    def full_path(self, path: str | os.PathLike[str] | None) -> str:
        """The validated path of ``path`` on :attr:`fs`; raises PathEscapeError."""

    def local_path(self, path: str | os.PathLike[str] | None) -> Path | None:
        """A local filesystem path to read ``path`` in place, or None for remote stores."""
        return None

    def local_files(self, paths: Sequence[str]) -> list[str | None]:
        """:meth:`local_path` of many paths, as strings (None where a file is not local)."""
        return [None if (p := self.local_path(rel)) is None else os.fspath(p) for rel in paths]

    def exists(self, path: str | os.PathLike[str] | None) -> bool:
        return bool(self.fs.exists(self.full_path(path)))

    def is_dir(self, path: str | os.PathLike[str] | None) -> bool:
        return bool(self.fs.isdir(self.full_path(path)))

    def list_files(self, prefix: str | os.PathLike[str] | None = None) -> list[str]:
        """Every file at or under ``prefix`` (a folder or a file), relative to the root, sorted.

        Symlinked folders below ``prefix`` are not followed (no loops, nothing listed twice); name
        one as ``prefix`` to list its files. A symlinked file is listed; reading one that leads out
        of the root raises PathEscapeError.
        """
        rel = normalize_relative(prefix, root=self.root, datastore=self.name)
        full = self.full_path(rel)
        if self.fs.isfile(full):
            return [rel]
        if not self.fs.isdir(full):
            return []
        out = []
        for found, info in self.fs.find(full, detail=True).items():
            if info.get("islink") and self.fs.isdir(found):
                continue  # a symlinked folder is not a file (fsspec lists it as one); not followed
            rel_found = self._relative(found)
            if not _is_tmp(rel_found):
                out.append(rel_found)
        return sorted(out)

    def glob(self, pattern: str) -> list[str]:
        """Files matching a glob (``**`` recurses), relative to the root, sorted."""
        rel = normalize_relative(pattern, root=self.root, datastore=self.name)
        matches = self.fs.glob(self.full_path(rel))
        out: set[str] = set()
        for m in matches:
            r = self._relative(m)
            if self.fs.isdir(m):
                out.update(self.list_files(r))
            elif not _is_tmp(r):
                out.add(r)
        return sorted(out)

    def info(self, path: str | os.PathLike[str]) -> dict[str, Any]:
        return dict(self.fs.info(self.full_path(path)))

    def open(self, path: str | os.PathLike[str], mode: str = "rb") -> BinaryIO:
        if "r" not in mode:
            raise ValueError("open() is for reading; use put_file/put_bytes to write atomically")
        return self.fs.open(self.full_path(path), mode)

    def put_file(self, local: str | os.PathLike[str], path: str | os.PathLike[str], *, overwrite: bool) -> bool:
        """Copy a local file to ``path`` atomically; returns False when it exists and not ``overwrite``."""
        target = self.full_path(path)
        if not overwrite and self.fs.exists(target):
            return False
        self._atomic_put(target, lambda tmp: self.fs.put_file(os.fspath(local), tmp))
        return True

    def put_bytes(self, data: bytes, path: str | os.PathLike[str], *, overwrite: bool = True) -> bool:
        target = self.full_path(path)
        if not overwrite and self.fs.exists(target):
            return False
        self._atomic_put(target, lambda tmp: self.fs.pipe_file(tmp, data))
        return True

    def get_file(self, path: str | os.PathLike[str], local: str | os.PathLike[str], *, overwrite: bool) -> bool:
        """Copy ``path`` to a local file atomically; returns False when it exists and not ``overwrite``."""
        dest = Path(local)
        if dest.exists() and not overwrite:
            return False
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f"{_TMP_PREFIX}{uuid.uuid4().hex}-{dest.name}")
        try:
            self.fs.get_file(self.full_path(path), os.fspath(tmp))
            os.replace(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)
        return True

    def _atomic_put(self, target: str, write: Any) -> None:
        parent, base = posixpath.split(target)
        self.fs.makedirs(parent, exist_ok=True)
        tmp = posixpath.join(parent, f"{_TMP_PREFIX}{uuid.uuid4().hex}-{base}")
        try:
            write(tmp)
            self.fs.mv(tmp, target)
        finally:
            if self.fs.exists(tmp):
                self.fs.rm(tmp)

    def delete(self, path: str | os.PathLike[str], *, recursive: bool = False) -> None:
        full = self.full_path(path)
        if full.rstrip("/") == self.root.rstrip("/"):
            raise DataAccessError(f"Refusing to delete the root of datastore {self.name!r}.", path=full)
        self.fs.rm(full, recursive=recursive)

    def _relative(self, full: str) -> str:
        root = self.root.rstrip("/")
        full = full.rstrip("/")
        if full == root:
            return ""
        if not full.startswith(root + "/"):
            raise PathEscapeError(full, root, datastore=self.name)
        return full[len(root) + 1 :]


def _run_all(fn: Callable[[Any], bool], items: Sequence[Any], max_workers: int) -> list[bool]:
    if len(items) <= 1 or max_workers <= 1:
        return [fn(item) for item in items]
    from concurrent.futures import ThreadPoolExecutor  # ~3 ms with logging: only for batches

    with ThreadPoolExecutor(max_workers=min(max_workers, len(items))) as pool:
        return list(pool.map(fn, items))


def _is_link(path: str) -> bool:
    """Whether ``path`` is a symlink: False when it does not exist, True when it cannot tell."""
    try:
        return stat.S_ISLNK(os.lstat(path).st_mode)
    except FileNotFoundError:
        return False
    except OSError:
        return True


def _is_tmp(rel: str) -> bool:
    return posixpath.basename(rel).startswith(_TMP_PREFIX)


class LocalBackend(DatastoreBackend):
    """A datastore that is a folder on this machine."""

    def __init__(self, name: str, root: str | os.PathLike[str]) -> None:
        super().__init__(name)
        self._root_path = Path(root).expanduser().resolve()
        self._fs: AbstractFileSystem | None = None

    @property
    def fs(self) -> AbstractFileSystem:
        if self._fs is None:
            from fsspec.implementations.local import LocalFileSystem

            self._fs = LocalFileSystem()
        return self._fs

    @property
    def root(self) -> str:
        return self._root_path.as_posix()

    @property
    def is_local(self) -> bool:
        return True

    @property
    def location(self) -> str:
        return f"local folder {self.root}"

    def ensure_root(self, create: bool) -> None:
        if self._root_path.is_dir():
            return
        if not create:
            raise ConfigurationError(
                f"The folder of datastore {self.name!r} does not exist: {self.root}",
                hint="Create it, or register the datastore with create_if_not_exists=True.",
            )
        self._root_path.mkdir(parents=True, exist_ok=True)

    @property
    def root_path(self) -> Path:
        return self._root_path

    def full_path(self, path: str | os.PathLike[str] | None) -> str:
        return self.local_path(path).as_posix()

    def local_path(self, path: str | os.PathLike[str] | None) -> Path:
        rel = normalize_relative(path, root=self.root, datastore=self.name)
        if not rel:
            return self._root_path
        candidate = self._root_path / rel
        # Only a symlink below the (resolved) root can lead out; resolve() — which follows links
        # on the parts that exist — is needed only when there is one (a few lstat calls instead
        # of a realpath walk from "/" for every file).
        if self._link_below_root(rel):
            resolved = candidate.resolve()
            if resolved != self._root_path and not resolved.is_relative_to(self._root_path):
                raise PathEscapeError(os.fspath(path or ""), self.root, datastore=self.name)
        return candidate

    def local_files(self, paths: Sequence[str]) -> list[str | None]:
        """:meth:`local_path` of many files, checked as it checks them, with each folder they share
        checked for links once (not once per file): one ``lstat`` per file, no ``Path`` objects."""
        if type(self).local_path is not LocalBackend.local_path:  # a subclass deciding per path
            return super().local_files(paths)
        base, linked = self.root.rstrip("/"), {"": False}  # folder -> a link at or above it, below the root?
        out: list[str | None] = []
        for path in paths:
            rel = normalize_relative(path, root=self.root, datastore=self.name)
            folder = rel.rpartition("/")[0]
            if rel and not self._folder_linked(folder, linked) and not _is_link(f"{base}/{rel}"):
                out.append(f"{base}/{rel}")
            else:  # the root itself, or a link on the way: the full check
                out.append(self.local_path(rel).as_posix())
        return out

    def _folder_linked(self, folder: str, linked: dict[str, bool]) -> bool:
        """Whether ``folder`` or a folder above it (below the root) is a link; ``linked`` memoises it."""
        pending = []
        while folder not in linked:
            pending.append(folder)
            folder = folder.rpartition("/")[0]
        found, base = linked[folder], self.root.rstrip("/")
        for below in reversed(pending):  # from the top down: no lstat below a link
            found = linked[below] = found or _is_link(f"{base}/{below}")
        return found

    def _link_below_root(self, rel: str) -> bool:
        """Whether a part of ``root/rel`` below the root is a symlink (True when it cannot tell)."""
        current = self.root
        for part in rel.split("/"):
            current = f"{current}/{part}"
            try:
                if stat.S_ISLNK(os.lstat(current).st_mode):
                    return True
            except FileNotFoundError:
                return False  # nothing exists below a missing part, so no link either
            except OSError:
                return True  # let resolve() decide, as it always did
        return False

    # Local fast paths: the same answers as fsspec's LocalFileSystem, without importing fsspec
    # (~25 ms) or building an info dict per file.

    def exists(self, path: str | os.PathLike[str] | None) -> bool:
        return self.local_path(path).exists()

    def is_dir(self, path: str | os.PathLike[str] | None) -> bool:
        return self.local_path(path).is_dir()

    def list_files(self, prefix: str | os.PathLike[str] | None = None) -> list[str]:
        rel = normalize_relative(prefix, root=self.root, datastore=self.name)
        full = self.full_path(rel)
        if os.path.isfile(full):
            return [rel]
        if not os.path.isdir(full):
            return []
        out = []
        folders = [full]
        cut = len(self.root.rstrip("/")) + 1  # what the paths found below start with: the root and '/'
        while folders:
            try:
                with os.scandir(folders.pop()) as it:
                    entries = list(it)
            except OSError:
                continue  # unreadable or vanished: left out, as fsspec's walk does
            for entry in entries:
                try:
                    is_dir = entry.is_dir(follow_symlinks=False)
                except OSError:
                    is_dir = False
                if is_dir:
                    folders.append(entry.path)
                elif entry.is_symlink() and os.path.isdir(entry.path):
                    continue  # a symlinked folder is not a file; not followed
                elif not entry.name.startswith(_TMP_PREFIX):
                    out.append(entry.path[cut:])  # below the root: the scan started there
        return sorted(out)


def local_backend_for(record: DatastoreRecord, workspace_folder: Path) -> LocalBackend | None:
    """The backend of a datastore record whose files are a folder on this host, else None (nothing
    is imported or resolved for a remote record)."""
    if record.kind in ("local", "azure_blob", "azure_file") and "root" in record.config:
        root = Path(record.config["root"])
        if not root.is_absolute():
            root = workspace_folder / root
        return LocalBackend(record.name, root)
    return None


def backend_for(record: DatastoreRecord, workspace_folder: Path) -> DatastoreBackend:
    """The backend for a datastore record; a relative local root is relative to the workspace.

    Remote records (``azure_blob`` with a ``container_name``, ``s3``) get their credentials
    resolved from the references in the record (workspace secrets file or environment).
    """
    local = local_backend_for(record, workspace_folder)
    if local is not None:
        return local
    from headwater.store.remote import from_record

    def resolve(key: str, ref: str) -> str:
        return resolve_secret(ref, workspace_folder, what=f"{key.replace('_', ' ')} of datastore {record.name!r}")

    remote = from_record(record, resolve)
    if remote is not None:
        return remote
    raise ConfigurationError(
        f"Datastore {record.name!r} has kind {record.kind!r}, which this Headwater cannot open",
        hint="Upgrade Headwater or install the extra that provides it (headwater[azure], headwater[s3]).",
    )
