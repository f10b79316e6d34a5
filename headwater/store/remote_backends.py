"""Remote datastore backends: Azure Blob containers (adlfs) and S3 buckets (s3fs).

Both are fsspec filesystems rooted at a container or bucket; paths are validated as for a local
folder, so nothing escapes the root. What differs from a local folder:

* **Writes** are single object PUTs (atomic on the service, so no temporary name) and record the
  BLAKE3 of the bytes as object metadata ``headwater_blake3``.
* **Fingerprints** (:meth:`RemoteBackend.content_digests`) come from the service's metadata,
  never from downloading: ``headwater_blake3`` when Headwater wrote the file (the same string
  :mod:`headwater.plan.digests` gives for the same bytes locally), else the stored content MD5 as
  ``md5:<hex>``, else ``etag:<etag>:<size>:<last-modified>``. An ETag changes on every upload,
  even of identical bytes; the recorded digest does not. Azure returns metadata in listings, so
  a large batch costs one listing; S3 does not, so S3 sends concurrent HEAD requests.
* **Batches** (:meth:`RemoteBackend.put_files`, :meth:`RemoteBackend.get_files`) run
  concurrently on fsspec's event loop, at most ``max_workers`` at a time.
* **Retries**: transient errors (HTTP 5xx, timeouts, connection resets) are retried by the
  client libraries with the policy in :class:`RetryPolicy`, set explicitly on every client.
  ``HEADWATER_REMOTE_RETRIES`` sets how many times a request is tried (default 5).
  A persistent error raises :class:`~headwater.errors.DataAccessError` naming the datastore and
  the path, with the credentials redacted.

The client libraries are imported only when a backend first touches its store.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import posixpath
import threading
import uuid
from abc import abstractmethod
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar

from headwater.errors import ConfigurationError, DataAccessError, HeadwaterError
from headwater.store.datastores import _TMP_PREFIX, DatastoreBackend, Progress, _is_tmp, normalize_relative
from headwater.store.records import DatastoreRecord
from headwater.store.secrets import redact

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

__all__ = [
    "DIGEST_METADATA_KEY",
    "RETRIES_SETTING",
    "AzureBlobBackend",
    "CredentialResolver",
    "RemoteBackend",
    "RetryPolicy",
    "S3Backend",
    "from_record",
]

#: The object metadata key under which Headwater records the BLAKE3 hex digest of what it wrote.
DIGEST_METADATA_KEY = "headwater_blake3"

#: Environment variable: how many times a request to a remote store is tried, the first try included.
RETRIES_SETTING = "HEADWATER_REMOTE_RETRIES"

_T = TypeVar("_T")
_HEAD_BATCH_MAX = 16  # Azure: up to this many files are asked for one by one, more in one listing
_HEAD_CONCURRENCY = 16


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


def _fingerprint(
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


def _split(full: str) -> tuple[str, str]:
    bucket, _, key = full.partition("/")
    return bucket, key


def _missing(full: str) -> FileNotFoundError:
    return FileNotFoundError(f"No such file in the datastore: {full}")


class AzureBlobBackend(RemoteBackend):
    """A datastore that is an Azure Blob container (the real service or Azurite)."""

    def __init__(
        self,
        name: str,
        *,
        container: str,
        account_name: str,
        account_url: str,
        account_key: str | None = None,
        sas_token: str | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        super().__init__(name, retry=retry)
        self.container = container
        self.account_name = account_name
        self.account_url = account_url.rstrip("/")
        self._account_key = account_key
        self._sas_token = sas_token.lstrip("?") if sas_token else None

    @property
    def root(self) -> str:
        return self.container

    @property
    def location(self) -> str:
        return f"azure blob container {self.container!r} at {self.account_url}"

    @property
    def _secrets(self) -> list[str]:
        return [s for s in (self._account_key, self._sas_token) if s]

    def _connect(self) -> AbstractFileSystem:
        from headwater.store._azure_fs import DoublingRetry, HeadwaterBlobFileSystem

        r = self.retry
        credential: dict[str, str] | str | None = None
        if self._account_key:
            credential = {"account_name": self.account_name, "account_key": self._account_key}
        elif self._sas_token:
            credential = self._sas_token
        options = {
            "retry_policy": DoublingRetry(attempts=r.attempts, backoff_s=r.backoff_s),
            "connection_timeout": r.connect_timeout_s,
            "read_timeout": r.read_timeout_s,
        }
        return HeadwaterBlobFileSystem(
            account_name=self.account_name,
            account_url=self.account_url,
            credential=credential,
            client_options=options,
            skip_instance_cache=True,
            use_listings_cache=False,
        )

    @property
    def _service(self) -> Any:
        return self.fs.service_client

    async def _upload(self, source: Path | bytes, full: str, digest: str, overwrite: bool) -> bool:
        from azure.core.exceptions import ResourceExistsError

        container, blob = _split(full)
        async with self._service.get_blob_client(container, blob) as client:
            try:
                if isinstance(source, bytes):
                    await client.upload_blob(source, overwrite=overwrite, metadata={DIGEST_METADATA_KEY: digest})
                else:
                    with open(source, "rb") as f:
                        await client.upload_blob(f, overwrite=overwrite, metadata={DIGEST_METADATA_KEY: digest})
            except ResourceExistsError:
                if overwrite:
                    raise
                return False
        return True

    async def _fingerprints(self, fulls: list[str]) -> dict[str, str]:
        from azure.core.exceptions import ResourceNotFoundError

        def of(props: Any) -> str:
            md5 = props.content_settings.content_md5 if props.content_settings else None
            return _fingerprint(props.metadata, md5, props.etag, props.size, props.last_modified)

        container_client = self._service.get_container_client(self.container)
        out: dict[str, str] = {}
        if len(fulls) <= _HEAD_BATCH_MAX:
            limit = asyncio.Semaphore(_HEAD_CONCURRENCY)

            async def head(full: str) -> None:
                async with limit:
                    try:
                        props = await container_client.get_blob_client(_split(full)[1]).get_blob_properties()
                    except ResourceNotFoundError:
                        raise _missing(full) from None
                out[full] = of(props)

            await asyncio.gather(*(head(f) for f in fulls))
            return out
        # One listing of the folder the files share, metadata included.
        keys = {_split(f)[1]: f for f in fulls}
        prefix = posixpath.commonpath(list(keys))
        prefix = "" if prefix in keys else (prefix + "/" if prefix else "")
        async for props in container_client.list_blobs(name_starts_with=prefix or None, include=["metadata"]):
            full = keys.get(props.name)
            if full is not None:
                out[full] = of(props)
        for full in fulls:
            if full not in out:
                raise _missing(full)
        return out

    async def _ensure_root(self, create: bool) -> None:
        from azure.core.exceptions import ResourceExistsError

        client = self._service.get_container_client(self.container)
        if await client.exists():
            return
        if not create:
            raise ConfigurationError(
                f"Azure blob container {self.container!r} does not exist at {self.account_url} "
                f"(datastore {self.name!r})",
                hint="Create it, or register the datastore with create_if_not_exists=True.",
            )
        with contextlib.suppress(ResourceExistsError):
            await client.create_container()

    def close(self) -> None:
        if self._fs is not None:
            fs, self._fs = self._fs, None
            with contextlib.suppress(Exception):
                from fsspec.asyn import sync

                sync(fs.loop, fs.service_client.close)


class S3Backend(RemoteBackend):
    """A datastore that is an S3 bucket (AWS or any S3-compatible server at ``endpoint_url``)."""

    def __init__(
        self,
        name: str,
        *,
        bucket: str,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        super().__init__(name, retry=retry)
        self.bucket = bucket
        self.endpoint_url = endpoint_url
        self.region = region
        self._key = access_key_id
        self._secret = secret_access_key

    @property
    def root(self) -> str:
        return self.bucket

    @property
    def location(self) -> str:
        return f"s3 bucket {self.bucket!r} at {self.endpoint_url or 'AWS S3'}"

    @property
    def _secrets(self) -> list[str]:
        return [s for s in (self._secret,) if s]

    def _connect(self) -> AbstractFileSystem:
        from s3fs import S3FileSystem

        r = self.retry
        return S3FileSystem(
            key=self._key,
            secret=self._secret,
            endpoint_url=self.endpoint_url,
            client_kwargs={"region_name": self.region} if self.region else {},
            config_kwargs={
                "retries": {"total_max_attempts": r.attempts, "mode": "standard"},  # tries, the first included
                "connect_timeout": r.connect_timeout_s,
                "read_timeout": r.read_timeout_s,
            },
            skip_instance_cache=True,
            use_listings_cache=False,
        )

    async def _upload(self, source: Path | bytes, full: str, digest: str, overwrite: bool) -> bool:
        fs: Any = self.fs
        if not overwrite and await fs._exists(full):
            return False
        metadata = {"Metadata": {DIGEST_METADATA_KEY: digest}}
        if isinstance(source, bytes):
            await fs._pipe_file(full, source, **metadata)
        else:
            await fs._put_file(os.fspath(source), full, **metadata)
        return True

    async def _fingerprints(self, fulls: list[str]) -> dict[str, str]:
        # S3 listings carry no user metadata: one HEAD per object, concurrently.
        fs: Any = self.fs
        limit = asyncio.Semaphore(_HEAD_CONCURRENCY)
        out: dict[str, str] = {}

        async def head(full: str) -> None:
            bucket, key = _split(full)
            async with limit:
                try:
                    resp = await fs._call_s3("head_object", Bucket=bucket, Key=key)
                except FileNotFoundError:
                    raise _missing(full) from None
            out[full] = _fingerprint(
                resp.get("Metadata"), None, resp.get("ETag"), resp.get("ContentLength"), resp.get("LastModified")
            )

        await asyncio.gather(*(head(f) for f in fulls))
        return out

    async def _ensure_root(self, create: bool) -> None:
        fs: Any = self.fs
        try:
            await fs._call_s3("head_bucket", Bucket=self.bucket)
            return
        except FileNotFoundError:
            pass
        if not create:
            raise ConfigurationError(
                f"S3 bucket {self.bucket!r} does not exist at {self.endpoint_url or 'AWS S3'} "
                f"(datastore {self.name!r})",
                hint="Create it, or register the datastore with create_if_not_exists=True.",
            )
        where = {}
        if self.region and self.region != "us-east-1":  # us-east-1 is the default and refuses to be named
            where = {"CreateBucketConfiguration": {"LocationConstraint": self.region}}
        try:
            await fs._call_s3("create_bucket", Bucket=self.bucket, **where)
        except FileExistsError:
            pass  # created meanwhile by someone else
        fs.invalidate_cache()

    def close(self) -> None:
        if self._fs is not None:
            fs: Any
            fs, self._fs = self._fs, None
            creator = getattr(fs, "_s3creator", None)
            if creator is not None:
                with contextlib.suppress(Exception):
                    fs.close_session(fs.loop, creator)


#: ``resolve(credential name, reference)``: the value of one credential of a datastore record, or
#: None to go without it.
CredentialResolver = Callable[[str, str], str | None]


def from_record(record: DatastoreRecord, resolve: CredentialResolver) -> RemoteBackend | None:
    """The backend of a remote datastore record, or None when the record is not a remote one.

    Remote records are ``azure_blob`` with a ``container_name`` (the account URL from
    ``account_url``, else from SDK v1's ``account_name``, ``protocol`` and ``endpoint``) and ``s3``.
    ``resolve`` gives the value of each credential the record refers to (``account_key``,
    ``sas_token``, ``access_key_id``, ``secret_access_key``); it is called only for a remote record.
    """
    cfg = record.config
    if not ((record.kind == "azure_blob" and "container_name" in cfg) or record.kind == "s3"):
        return None
    secret: dict[str, str] = {}
    for key, ref in (cfg.get("credentials") or {}).items():
        if ref and (value := resolve(key, ref)) is not None:
            secret[key] = value
    if record.kind == "s3":
        return S3Backend(
            record.name,
            bucket=cfg["bucket_name"],
            endpoint_url=cfg.get("endpoint_url"),
            region=cfg.get("region"),
            access_key_id=secret.get("access_key_id"),
            secret_access_key=secret.get("secret_access_key"),
        )
    account_name = cfg.get("account_name") or ""
    account_url = cfg.get("account_url") or (
        f"{cfg.get('protocol') or 'https'}://{account_name}.blob.{cfg.get('endpoint') or 'core.windows.net'}"
    )
    return AzureBlobBackend(
        record.name,
        container=cfg["container_name"],
        account_name=account_name,
        account_url=account_url,
        account_key=secret.get("account_key"),
        sas_token=secret.get("sas_token"),
    )
