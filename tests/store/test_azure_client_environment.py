"""How the Azure Blob backend's HTTP client reads the environment (proxies, ~/.netrc).

aiohttp's ``trust_env`` looks ``~/.netrc`` and the proxy variables up on every request; the
backend reads the proxy environment once and uses it only when it names a proxy for the service.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from headwater.errors import DataAccessError
from headwater.store.remote import AzureBlobBackend, RetryPolicy
from headwater.store.remote._azure_fs import proxy_named_for

pytestmark = pytest.mark.slow

FAST_RETRY = RetryPolicy(attempts=2, backoff_s=0.05, connect_timeout_s=5, read_timeout_s=30)
_PROXY_VARS = (
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "all_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "ALL_PROXY",
)


@pytest.fixture
def clean_proxy_env() -> Iterator[pytest.MonkeyPatch]:
    """No proxy variables; what the test sets is undone before the container fixture's cleanup runs."""
    with pytest.MonkeyPatch.context() as patch:
        for var in _PROXY_VARS:
            patch.delenv(var, raising=False)
        yield patch


class RefusingProxy:
    """A loopback HTTP proxy that answers every request with 503 and counts them."""

    def __init__(self) -> None:
        self.requests = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def _refuse(self) -> None:
                outer.requests += 1
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_PUT = do_HEAD = do_DELETE = do_POST = _refuse

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def refusing_proxy() -> Iterator[RefusingProxy]:
    proxy = RefusingProxy()
    yield proxy
    proxy.close()


def _backend(azurite: Any, container: str) -> AzureBlobBackend:
    return AzureBlobBackend(
        "blobs",
        container=container,
        account_name=azurite.account_name,
        account_url=azurite.account_url,
        account_key=azurite.account_key,
        retry=FAST_RETRY,
    )


def test_a_netrc_entry_for_the_service_host_is_not_sent(
    azurite: Any, azure_container: str, tmp_path: Path, clean_proxy_env: pytest.MonkeyPatch
) -> None:
    # With trust_env, aiohttp adds Basic auth from ~/.netrc and refuses it next to the SDK's own
    # Authorization header, so every request failed.
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password not-a-real-one\n")
    netrc.chmod(0o600)
    clean_proxy_env.setenv("NETRC", str(netrc))
    backend = _backend(azurite, azure_container)
    try:
        backend.put_bytes(b"payload", "a/b.bin")
        assert backend.get_files([("a/b.bin", tmp_path / "out" / "b.bin")]) == [True]
        assert (tmp_path / "out" / "b.bin").read_bytes() == b"payload"
        assert backend.list_files("a") == ["a/b.bin"]
    finally:
        backend.close()


def test_a_proxy_the_environment_names_is_used(
    azurite: Any, azure_container: str, refusing_proxy: RefusingProxy, clean_proxy_env: pytest.MonkeyPatch
) -> None:
    clean_proxy_env.setenv("HTTP_PROXY", refusing_proxy.url)
    backend = _backend(azurite, azure_container)
    try:
        with pytest.raises(DataAccessError, match="blobs"):
            backend.put_bytes(b"payload", "x.bin")
    finally:
        backend.close()
    assert refusing_proxy.requests >= 1


def test_no_proxy_exempts_the_service(
    azurite: Any, azure_container: str, refusing_proxy: RefusingProxy, clean_proxy_env: pytest.MonkeyPatch
) -> None:
    clean_proxy_env.setenv("HTTP_PROXY", refusing_proxy.url)
    clean_proxy_env.setenv("NO_PROXY", "127.0.0.1")
    backend = _backend(azurite, azure_container)
    try:
        backend.put_bytes(b"payload", "x.bin")
        assert backend.list_files() == ["x.bin"]
    finally:
        backend.close()
    assert refusing_proxy.requests == 0


@pytest.mark.parametrize(
    ("env", "url", "expected"),
    [
        ({}, "https://acct.blob.core.windows.net", False),
        ({"HTTPS_PROXY": "http://proxy.localhost:3128"}, "https://acct.blob.core.windows.net", True),
        ({"HTTPS_PROXY": "http://proxy.localhost:3128"}, "http://127.0.0.1:10000/devstoreaccount1", False),
        ({"HTTP_PROXY": "http://proxy.localhost:3128"}, "http://127.0.0.1:10000/devstoreaccount1", True),
        (
            {"HTTP_PROXY": "http://proxy.localhost:3128", "NO_PROXY": "127.0.0.1"},
            "http://127.0.0.1:10000/devstoreaccount1",
            False,
        ),
    ],
)
def test_proxy_named_for(env: dict[str, str], url: str, expected: bool, clean_proxy_env: pytest.MonkeyPatch) -> None:
    for var, value in env.items():
        clean_proxy_env.setenv(var, value)
    assert proxy_named_for(url) is expected
