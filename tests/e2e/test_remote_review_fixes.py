"""Review fixes for remote datastores: object names that are not plain paths, copy verification
that does not trust the uploader's own recorded digest, credentials in the FUSE helper's log.

Against Azurite and moto's server on loopback. The S3 tests write objects with the plain client
library (boto3), as another tool would.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from headwater import Dataset, Datastore, Experiment, Pipeline, PythonScriptStep, Workspace
from headwater.engine.transfer import TransferVerificationError, verify_copies
from headwater.errors import DataAccessError
from headwater.store.remote import DIGEST_METADATA_KEY
from tests.conftest import gen
from tests.e2e.conftest import script
from tests.fixtures.azurite import Azurite
from tests.fixtures.s3_server import S3Server

pytestmark = pytest.mark.slow


def _s3_store(ws: Workspace, server: S3Server, bucket: str) -> Datastore:
    return Datastore.register_s3(
        ws,
        "s3",
        bucket,
        endpoint_url=server.endpoint_url,
        access_key_id=server.access_key_id,
        secret_access_key=server.secret_access_key,
        region=server.region,
    )


def _put(server: S3Server, bucket: str, key: str, body: bytes, metadata: dict[str, str] | None = None) -> None:
    client = server.client()
    try:
        client.put_object(Bucket=bucket, Key=key, Body=body, Metadata=metadata or {})
    finally:
        client.close()


# -- a key such as 'raw/sub/../../x' is refused, never read as another object or written outside ------

DOTS_KEY = "deep/a/b/c/../../../../planted.txt"


def test_a_dot_segment_key_is_refused_by_dataset_download(
    s3_server: S3Server, s3_bucket: str, rws: Workspace, tmp_path: Path
) -> None:
    store = _s3_store(rws, s3_server, s3_bucket)
    _put(s3_server, s3_bucket, "deep/a/b/c/ok.txt", b"fine")
    _put(s3_server, s3_bucket, "planted.txt", b"another object")
    _put(s3_server, s3_bucket, DOTS_KEY, b"EVIL")
    target = tmp_path / "one" / "two" / "three" / "four" / "down"
    ds = Dataset.File.from_files([(store, "deep/a/b/c/")], validate=False)
    with pytest.raises(DataAccessError, match=r"holds a file named 'deep/a/b/c/\.\./\.\./\.\./\.\./planted\.txt'"):
        ds.download(str(target))
    assert not (tmp_path / "planted.txt").exists()  # display '/../../../../planted.txt' landed here before
    assert not list(tmp_path.rglob("planted.txt"))


STEP = script("reader", "import os, sys\nprint(sorted(os.listdir(sys.argv[1])))\n")


def test_a_dot_segment_key_fails_a_step_before_it_starts(
    s3_server: S3Server, s3_bucket: str, rws: Workspace, proj: Path
) -> None:
    from headwater import DataReference

    store = _s3_store(rws, s3_server, s3_bucket)
    _put(s3_server, s3_bucket, "deep/a/b/c/ok.txt", b"fine")
    _put(s3_server, s3_bucket, DOTS_KEY, b"EVIL")
    gen(proj, {"src": {"reader.py": STEP}})
    ref = DataReference(store, data_reference_name="deep", path_on_datastore="deep/a/b/c").as_download()
    step = PythonScriptStep(script_name="reader.py", source_directory="src", arguments=[ref], inputs=[ref])
    run = Experiment(rws, "dots").submit(Pipeline(rws, steps=[step]))
    run.wait_for_completion(show_output=False, raise_on_error=False)
    assert run.get_status() == "Failed"
    step_run = run.find_step_run("reader.py")[0]
    message = step_run.get_details()["error"]["message"]
    assert "could not start" in message and DOTS_KEY in message
    assert not list(Path(rws.folder).rglob("planted.txt"))


def test_data_transfer_refuses_a_dot_segment_source_key(s3_server: S3Server, s3_bucket: str, rws: Workspace) -> None:
    from headwater.engine.transfer import plan_copies

    store = _s3_store(rws, s3_server, s3_bucket)
    _put(s3_server, s3_bucket, "deep/a/b/c/ok.txt", b"fine")
    _put(s3_server, s3_bucket, DOTS_KEY, b"EVIL")
    backend = store._backend
    with pytest.raises(DataAccessError, match="holds a file named"):
        plan_copies([(backend, "deep/a/b/c")], backend, "copied")


# -- verification: the uploader's recorded BLAKE3 does not vouch for the bytes the store holds --------


def test_verify_copies_catches_bytes_that_differ_from_the_recorded_digest_on_s3(
    s3_server: S3Server, s3_bucket: str, rws: Workspace, tmp_path: Path
) -> None:
    backend = _s3_store(rws, s3_server, s3_bucket)._backend
    local = tmp_path / "source.bin"
    local.write_bytes(b"the right bytes")
    backend.put_file(local, "copy/source.bin", overwrite=True)
    verify_copies(backend, [(local, "copy/source.bin")])  # a true copy passes
    recorded = backend.content_digests(["copy/source.bin"])["copy/source.bin"]
    # the store now holds other bytes of the same size, under the same recorded digest
    _put(s3_server, s3_bucket, "copy/source.bin", b"the wrong bytes", {DIGEST_METADATA_KEY: recorded})
    with pytest.raises(TransferVerificationError, match="differs from its source"):
        verify_copies(backend, [(local, "copy/source.bin")])


def test_verify_copies_catches_bytes_that_differ_from_the_recorded_digest_on_azure(
    azurite: Azurite, azure_container: str, rws: Workspace, tmp_path: Path
) -> None:
    from azure.storage.blob import BlobServiceClient

    store = Datastore.register_azure_blob_container(
        rws,
        "az",
        azure_container,
        azurite.account_name,
        account_key=azurite.account_key,
        account_url=azurite.account_url,
    )
    backend = store._backend
    local = tmp_path / "source.bin"
    local.write_bytes(b"the right bytes")
    backend.put_file(local, "copy/source.bin", overwrite=True)
    verify_copies(backend, [(local, "copy/source.bin")])
    recorded = backend.content_digests(["copy/source.bin"])["copy/source.bin"]
    with BlobServiceClient.from_connection_string(azurite.connection_string) as client:
        client.get_container_client(azure_container).upload_blob(
            "copy/source.bin", b"the wrong bytes", overwrite=True, metadata={DIGEST_METADATA_KEY: recorded}
        )
    with pytest.raises(TransferVerificationError, match="differs from its source"):
        verify_copies(backend, [(local, "copy/source.bin")])


# -- the FUSE helper's log (in the run folder) never shows a credential -------------------------------


def test_mount_helper_errors_are_logged_without_credentials(
    azurite: Azurite, azure_container: str, rws: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    from headwater.engine.remote_mount import _View

    store = Datastore.register_azure_blob_container(
        rws,
        "az",
        azure_container,
        azurite.account_name,
        account_key=azurite.account_key,
        account_url=azurite.account_url,
    )
    view = _View(store._backend, {"a.txt": "a.txt"})
    url = f"{azurite.account_url}/c/a.txt?sv=2021&sig=c2VjcmV0LXNpZ25hdHVyZQ%3D%3D"
    view._error(RuntimeError(f"request to {url} failed; key {azurite.account_key}"))
    logged = capsys.readouterr().err
    assert "headwater mount: RuntimeError: request to" in logged
    assert azurite.account_key not in logged and "c2VjcmV0LXNpZ25hdHVyZQ" not in logged
