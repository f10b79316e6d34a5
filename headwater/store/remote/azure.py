"""A datastore that is an Azure Blob container (the real service or Azurite), through adlfs.

Fingerprints of a few files are asked for one by one (concurrent HEAD requests); of more than
:data:`_HEAD_BATCH_MAX`, in one listing of the folder they share, metadata included (Azure returns
metadata in listings). The client (:mod:`headwater.store.remote._azure_fs`) is imported only when
the container is first touched.
"""

from __future__ import annotations

import asyncio
import contextlib
import posixpath
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

__all__ = ["AzureBlobBackend"]

_HEAD_BATCH_MAX = 16  # up to this many files are asked for one by one, more in one listing


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
        from headwater.store.remote._azure_fs import DoublingRetry, HeadwaterBlobFileSystem

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

        container, blob = split_full(full)
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
            return fingerprint(props.metadata, md5, props.etag, props.size, props.last_modified)

        container_client = self._service.get_container_client(self.container)
        out: dict[str, str] = {}
        if len(fulls) <= _HEAD_BATCH_MAX:
            limit = asyncio.Semaphore(HEAD_CONCURRENCY)

            async def head(full: str) -> None:
                async with limit:
                    try:
                        props = await container_client.get_blob_client(split_full(full)[1]).get_blob_properties()
                    except ResourceNotFoundError:
                        raise missing(full) from None
                out[full] = of(props)

            await asyncio.gather(*(head(f) for f in fulls))
            return out
        # One listing of the folder the files share, metadata included.
        keys = {split_full(f)[1]: f for f in fulls}
        prefix = posixpath.commonpath(list(keys))
        prefix = "" if prefix in keys else (prefix + "/" if prefix else "")
        async for props in container_client.list_blobs(name_starts_with=prefix or None, include=["metadata"]):
            full = keys.get(props.name)
            if full is not None:
                out[full] = of(props)
        for full in fulls:
            if full not in out:
                raise missing(full)
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
