"""File digests: BLAKE3 over the bytes, cached by what ``stat`` says, so unchanged data is never re-read.

A local file's digest is cached under its absolute path together with ``(size, mtime_ns, inode)``;
the next request stats the file once and, when all three still match, returns the cached digest
without opening the file. Any change to size, mtime or inode (an in-place edit, a rewrite, an
atomic replace) makes the entry stale and the file is hashed again. The cache is a small SQLite file
(WAL mode, a schema-version row; a cache of another version is dropped, not migrated): for a
workspace it lives at ``<workspace folder>/cache/digests.db`` (:func:`workspace_cache_path`).

Files on a remote datastore are never downloaded to be fingerprinted: the backend's
``content_digests`` answers from the store's metadata (Headwater's BLAKE3, recorded as object
metadata when Headwater wrote the file, so it equals the local digest of the same bytes; else the
store's content MD5, ``md5:<hex>``; else ``etag:<etag>:<size>:<last-modified>``). Only an object
without that method (a URL stream, a test double) is hashed from its stream. :class:`NullDigestCache`
has the cache's interface and caches nothing, for callers that must not write (or cannot create) a
cache file.

Digests are lowercase hex: a file digest is BLAKE3 (256 bits); :func:`tree_digest` is sha256 over
the canonical JSON of ``{relative path: file digest}``, so it changes when a file is added, removed,
renamed or edited, and never depends on listing order.

Only the standard library is imported here, and ``blake3`` when a file is first hashed: the planner
calls this on every submit, and a step's own Python (a built environment) may import this module
(through the ``Dataset`` class) without having ``blake3``.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import stat
import time
from collections.abc import Iterable, Mapping
from typing import IO, Any

from headwater.errors import DataAccessError
from headwater.plan.digest_cache import (
    CACHE_SCHEMA_VERSION,
    NULL_CACHE,
    DigestCache,
    DigestCacheLike,
    NullDigestCache,
    open_digest_cache,
    workspace_cache_path,
)

__all__ = [
    "CACHE_SCHEMA_VERSION",
    "NULL_CACHE",
    "DigestCache",
    "DigestCacheLike",
    "NullDigestCache",
    "carry_over",
    "digest_files",
    "file_digest",
    "file_digests",
    "open_digest_cache",
    "stream_digest",
    "tree_digest",
    "workspace_cache_path",
]

_BUFFER_SIZE = 1 << 20  # 1 MiB reads for ordinary files
_BIG_BUFFER_SIZE = 8 << 20  # 8 MiB reads, hashed with several threads, for big files
_BIG_FILE = 64 << 20  # from this size on, BLAKE3 may use every core


def _blake3() -> Any:
    """The ``blake3`` module; DataAccessError naming the interpreter when it is not installed."""
    try:
        import blake3
    except ImportError as exc:
        import sys

        raise DataAccessError(
            f"Computing file digests needs the 'blake3' package, which the Python at {sys.executable} does not have.",
            hint="Add 'blake3' to the environment's pip packages (a step that only reads its inputs never "
            "needs it), or run this code with Headwater's own Python.",
        ) from exc
    return blake3


def _hash_file(path: str, size: int) -> str:
    """BLAKE3 of a local file's bytes, read in large chunks (several threads for big files)."""
    big = size >= _BIG_FILE
    blake3 = _blake3()
    hasher = blake3.blake3(max_threads=blake3.blake3.AUTO if big else 1)
    buffer = bytearray(_BIG_BUFFER_SIZE if big else _BUFFER_SIZE)
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as f:
        while True:
            n = f.readinto(view)
            if not n:
                break
            hasher.update(view[:n])
    return str(hasher.hexdigest())


def stream_digest(stream: IO[bytes], *, chunk_size: int = _BUFFER_SIZE) -> str:
    """BLAKE3 of everything left in a binary stream (a remote file, an HTTP response)."""
    hasher = _blake3().blake3()
    while True:
        chunk = stream.read(chunk_size)
        if not chunk:
            break
        hasher.update(chunk)
    return str(hasher.hexdigest())


