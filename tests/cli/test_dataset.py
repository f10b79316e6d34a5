"""``headwater dataset list|show|versions``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from headwater import Dataset, Datastore, Workspace
from tests.cli.conftest import Cli, fields, one_error_line, table
from tests.conftest import gen


@pytest.fixture
def registered(cli_ws: Workspace, tmp_path: Path) -> Path:
    """``raw`` (a FileDataset, versions 1 and 2) and ``rows`` (a TabularDataset); returns the files' folder."""
    store = Datastore(cli_ws, "workspaceblobstore")
    store.upload(str(gen(tmp_path / "data", {"a.csv": "x\n1\n", "b.csv": "x\n2\n"})), "raw", show_progress=False)
    Dataset.File.from_files([(store, "raw/")]).register(cli_ws, "raw", description="raw files", tags={"team": "ml"})
    Dataset.File.from_files([(store, "raw/a.csv")]).register(cli_ws, "raw", create_new_version=True)
    Dataset.Tabular.from_delimited_files([(store, "raw/*.csv")]).register(cli_ws, "rows")
    return cli_ws.folder / "datastores" / "workspaceblobstore" / "raw"


def test_list(hw: Cli, registered: Path) -> None:
    rows = table(hw("dataset", "list", "-w", "test-ws").stdout)
    assert [(r["name"], r["version"], r["kind"]) for r in rows] == [("raw", "2", "file"), ("rows", "1", "tabular")]
    assert all(r["created"][:2] == "20" for r in rows)
    data = json.loads(hw("dataset", "list", "-w", "test-ws", "--json").stdout)
    assert [(d["name"], d["version"]) for d in data] == [("raw", 2), ("rows", 1)]


def test_versions(hw: Cli, registered: Path) -> None:
    rows = table(hw("dataset", "versions", "raw", "-w", "test-ws").stdout)
    assert [(r["version"], r["description"]) for r in rows] == [("1", "raw files"), ("2", "")]
    assert all(len(r["digest"]) == 12 for r in rows)
    data = json.loads(hw("dataset", "versions", "raw", "-w", "test-ws", "--json").stdout)
    assert [d["version"] for d in data] == [1, 2]


def test_show_and_data_changed(hw: Cli, cli_ws: Workspace, registered: Path) -> None:
    shown = fields(hw("dataset", "show", "raw", "--version", "1", "-w", "test-ws").stdout)
    record = cli_ws.metadata_store.get_dataset("raw", 1)
    assert record is not None
    assert shown == {
        "name": "raw",
        "version": "1",
        "kind": "file",
        "created": shown["created"],
        "description": "raw files",
        "tags": "team=ml",
        "digest": record.digest,
        "source": "'raw' on datastore 'workspaceblobstore'",
        "data changed since registration": "no",
    }
    assert fields(hw("dataset", "show", "raw", "-w", "test-ws").stdout)["version"] == "2"

    (registered / "b.csv").write_text("x\n3\n")
    shown = fields(hw("dataset", "show", "raw", "--version", "1", "-w", "test-ws").stdout)
    assert shown["data changed since registration"] == "yes, 1 file: raw/b.csv"
    assert fields(hw("dataset", "show", "raw", "-w", "test-ws").stdout)["data changed since registration"] == "no"

    data = json.loads(hw("dataset", "show", "raw", "--version", "1", "-w", "test-ws", "--json").stdout)
    assert data["data_changed"] is True
    assert data["changed_files"] == ["raw/b.csv"]
    assert data["tags"] == {"team": "ml"}
    assert data["digest"] == record.digest


def test_show_tabular(hw: Cli, registered: Path) -> None:
    shown = fields(hw("dataset", "show", "rows", "-w", "test-ws").stdout)
    assert shown["kind"] == "tabular"
    assert shown["source"] == "'raw/*.csv' on datastore 'workspaceblobstore'"


def test_unknown_version(hw: Cli, registered: Path) -> None:
    line = one_error_line(hw("dataset", "show", "raw", "--version", "7", "-w", "test-ws", code=1))
    assert line.startswith("error: Dataset version 'raw:7' does not exist in workspace 'test-ws'.")
    assert "Existing versions of 'raw': 1, 2" in line


def test_unknown_dataset(hw: Cli, registered: Path) -> None:
    line = one_error_line(hw("dataset", "show", "rwa", "-w", "test-ws", code=1))
    assert "Dataset 'rwa' does not exist" in line and "Did you mean 'raw'" in line
    line = one_error_line(hw("dataset", "versions", "rwo", "-w", "test-ws", code=1))
    assert "Dataset 'rwo' does not exist" in line and "Did you mean" in line


def test_empty_list(hw: Cli, cli_ws: Workspace) -> None:
    assert hw("dataset", "list", "-w", "test-ws").stdout.strip() == "name\tversion\tkind\tcreated"
    assert json.loads(hw("dataset", "list", "-w", "test-ws", "--json").stdout) == []
