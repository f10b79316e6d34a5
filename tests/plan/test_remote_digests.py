"""digest_files on a remote datastore: fingerprints from the store's metadata, no data read.

Runs against real servers on loopback (Azurite, moto's S3 server), reached through a proxy that
logs every request, so "no data was read" is what the server was asked, not a patched function.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import blake3
import pytest

from headwater import Datastore, Workspace
from headwater.plan.digests import digest_files, tree_digest
from headwater.store.datastores import DatastoreBackend, backend_for
from tests.fixtures.http_proxy import CountingProxy

pytestmark = pytest.mark.slow


@dataclass
class Store:
    backend: DatastoreBackend
    proxy: CountingProxy
    write_plain: Callable[[str, bytes], None]  # another client, no Headwater metadata


@pytest.fixture(params=["azure", "s3"])
def store(request: pytest.FixtureRequest, ws: Workspace) -> Iterator[Store]:
    if request.param == "azure":
        from azure.storage.blob import BlobServiceClient

        azurite = request.getfixturevalue("azurite")
        container = request.getfixturevalue("azure_container")
        proxy = CountingProxy(azurite.account_url.rsplit("/", 1)[0])
        Datastore.register_azure_blob_container(
            ws,
            "remote",
            container,
            azurite.account_name,
            account_key=azurite.account_key,
            account_url=f"{proxy.url}/{azurite.account_name}",
        )

        def write_plain(path: str, data: bytes) -> None:
            with BlobServiceClient.from_connection_string(azurite.connection_string) as c:
                c.get_container_client(container).upload_blob(path, data, overwrite=True)

    else:
        server = request.getfixturevalue("s3_server")
        bucket = request.getfixturevalue("s3_bucket")
        proxy = CountingProxy(server.endpoint_url)
        Datastore.register_s3(
            ws,
            "remote",
            bucket,
            endpoint_url=proxy.url,
            access_key_id=server.access_key_id,
            secret_access_key=server.secret_access_key,
            region=server.region,
        )

        def write_plain(path: str, data: bytes) -> None:
            c = server.client()
            try:
                c.put_object(Bucket=bucket, Key=path, Body=data)
            finally:
                c.close()

    record = ws.metadata_store.get_datastore("remote")
    assert record is not None
    backend = backend_for(record, ws.folder)
    try:
        yield Store(backend, proxy, write_plain)
    finally:
        backend.close()
        proxy.close()


def test_files_headwater_wrote_have_their_local_blake3_and_no_byte_is_read(store: Store) -> None:
    data = {"d/a.bin": b"alpha" * 1000, "d/sub/b.bin": b"beta"}
    for rel, content in data.items():
        store.backend.put_bytes(content, rel)
    store.proxy.take()
    found = digest_files(store.backend, list(data))
    assert found == {rel: blake3.blake3(content).hexdigest() for rel, content in data.items()}
    assert [r for r in store.proxy.take() if r.method == "GET" and "/d/" in r.path] == []
    # re-uploading the same bytes (a new ETag) keeps the fingerprint; so does the folder's tree digest
    store.backend.put_bytes(data["d/a.bin"], "d/a.bin")
    assert tree_digest(digest_files(store.backend, list(data))) == tree_digest(found)


def test_a_file_changed_in_place_by_another_client_gets_another_fingerprint(store: Store) -> None:
    store.backend.put_bytes(b"1 2 3\n", "raw/a.txt")
    before = digest_files(store.backend, ["raw/a.txt"])["raw/a.txt"]
    store.write_plain("raw/a.txt", b"1 2 4\n")  # same size, no Headwater metadata
    after = digest_files(store.backend, ["raw/a.txt"])["raw/a.txt"]
    assert after != before
    assert after.startswith(("md5:", "etag:"))
    store.write_plain("raw/a.txt", b"1 2 5\n")
    assert digest_files(store.backend, ["raw/a.txt"])["raw/a.txt"] not in (before, after)


def test_a_missing_file_raises_file_not_found(store: Store) -> None:
    with pytest.raises(FileNotFoundError):
        digest_files(store.backend, ["nope/missing.txt"])
