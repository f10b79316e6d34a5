"""Workspace: SDK v1's create/get/from_config/write_config on local folders."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from headwater import (
    AlreadyExistsError,
    ConfigurationError,
    Datastore,
    NotFoundError,
    Workspace,
)


def test_create_lays_out_the_workspace_under_headwater_home(headwater_home: Path) -> None:
    with Workspace.create("proj") as ws:
        assert ws.name == "proj"
        assert ws.folder == headwater_home / "workspaces" / "proj"
        assert (ws.folder / "metadata.db").is_file()
        assert (ws.folder / "workspace.json").is_file()
        assert sorted(ws.datastores) == ["workspaceblobstore", "workspacefilestore"]
        assert ws.get_default_datastore().name == "workspaceblobstore"
        assert ws.metadata_url.startswith("sqlite:///")


def test_create_twice_needs_exist_ok() -> None:
    Workspace.create("proj").close()
    with pytest.raises(AlreadyExistsError, match="exist_ok=True"):
        Workspace.create("proj")
    with Workspace.create("proj", exist_ok=True) as ws:
        assert ws.name == "proj"


def test_create_refuses_a_non_empty_foreign_folder(tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(ConfigurationError, match="not a workspace"):
        Workspace.create("proj", folder=tmp_path / "busy")
    assert (tmp_path / "busy" / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("bad", ["", "has space", "../up", "-dash", "x" * 300])
def test_invalid_names_are_refused(bad: str) -> None:
    with pytest.raises(ConfigurationError, match="Invalid workspace name"):
        Workspace.create(bad)


def test_get_unknown_suggests_close_names() -> None:
    Workspace.create("forecasting").close()
    with pytest.raises(NotFoundError) as err:
        Workspace.get("forecastin")
    assert "Did you mean 'forecasting'" in str(err.value)


def test_sdk_v1_constructor_opens_by_name() -> None:
    Workspace.create("proj", subscription_id="sub", resource_group="rg").close()
    with Workspace("sub", "rg", "proj") as ws:
        assert (ws.subscription_id, ws.resource_group, ws.name) == ("sub", "rg", "proj")


def test_azure_only_arguments_are_accepted_and_ignored() -> None:
    ws = Workspace.create(
        "proj",
        auth=object(),
        subscription_id="s",
        resource_group="r",
        location="eastus",
        create_resource_group=True,
        sku="enterprise",
        storage_account="acct",
        show_output=False,
    )
    ws.close()


def test_custom_folder(tmp_path: Path) -> None:
    with Workspace.create("proj", folder=tmp_path / "elsewhere") as ws:
        assert ws.folder == tmp_path / "elsewhere"
    with Workspace.get("proj", folder=tmp_path / "elsewhere") as again:
        assert again.folder == tmp_path / "elsewhere"


def test_set_default_datastore() -> None:
    with Workspace.create("proj") as ws:
        ws.set_default_datastore("workspacefilestore")
        assert ws.get_default_datastore().name == "workspacefilestore"
        assert Datastore(ws).name == "workspacefilestore"
        with pytest.raises(NotFoundError, match="workspacefilestore"):
            ws.set_default_datastore("workspacefilestor")


def test_list_shows_home_workspaces() -> None:
    for name in ("b", "a"):
        Workspace.create(name).close()
    listed = Workspace.list()
    assert sorted(listed) == ["a", "b"]
    for wss in listed.values():
        for w in wss:
            w.close()


# -- config files ----------------------------------------------------------------------------


def _azure_config(folder: Path, name: str = "proj", sub: str = ".azureml") -> Path:
    target = folder / sub / "config.json" if sub else folder / "config.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps({"subscription_id": "0000-sub", "resource_group": "rg", "workspace_name": name}))
    return target


def test_from_config_creates_the_named_workspace_on_first_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _azure_config(tmp_path)
    monkeypatch.chdir(tmp_path)
    with Workspace.from_config() as ws:
        assert ws.name == "proj"
        assert ws.subscription_id == "0000-sub"
    assert "created workspace 'proj'" in capsys.readouterr().err
    with Workspace.from_config() as ws:  # the second time it just opens it
        assert ws.name == "proj"
    assert capsys.readouterr().err == ""


def test_from_config_walks_upwards_in_sdk_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _azure_config(tmp_path, "from-root-folder", sub="")
    _azure_config(tmp_path, "from-aml-config", sub="aml_config")
    _azure_config(tmp_path, "from-dot-azureml", sub=".azureml")
    deep = tmp_path / "a" / "b" / "c"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    with Workspace.from_config() as ws:
        assert ws.name == "from-dot-azureml"
    (tmp_path / ".azureml" / "config.json").unlink()
    with Workspace.from_config() as ws:
        assert ws.name == "from-aml-config"
    (tmp_path / "aml_config" / "config.json").unlink()
    with Workspace.from_config(path=deep) as ws:
        assert ws.name == "from-root-folder"


def test_from_config_accepts_a_file_path(tmp_path: Path) -> None:
    f = tmp_path / "my.json"
    f.write_text(json.dumps({"workspace_name": "by-file"}))
    with Workspace.from_config(path=f) as ws:
        assert ws.name == "by-file"


def test_from_config_folder_key_relative_to_the_file(tmp_path: Path) -> None:
    cfg = tmp_path / "proj" / ".azureml" / "config.json"
    cfg.parent.mkdir(parents=True)
    cfg.write_text(json.dumps({"workspace_name": "w", "folder": "../.hw"}))
    with Workspace.from_config(path=cfg) as ws:
        assert ws.folder == (tmp_path / "proj" / ".hw").resolve()


def test_missing_config_says_where_it_looked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigurationError) as err:
        Workspace.from_config()
    text = str(err.value)
    assert ".azureml/config.json" in text and str(tmp_path) in text and "write_config" in text


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"subscription_id": "x"}', "key 'workspace_name'"),
        ('{"workspace_name": 42}', "key 'workspace_name'"),
        ('{"workspace_name": "ok", "metadata_url": "mysql://x"}', "key 'metadata_url'"),
        ('{"workspace_name": "ok", "folder": 3}', "key 'folder'"),
    ],
)
def test_malformed_config_names_file_key_and_fix(tmp_path: Path, content: str, expected: str) -> None:
    f = tmp_path / ".azureml" / "config.json"
    f.parent.mkdir()
    f.write_text(content)
    with pytest.raises(ConfigurationError) as err:
        Workspace.from_config(path=tmp_path)
    assert expected in str(err.value)
    assert str(f) in str(err.value)


def test_write_config_round_trips(tmp_path: Path) -> None:
    with Workspace.create("proj", subscription_id="s", resource_group="r") as ws:
        written = ws.write_config(path=tmp_path)
    assert written == tmp_path / ".azureml" / "config.json"
    data = json.loads(written.read_text())
    assert data == {"subscription_id": "s", "resource_group": "r", "workspace_name": "proj"}
    with Workspace.from_config(path=tmp_path) as ws:
        assert ws.name == "proj"


def test_write_config_records_a_custom_folder(tmp_path: Path) -> None:
    with Workspace.create("proj", folder=tmp_path / "ws") as ws:
        ws.write_config(path=tmp_path / "code")
    os.rename(tmp_path / "code", tmp_path / "code2")  # the config is self-contained
    with Workspace.from_config(path=tmp_path / "code2") as ws:
        assert ws.folder == tmp_path / "ws"


def test_corrupt_workspace_file_is_reported(headwater_home: Path) -> None:
    Workspace.create("proj").close()
    (headwater_home / "workspaces" / "proj" / "workspace.json").write_text("{oops")
    with pytest.raises(ConfigurationError, match=r"workspace\.json"):
        Workspace.get("proj")


def test_metadata_store_is_the_workspace_s_documented_open_store() -> None:
    from headwater.store.metadata import MetadataStore

    with Workspace.create("proj") as ws:
        store = ws.metadata_store
        assert isinstance(store, MetadataStore)
        assert ws.metadata_store is store  # opened on first use, then kept
        assert store.get_datastore("workspaceblobstore") is not None
        assert "Headwater" in (type(ws).metadata_store.__doc__ or "")
        assert not hasattr(ws, "_metadata")  # one name for it
    reopened = ws.metadata_store  # close() forgets it; the next use opens it again
    assert reopened is not store and reopened.get_meta("workspace_name") == "proj"
    ws.close()


def test_get_run_returns_the_run_object_of_its_kind() -> None:
    from headwater import Run
    from headwater.sdk.runs import PipelineRun
    from headwater.store.records import RunRecord

    with Workspace.create("proj") as ws:
        store = ws.metadata_store
        experiment = store.get_or_create_experiment("manual")
        store.create_run(RunRecord(id="p1", experiment_id=experiment.id, kind="pipeline", status="Finished"))
        run = ws.get_run("p1")
        assert isinstance(run, PipelineRun) and run.id == "p1" and run.experiment.name == "manual"
        assert isinstance(Run.get(ws, "p1"), PipelineRun)
        with pytest.raises(NotFoundError, match=r"'nope'.*workspace 'proj'"):
            ws.get_run("nope")


def test_creating_a_workspace_imports_neither_alembic_nor_sqlalchemy(tmp_path: Path) -> None:
    """A new workspace's schema comes from the generated DDL; Alembic is for upgrading old ones."""
    import subprocess
    import sys

    code = (
        "import json, sys\n"
        "from headwater import Workspace\n"
        "Workspace.create('fresh', folder=sys.argv[1]).close()\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('alembic', 'sqlalchemy'))))\n"
    )
    folder = tmp_path / "fresh"
    out = subprocess.run([sys.executable, "-c", code, str(folder)], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
    ws = Workspace.get("fresh", folder=folder)
    try:
        assert ws.get_default_datastore().name == "workspaceblobstore"
    finally:
        ws.close()
