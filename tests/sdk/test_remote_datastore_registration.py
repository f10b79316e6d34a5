"""Registering Azure Blob and S3 datastores: records, credentials kept apart, redaction, lifecycle.

The first part needs no server (``skip_validation=True``); the second validates, uploads and
downloads against Azurite and the S3 server on loopback (``azurite``/``s3_server`` fixtures).
Every test that stores a secret greps every place it must not reach: the metadata database
files, ``repr``/``str``, and error messages.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from headwater import (
    AlreadyExistsError,
    AzureBlobDatastore,
    ConfigurationError,
    DataAccessError,
    Datastore,
    NotSupportedError,
    S3Datastore,
    Workspace,
    secret_from_env,
)
from tests.conftest import gen
from tests.fixtures.azurite import AZURITE_KEY, Azurite
from tests.fixtures.s3_server import S3Server

# Dummy S3 keys: the S3 test server accepts any; distinctive, so a grep for them finds only leaks.
S3_KEY_ID = "HWDUMMYKEYID0123456789"
S3_SECRET = "hw-dummy-secret-Qm9ndXNTM1NlY3JldA"
SAS_TOKEN = "sv=2021-08-06&ss=b&srt=co&sp=rwdlac&se=2030-01-01T00:00:00Z&sig=hwDummySignature0123%3D"


def metadata_bytes(ws: Workspace) -> bytes:
    """The metadata database as stored: the SQLite file and its WAL/shared-memory side files."""
    return b"".join(p.read_bytes() for p in sorted(ws.folder.glob("metadata.db*")) if p.is_file())


def secrets_file(ws: Workspace) -> dict[str, str]:
    path = ws.folder / "secrets.json"
    return json.loads(path.read_text()) if path.exists() else {}


def assert_nowhere(ws: Workspace, *secrets: str, texts: tuple[str, ...] = ()) -> None:
    """None of ``secrets`` is in the metadata store or in any of ``texts``."""
    stored = metadata_bytes(ws)
    for secret in secrets:
        assert secret.encode() not in stored, "a secret reached the metadata database"
        for text in texts:
            assert secret not in text, f"a secret shows in {text[:80]!r}..."


def blob(ws: Workspace, name: str = "raw", **kwargs: object) -> AzureBlobDatastore:
    args: dict[str, object] = {
        "account_key": AZURITE_KEY,
        "account_url": "http://127.0.0.1:10000/devstoreaccount1",
        "skip_validation": True,
    }
    args.update(kwargs)
    return Datastore.register_azure_blob_container(ws, name, "data", "devstoreaccount1", **args)  # type: ignore[arg-type]


# -- without a server ------------------------------------------------------------------------------


def test_blob_record_holds_settings_and_a_reference_the_key_is_in_the_secrets_file(ws: Workspace) -> None:
    ds = blob(ws)
    assert isinstance(ds, AzureBlobDatastore) and ds.datastore_type == "AzureBlob"
    assert (ds.container_name, ds.account_name) == ("data", "devstoreaccount1")
    assert ds.account_url == "http://127.0.0.1:10000/devstoreaccount1"
    assert (ds.protocol, ds.endpoint) == (None, None)
    assert ds.credential_type == "AccountKey"
    assert ds.account_key is None and ds.sas_token is None  # never handed back
    record = ws.metadata_store.get_datastore("raw")
    assert record is not None and record.kind == "azure_blob"
    assert record.config == {
        "container_name": "data",
        "account_name": "devstoreaccount1",
        "protocol": None,
        "endpoint": None,
        "account_url": "http://127.0.0.1:10000/devstoreaccount1",
        "credentials": {"account_key": "workspace:datastore/raw/account_key"},
    }
    assert secrets_file(ws) == {"datastore/raw/account_key": AZURITE_KEY}
    assert_nowhere(ws, AZURITE_KEY, texts=(repr(ds), str(ds), repr(Datastore.get(ws, "raw"))))
    assert "credential_type='AccountKey'" in repr(ds)


def test_sdk_v1_endpoint_and_protocol_make_the_service_url(ws: Workspace) -> None:
    ds = Datastore.register_azure_blob_container(
        ws,
        "cloud",
        "data",
        "myaccount",
        sas_token=SAS_TOKEN,
        protocol="https",
        endpoint="core.chinacloudapi.cn",
        skip_validation=True,
    )
    assert ds.account_url == "https://myaccount.blob.core.chinacloudapi.cn"
    assert (ds.protocol, ds.endpoint, ds.credential_type) == ("https", "core.chinacloudapi.cn", "Sas")
    default = Datastore.register_azure_blob_container(ws, "plain", "data", "acct", skip_validation=True)
    assert default.account_url == "https://acct.blob.core.windows.net"
    assert default.credential_type == "None"
    assert_nowhere(ws, SAS_TOKEN, "hwDummySignature0123", texts=(repr(ds),))


def test_an_environment_variable_is_recorded_by_name_only(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HW_TEST_S3_ID", S3_KEY_ID)
    monkeypatch.setenv("HW_TEST_S3_SECRET", S3_SECRET)
    ds = Datastore.register_s3(
        ws,
        "lake",
        "my-bucket",
        endpoint_url="http://127.0.0.1:9000/",
        region="eu-west-1",
        access_key_id=secret_from_env("HW_TEST_S3_ID"),
        secret_access_key=secret_from_env("HW_TEST_S3_SECRET"),
        skip_validation=True,
    )
    assert isinstance(ds, S3Datastore) and ds.datastore_type == "S3"
    assert (ds.bucket_name, ds.endpoint_url, ds.region, ds.credential_type) == (
        "my-bucket",
        "http://127.0.0.1:9000",
        "eu-west-1",
        "AccessKey",
    )
    record = ws.metadata_store.get_datastore("lake")
    assert record is not None and record.kind == "s3"
    assert record.config == {
        "bucket_name": "my-bucket",
        "endpoint_url": "http://127.0.0.1:9000",
        "region": "eu-west-1",
        "credentials": {"access_key_id": "env:HW_TEST_S3_ID", "secret_access_key": "env:HW_TEST_S3_SECRET"},
    }
    assert secrets_file(ws) == {}
    assert repr(secret_from_env("HW_TEST_S3_ID")) == "secret_from_env('HW_TEST_S3_ID')"
    assert_nowhere(ws, S3_KEY_ID, S3_SECRET, texts=(repr(ds),))


def test_s3_without_keys_uses_the_credential_chain(ws: Workspace) -> None:
    ds = Datastore.register_s3(ws, "public", "open-data", skip_validation=True)
    assert (ds.endpoint_url, ds.region, ds.credential_type) == (None, None, "None")
    assert ws.metadata_store.get_datastore("public").config["credentials"] == {}  # type: ignore[union-attr]


def test_same_settings_return_it_different_ones_need_overwrite_which_replaces_the_secrets(ws: Workspace) -> None:
    first = blob(ws)
    assert blob(ws) == first  # same settings and key: returned as it is
    with pytest.raises(AlreadyExistsError, match="overwrite=True") as info:
        blob(ws, account_key="another-key-value")
    assert "another-key-value" not in str(info.value)
    assert secrets_file(ws) == {"datastore/raw/account_key": AZURITE_KEY}  # untouched
    with pytest.raises(AlreadyExistsError):
        blob(ws, account_key=None, sas_token=SAS_TOKEN)

    replaced = blob(ws, account_key=None, sas_token=SAS_TOKEN, overwrite=True)
    assert replaced.credential_type == "Sas"
    assert secrets_file(ws) == {"datastore/raw/sas_token": SAS_TOKEN}  # the key is gone, not merged
    assert_nowhere(ws, AZURITE_KEY, SAS_TOKEN)

    blob(ws, account_key=secret_from_env("HW_UNSET_FOR_TEST"), sas_token=None, overwrite=True)
    assert secrets_file(ws) == {}


def test_unregister_removes_the_record_and_its_secrets_only(ws: Workspace) -> None:
    ds = blob(ws)
    blob(ws, "other", account_key="other-datastore-key")
    ds.unregister()
    assert "raw" not in ws.datastores
    assert secrets_file(ws) == {"datastore/other/account_key": "other-datastore-key"}
    again = blob(ws)  # the name is free again
    assert again.credential_type == "AccountKey"


def test_a_remote_datastore_can_be_the_default(ws: Workspace) -> None:
    s3 = Datastore.register_s3(ws, "lake", "my-bucket", skip_validation=True)
    s3.set_as_default()
    assert ws.get_default_datastore() == s3
    assert isinstance(Datastore(ws), S3Datastore)
    assert isinstance(Datastore.get_default(ws), S3Datastore)
    assert set(ws.datastores) == {"lake", "workspaceblobstore", "workspacefilestore"}
    assert isinstance(ws.datastores["lake"], S3Datastore)
    with pytest.raises(ConfigurationError, match="default and cannot be unregistered"):
        s3.unregister()
    with pytest.raises(ConfigurationError, match="is a S3Datastore, not a AzureBlobDatastore"):
        AzureBlobDatastore(ws, "lake")


def test_the_builtin_blob_store_keeps_its_sdk_v1_attributes(ws: Workspace) -> None:
    builtin = Datastore(ws, "workspaceblobstore")
    assert isinstance(builtin, AzureBlobDatastore)
    assert (builtin.container_name, builtin.account_url, builtin.credential_type, builtin.account_key) == (
        None,
        None,
        None,
        None,
    )
    with pytest.raises(ConfigurationError, match="built into every workspace"):
        blob(ws, "workspaceblobstore")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sas_token": SAS_TOKEN}, "account_key or sas_token, not both"),
        ({"protocol": "ftp"}, "protocol must be 'https' or 'http'"),
        ({"account_url": "127.0.0.1:10000/devstoreaccount1"}, "must be an http:// or https:// URL"),
        ({"account_url": "http://127.0.0.1:10000/acct?sig=abc"}, "must not carry a query"),
        ({"endpoint": "core.windows.net"}, "account_url is the whole service URL"),
        ({"protocol": "https"}, "account_url is the whole service URL"),
        ({"account_key": ""}, "account_key of datastore 'raw' is empty"),
        ({"account_key": 123}, "must be a string or secret_from_env"),
    ],
)
def test_bad_blob_arguments_are_refused_before_anything_is_written(
    ws: Workspace, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message) as info:
        blob(ws, **kwargs)
    assert AZURITE_KEY not in str(info.value)
    assert ws.metadata_store.get_datastore("raw") is None
    assert secrets_file(ws) == {}


def test_bad_names_are_refused(ws: Workspace) -> None:
    with pytest.raises(ConfigurationError, match="Invalid container name 'Data_1'"):
        Datastore.register_azure_blob_container(ws, "raw", "Data_1", "acct", skip_validation=True)
    with pytest.raises(ConfigurationError, match="Invalid bucket name 'b'"):
        Datastore.register_s3(ws, "raw", "b", skip_validation=True)
    with pytest.raises(ConfigurationError, match="Invalid datastore name"):
        Datastore.register_s3(ws, "bad/name", "bucket", skip_validation=True)
    with pytest.raises(ConfigurationError, match="both access_key_id and secret_access_key, or neither"):
        Datastore.register_s3(ws, "raw", "bucket", access_key_id=S3_KEY_ID, skip_validation=True)
    with pytest.raises(ConfigurationError, match="not an environment variable name"):
        secret_from_env("MY-KEY")


@pytest.mark.parametrize(
    ("method", "args", "instead"),
    [
        ("register_azure_file_share", ("share", "acct"), "register_azure_blob_container"),
        ("register_azure_data_lake_gen2", ("fs", "acct"), "container_name=<filesystem>"),
        ("register_azure_data_lake", ("store",), "register_s3"),
        ("register_azure_sql_database", ("server", "db"), "Dataset.Tabular"),
        ("register_hdfs", (), "S3 bucket"),
    ],
)
def test_kinds_without_a_server_here_are_not_supported_and_say_what_to_use(
    ws: Workspace, method: str, args: tuple[str, ...], instead: str
) -> None:
    with pytest.raises(NotSupportedError) as info:
        getattr(Datastore, method)(ws, "x", *args)
    assert "is not supported by Headwater" in str(info.value)
    assert "No server that speaks this protocol runs here" in str(info.value)
    assert instead in str(info.value)
    assert ws.metadata_store.get_datastore("x") is None


_SDK_V1_REGISTER = {  # SDK v1's parameters (azureml-sdk-v1-api.md, section 1.2), in order
    "register_azure_blob_container": (
        "workspace",
        "datastore_name",
        "container_name",
        "account_name",
        "sas_token",
        "account_key",
        "protocol",
        "endpoint",
        "overwrite",
        "create_if_not_exists",
        "skip_validation",
        "blob_cache_timeout",
        "grant_workspace_access",
        "subscription_id",
        "resource_group",
    ),
    "register_azure_file_share": (
        "workspace",
        "datastore_name",
        "file_share_name",
        "account_name",
        "sas_token",
        "account_key",
        "protocol",
        "endpoint",
        "overwrite",
        "create_if_not_exists",
        "skip_validation",
    ),
    "register_azure_data_lake_gen2": (
        "workspace",
        "datastore_name",
        "filesystem",
        "account_name",
        "tenant_id",
        "client_id",
        "client_secret",
        "resource_url",
        "authority_url",
        "protocol",
        "endpoint",
        "overwrite",
        "subscription_id",
        "resource_group",
        "grant_workspace_access",
    ),
}


def test_registration_is_plain_functions_datastore_offers_with_sdk_v1_signatures(ws: Workspace) -> None:
    import inspect

    from headwater.sdk import datastore_registration

    assert Datastore.__bases__ == (object,)  # no registration base class behind Datastore
    for name in (*_SDK_V1_REGISTER, "register_s3", "register_azure_data_lake", "register_hdfs", "register_dbfs"):
        assert getattr(Datastore, name) is getattr(datastore_registration, name), name
    for name, params in _SDK_V1_REGISTER.items():
        got = tuple(inspect.signature(getattr(Datastore, name)).parameters)
        assert got[: len(params)] == params, name
    s3 = datastore_registration.register_s3(ws, "lake", "bucket", skip_validation=True)
    assert isinstance(s3, S3Datastore) and Datastore.get(ws, "lake").name == "lake"


# -- against the servers ---------------------------------------------------------------------------


@pytest.mark.slow
def test_blob_registration_validates_and_moves_files_on_azurite(
    ws: Workspace, azurite: Azurite, azure_container: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ds = Datastore.register_azure_blob_container(
        ws,
        "raw",
        azure_container,
        azurite.account_name,
        account_key=azurite.account_key,
        account_url=azurite.account_url,
    )
    src = gen(tmp_path / "src", {"a.csv": "x\n1\n", "sub": {"b.csv": "y\n2\n"}})
    ds.upload(src, "in")
    assert ds.download(tmp_path / "down", prefix="in/") == 2
    assert (tmp_path / "down" / "in" / "sub" / "b.csv").read_text() == "y\n2\n"
    out = capsys.readouterr().out
    assert "Uploading an estimated of 2 files" in out and "Uploaded 2 files" in out
    assert "Downloaded 2 files" in out
    assert_nowhere(ws, azurite.account_key, texts=(out, repr(ds)))


@pytest.mark.slow
def test_a_wrong_key_fails_validation_without_showing_it_and_registers_nothing(
    ws: Workspace, azurite: Azurite, azure_container: str
) -> None:
    wrong = azurite.account_key[:-8] + "AAAAAA=="
    with pytest.raises(DataAccessError) as info:
        Datastore.register_azure_blob_container(
            ws, "raw", azure_container, azurite.account_name, account_key=wrong, account_url=azurite.account_url
        )
    chain = []
    exc: BaseException | None = info.value
    while exc is not None:
        chain.append(f"{exc!s} {exc!r}")
        exc = exc.__cause__ or exc.__context__
    text = "\n".join(chain)
    assert azure_container in text or "raw" in text  # it says which datastore
    assert wrong not in text and wrong[:20] not in text
    assert ws.metadata_store.get_datastore("raw") is None
    assert secrets_file(ws) == {}  # the key did not stay behind
    assert_nowhere(ws, wrong)


@pytest.mark.slow
def test_create_if_not_exists_creates_the_container_else_a_missing_one_is_an_error(
    ws: Workspace, azurite: Azurite
) -> None:
    with pytest.raises((DataAccessError, ConfigurationError), match="hw-missing-container"):
        Datastore.register_azure_blob_container(
            ws,
            "raw",
            "hw-missing-container",
            azurite.account_name,
            account_key=azurite.account_key,
            account_url=azurite.account_url,
        )
    assert ws.metadata_store.get_datastore("raw") is None
    ds = Datastore.register_azure_blob_container(
        ws,
        "raw",
        "hw-created-container",
        azurite.account_name,
        account_key=azurite.account_key,
        account_url=azurite.account_url,
        create_if_not_exists=True,
    )
    ds._backend.put_bytes(b"hello", "x.txt")
    assert ds._backend.list_files() == ["x.txt"]


@pytest.mark.slow
def test_s3_registration_with_env_credentials_moves_files(
    ws: Workspace, s3_server: S3Server, s3_bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HW_TEST_S3_ID", S3_KEY_ID)
    monkeypatch.setenv("HW_TEST_S3_SECRET", S3_SECRET)
    ds = Datastore.register_s3(
        ws,
        "lake",
        s3_bucket,
        endpoint_url=s3_server.endpoint_url,
        region=s3_server.region,
        access_key_id=secret_from_env("HW_TEST_S3_ID"),
        secret_access_key=secret_from_env("HW_TEST_S3_SECRET"),
    )
    ds.set_as_default()
    src = gen(tmp_path / "src", {f"f{i}.txt": str(i) * 100 for i in range(12)})
    Datastore(ws).upload(src, "many", show_progress=False)
    assert len(ds._backend.list_files("many")) == 12
    assert ds.download(tmp_path / "down", show_progress=False) == 12
    assert (tmp_path / "down" / "many" / "f7.txt").read_text() == "7" * 100
    assert_nowhere(ws, S3_KEY_ID, S3_SECRET)
    monkeypatch.delenv("HW_TEST_S3_SECRET")
    with pytest.raises(ConfigurationError, match="HW_TEST_S3_SECRET, which is not set"):
        Datastore.get(ws, "lake").download(tmp_path / "again", show_progress=False)


@pytest.mark.slow
def test_s3_create_if_not_exists(ws: Workspace, s3_server: S3Server) -> None:
    ds = Datastore.register_s3(
        ws,
        "lake",
        "hw-new-bucket-for-test",
        endpoint_url=s3_server.endpoint_url,
        region=s3_server.region,
        access_key_id=S3_KEY_ID,
        secret_access_key=S3_SECRET,
        create_if_not_exists=True,
    )
    ds._backend.put_bytes(b"x", "a/b.txt")
    assert ds._backend.list_files("a") == ["a/b.txt"]
    assert secrets_file(ws) == {
        "datastore/lake/access_key_id": S3_KEY_ID,
        "datastore/lake/secret_access_key": S3_SECRET,
    }
    assert_nowhere(ws, S3_KEY_ID, S3_SECRET, texts=(repr(ds),))


@pytest.mark.slow
def test_a_progress_bar_replaces_the_per_file_lines_on_a_terminal(
    ws: Workspace,
    s3_server: S3Server,
    s3_bucket: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ds = Datastore.register_s3(
        ws,
        "lake",
        s3_bucket,
        endpoint_url=s3_server.endpoint_url,
        region=s3_server.region,
        access_key_id=S3_KEY_ID,
        secret_access_key=S3_SECRET,
    )
    src = gen(tmp_path / "src", {"a.txt": "a" * 2000, "b.txt": "b" * 3000})
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # rich treats stdout as a terminal
    ds.upload(src)
    out = capsys.readouterr().out
    assert "2/2 files" in out and "5.0 kB" in out  # the bar: files and bytes
    assert "files out of an estimated total of" not in out  # not the per-file lines
    assert "Uploaded 2 files" in out


@pytest.mark.slow
def test_a_bad_sas_token_fails_validation_without_showing_it(
    ws: Workspace, azurite: Azurite, azure_container: str
) -> None:
    with pytest.raises((DataAccessError, ConfigurationError)) as info:
        Datastore.register_azure_blob_container(
            ws, "raw", azure_container, azurite.account_name, sas_token=SAS_TOKEN, account_url=azurite.account_url
        )
    exc: BaseException | None = info.value
    while exc is not None:
        for text in (str(exc), repr(exc)):
            assert SAS_TOKEN not in text and "hwDummySignature0123" not in text
        exc = exc.__cause__ or exc.__context__
    assert ws.metadata_store.get_datastore("raw") is None and secrets_file(ws) == {}
    assert_nowhere(ws, SAS_TOKEN, "hwDummySignature0123")


def test_per_file_lines_keep_sdk_v1s_wording_for_any_file_name(
    ws: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = gen(tmp_path / "src", {"a{0}.txt": "a", "b%s.txt": "b"})
    Datastore(ws).upload(src, "odd")
    assert Datastore(ws).download(tmp_path / "down", prefix="odd/") == 2
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Uploading an estimated of 2 files"
    assert f"Uploaded {src / 'a{0}.txt'}, " in "\n".join(out)
    assert any(line.startswith("Downloaded odd/b%s.txt, ") for line in out)
    counts = sorted(line.rsplit(", ", 1)[1] for line in out if "out of an estimated total" in line)
    assert counts == [f"{n} files out of an estimated total of 2" for n in (1, 1, 2, 2)]
    assert out[-1] == "Downloaded 2 files"


@pytest.mark.slow
def test_a_failed_overwrite_keeps_the_working_registration_and_its_key(
    ws: Workspace, azurite: Azurite, azure_container: str
) -> None:
    args = (ws, "raw", azure_container, azurite.account_name)
    good = Datastore.register_azure_blob_container(
        *args, account_key=azurite.account_key, account_url=azurite.account_url
    )
    wrong = azurite.account_key[:-8] + "AAAAAA=="
    with pytest.raises(DataAccessError):
        Datastore.register_azure_blob_container(
            *args, account_key=wrong, account_url=azurite.account_url, overwrite=True
        )
    assert secrets_file(ws) == {"datastore/raw/account_key": azurite.account_key}
    assert Datastore.get(ws, "raw")._record.config == good._record.config
    Datastore.get(ws, "raw")._backend.put_bytes(b"still works", "x.txt")
    assert_nowhere(ws, wrong)
