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

The client libraries are imported only when a backend first touches its store. The common part is
in :mod:`~headwater.store.remote.base`, the services in :mod:`~headwater.store.remote.azure` and
:mod:`~headwater.store.remote.s3`; :func:`from_record` opens the backend a datastore record names.
"""

from __future__ import annotations

from collections.abc import Callable

from headwater.store.records import DatastoreRecord
from headwater.store.remote.azure import AzureBlobBackend
from headwater.store.remote.base import DIGEST_METADATA_KEY, RETRIES_SETTING, RemoteBackend, RetryPolicy
from headwater.store.remote.s3 import S3Backend

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
