"""remote: upload and download throughput of remote datastores against the plain client libraries.

The servers are the test suite's own — Azurite's blob service and moto's S3 server — started here
on loopback ports for the duration of the workload. The data is ``remote_files`` files of
``remote_file_bytes`` each (generated once into the data folder).

- *upload*: ``Datastore.upload(folder, target, overwrite=True, show_progress=False)`` — what SDK v1
  code calls: path checks, BLAKE3 of each file recorded as blob/object metadata, parallel
  transfers. Floor: the plain client library uploading the same files to another prefix with a
  pool of the same number of threads (``azure-storage-blob``'s ``upload_blob``, ``boto3``'s
  ``upload_file``).
- *download*: ``Datastore.download(folder, prefix, overwrite=True, show_progress=False)``. Floor:
  the plain client downloading the same blobs with the same pool.

Each sample is timed in this process around the transfer alone (clients made and servers warm
beforehand); the Headwater and floor samples alternate.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from benchmarks.datagen import bigdata_tree
from benchmarks.figures import Figure, Target
from benchmarks.harness import Bench, BenchError

__all__ = ["run"]

THREADS = 8  # the floor's pool; Headwater's datastores transfer with 8 workers too
TARGET = Target("ratio", 1.5, "plain client, same threads")


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _check_download(src: Path, dest: Path, files: list[Path], label: str) -> None:
    got = sorted(p for p in dest.rglob("*") if p.is_file())
    if len(got) != len(files) or sum(p.stat().st_size for p in got) != sum(p.stat().st_size for p in files):
        raise BenchError(f"{label}: downloaded {len(got)} files into {dest}, expected {len(files)} from {src}")


class _Store:
    """One remote kind: the Headwater datastore and the plain client's transfer functions."""

    def __init__(
        self,
        kind: str,
        datastore: Any,
        put: Callable[[Path, str], None],
        get: Callable[[str, Path], None],
        close: Callable[[], None],
    ) -> None:
        self.kind, self.datastore, self.put, self.get, self.close = kind, datastore, put, get, close


def _azure(ws: Any, server: Any) -> _Store:
    from azure.storage.blob import BlobServiceClient

    from headwater import Datastore

    service = BlobServiceClient.from_connection_string(server.connection_string)
    container = service.get_container_client("bench")
    container.create_container()
    ds = Datastore.register_azure_blob_container(
        ws,
        "benchblob",
        "bench",
        server.account_name,
        account_key=server.account_key,
        account_url=server.account_url,
    )

    def put(local: Path, name: str) -> None:
        with open(local, "rb") as f:
            container.upload_blob(name, f, overwrite=True)

    def get(name: str, local: Path) -> None:
        local.parent.mkdir(parents=True, exist_ok=True)
        with open(local, "wb") as f:
            container.download_blob(name).readinto(f)

    return _Store("azure", ds, put, get, service.close)


def _s3(ws: Any, server: Any) -> _Store:
    import boto3

    from headwater import Datastore

    client = boto3.client(
        "s3",
        endpoint_url=server.endpoint_url,
        aws_access_key_id=server.access_key_id,
        aws_secret_access_key=server.secret_access_key,
        region_name=server.region,
    )
    client.create_bucket(Bucket="bench")
    ds = Datastore.register_s3(
        ws,
        "benchs3",
        "bench",
        endpoint_url=server.endpoint_url,
        access_key_id=server.access_key_id,
        secret_access_key=server.secret_access_key,
        region=server.region,
    )

    def put(local: Path, name: str) -> None:
        client.upload_file(str(local), "bench", name)

    def get(name: str, local: Path) -> None:
        local.parent.mkdir(parents=True, exist_ok=True)
        client.download_file("bench", name, str(local))

    return _Store("s3", ds, put, get, client.close)


def _figures(bench: Bench, store: _Store, src: Path, work: Path, shape: str) -> list[Figure]:
    files = _files(src)
    rels = [p.relative_to(src).as_posix() for p in files]
    pool = ThreadPoolExecutor(THREADS)

    def floor_upload() -> float:
        return _timed(lambda: list(pool.map(store.put, files, [f"plain/{r}" for r in rels])))

    def hw_upload(i: int) -> float:
        return _timed(lambda: store.datastore.upload(str(src), "hw", overwrite=True, show_progress=False))

    def fresh(name: str) -> Path:
        dest = work / f"{store.kind}-{name}"
        shutil.rmtree(dest, ignore_errors=True)
        dest.mkdir(parents=True)
        return dest

    def floor_download() -> float:
        dest = fresh("plain")
        seconds = _timed(lambda: list(pool.map(store.get, [f"plain/{r}" for r in rels], [dest / r for r in rels])))
        _check_download(src, dest, files, f"{store.kind} plain download")
        return seconds

    def hw_download(i: int) -> float:
        dest = fresh("hw")
        seconds = _timed(lambda: store.datastore.download(str(dest), "hw/", overwrite=True, show_progress=False))
        _check_download(src, dest / "hw", files, f"{store.kind} Headwater download")
        return seconds

    try:
        floor_upload(), hw_upload(0)  # warm-up: connections, imports, the server's first-write paths
        up_floors, ups = bench.repeat_pairs(f"{store.kind} upload", floor_upload, hw_upload)
        floor_download(), hw_download(0)
        down_floors, downs = bench.repeat_pairs(f"{store.kind} download", floor_download, hw_download)
    finally:
        pool.shutdown()
    lib = {"azure": "azure-storage-blob", "s3": "boto3"}[store.kind]
    server = {"azure": "Azurite", "s3": "moto server"}[store.kind]
    return [
        Figure(
            f"remote.{store.kind}_upload",
            f"{store.kind} upload {shape} ({server}): Datastore.upload",
            "s",
            ups,
            f"{lib}, {THREADS} threads",
            up_floors,
            TARGET,
        ),
        Figure(
            f"remote.{store.kind}_download",
            f"{store.kind} download {shape} ({server}): Datastore.download",
            "s",
            downs,
            f"{lib}, {THREADS} threads",
            down_floors,
            TARGET,
        ),
    ]


def run(bench: Bench) -> list[Figure]:
    from headwater import Workspace
    from tests.fixtures import azurite, s3_server
    from tests.fixtures._server_process import CannotStart, stop_group

    sizes = bench.sizes
    shape = f"{sizes.remote_files} x {sizes.remote_file_bytes >> 10} KiB"
    bench.say(f"remote: {shape} to and from Azurite and a moto S3 server, vs the plain client libraries")
    src = bigdata_tree(bench.data, sizes.remote_files, sizes.remote_file_bytes) / "files"
    work = bench.work / "remote"
    work.mkdir()
    figures: list[Figure] = []
    ws = Workspace.create("bench-remote", folder=work / "ws", show_output=False)
    servers: list[Any] = []
    try:
        for start, make in ((azurite._start, _azure), (s3_server._start, _s3)):
            folder = work / f"server-{make.__name__.strip('_')}"
            folder.mkdir()
            try:
                server = start(folder)
            except CannotStart as exc:
                raise BenchError(f"remote: a server could not start (run `make services`): {exc}") from exc
            servers.append(server.process)
            store = make(ws, server)
            try:
                figures += _figures(bench, store, src, work, shape)
            finally:
                store.close()
    finally:
        ws.close()
        for process in servers:
            stop_group(process)
    return figures
