"""``headwater datastore list|upload|download``."""

from __future__ import annotations

import json
from pathlib import Path

from headwater import Datastore, Workspace
from tests.cli.conftest import Cli, one_error_line, table
from tests.conftest import gen


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
    line = one_error_line(hw("datastore", "download", str(tmp_path), "-w", "test-ws", "--datastore", "workspaceblob",
                             code=1))
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
