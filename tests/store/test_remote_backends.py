"""What only the remote backends do: retries on transient errors, named and redacted errors, records.

Transient failures come from a real loopback HTTP proxy put in front of the real server (Azurite,
moto_server): it answers ``503 Service Unavailable`` to the first N requests, then forwards.
"""

from __future__ import annotations

import base64
import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import blake3
import pytest

from headwater.errors import ConfigurationError, DataAccessError
from headwater.store.datastores import backend_for
from headwater.store.records import DatastoreRecord
from headwater.store.remote import RETRIES_SETTING, AzureBlobBackend, RetryPolicy, S3Backend
from headwater.store.secrets import SecretStore, env_ref
from tests.fixtures._server_process import CannotStart, free_port, start_server, stop_group
from tests.fixtures.http_proxy import FlakyProxy

pytestmark = pytest.mark.slow

FAST_RETRY = RetryPolicy(attempts=4, backoff_s=0.05, connect_timeout_s=5, read_timeout_s=30)


@pytest.fixture
def proxies() -> Iterator[list[FlakyProxy]]:
    made: list[FlakyProxy] = []
    yield made
    for p in made:
        p.close()


def azure_backend(
    azurite: Any, container: str, port: int, *, key: str | None = None, retry: RetryPolicy | None = FAST_RETRY
) -> AzureBlobBackend:
    return AzureBlobBackend(
        "blobs",
        container=container,
        account_name=azurite.account_name,
        account_url=f"http://127.0.0.1:{port}/{azurite.account_name}",
        account_key=key or azurite.account_key,
        retry=retry,
    )


def s3_backend(
    s3: Any,
    bucket: str,
    port: int,
    *,
    secret: str | None = None,
    key: str | None = None,
    retry: RetryPolicy | None = FAST_RETRY,
) -> S3Backend:
    return S3Backend(
        "objects",
        bucket=bucket,
        endpoint_url=f"http://127.0.0.1:{port}",
        region=s3.region,
        access_key_id=key or s3.access_key_id,
        secret_access_key=secret or s3.secret_access_key,
        retry=retry,
    )


@pytest.fixture(params=["azure", "s3"])
def remote(request: pytest.FixtureRequest, proxies: list[FlakyProxy]) -> Iterator[tuple[Any, FlakyProxy, str]]:
    """(a backend talking through a flaky proxy, the proxy, the credential that must never be shown)."""
    if request.param == "azure":
        az = request.getfixturevalue("azurite")
        proxy = FlakyProxy(az.port, fail_first=0)
        backend: Any = azure_backend(az, request.getfixturevalue("azure_container"), proxy.port)
        secret = az.account_key
    else:
        s3 = request.getfixturevalue("s3_server")
        proxy = FlakyProxy(s3.port, fail_first=0)
        backend = s3_backend(s3, request.getfixturevalue("s3_bucket"), proxy.port)
        secret = s3.secret_access_key
    proxies.append(proxy)
    yield backend, proxy, secret
    backend.close()


def test_transient_errors_are_retried(remote: tuple[Any, FlakyProxy, str], tmp_path: Path) -> None:
    backend, proxy, _ = remote
    data = os.urandom(50_000)
    (tmp_path / "in.bin").write_bytes(data)

    proxy.fail_next(2)
    assert backend.put_file(tmp_path / "in.bin", "retry/in.bin", overwrite=True) is True
    assert proxy.failed == 2

    proxy.fail_next(2)
    assert backend.get_file("retry/in.bin", tmp_path / "out.bin", overwrite=True) is True
    assert (tmp_path / "out.bin").read_bytes() == data
    assert proxy.failed == 4

    proxy.fail_next(1)
    assert backend.content_digests(["retry/in.bin"]) == {"retry/in.bin": blake3.blake3(data).hexdigest()}
    assert proxy.failed == 5


