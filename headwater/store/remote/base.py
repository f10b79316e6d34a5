"""What the object-store backends share: paths under a container or bucket, errors, batches, retries.

:class:`RemoteBackend` holds the behaviour described in :mod:`headwater.store.remote` (single-PUT
writes that record their BLAKE3, fingerprints from the service's metadata, concurrent batches on
fsspec's event loop, errors named and redacted); a subclass says how to connect, upload, read
fingerprints and check its root. :class:`RetryPolicy` is the retry policy every client is given.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import uuid
from abc import abstractmethod
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar

from headwater.errors import ConfigurationError, DataAccessError, HeadwaterError
from headwater.store.datastores import _TMP_PREFIX, DatastoreBackend, Progress, _is_tmp, normalize_relative
from headwater.store.secrets import redact

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

__all__ = [
    "DIGEST_METADATA_KEY",
    "HEAD_CONCURRENCY",
    "RETRIES_SETTING",
    "RemoteBackend",
    "RetryPolicy",
    "fingerprint",
    "missing",
    "split_full",
]

#: The object metadata key under which Headwater records the BLAKE3 hex digest of what it wrote.
DIGEST_METADATA_KEY = "headwater_blake3"

#: Environment variable: how many times a request to a remote store is tried, the first try included.
RETRIES_SETTING = "HEADWATER_REMOTE_RETRIES"

_T = TypeVar("_T")
#: How many HEAD requests for fingerprints are in flight at once.
HEAD_CONCURRENCY = 16


@dataclass(frozen=True)
class RetryPolicy:
    """How the client libraries retry a request that failed transiently.

    ``attempts`` is the number of tries per request (first one included). Azure waits
    ``backoff_s * 2**n`` (jittered, capped at 20 s); S3 (botocore's "standard" mode) uses its own
    jittered exponential backoff from up to 1 s, capped at 20 s.
    """

    attempts: int = 5
    backoff_s: float = 0.5
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 120.0

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> RetryPolicy:
        """The default policy, with ``attempts`` from ``HEADWATER_REMOTE_RETRIES`` when it is set.

        A value that is not a whole number of at least 1 raises ConfigurationError naming the variable.
        """
        text = (os.environ if environ is None else environ).get(RETRIES_SETTING, "").strip()
        if not text:
            return cls()
        try:
            attempts = int(text)
        except ValueError:
            attempts = 0
        if attempts < 1:
            raise ConfigurationError(
                f"The environment variable {RETRIES_SETTING} is {text!r}, not a whole number of at least 1",
                hint=f"Set it to how many times a request to a remote datastore is tried, the first try "
                f"included (1: no retries; default {cls().attempts}), or unset it.",
            )
        return cls(attempts=attempts)


def _blake3_file(path: str | os.PathLike[str]) -> str:
    import blake3

    hasher = blake3.blake3()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            hasher.update(chunk)
    return str(hasher.hexdigest())


def _blake3_bytes(data: bytes) -> str:
    import blake3

    return str(blake3.blake3(data).hexdigest())


def fingerprint(
    metadata: dict[str, str] | None, md5: bytes | bytearray | None, etag: str | None, size: Any, modified: Any
) -> str:
    """The content fingerprint from what the service says about an object (see the module doc)."""
    digest = (metadata or {}).get(DIGEST_METADATA_KEY)
    if digest:
        return digest
    if md5:
        return f"md5:{bytes(md5).hex()}"
    modified_text = modified.isoformat() if hasattr(modified, "isoformat") else str(modified)
    return f"etag:{(etag or '').strip(chr(34))}:{size}:{modified_text}"


class RemoteBackend(DatastoreBackend):
    """The common part of the object-store backends: a container/bucket is the root."""

    def __init__(self, name: str, *, retry: RetryPolicy | None = None) -> None:
        super().__init__(name)
        self.retry = retry or RetryPolicy.from_environment()
        self._fs: AbstractFileSystem | None = None
        self._connect_lock = threading.Lock()

    # -- what a subclass provides -------------------------------------------------------------

    @property
    @abstractmethod
    def _secrets(self) -> list[str]:
        """Credential values to redact from every message."""

    @abstractmethod
    def _connect(self) -> AbstractFileSystem:
        """Build the filesystem (not shared with other instances through fsspec's cache)."""

    @abstractmethod
    async def _upload(self, source: Path | bytes, full: str, digest: str, overwrite: bool) -> bool:
        """PUT ``source`` at ``full`` with the digest as metadata; False when it exists and not ``overwrite``."""

    @abstractmethod
    async def _fingerprints(self, fulls: list[str]) -> dict[str, str]:
        """The fingerprint of each of ``fulls``; FileNotFoundError for a missing one."""

    @abstractmethod
    async def _ensure_root(self, create: bool) -> None: ...

    # -- common ---------------------------------------------------------------------------------

    @property
    def fs(self) -> AbstractFileSystem:
        if self._fs is None:
            with self._connect_lock:  # one filesystem (and one HTTP session) even when threads race here
                if self._fs is None:
                    with self._errors("", "connect to"):
                        self._fs = self._connect()
        return self._fs

    def full_path(self, path: str | os.PathLike[str] | None) -> str:
        rel = normalize_relative(path, root=self.root, datastore=self.name)
        return f"{self.root}/{rel}" if rel else self.root

    @contextlib.contextmanager
    def _errors(self, path: str | os.PathLike[str] | None, action: str) -> Iterator[None]:
        """Library errors -> DataAccessError naming the datastore and path, credentials redacted."""
        try:
            yield
        except (HeadwaterError, FileNotFoundError, FileExistsError, IsADirectoryError, NotADirectoryError):
            raise
        except Exception as exc:
            raise self._access_error(exc, path, action) from None

    def _access_error(self, exc: BaseException, path: str | os.PathLike[str] | None, action: str) -> DataAccessError:
        where = os.fspath(path) if path else ""
        lines = str(exc).strip().splitlines() or [""]
        code = getattr(exc, "error_code", None)  # Azure's ErrorCode; the rest is request ids and XML
        detail = redact(f"{type(exc).__name__}: {lines[0]}" + (f" ({code})" if code else ""), self._secrets)
        target = f"{where!r} in " if where else ""
        return DataAccessError(
            f"Could not {action} {target}datastore {self.name!r} ({self.location}): {detail}",
            path=where or None,
            hint="Check that the service is reachable and the datastore's credentials are valid "
            "(register it again with overwrite=True to replace them).",
        )

    def _run(self, fn: Callable[..., Awaitable[_T]], *args: Any) -> _T:
        from fsspec.asyn import sync

        return sync(self.fs.loop, fn, *args)

    # Reads through fsspec, with errors named.

    def exists(self, path: str | os.PathLike[str] | None) -> bool:
        with self._errors(path, "check"):
            return super().exists(path)

    def is_dir(self, path: str | os.PathLike[str] | None) -> bool:
        with self._errors(path, "check"):
            return super().is_dir(path)

    def list_files(self, prefix: str | os.PathLike[str] | None = None) -> list[str]:
        """Every file at or under ``prefix`` (see :meth:`DatastoreBackend.list_files`).

        One round trip: whether ``prefix`` is a file and the listing below it are asked for at once
        (fsspec's isfile, isdir and find one after the other cost four or five requests).
        """
        rel = normalize_relative(prefix, root=self.root, datastore=self.name)
        full = self.full_path(rel)
        fs: Any = self.fs

        async def listing() -> tuple[bool, list[str]]:
            is_file, found = await asyncio.gather(fs._isfile(full), fs._find(full))
            return bool(is_file), list(found)

        with self._errors(prefix, "list"):
            is_file, found = self._run(listing)
        if is_file:
            return [rel]
        return sorted(r for r in (self._relative(f) for f in found) if not _is_tmp(r))

    def glob(self, pattern: str) -> list[str]:
        with self._errors(pattern, "list"):
            return super().glob(pattern)

    def info(self, path: str | os.PathLike[str]) -> dict[str, Any]:
        with self._errors(path, "read the properties of"):
            return super().info(path)

    def open(self, path: str | os.PathLike[str], mode: str = "rb") -> BinaryIO:
        with self._errors(path, "open"):
            return super().open(path, mode)

    def delete(self, path: str | os.PathLike[str], *, recursive: bool = False) -> None:
        with self._errors(path, "delete"):
            super().delete(path, recursive=recursive)

    # Writes: one PUT each, with the digest as metadata.

    def put_file(self, local: str | os.PathLike[str], path: str | os.PathLike[str], *, overwrite: bool) -> bool:
        return self.put_files([(Path(local), os.fspath(path))], overwrite=overwrite, max_workers=1)[0]

    def put_bytes(self, data: bytes, path: str | os.PathLike[str], *, overwrite: bool = True) -> bool:
        full = self.full_path(path)
        with self._errors(path, "write"):
            written = self._run(self._upload, bytes(data), full, _blake3_bytes(data), overwrite)
        self.fs.invalidate_cache(full)
        return written

    def get_file(self, path: str | os.PathLike[str], local: str | os.PathLike[str], *, overwrite: bool) -> bool:
        return self.get_files([(os.fspath(path), Path(local))], overwrite=overwrite, max_workers=1)[0]

    def put_files(
        self,
        pairs: Sequence[tuple[Path, str]],
        *,
        overwrite: bool = True,
        max_workers: int = 8,
        progress: Progress | None = None,
    ) -> list[bool]:
        """Upload local files concurrently (see :meth:`DatastoreBackend.put_files`)."""
        jobs = [(Path(local), os.fspath(rel), self.full_path(rel)) for local, rel in pairs]

        async def one(local: Path, rel: str, full: str) -> bool:
            digest = await asyncio.to_thread(_blake3_file, local)
            written = await self._upload(local, full, digest, overwrite)
            if progress is not None:
                progress(rel, local.stat().st_size if written else 0)
            return written

        results = self._gather([(rel, "upload", one(local, rel, full)) for local, rel, full in jobs], max_workers)
        for _, _, full in jobs:
            self.fs.invalidate_cache(full)
        return results

    def get_files(
        self,
        pairs: Sequence[tuple[str, Path]],
        *,
        overwrite: bool = True,
        max_workers: int = 8,
        progress: Progress | None = None,
    ) -> list[bool]:
        """Download files concurrently; each lands under a temporary name and is renamed into place."""
        jobs = [(os.fspath(rel), Path(local), self.full_path(rel)) for rel, local in pairs]
        fs: Any = self.fs

        async def one(rel: str, dest: Path, full: str) -> bool:
            if dest.exists() and not overwrite:
                if progress is not None:
                    progress(rel, 0)
                return False
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(f"{_TMP_PREFIX}{uuid.uuid4().hex}-{dest.name}")
            try:
                await fs._get_file(full, os.fspath(tmp))
                os.replace(tmp, dest)
            finally:
                tmp.unlink(missing_ok=True)
            if progress is not None:
                progress(rel, dest.stat().st_size)
            return True

        return self._gather([(rel, "download", one(rel, dest, full)) for rel, dest, full in jobs], max_workers)

    def _gather(self, jobs: list[tuple[str, str, Awaitable[bool]]], max_workers: int) -> list[bool]:
        """Run the jobs on fsspec's loop, ``max_workers`` at a time; the first failure is raised, named."""

        async def run_all() -> list[Any]:
            limit = asyncio.Semaphore(max(1, max_workers))

            async def limited(job: Awaitable[bool]) -> bool:
                async with limit:
                    return await job

            return await asyncio.gather(*(limited(job) for _, _, job in jobs), return_exceptions=True)

        if not jobs:
            return []
        outcomes = self._run(run_all)
        for (rel, action, _), outcome in zip(jobs, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                with self._errors(rel, action):
                    raise outcome
        return [bool(o) for o in outcomes]

    def content_digests(self, paths: Sequence[str]) -> dict[str, str]:
        """Fingerprints from the store's metadata, without downloading (see the module doc)."""
        fulls = [self.full_path(p) for p in paths]
        if not fulls:
            return {}
        with self._errors(paths[0] if len(paths) == 1 else None, "read the fingerprints of files in"):
            found = self._run(self._fingerprints, sorted(set(fulls)))
        return {p: found[f] for p, f in zip(paths, fulls, strict=True)}

    def ensure_root(self, create: bool) -> None:
        with self._errors(None, "open the root of"):
            self._run(self._ensure_root, create)


def split_full(full: str) -> tuple[str, str]:
    """``container/key`` (or ``bucket/key``) -> ``(container, key)``."""
    bucket, _, key = full.partition("/")
    return bucket, key


def missing(full: str) -> FileNotFoundError:
    """The error for a file that is not in the store."""
    return FileNotFoundError(f"No such file in the datastore: {full}")
