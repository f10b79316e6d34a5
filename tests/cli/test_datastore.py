"""``headwater datastore list|show|register-blob|register-s3|upload|download``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from headwater import Datastore, Workspace
from tests.cli.conftest import Cli, fields, one_error_line, table
from tests.conftest import gen
from tests.fixtures.azurite import Azurite
from tests.fixtures.s3_server import S3Server


def test_list_marks_the_default(hw: Cli, cli_ws: Workspace, tmp_path: Path) -> None:
    Datastore.register_local_folder(cli_ws, "scratch", tmp_path / "scratch")
    rows = table(hw("datastore", "list", "-w", "test-ws").stdout)
    assert rows == [
        {"name": "scratch", "type": "LocalFolder", "location": str(tmp_path / "scratch"), "default": ""},
        {
            "name": "workspaceblobstore",
            "type": "AzureBlob",
            "location": str(cli_ws.folder / "datastores" / "workspaceblobstore"),
            "default": "*",
        },
        {
            "name": "workspacefilestore",
            "type": "AzureFile",
            "location": str(cli_ws.folder / "datastores" / "workspacefilestore"),
            "default": "",
        },
    ]
    data = json.loads(hw("datastore", "list", "-w", "test-ws", "--json").stdout)
    assert [(d["name"], d["kind"], d["default"]) for d in data] == [
        ("scratch", "local", False),
        ("workspaceblobstore", "azure_blob", True),
        ("workspacefilestore", "azure_file", False),
    ]


def test_upload_then_download(hw: Cli, cli_ws: Workspace, tmp_path: Path) -> None:
    src = gen(tmp_path / "src", {"a.csv": "x\n1\n", "sub": {"b.csv": "y\n2\n"}})
    out = hw("datastore", "upload", str(src), "-w", "test-ws", "--target-path", "raw").stdout
    assert out.strip() == f"Uploaded {src} to datastore 'workspaceblobstore' at 'raw'"
    store = cli_ws.folder / "datastores" / "workspaceblobstore"
    assert (store / "raw" / "sub" / "b.csv").read_text() == "y\n2\n"

    target = tmp_path / "down"
    out = hw("datastore", "download", str(target), "-w", "test-ws", "--prefix", "raw/").stdout
    assert out.strip() == f"Downloaded 2 files from datastore 'workspaceblobstore' to {target}"
    assert (target / "raw" / "a.csv").read_text() == "x\n1\n"
    # existing files are kept unless --overwrite
    assert "Downloaded 0 files" in hw("datastore", "download", str(target), "-w", "test-ws").stdout
    (src / "a.csv").write_text("changed\n")
    hw("datastore", "upload", str(src), "-w", "test-ws", "--target-path", "raw")
    assert (store / "raw" / "a.csv").read_text() == "x\n1\n"
    hw("datastore", "upload", str(src), "-w", "test-ws", "--target-path", "raw", "--overwrite")
    assert (store / "raw" / "a.csv").read_text() == "changed\n"
    out = hw("datastore", "download", str(target), "-w", "test-ws", "--prefix", "raw/a", "--overwrite").stdout
    assert "Downloaded 1 file from" in out
    assert (target / "raw" / "a.csv").read_text() == "changed\n"


def test_named_datastore(hw: Cli, cli_ws: Workspace, tmp_path: Path) -> None:
    Datastore.register_local_folder(cli_ws, "scratch", tmp_path / "scratch")
    src = gen(tmp_path / "src", {"a.txt": "a"})
    hw("datastore", "upload", str(src), "-w", "test-ws", "--datastore", "scratch")
    assert (tmp_path / "scratch" / "a.txt").read_text() == "a"


def test_unknown_datastore(hw: Cli, cli_ws: Workspace, tmp_path: Path) -> None:
    line = one_error_line(
        hw("datastore", "download", str(tmp_path), "-w", "test-ws", "--datastore", "workspaceblob", code=1)
    )
    assert line.startswith("error: Datastore 'workspaceblob' does not exist in workspace 'test-ws'.")
    assert "Did you mean 'workspaceblobstore'" in line


def test_paths_escaping_the_datastore_are_refused(hw: Cli, cli_ws: Workspace, tmp_path: Path) -> None:
    src = gen(tmp_path / "src", {"a.txt": "a"})
    line = one_error_line(hw("datastore", "upload", str(src), "-w", "test-ws", "--target-path", "../out", code=1))
    assert "escapes datastore 'workspaceblobstore'" in line
    assert not (cli_ws.folder / "datastores" / "out").exists()
    line = one_error_line(hw("datastore", "download", str(tmp_path / "d"), "-w", "test-ws", "--prefix", "../", code=1))
    assert "escapes datastore 'workspaceblobstore'" in line


def test_upload_needs_an_existing_folder(hw: Cli, cli_ws: Workspace, tmp_path: Path) -> None:
    result = hw("datastore", "upload", str(tmp_path / "missing"), "-w", "test-ws", code=2)
    assert "does not exist" in result.stderr


# -- remote datastores: register-blob, register-s3, show; credentials shown only as *** -------------

AZ_KEY_VALUE = "hwDummyAccountKeyForCliTests0123456789+/=="
S3_ID_VALUE = "HWDUMMYCLIKEYID0123"
S3_SECRET_VALUE = "hw-dummy-cli-secret-c2VjcmV0"


def _db_bytes(ws: Workspace) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(ws.folder.glob("metadata.db*")) if p.is_file())


def _assert_hidden(ws: Workspace, secret: str, *outputs: str) -> None:
    assert secret.encode() not in _db_bytes(ws)
    for text in outputs:
        assert secret not in text


def test_register_blob_records_the_variable_name_and_shows_stars(
    hw: Cli, cli_ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HW_AZ_KEY", AZ_KEY_VALUE)
    reg = hw(
        "datastore",
        "register-blob",
        "raw",
        "--container",
        "data",
        "--account-name",
        "devstoreaccount1",
        "--account-url",
        "http://127.0.0.1:10000/devstoreaccount1",
        "--account-key-env",
        "HW_AZ_KEY",
        "--skip-validation",
        "-w",
        "test-ws",
    )
    where = "azure blob container 'data' at http://127.0.0.1:10000/devstoreaccount1"
    assert reg.stdout.strip() == f"Registered datastore 'raw': {where}"
    rows = {r["name"]: r for r in table(hw("datastore", "list", "-w", "test-ws").stdout)}
    assert rows["raw"] == {"name": "raw", "type": "AzureBlob", "location": where, "default": ""}
    shown = fields(hw("datastore", "show", "raw", "-w", "test-ws").stdout)
    assert shown["container_name"] == "data"
    assert shown["account_url"] == "http://127.0.0.1:10000/devstoreaccount1"
    assert shown["credential_type"] == "AccountKey"
    assert shown["account_key"] == "*** (environment variable HW_AZ_KEY)"
    data = json.loads(hw("datastore", "show", "raw", "-w", "test-ws", "--json").stdout)
    assert data["credentials"] == {"account_key": "*** (environment variable HW_AZ_KEY)"}
    assert not (cli_ws.folder / "secrets.json").exists()
    listed = hw("datastore", "list", "-w", "test-ws", "--json").stdout
    _assert_hidden(cli_ws, AZ_KEY_VALUE, reg.stdout, reg.stderr, listed, json.dumps(data))


def test_store_secrets_copies_the_values_into_the_secrets_file(
    hw: Cli, cli_ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HW_S3_ID", S3_ID_VALUE)
    monkeypatch.setenv("HW_S3_SECRET", S3_SECRET_VALUE)
    reg = hw(
        "datastore",
        "register-s3",
        "lake",
        "--bucket",
        "my-bucket",
        "--endpoint-url",
        "http://127.0.0.1:9000",
        "--region",
        "us-east-1",
        "--access-key-id-env",
        "HW_S3_ID",
        "--secret-access-key-env",
        "HW_S3_SECRET",
        "--store-secrets",
        "--skip-validation",
        "-w",
        "test-ws",
    )
    assert reg.stdout.strip() == "Registered datastore 'lake': s3 bucket 'my-bucket' at http://127.0.0.1:9000"
    stored = json.loads((cli_ws.folder / "secrets.json").read_text())
    assert stored == {"datastore/lake/access_key_id": S3_ID_VALUE, "datastore/lake/secret_access_key": S3_SECRET_VALUE}
    show = hw("datastore", "show", "lake", "-w", "test-ws").stdout
    shown = fields(show)
    assert (shown["type"], shown["bucket_name"], shown["region"]) == ("S3", "my-bucket", "us-east-1")
    assert shown["secret_access_key"] == "*** (workspace secrets file)"
    for secret in (S3_ID_VALUE, S3_SECRET_VALUE):
        _assert_hidden(cli_ws, secret, reg.stdout, show, hw("datastore", "list", "-w", "test-ws").stdout)


def test_register_usage_errors(hw: Cli, cli_ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    base = ("datastore", "register-blob", "raw", "--container", "data", "--account-name", "acct", "-w", "test-ws")
    out = hw(*base, "--account-url", "http://127.0.0.1:10000/acct", "--endpoint", "core.windows.net", code=2)
    assert "--account-url, or --endpoint/--protocol, not both" in out.stderr
    out = hw(*base, "--account-key-env", "A", "--sas-token-env", "B", code=2)
    assert "not both" in out.stderr
    # there is no flag that takes a key itself
    out = hw(*base, "--account-key", AZ_KEY_VALUE, code=2)
    assert "No such option '--account-key'" in out.stderr
    assert AZ_KEY_VALUE not in out.stderr
    monkeypatch.delenv("HW_UNSET_VAR", raising=False)
    out = hw(*base, "--account-key-env", "HW_UNSET_VAR", "--store-secrets", "--skip-validation", code=2)
    assert "HW_UNSET_VAR is not set" in out.stderr
    out = hw("datastore", "register-s3", "lake", "--bucket", "b-1", "--access-key-id-env", "X", "-w", "test-ws", code=2)
    assert "both --access-key-id-env and --secret-access-key-env, or neither" in out.stderr
    line = one_error_line(hw(*base[:4], "Bad_Container", *base[5:], "--skip-validation", code=1))
    assert "Invalid container name 'Bad_Container'" in line
    assert cli_ws.metadata_store.get_datastore("raw") is None


def test_register_help_says_secrets_come_from_environment_variables(hw: Cli) -> None:
    for command in ("register-blob", "register-s3"):
        text = " ".join(hw("datastore", command, "--help").stdout.split())
        assert "NAMES of environment variables" in text
        assert "shell history" in text


def test_unregister_is_not_a_cli_verb_but_show_of_an_unknown_name_suggests(hw: Cli, cli_ws: Workspace) -> None:
    line = one_error_line(hw("datastore", "show", "workspaceblob", "-w", "test-ws", code=1))
    assert "Did you mean 'workspaceblobstore'" in line


@pytest.mark.slow
def test_register_blob_on_azurite_then_upload_and_download(
    hw: Cli,
    cli_ws: Workspace,
    azurite: Azurite,
    azure_container: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HW_AZ_KEY", azurite.account_key)
    reg = hw(
        "datastore",
        "register-blob",
        "raw",
        "--container",
        azure_container,
        "--account-name",
        azurite.account_name,
        "--account-url",
        azurite.account_url,
        "--account-key-env",
        "HW_AZ_KEY",
        "-w",
        "test-ws",
    )
    src = gen(tmp_path / "src", {"a.csv": "x\n1\n", "sub": {"b.csv": "y\n2\n"}})
    up = hw("datastore", "upload", str(src), "-w", "test-ws", "--datastore", "raw", "--target-path", "in")
    assert up.stdout.strip() == f"Uploaded {src} to datastore 'raw' at 'in'"
    down = hw("datastore", "download", str(tmp_path / "down"), "-w", "test-ws", "--datastore", "raw")
    assert "Downloaded 2 files from datastore 'raw'" in down.stdout
    assert (tmp_path / "down" / "in" / "sub" / "b.csv").read_text() == "y\n2\n"
    show = hw("datastore", "show", "raw", "-w", "test-ws").stdout
    _assert_hidden(cli_ws, azurite.account_key, reg.stdout, up.stdout, down.stdout, show)

    # a wrong key: one error line naming the datastore, no key in it, nothing registered
    wrong = azurite.account_key[:-8] + "AAAAAA=="
    monkeypatch.setenv("HW_WRONG_KEY", wrong)
    failed = hw(
        "datastore",
        "register-blob",
        "bad",
        "--container",
        azure_container,
        "--account-name",
        azurite.account_name,
        "--account-url",
        azurite.account_url,
        "--account-key-env",
        "HW_WRONG_KEY",
        "--store-secrets",
        "-w",
        "test-ws",
        code=1,
    )
    line = one_error_line(failed)
    assert "datastore 'bad'" in line and azure_container in line
    _assert_hidden(cli_ws, wrong, failed.stdout, failed.stderr)
    assert cli_ws.metadata_store.get_datastore("bad") is None
    verbose = hw(
        "--verbose",
        "datastore",
        "register-blob",
        "bad",
        "--container",
        azure_container,
        "--account-name",
        azurite.account_name,
        "--account-url",
        azurite.account_url,
        "--account-key-env",
        "HW_WRONG_KEY",
        "--store-secrets",
        "-w",
        "test-ws",
        code=1,
    )
    _assert_hidden(cli_ws, wrong, verbose.stdout, verbose.stderr)  # the traceback too


@pytest.mark.slow
def test_register_s3_with_create_then_round_trip(
    hw: Cli, cli_ws: Workspace, s3_server: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HW_S3_ID", S3_ID_VALUE)
    monkeypatch.setenv("HW_S3_SECRET", S3_SECRET_VALUE)
    hw(
        "datastore",
        "register-s3",
        "lake",
        "--bucket",
        "hw-cli-created-bucket",
        "--endpoint-url",
        s3_server.endpoint_url,
        "--region",
        s3_server.region,
        "--access-key-id-env",
        "HW_S3_ID",
        "--secret-access-key-env",
        "HW_S3_SECRET",
        "--create",
        "-w",
        "test-ws",
    )
    src = gen(tmp_path / "src", {"a.txt": "a"})
    hw("datastore", "upload", str(src), "-w", "test-ws", "--datastore", "lake")
    out = hw("datastore", "download", str(tmp_path / "down"), "-w", "test-ws", "--datastore", "lake").stdout
    assert "Downloaded 1 file from datastore 'lake'" in out
    assert (tmp_path / "down" / "a.txt").read_text() == "a"
