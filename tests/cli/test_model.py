"""``headwater model list|show|download``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from headwater import Workspace
from headwater.sdk.model import Model
from tests.cli.conftest import Cli, fields, one_error_line, table
from tests.conftest import gen


@pytest.fixture
def registered(cli_ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``clf`` versions 1 (a file) and 2 (a folder), ``other`` version 1."""
    src = gen(tmp_path / "src", {"clf.pkl": b"one", "clf": {"w.bin": b"two"}})
    Model.register(cli_ws, str(src / "clf.pkl"), "clf", tags={"stage": "dev"}, model_framework="ScikitLearn")
    Model.register(cli_ws, str(src / "clf"), "clf", tags={"stage": "prod"}, description="the folder")
    Model.register(cli_ws, str(src / "clf.pkl"), "other", tags={"stage": "prod"})
    return src


def test_list(hw: Cli, registered: Path) -> None:
    rows = table(hw("model", "list", "-w", "test-ws").stdout)
    assert [(r["name"], r["version"]) for r in rows] == [("clf", "2"), ("clf", "1"), ("other", "1")]
    assert rows[1]["framework"] == "ScikitLearn" and rows[1]["tags"] == "stage=dev"
    latest = table(hw("model", "list", "--latest", "--tag", "stage=prod", "-w", "test-ws").stdout)
    assert [(r["name"], r["version"]) for r in latest] == [("clf", "2"), ("other", "1")]
    data = json.loads(hw("model", "list", "--name", "clf", "--json", "-w", "test-ws").stdout)
    assert [d["id"] for d in data] == ["clf:2", "clf:1"]


def test_show(hw: Cli, registered: Path) -> None:
    shown = fields(hw("model", "show", "clf", "-w", "test-ws").stdout)
    assert shown["id"] == "clf:2" and shown["description"] == "the folder"
    assert shown["files"].startswith("clf/w.bin (")
    data = json.loads(hw("model", "show", "clf", "--version", "1", "--json", "-w", "test-ws").stdout)
    assert (data["version"], list(data["files"])) == (1, ["clf.pkl"])
    error = one_error_line(hw("model", "show", "nope", "-w", "test-ws", code=hw_not_found_code(hw)))
    assert "Model 'nope' does not exist" in error


def hw_not_found_code(hw: Cli) -> int:
    from headwater.cli.errors import exit_code_for
    from headwater.errors import NotFoundError

    return exit_code_for(NotFoundError("Model", "x"), verbose=False)


def test_download(hw: Cli, registered: Path, tmp_path: Path) -> None:
    out = tmp_path / "dl"
    printed = hw("model", "download", "clf", "-o", str(out), "-w", "test-ws").stdout.strip()
    assert printed == str(out / "clf") and (out / "clf" / "w.bin").read_bytes() == b"two"
    hw("model", "download", "clf", "-o", str(out), "-w", "test-ws", code=hw_exists_code())
    hw("model", "download", "clf", "-o", str(out), "--exist-ok", "-w", "test-ws")
    assert (out / "clf.pkl").exists() is False
    hw("model", "download", "clf", "--version", "1", "-o", str(out), "-w", "test-ws")
    assert (out / "clf.pkl").read_bytes() == b"one"


def hw_exists_code() -> int:
    from headwater.cli.errors import exit_code_for
    from headwater.errors import DataAccessError

    return exit_code_for(DataAccessError("x"), verbose=False)