def test_persistent_errors_name_datastore_and_path(remote: tuple[Any, FlakyProxy, str], tmp_path: Path) -> None:
    backend, proxy, secret = remote
    backend.retry = RetryPolicy(attempts=2, backoff_s=0.05)  # before first use: giving up sooner
    (tmp_path / "in.bin").write_bytes(b"payload")
    proxy.fail_first = None  # every request fails from now on
    with pytest.raises(DataAccessError) as err:
        backend.put_files([(tmp_path / "in.bin", "deep/dir/in.bin")])
    message = str(err.value)
    assert backend.name in message and "deep/dir/in.bin" in message and backend.root in message
    assert secret not in message
    assert len(proxy.requests) >= 2  # retried before giving up

    with pytest.raises(DataAccessError) as err:
        backend.get_file("deep/dir/in.bin", tmp_path / "out.bin", overwrite=True)
    assert "deep/dir/in.bin" in str(err.value) and secret not in str(err.value)
    assert not (tmp_path / "out.bin").exists()


@pytest.mark.parametrize("kind", ["azure", "s3"])
def test_retries_setting_sets_the_attempts_per_request(
    kind: str, request: pytest.FixtureRequest, proxies: list[FlakyProxy], monkeypatch: pytest.MonkeyPatch
) -> None:
    """HEADWATER_REMOTE_RETRIES=2: a request that fails once succeeds on its second try; one that
    fails twice is not tried a third time (the default, 5 tries, would have got through)."""
    monkeypatch.setenv(RETRIES_SETTING, "2")
    if kind == "azure":
        az = request.getfixturevalue("azurite")
        proxy = FlakyProxy(az.port, fail_first=0)
        backend: Any = azure_backend(az, request.getfixturevalue("azure_container"), proxy.port, retry=None)
    else:
        s3 = request.getfixturevalue("s3_server")
        proxy = FlakyProxy(s3.port, fail_first=0)
        backend = s3_backend(s3, request.getfixturevalue("s3_bucket"), proxy.port, retry=None)
    proxies.append(proxy)
    try:
        assert backend.retry.attempts == 2
        proxy.fail_next(1)
        assert backend.put_bytes(b"second try", "tries/ok.txt") is True
        assert len(proxy.requests) == 2

        proxy.fail_next(2)
        with pytest.raises(DataAccessError, match=r"tries/no\.txt"):
            backend.put_bytes(b"no third try", "tries/no.txt")
        assert len(proxy.requests) == 4  # two tries, the second refused too
        assert backend.list_files("tries") == ["tries/ok.txt"]
    finally:
        backend.close()


def test_retries_setting_default_and_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(RETRIES_SETTING, raising=False)
    assert RetryPolicy.from_environment().attempts == 5
    monkeypatch.setenv(RETRIES_SETTING, " 1 ")
    assert RetryPolicy.from_environment() == RetryPolicy(attempts=1)
    monkeypatch.setenv(RETRIES_SETTING, "")
    assert RetryPolicy.from_environment().attempts == 5


