"""One contract for every datastore backend: a local folder, Azure Blob (Azurite) and S3 (moto_server).

Each test runs once per backend against a fresh root (folder, container, bucket). The remote
servers are real HTTP servers on loopback, started once per session by tests/fixtures.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import blake3
import pytest

from headwater.errors import ConfigurationError, PathEscapeError
from headwater.store.datastores import DatastoreBackend, LocalBackend
from headwater.store.remote import AzureBlobBackend, RetryPolicy, S3Backend
from tests.conftest import gen

KINDS = [
    pytest.param("local"),
    pytest.param("azure", marks=pytest.mark.slow),
    pytest.param("s3", marks=pytest.mark.slow),
]
FAST_RETRY = RetryPolicy(attempts=3, backoff_s=0.05, connect_timeout_s=5, read_timeout_s=30)


class Plain:
    """The store seen through its plain client library (azure-storage-blob / boto3): no Headwater."""

    def __init__(self, kind: str, request: pytest.FixtureRequest, root: str) -> None:
        self.kind = kind
        self.request = request
        self.root = root

    def write(self, rel: str, data: bytes) -> None:
        if self.kind == "azure":
            from azure.storage.blob import BlobServiceClient

            conn = self.request.getfixturevalue("azurite").connection_string
            with BlobServiceClient.from_connection_string(conn) as client:
                client.get_blob_client(self.root, rel).upload_blob(data, overwrite=True)
        elif self.kind == "s3":
            client = self.request.getfixturevalue("s3_server").client()
            try:
                client.put_object(Bucket=self.root, Key=rel, Body=data)
            finally:
                client.close()
        else:
            path = Path(self.root, rel)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)

    def etag(self, rel: str) -> str:
        if self.kind == "azure":
            from azure.storage.blob import BlobServiceClient

            conn = self.request.getfixturevalue("azurite").connection_string
            with BlobServiceClient.from_connection_string(conn) as client:
                return str(client.get_blob_client(self.root, rel).get_blob_properties().etag)
        client = self.request.getfixturevalue("s3_server").client()
        try:
            return str(client.head_object(Bucket=self.root, Key=rel)["ETag"])
        finally:
            client.close()


def make_backend(kind: str, request: pytest.FixtureRequest, tmp_path: Path, *, root: str | None = None) -> Any:
    if kind == "azure":
        az = request.getfixturevalue("azurite")
        return AzureBlobBackend(
            "remote",
            container=root or request.getfixturevalue("azure_container"),
            account_name=az.account_name,
            account_url=az.account_url,
            account_key=az.account_key,
            retry=FAST_RETRY,
        )
    if kind == "s3":
        s3 = request.getfixturevalue("s3_server")
        return S3Backend(
            "remote",
            bucket=root or request.getfixturevalue("s3_bucket"),
            endpoint_url=s3.endpoint_url,
            region=s3.region,
            access_key_id=s3.access_key_id,
            secret_access_key=s3.secret_access_key,
            retry=FAST_RETRY,
        )
    return LocalBackend("remote", root or tmp_path / "store")


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DatastoreBackend]:
    backend = make_backend(kind, request, tmp_path)
    backend.ensure_root(create=True)
    yield backend
    backend.close()


@pytest.fixture
def plain(kind: str, store: DatastoreBackend, request: pytest.FixtureRequest) -> Plain:
    return Plain(kind, request, store.root)


def b3(data: bytes) -> str:
    return str(blake3.blake3(data).hexdigest())


def test_is_local_and_location(store: DatastoreBackend, kind: str) -> None:
    assert store.is_local is (kind == "local")
    assert store.root in store.location
    assert (store.local_path("a.txt") is not None) is (kind == "local")


def test_put_and_get_file_and_bytes(store: DatastoreBackend, tmp_path: Path) -> None:
    src = gen(tmp_path / "src", {"a.csv": "x,y\n1,2\n"})
    assert store.put_file(src / "a.csv", "data/a.csv", overwrite=True) is True
    assert store.put_bytes(b"\x00\x01binary", "data/b.bin") is True

    assert store.get_file("data/a.csv", tmp_path / "out" / "a.csv", overwrite=True) is True
    assert (tmp_path / "out" / "a.csv").read_text() == "x,y\n1,2\n"
    with store.open("data/b.bin") as f:
        assert f.read() == b"\x00\x01binary"

    # overwrite=False leaves both sides as they were
    assert store.put_bytes(b"other", "data/b.bin", overwrite=False) is False
    with store.open("data/b.bin") as f:
        assert f.read() == b"\x00\x01binary"
    (tmp_path / "out" / "a.csv").write_text("local edit")
    assert store.get_file("data/a.csv", tmp_path / "out" / "a.csv", overwrite=False) is False
    assert (tmp_path / "out" / "a.csv").read_text() == "local edit"
    assert not [p for p in (tmp_path / "out").iterdir() if p.name != "a.csv"]  # no temporary left


def test_listing_queries(store: DatastoreBackend) -> None:
    for rel in ["top.txt", "d/one.csv", "d/two.csv", "d/sub/deep/three.csv", "e/four.json"]:
        store.put_bytes(rel.encode(), rel)

    assert store.list_files() == ["d/one.csv", "d/sub/deep/three.csv", "d/two.csv", "e/four.json", "top.txt"]
    assert store.list_files("d") == ["d/one.csv", "d/sub/deep/three.csv", "d/two.csv"]
    assert store.list_files("d/one.csv") == ["d/one.csv"]
    assert store.list_files("missing") == []
    assert store.glob("d/*.csv") == ["d/one.csv", "d/two.csv"]
    assert store.glob("**/*.csv") == ["d/one.csv", "d/sub/deep/three.csv", "d/two.csv"]
    assert store.exists("d/sub/deep/three.csv") and store.exists("d/sub")
    assert not store.exists("d/nope.csv")
    assert store.is_dir("d/sub") and not store.is_dir("d/one.csv")
    assert store.info("d/one.csv")["size"] == len(b"d/one.csv")


def test_delete(store: DatastoreBackend) -> None:
    store.put_bytes(b"1", "gone.txt")
    store.put_bytes(b"2", "tree/a.txt")
    store.put_bytes(b"3", "tree/sub/b.txt")
    store.delete("gone.txt")
    assert not store.exists("gone.txt")
    store.delete("tree", recursive=True)
    assert store.list_files() == []


@pytest.mark.parametrize("bad", ["../outside.txt", "a/../../outside.txt", "/etc/passwd", "C:/x.txt"])
def test_path_escapes_refused(store: DatastoreBackend, tmp_path: Path, bad: str) -> None:
    src = gen(tmp_path / "src", {"f.txt": "x"})
    with pytest.raises(PathEscapeError):
        store.put_bytes(b"x", bad)
    with pytest.raises(PathEscapeError):
        store.put_file(src / "f.txt", bad, overwrite=True)
    with pytest.raises(PathEscapeError):
        store.open(bad)
    with pytest.raises(PathEscapeError):
        store.exists(bad)
    with pytest.raises(PathEscapeError):
        store.get_file(bad, tmp_path / "x", overwrite=True)
    with pytest.raises(PathEscapeError):
        store.content_digests([bad])
    # a batch with one bad path transfers nothing
    with pytest.raises(PathEscapeError):
        store.put_files([(src / "f.txt", "ok.txt"), (src / "f.txt", bad)])
    assert not store.exists("ok.txt")
    with pytest.raises(PathEscapeError):
        store.get_files([(bad, tmp_path / "y")])


def test_put_files_and_get_files(store: DatastoreBackend, tmp_path: Path) -> None:
    files = {f"f{i}.bin": os.urandom(1000 + i) for i in range(12)}
    src = gen(tmp_path / "src", {"nested": files})
    progress: list[tuple[str, int]] = []
    pairs = [(src / "nested" / name, f"batch/{name}") for name in files]
    assert store.put_files(pairs, max_workers=4, progress=lambda p, n: progress.append((p, n))) == [True] * 12
    assert sorted(progress) == sorted((f"batch/{n}", len(d)) for n, d in files.items())
    assert store.list_files("batch") == sorted(f"batch/{n}" for n in files)

    # overwrite=False: existing files are skipped (reported with 0 bytes), new ones written
    (src / "nested" / "new.bin").write_bytes(b"new")
    changed = src / "nested" / "f0.bin"
    changed.write_bytes(b"changed locally")
    progress.clear()
    result = store.put_files(
        [(changed, "batch/f0.bin"), (src / "nested" / "new.bin", "batch/new.bin")],
        overwrite=False,
        progress=lambda p, n: progress.append((p, n)),
    )
    assert result == [False, True]
    assert sorted(progress) == [("batch/f0.bin", 0), ("batch/new.bin", 3)]
    with store.open("batch/f0.bin") as f:
        assert f.read() == files["f0.bin"]

    out = tmp_path / "out"
    progress.clear()
    got = store.get_files(
        [(f"batch/{n}", out / "sub" / n) for n in files], max_workers=4, progress=lambda p, n: progress.append((p, n))
    )
    assert got == [True] * 12
    assert {n: (out / "sub" / n).read_bytes() for n in files} == files
    assert sorted(progress) == sorted((f"batch/{n}", len(d)) for n, d in files.items())

    (out / "sub" / "f1.bin").write_bytes(b"mine")
    assert store.get_files([("batch/f1.bin", out / "sub" / "f1.bin")], overwrite=False) == [False]
    assert (out / "sub" / "f1.bin").read_bytes() == b"mine"
    assert store.put_files([]) == [] and store.get_files([]) == []


def test_content_digests_of_headwater_writes(store: DatastoreBackend, plain: Plain, kind: str, tmp_path: Path) -> None:
    data = b"the same bytes\n" * 100
    src = gen(tmp_path / "src", {"a.bin": data})
    store.put_file(src / "a.bin", "x/a.bin", overwrite=True)
    store.put_bytes(data, "x/copy.bin")
    store.put_files([(src / "a.bin", "x/batch.bin")])
    digests = store.content_digests(["x/a.bin", "x/copy.bin", "x/batch.bin"])
    assert digests == {"x/a.bin": b3(data), "x/copy.bin": b3(data), "x/batch.bin": b3(data)}

    if kind == "azure":  # S3's single-part ETag is the content MD5, so it does not change for the same bytes
        etag_before = plain.etag("x/a.bin")
    store.put_bytes(data, "x/a.bin")  # the same bytes again: a new object version
    if kind == "azure":
        assert plain.etag("x/a.bin") != etag_before
    assert store.content_digests(["x/a.bin"]) == {"x/a.bin": b3(data)}

    store.put_bytes(b"different", "x/a.bin")
    assert store.content_digests(["x/a.bin"]) == {"x/a.bin": b3(b"different")}

    with pytest.raises(FileNotFoundError):
        store.content_digests(["x/missing.bin"])


def test_content_digests_of_many_files(store: DatastoreBackend) -> None:
    """Enough files that Azure answers from one listing: same answers, missing ones still raise."""
    datas = {f"many/{i:02d}.txt": f"file {i}".encode() for i in range(40)}
    for rel, data in datas.items():
        store.put_bytes(data, rel)
    store.put_bytes(b"elsewhere", "other/x.txt")
    rels = [*datas, "other/x.txt"]
    assert store.content_digests(rels) == {**{r: b3(d) for r, d in datas.items()}, "other/x.txt": b3(b"elsewhere")}
    with pytest.raises(FileNotFoundError):
        store.content_digests([*datas, "many/99.txt"])


def test_content_digests_of_foreign_writes(store: DatastoreBackend, plain: Plain, kind: str) -> None:
    """A file written without Headwater still gets a fingerprint, and it changes with the content."""
    plain.write("foreign/f.csv", b"a,b\n1,2\n")
    first = store.content_digests(["foreign/f.csv"])["foreign/f.csv"]
    assert first
    plain.write("foreign/f.csv", b"a,b\n3,4\n")  # same size, changed in place
    second = store.content_digests(["foreign/f.csv"])["foreign/f.csv"]
    assert second and second != first
    if kind == "local":
        assert second == b3(b"a,b\n3,4\n")
    else:
        assert second.startswith(("md5:", "etag:"))


def test_ensure_root(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    name = f"hw-missing-{uuid.uuid4().hex[:12]}"
    backend = make_backend(kind, request, tmp_path, root=name if kind != "local" else str(tmp_path / name))
    try:
        with pytest.raises(ConfigurationError) as err:
            backend.ensure_root(create=False)
        assert name in str(err.value)
        backend.ensure_root(create=True)
        backend.ensure_root(create=False)
        backend.put_bytes(b"x", "now-there.txt")
        assert backend.list_files() == ["now-there.txt"]
        backend.ensure_root(create=True)  # idempotent
    finally:
        backend.close()