#: A file modified this recently may still change without its (size, mtime_ns) changing: file
#: times advance in clock ticks, not nanoseconds. Such a file is hashed but not cached (git calls
#: this the "racy" case), so a same-size rewrite right after hashing is never missed.
RACY_WINDOW_NS = 2_000_000_000


def _racy(st: os.stat_result) -> bool:
    return time.time_ns() - st.st_mtime_ns < RACY_WINDOW_NS


def _regular_stat(path: str) -> os.stat_result:
    """``os.stat`` of a file that may be hashed: a FIFO, socket or device is refused, not opened
    (opening a FIFO would wait for a writer forever)."""
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        raise OSError(errno.EINVAL, "not a regular file (a FIFO, socket or device is not read)", path)
    return st


def _same_file(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_size, a.st_mtime_ns, a.st_ino) == (b.st_size, b.st_mtime_ns, b.st_ino)


def file_digest(path: str | os.PathLike[str], cache: DigestCacheLike = NULL_CACHE) -> str:
    """The BLAKE3 hex digest of a local file; one ``stat`` and no read when ``cache`` knows it.

    A file that changes while it is being hashed gets the digest of what was read, but it is not
    cached, so the next call reads it again.
    """
    key = os.path.abspath(path)
    st = _regular_stat(key)
    cached = cache.get(key, st)
    if cached is not None:
        return cached
    digest = _hash_file(key, st.st_size)
    if _same_file(st, os.stat(key)) and not _racy(st):
        cache.put(key, st, digest)
    return digest


#: Below this many bytes to hash, a batch is hashed in this thread (no pool, same order of reads).
PARALLEL_MIN_BYTES = 8 << 20


