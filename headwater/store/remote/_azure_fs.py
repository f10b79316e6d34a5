"""adlfs' filesystem, connected to any blob service URL with an explicit retry policy.

adlfs builds its service client for ``https://<account>.blob.core.windows.net`` (or
``https://<account_host>``) with the Azure SDK's default retries (waits of 15 s and more). This
subclass connects to the URL the datastore names — ``http://127.0.0.1:10000/devstoreaccount1`` for
Azurite included — with the retry policy and timeouts Headwater chooses. It imports adlfs, so it is
imported only when an Azure Blob datastore is opened.

The client's aiohttp session reads the environment (``~/.netrc``, ``HTTP(S)_PROXY``) only when the
environment names a proxy for the service: with ``trust_env`` aiohttp looks both up again on every
request, in a worker thread each time — two thread hand-offs per request, which made downloads of
many small blobs about 40 % slower. The proxy environment is checked once, when the client is made;
a ``~/.netrc`` entry is never wanted (the SDK signs its requests itself).
"""

from __future__ import annotations

import random
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from adlfs import AzureBlobFileSystem
from azure.storage.blob.aio import ExponentialRetry

__all__ = ["DoublingRetry", "HeadwaterBlobFileSystem", "proxy_named_for"]


def proxy_named_for(url: str) -> bool:
    """Whether the environment (``HTTP_PROXY``, ``HTTPS_PROXY``, ``NO_PROXY`` ...) sends ``url`` through a proxy.

    The same reading of the environment as aiohttp's (and requests'): the standard library's
    ``getproxies`` and ``proxy_bypass``.
    """
    parts = urlsplit(url)
    if parts.scheme not in urllib.request.getproxies():
        return False
    return not (parts.hostname and urllib.request.proxy_bypass(parts.hostname))


class DoublingRetry(ExponentialRetry):
    """The SDK's retry policy with waits of ``backoff_s * 2**n`` (jittered, capped at ``max_backoff_s``).

    (The SDK's own ExponentialRetry waits ``initial + base**n`` seconds: never less than a second
    from the second retry on, and 15 s first by default.)
    """

    def __init__(self, *, attempts: int, backoff_s: float, max_backoff_s: float = 20.0) -> None:
        super().__init__(retry_total=max(0, attempts - 1))
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s

    def get_backoff_time(self, settings: dict[str, Any]) -> float:
        wait = min(self.max_backoff_s, self.backoff_s * 2 ** settings["count"])
        return wait * random.uniform(0.5, 1.0)  # jitter


class HeadwaterBlobFileSystem(AzureBlobFileSystem):
    """An :class:`adlfs.AzureBlobFileSystem` on ``account_url`` with ``client_options`` for its client.

    ``credential`` is an account-key dict (``{"account_name", "account_key"}``), a SAS token string
    or None (anonymous); ``client_options`` go to ``azure.storage.blob.aio.BlobServiceClient``
    (``retry_policy``, ``connection_timeout``, ``read_timeout`` ...).
    """

    def __init__(
        self,
        *,
        account_name: str,
        account_url: str,
        credential: dict[str, str] | str | None,
        client_options: dict[str, Any],
        **kwargs: Any,
    ) -> None:
        # Read by do_connect(), which the parent's __init__ calls.
        self.hw_account_url = account_url
        self.hw_credential = credential
        self.hw_client_options = client_options
        super().__init__(account_name=account_name, anon=credential is None, **kwargs)

    def do_connect(self) -> None:
        from azure.storage.blob.aio import BlobServiceClient

        self.account_url = self.hw_account_url
        options = {"use_env_settings": proxy_named_for(self.hw_account_url), **self.hw_client_options}
        self.service_client = BlobServiceClient(
            account_url=self.hw_account_url, credential=self.hw_credential, **options
        )