@pytest.mark.parametrize("value", ["0", "-3", "2.5", "five"])
def test_retries_setting_that_is_not_a_count_is_refused(
    value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bad value fails when the datastore is opened, naming the variable and the value."""
    monkeypatch.setenv(RETRIES_SETTING, value)
    record = DatastoreRecord(
        "objects", "s3", {"bucket_name": "b", "endpoint_url": "http://127.0.0.1:9", "region": None, "credentials": {}}
    )
    with pytest.raises(ConfigurationError) as err:
        backend_for(record, tmp_path)
    assert RETRIES_SETTING in str(err.value) and repr(value) in str(err.value)


def test_wrong_azure_key_is_a_clear_error(azurite: Any, azure_container: str) -> None:
    wrong = base64.b64encode(b"not the account key, but well formed: " + uuid.uuid4().bytes).decode()
    backend = azure_backend(azurite, azure_container, azurite.port, key=wrong)
    try:
        with pytest.raises(DataAccessError) as err:
            backend.put_bytes(b"x", "denied.txt")
        message = str(err.value)
        assert "'blobs'" in message and "denied.txt" in message and azure_container in message
        assert wrong not in message and azurite.account_key not in message
        with pytest.raises(DataAccessError) as err:
            backend.ensure_root(create=False)
        assert wrong not in str(err.value)
    finally:
        backend.close()


@pytest.fixture(scope="module")
def s3_with_auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, str]]:
    """A moto_server that checks credentials, with one IAM user: (endpoint, key id, secret key)."""
    import sys

    import boto3

    folder = tmp_path_factory.mktemp("moto-auth")
    port = free_port()
    moto_server = Path(sys.executable).with_name("moto_server")
    try:
        proc = start_server(
            "moto_server (auth)",
            [str(moto_server), "-H", "127.0.0.1", "-p", str(port)],
            port=port,
            log_file=folder / "moto.log",
            timeout_s=60,
            cwd=folder,
            # The first 2 requests (create the user, then its key) are let through; later ones are checked.
            env={"INITIAL_NO_AUTH_ACTION_COUNT": "2"},
        )
    except CannotStart as exc:
        pytest.fail(f"moto_server with authentication could not start: {exc}")
    endpoint = f"http://127.0.0.1:{port}"
    try:
        iam = boto3.client(
            "iam", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
        )
        try:
            iam.create_user(UserName="hw")
            key = iam.create_access_key(UserName="hw")["AccessKey"]
        finally:
            iam.close()
        yield endpoint, key["AccessKeyId"], key["SecretAccessKey"]
    finally:
        stop_group(proc)


def test_wrong_s3_secret_is_a_clear_error(s3_with_auth: tuple[str, str, str]) -> None:
    endpoint, key_id, right = s3_with_auth
    wrong = "wrong-" + uuid.uuid4().hex
    backend = S3Backend(
        "objects",
        bucket="hw-auth",
        endpoint_url=endpoint,
        region="us-east-1",
        access_key_id=key_id,
        secret_access_key=wrong,
        retry=FAST_RETRY,
    )
    try:
        with pytest.raises(DataAccessError) as err:
            backend.ensure_root(create=True)
        message = str(err.value)
        assert "'objects'" in message and "hw-auth" in message
        assert wrong not in message and right not in message
    finally:
        backend.close()


def test_backend_for_resolves_credentials_from_records(
    azurite: Any, azure_container: str, s3_server: Any, s3_bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws_folder = tmp_path / "ws"
    secrets = SecretStore(ws_folder)
    azure_record = DatastoreRecord(
        "blobs",
        "azure_blob",
        {
            "container_name": azure_container,
            "account_name": azurite.account_name,
            "protocol": "http",
            "endpoint": None,
            "account_url": azurite.account_url,
            "credentials": {"account_key": secrets.put("datastore/blobs/account_key", azurite.account_key)},
        },
    )
    monkeypatch.setenv("HW_TEST_S3_SECRET", s3_server.secret_access_key)
    s3_record = DatastoreRecord(
        "objects",
        "s3",
        {
            "bucket_name": s3_bucket,
            "endpoint_url": s3_server.endpoint_url,
            "region": s3_server.region,
            "credentials": {
                "access_key_id": secrets.put("datastore/objects/access_key_id", s3_server.access_key_id),
                "secret_access_key": env_ref("HW_TEST_S3_SECRET"),
            },
        },
    )
    for record in (azure_record, s3_record):
        backend = backend_for(record, ws_folder)
        try:
            assert not backend.is_local and backend.local_path("x") is None
            backend.ensure_root(create=False)
            backend.put_bytes(b"via record", "r.txt")
            assert backend.list_files() == ["r.txt"]
            assert azurite.account_key not in backend.location and "testing" not in backend.location
        finally:
            backend.close()


def test_azure_url_from_sdk_v1_fields(tmp_path: Path) -> None:
    record = DatastoreRecord(
        "b",
        "azure_blob",
        {"container_name": "c", "account_name": "acct", "protocol": None, "endpoint": None, "credentials": {}},
    )
    backend = backend_for(record, tmp_path)
    assert backend.location == "azure blob container 'c' at https://acct.blob.core.windows.net"
    record = DatastoreRecord(
        "b",
        "azure_blob",
        {"container_name": "c", "account_name": "acct", "protocol": "http", "endpoint": "core.chinacloudapi.cn"},
    )
    assert backend_for(record, tmp_path).location.endswith("at http://acct.blob.core.chinacloudapi.cn")


@pytest.mark.slow
def test_threads_racing_to_first_use_share_one_filesystem(azurite: Any, azure_container: str) -> None:
    """A fresh backend used from many threads at once connects once (else a session leaks, unclosed)."""
    backend = azure_backend(azurite, azure_container, azurite.port)
    barrier = threading.Barrier(8)
    seen: list[object] = []

    def first_use() -> None:
        barrier.wait()
        seen.append(backend.fs)

    threads = [threading.Thread(target=first_use) for _ in range(8)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(seen) == 8 and all(fs is seen[0] for fs in seen)
    finally:
        backend.close()