def _usable_cpus() -> int:
    """The CPUs this process may run on: its affinity where the OS has one (Linux), else every CPU (macOS)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else (os.cpu_count() or 1)


def _hash_checked(key: str, st: os.stat_result) -> tuple[str, bool]:
    """The digest of ``key`` and whether it may be cached (unchanged while read, not racy)."""
    digest = _hash_file(key, st.st_size)
    return digest, _same_file(st, os.stat(key)) and not _racy(st)


def file_digests(paths: Iterable[str | os.PathLike[str]], cache: DigestCacheLike = NULL_CACHE) -> list[str | OSError]:
    """Digests of many local files, as :func:`file_digest` gives them, in order; an ``OSError`` in
    place of a file that could not be read.

    One ``stat`` and one cache look-up per file; the files the cache does not know are hashed on
    a few threads (BLAKE3 and reads release the GIL) when there is enough to hash, and their
    digests are stored in one transaction.
    """
    out: list[str | OSError] = []
    stats: list[tuple[int, str, os.stat_result]] = []
    for path in paths:
        key = os.path.abspath(path)
        try:
            stats.append((len(out), key, _regular_stat(key)))
            out.append("")
        except OSError as exc:
            out.append(exc)
    misses: list[tuple[int, str, os.stat_result]] = []
    for entry, cached in zip(stats, cache.get_many([(key, st) for _, key, st in stats]), strict=True):
        if cached is None:
            misses.append(entry)
        else:
            out[entry[0]] = cached
    if not misses:
        return out

    def one(miss: tuple[int, str, os.stat_result]) -> tuple[str, bool] | OSError:
        try:
            return _hash_checked(miss[1], miss[2])
        except OSError as exc:
            return exc

    if len(misses) > 1 and sum(st.st_size for _, _, st in misses) >= PARALLEL_MIN_BYTES:
        from concurrent.futures import ThreadPoolExecutor

        workers = min(8, 2 * _usable_cpus(), len(misses))
        with ThreadPoolExecutor(workers, thread_name_prefix="digest") as pool:
            results = list(pool.map(one, misses))
    else:
        results = [one(m) for m in misses]
    store = []
    for (index, key, st), result in zip(misses, results, strict=True):
        if isinstance(result, OSError):
            out[index] = result
            continue
        out[index] = result[0]
        if result[1]:
            store.append((key, st, result[0]))
    cache.put_many(store)
    return out


def carry_over(cache: DigestCacheLike, moves: Iterable[tuple[str | os.PathLike[str], str | os.PathLike[str]]]) -> int:
    """After files were renamed, cache their digests under their new paths; returns how many.

    ``moves`` are ``(old path, new path)`` pairs of local files. A rename keeps a file's size,
    mtime and inode, so the new path's ``stat`` is looked up under the old path: an entry still
    valid there (not stale, not racy when it was stored) is stored again under the new path. A
    file that changed since, was copied instead of renamed, or was never cached is left out (it is
    hashed when next asked for). Nothing is read.
    """
    entries: list[tuple[str, str, os.stat_result]] = []
    for old, new in moves:
        try:
            st = os.stat(new)
        except OSError:
            continue
        entries.append((os.path.abspath(old), os.path.abspath(new), st))
    found = cache.get_many([(old, st) for old, _new, st in entries])
    keep = [(new, st, digest) for (_old, new, st), digest in zip(entries, found, strict=True) if digest is not None]
    cache.put_many(keep)
    return len(keep)


def tree_digest(files: Mapping[str, str]) -> str:
    """sha256 hex of the canonical JSON of ``{relative path: digest}`` (order-independent)."""
    text = json.dumps(dict(files), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def digest_files(
    root_or_backend: str | os.PathLike[str] | Any,
    rel_paths: Iterable[str],
    cache: DigestCacheLike = NULL_CACHE,
) -> dict[str, str]:
    """Digests of ``rel_paths`` under a local folder or a datastore backend, as ``{rel: digest}``.

    ``root_or_backend`` is a folder, or an object with ``local_path(rel)`` (a Path, or None when
    the file is not local) and ``content_digests(rels)`` - a
    :class:`~headwater.store.datastores.DatastoreBackend`. Local files go through ``cache``; remote
    ones are fingerprinted by the backend from the store's metadata in one call, without reading
    their data (an object without ``content_digests`` is read through ``open(rel)``). A missing
    file raises FileNotFoundError.
    """
    rels = list(rel_paths)
    if isinstance(root_or_backend, str | os.PathLike):
        root = os.fspath(root_or_backend)
        local: dict[str, str] = {rel: os.path.join(root, rel) for rel in rels}
        backend = None
    else:
        backend = root_or_backend
        batch = getattr(backend, "local_files", None)  # one call for all (a backend's folders checked once)
        found = batch(rels) if batch is not None else [backend.local_path(rel) for rel in rels]
        local = {rel: os.fspath(p) for rel, p in zip(rels, found, strict=True) if p is not None}
    digests: dict[str, str | OSError] = dict(zip(local, file_digests(local.values(), cache), strict=True))
    remote = [rel for rel in rels if rel not in local]
    if remote:
        assert backend is not None
        digests.update(_remote_digests(backend, remote))
    out: dict[str, str] = {}
    for rel in rels:
        digest = digests[rel]
        if isinstance(digest, OSError):
            raise digest
        out[rel] = digest
    return out


def _remote_digests(backend: Any, rels: list[str]) -> dict[str, str]:
    """Fingerprints of files that are not on this machine: from the store's metadata when the
    backend can give them (no data read), else BLAKE3 of each file's stream."""
    content_digests = getattr(backend, "content_digests", None)
    if content_digests is not None:
        found: Mapping[str, str] = content_digests(rels)
        return {rel: found[rel] for rel in rels}
    out = {}
    for rel in rels:
        with backend.open(rel) as stream:
            out[rel] = stream_digest(stream)
    return out
