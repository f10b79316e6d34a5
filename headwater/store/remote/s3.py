"""A datastore that is an S3 bucket (AWS or any S3-compatible server), through s3fs.

S3 listings carry no user metadata, so fingerprints are read with concurrent HEAD requests.
s3fs is imported only when the bucket is first touched.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from headwater.errors import ConfigurationError
from headwater.store.remote.base import (
    DIGEST_METADATA_KEY,
    HEAD_CONCURRENCY,
    RemoteBackend,
    RetryPolicy,
    fingerprint,
    missing,
    split_full,
)

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

__all__ = ["S3Backend"]


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
        limit = asyncio.Semaphore(HEAD_CONCURRENCY)
        out: dict[str, str] = {}

        async def head(full: str) -> None:
            bucket, key = split_full(full)
            async with limit:
                try:
                    resp = await fs._call_s3("head_object", Bucket=bucket, Key=key)
                except FileNotFoundError:
                    raise missing(full) from None
            out[full] = fingerprint(
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
