"""``headwater workspace create|show|list`` and how a command chooses its workspace."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from headwater import Workspace
from tests.cli.conftest import Cli, fields, one_error_line, table


def test_create_then_show(hw: Cli, headwater_home: Path) -> None:
    out = hw("workspace", "create", "proj").stdout
    folder = headwater_home / "workspaces" / "proj"
    assert out.strip() == f"Created workspace 'proj' at {folder}"
    shown = fields(hw("workspace", "show", "proj").stdout)
    assert shown == {
        "name": "proj",
        "folder": str(folder),
        "metadata store": f"sqlite:///{folder / 'metadata.db'}",
        "default datastore": "workspaceblobstore",
        "datastores": "2",
        "datasets": "0",
        "experiments": "0",
        "runs": "0",
    }


def test_show_json(hw: Cli, cli_ws: Workspace) -> None:
    data = json.loads(hw("workspace", "show", "-w", "test-ws", "--json").stdout)
    assert data["name"] == "test-ws"
    assert data["folder"] == str(cli_ws.folder)
    assert data["default_datastore"] == "workspaceblobstore"
    assert data["counts"] == {"datastores": 2, "datasets": 0, "experiments": 0, "runs": 0}


def test_create_twice_needs_exist_ok(hw: Cli) -> None:
    hw("workspace", "create", "proj")
    line = one_error_line(hw("workspace", "create", "proj", code=1))
    assert line.startswith("error: Workspace 'proj' already exists.")
    assert "Using existing workspace 'proj'" in hw("workspace", "create", "proj", "--exist-ok").stdout


def test_write_config_makes_it_the_default(hw: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "project"
    out = hw("workspace", "create", "proj", "--write-config", str(project)).stdout
    config = project / ".azureml" / "config.json"
    assert f"Wrote {config}" in out
    assert json.loads(config.read_text())["workspace_name"] == "proj"
    (project / "src").mkdir()
    monkeypatch.chdir(project / "src")  # found from a sub-folder, as Workspace.from_config finds it
    assert fields(hw("workspace", "show").stdout)["name"] == "proj"
    rows = table(hw("workspace", "list").stdout)
    assert [(r["name"], r["default"]) for r in rows] == [("proj", "*")]


def test_write_config_defaults_to_the_current_folder(hw: Cli, _outside_any_project: Path) -> None:
    hw("workspace", "create", "proj", "--write-config")
    assert (_outside_any_project / ".azureml" / "config.json").is_file()


def test_environment_variable_names_the_workspace(hw: Cli, cli_ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEADWATER_WORKSPACE", "test-ws")
    assert fields(hw("workspace", "show").stdout)["name"] == "test-ws"


def test_option_beats_config_and_environment(hw: Cli, cli_ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    hw("workspace", "create", "other", "--write-config")
    monkeypatch.setenv("HEADWATER_WORKSPACE", "other")
    assert fields(hw("workspace", "show", "-w", "test-ws").stdout)["name"] == "test-ws"
    assert fields(hw("workspace", "show").stdout)["name"] == "other"


def test_no_workspace_chosen_says_how_to_choose(hw: Cli, cli_ws: Workspace) -> None:
    line = one_error_line(hw("datastore", "list", code=1))
    assert "No workspace chosen." in line
    assert "--workspace NAME" in line and "HEADWATER_WORKSPACE" in line and "test-ws" in line


def test_unknown_workspace_suggests_a_close_name(hw: Cli, cli_ws: Workspace) -> None:
    line = one_error_line(hw("datastore", "list", "-w", "test-sw", code=1))
    assert line.startswith("error: Workspace 'test-sw' does not exist")
    assert "Did you mean 'test-ws'?" in line


def test_workspace_outside_home(hw: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "elsewhere"
    hw("workspace", "create", "away", "--folder", str(folder))
    assert fields(hw("workspace", "show", "-w", "away", "--folder", str(folder)).stdout)["folder"] == str(folder)
    # --folder alone: the name is read from the folder
    assert len(table(hw("datastore", "list", "--folder", str(folder)).stdout)) == 2
    assert fields(hw("workspace", "show", "--folder", str(folder)).stdout)["name"] == "away"
    assert table(hw("workspace", "list").stdout) == []  # not under $HEADWATER_HOME
    line = one_error_line(hw("workspace", "show", "--folder", str(tmp_path), code=1))
    assert "holds no workspace" in line


def test_show_name_and_option_must_agree(hw: Cli, cli_ws: Workspace) -> None:
    result = hw("workspace", "show", "test-ws", "-w", "other", code=2)
    assert "disagree" in result.stderr


def test_list(hw: Cli, headwater_home: Path) -> None:
    assert hw("workspace", "list").stdout.strip() == "name\tfolder\tdefault"
    hw("workspace", "create", "b-ws")
    hw("workspace", "create", "a-ws")
    rows = table(hw("workspace", "list").stdout)
    assert rows == [
        {"name": "a-ws", "folder": str(headwater_home / "workspaces" / "a-ws"), "default": ""},
        {"name": "b-ws", "folder": str(headwater_home / "workspaces" / "b-ws"), "default": ""},
    ]
    data = json.loads(hw("workspace", "list", "--json").stdout)
    assert [d["name"] for d in data] == ["a-ws", "b-ws"]


@pytest.mark.postgres
def test_show_redacts_the_metadata_password(hw: Cli, postgres_url: str) -> None:
    with_password = postgres_url.replace("postgres@", "postgres:s3cret@", 1)
    assert with_password != postgres_url
    hw("workspace", "create", "pg", "--metadata-url", with_password)
    result = hw("workspace", "show", "pg")
    assert "s3cret" not in result.stdout
    assert fields(result.stdout)["metadata store"] == with_password.replace("s3cret", "***")
    assert "s3cret" not in hw("workspace", "show", "pg", "--json").stdout
