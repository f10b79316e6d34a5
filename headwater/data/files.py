"""From a dataset definition's sources to files: listing, validation, opening, fetching, digests.

:class:`DataAccess` holds what one operation needs (datastore backends, an HTTP filesystem for
URLs) and is closed when the operation ends, so dataset objects never keep handles open.
:func:`resolve` lists the files of the sources in a stable order and gives each

- a *key*, stable for a given definition, used for per-file digests: the datastore-relative path
  (``'<datastore>:<path>'`` when the sources span several datastores) or the URL;
- a *display* path, as SDK v1's ``to_path()`` shows it: ``'/'`` plus the path below the common
  folder of the sources as they were written (``(ds, 'raw/2024/*.csv')`` shows ``/a.csv``).
"""

from __future__ import annotations

import os
import posixpath
import random
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from headwater.data.definition import DatasetArgumentError, has_glob
from headwater.errors import DataAccessError, NotFoundError
from headwater.plan.digests import (
    NULL_CACHE,
    DigestCacheLike,
    digest_files,
    open_digest_cache,
    stream_digest,
    workspace_cache_path,
)
from headwater.store.datastores import DatastoreBackend, backend_for, is_plain_relative

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

__all__ = [
    "DataAccess",
    "DatasetFile",
    "Resolution",
    "apply_file_transformations",
    "check_listed_names",
    "compare_digests",
    "describe_source",
    "resolve",
]


@dataclass(frozen=True)
class DatasetFile:
    """One file of a dataset: on a datastore (``datastore`` set) or at a URL (``datastore`` None)."""

    datastore: str | None
    path: str  # datastore-relative path, or the URL
    key: str
    display: str

    @property
    def where(self) -> str:
        """A human description: ``'raw/a.csv' on datastore 'x'`` or the URL."""
        return self.path if self.datastore is None else f"{self.path!r} on datastore {self.datastore!r}"


@dataclass(frozen=True)
class Resolution:
    """The files of a definition's sources, and the sources that matched nothing."""

    files: list[DatasetFile]
    missing: list[dict[str, str]]


def describe_source(source: dict[str, str]) -> str:
    """``'raw/*.csv' on datastore 'x'`` or the URL."""
    if "url" in source:
        return repr(source["url"])
    return f"{source['path'] or '/'!r} on datastore {source['datastore']!r}"


class DataAccess:
    """Backends and an HTTP filesystem for one operation; use as a context manager.

    ``workspace`` needs only ``metadata_store`` (the MetadataStore), ``folder`` and ``name``, so code
    below the SDK (the engine) can pass a lightweight handle instead of a Workspace.
    """

    def __init__(self, workspace: Any) -> None:
        self.workspace = workspace
        self._backends: dict[str, DatastoreBackend] = {}
        self._http: AbstractFileSystem | None = None

    def __enter__(self) -> DataAccess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the HTTP session (if one was opened)."""
        http, self._http = self._http, None
        session = getattr(http, "_session", None)
        if http is not None and session is not None:
            type(http).close_session(http.loop, session)

    def backend(self, name: str) -> DatastoreBackend:
        """The backend of datastore ``name`` in the workspace; NotFoundError suggests close names."""
        if name in self._backends:
            return self._backends[name]
        ws = self.workspace
        if ws is None:
            raise DatasetArgumentError(
                f"This dataset reads datastore {name!r} but is not bound to a workspace.",
                hint="Create it from (datastore, 'path') tuples, or get it with Dataset.get_by_name(ws, name).",
            )
        record = ws.metadata_store.get_datastore(name)
        if record is None:
            raise NotFoundError(
                "Datastore",
                name,
                where=f"workspace {ws.name!r}",
                candidates=[r.name for r in ws.metadata_store.list_datastores()],
                hint="Register it first, or fix the dataset's path.",
            )
        backend = self._backends[name] = backend_for(record, ws.folder)
        return backend

    def http(self) -> AbstractFileSystem:
        """An HTTP(S) filesystem of its own (not fsspec's shared instance), closed with this object."""
        if self._http is None:
            from fsspec.implementations.http import HTTPFileSystem

            self._http = HTTPFileSystem(skip_instance_cache=True)
        return self._http

    def local_path(self, f: DatasetFile) -> Path | None:
        """A local path to read ``f`` in place, or None (URLs, remote datastores)."""
        return None if f.datastore is None else self.backend(f.datastore).local_path(f.path)

    def filesystem(self, f: DatasetFile) -> tuple[AbstractFileSystem, str]:
        """The fsspec filesystem that holds ``f`` and its path there (for readers such as pyarrow's
        that read ranges of a file instead of streaming all of it)."""
        if f.datastore is None:
            return self.http(), f.path
        backend = self.backend(f.datastore)
        return backend.fs, backend.full_path(f.path)

    @contextmanager
    def open(self, f: DatasetFile) -> Iterator[BinaryIO]:
        """``f`` opened for binary reading; a missing file raises DataAccessError."""
        try:
            fs_open = self.http().open if f.datastore is None else self.backend(f.datastore).open
            stream = fs_open(f.path, "rb")
        except FileNotFoundError as exc:
            raise DataAccessError(f"File {f.where} does not exist (any more).", path=f.path) from exc
        with stream:
            yield stream

    def fetch(self, f: DatasetFile, dest: Path) -> None:
        """Copy ``f`` to the local file ``dest`` (written under a temporary name, then renamed)."""
        try:
            if f.datastore is not None:
                self.backend(f.datastore).get_file(f.path, dest, overwrite=True)
                return
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(f".hw-tmp-{uuid.uuid4().hex}-{dest.name}")
            try:
                self.http().get_file(f.path, os.fspath(tmp))
                os.replace(tmp, dest)
            finally:
                tmp.unlink(missing_ok=True)
        except FileNotFoundError as exc:
            raise DataAccessError(f"File {f.where} does not exist (any more).", path=f.path) from exc

    def exists(self, source: dict[str, str]) -> bool:
        """Whether a source without glob characters names an existing file or folder."""
        if "url" in source:
            return bool(self.http().exists(source["url"]))
        return self.backend(source["datastore"]).exists(source["path"])

    def digests(self, files: Sequence[DatasetFile]) -> dict[str, str]:
        """``{key: fingerprint}``; local files go through the workspace's digest cache.

        An unchanged local file costs a ``stat`` and no read. Files on a remote datastore are
        fingerprinted from the store's metadata (:func:`~headwater.plan.digests.digest_files`), so
        no data is downloaded; only URLs are read and hashed.
        """
        ws = self.workspace
        cache: DigestCacheLike = NULL_CACHE
        if ws is not None:
            cache = open_digest_cache(workspace_cache_path(ws.folder))
        try:
            out: dict[str, str] = {}
            by_store: dict[str, list[DatasetFile]] = {}
            for f in files:
                if f.datastore is None:
                    with self.open(f) as stream:
                        out[f.key] = stream_digest(stream)
                else:
                    by_store.setdefault(f.datastore, []).append(f)
            for name, group in by_store.items():
                try:
                    found = digest_files(self.backend(name), [f.path for f in group], cache)
                except FileNotFoundError as exc:
                    raise DataAccessError(
                        f"A file of datastore {name!r} disappeared while it was being read: {exc}.",
                        hint="Retry once the data stops changing.",
                    ) from exc
                out.update((f.key, found[f.path]) for f in group)
            return out
        finally:
            cache.close()


# -- listing -----------------------------------------------------------------------------------


def check_listed_names(datastore: str, rels: Sequence[str]) -> list[str]:
    """``rels`` (a datastore's listing) when every name is a plain relative path, else DataAccessError.

    An object store can hold a key such as ``raw/sub/../../x`` or ``raw//x``: listed under
    ``raw/``, it would be read as another object (``x``) and written to a local path outside the
    folder it was listed in. Such a name is refused, never silently skipped or normalised.
    """
    for rel in rels:
        if not is_plain_relative(rel):
            raise DataAccessError(
                f"Datastore {datastore!r} holds a file named {rel!r}, whose name has an empty, '.' or '..' "
                "part: Headwater does not read it, since it would stand for another file or a place "
                "outside the folder it is listed in.",
                path=rel,
                hint="Rename or delete that object with the store's own tools, or read a folder that does "
                "not contain it.",
            )
    return list(rels)


def _glob_base(path: str) -> str:
    """The folder part of ``path`` before its first glob segment."""
    parts = path.split("/")
    for i, part in enumerate(parts):
        if has_glob(part):
            return "/".join(parts[:i])
    return path


def _common_base(bases: list[list[str]]) -> list[str]:
    common = bases[0]
    for b in bases[1:]:
        n = 0
        while n < min(len(common), len(b)) and common[n] == b[n]:
            n += 1
        common = common[:n]
    return common


def resolve(sources: list[dict[str, str]], access: DataAccess) -> Resolution:
    """The files the sources match, in source order then path order, without duplicates."""
    stores = {s["datastore"] for s in sources if "datastore" in s}
    qualify = len(stores) > 1
    found: list[tuple[str | None, str, list[str]]] = []  # (datastore, path, full path parts)
    bases: list[list[str]] = []
    missing: list[dict[str, str]] = []
    seen: set[tuple[str | None, str]] = set()
    for source in sources:
        if "url" in source:
            url = source["url"]
            matches = sorted(access.http().glob(url)) if has_glob(url) else [url]
            base = _glob_base(url) if has_glob(url) else posixpath.dirname(url)
            store: str | None = None
            prefix: list[str] = []
        else:
            store, rel = source["datastore"], source["path"]
            backend = access.backend(store)
            matches = check_listed_names(store, backend.glob(rel) if has_glob(rel) else backend.list_files(rel))
            base = _glob_base(rel) if has_glob(rel) else posixpath.dirname(rel) if matches == [rel] else rel
            prefix = [store]
        if not matches:
            missing.append(source)
        bases.append(prefix + [p for p in base.split("/") if p])
        for m in matches:
            if (store, m) not in seen:
                seen.add((store, m))
                found.append((store, m, prefix + [p for p in m.split("/") if p]))
    common = _common_base(bases) if bases else []
    files = []
    for store, path, parts in found:
        key = path if store is None or not qualify else f"{store}:{path}"
        rest = parts[len(common) :] if parts[: len(common)] == common else parts
        files.append(DatasetFile(store, path, key, "/" + "/".join(rest or parts[-1:])))
    return Resolution(files, missing)


# -- file-level transformations (FileDataset) ---------------------------------------------------


def _uniform(n: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    return [rng.random() for _ in range(n)]


def apply_file_transformations(
    files: list[DatasetFile], transformations: list[dict[str, Any]], access: DataAccess | None = None
) -> list[DatasetFile]:
    """Apply take / skip / take_sample / random_split / filter_files, in order, to a file list.

    ``filter_files`` (``FileDataset.filter``) on sizes or times needs ``access`` to stat the files.
    """
    for t in transformations:
        op = t["op"]
        if op == "filter_files":
            from headwater.data.file_filter import filter_files

            files = filter_files(files, t["expression"], access)
        elif op == "take":
            files = files[: t["count"]]
        elif op == "skip":
            files = files[t["count"] :]
        elif op == "take_sample":
            u = _uniform(len(files), t["seed"])
            files = [f for f, x in zip(files, u, strict=True) if x < t["probability"]]
        elif op == "random_split":
            u = _uniform(len(files), t["seed"])
            files = [f for f, x in zip(files, u, strict=True) if (x < t["percentage"]) == (t["part"] == 0)]
        else:
            raise DatasetArgumentError(f"Transformation {op!r} does not apply to a FileDataset.")
    return files


def compare_digests(recorded: dict[str, str], current: dict[str, str]) -> dict[str, list[str]]:
    """``{'added': [...], 'removed': [...], 'modified': [...]}`` (each sorted) between two digest maps."""
    return {
        "added": sorted(set(current) - set(recorded)),
        "removed": sorted(set(recorded) - set(current)),
        "modified": sorted(k for k in set(recorded) & set(current) if recorded[k] != current[k]),
    }
