"""The model registry, SDK v1 style: Model.register / Model(ws, ...) / Model.list / download / get_model_path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from headwater import Workspace
from headwater.errors import ConfigurationError, DataAccessError, NotSupportedError
from headwater.layout import WorkspaceLayout
from headwater.sdk.model import Model, ModelNotFoundError
from tests.conftest import gen


def _stored(ws: Workspace) -> list[Path]:
    models = WorkspaceLayout(ws.folder).models
    return sorted(p for p in models.rglob("*") if p.is_file()) if models.exists() else []


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = gen(
        tmp_path / "src",
        {"model.pkl": b"weights-1", "folder_model": {"a.bin": b"aaa", "sub": {"b.json": '{"k": 1}'}}},
    )
    monkeypatch.chdir(root)
    return root


def test_register_a_file_then_a_folder_as_versions_of_one_name(ws: Workspace, files: Path) -> None:
    m1 = Model.register(
        workspace=ws,
        model_path="model.pkl",
        model_name="sk",
        tags={"area": "diabetes", "type": "regression"},
        properties={"score": "0.9"},
        description="Ridge",
        model_framework=Model.Framework.SCIKITLEARN,
        model_framework_version="1.4",
    )
    m2 = Model.register(ws, "folder_model", "sk")
    assert (m1.id, m1.version, m2.id, m2.version) == ("sk:1", 1, "sk:2", 2)
    assert (m1.name, m1.tags, m1.properties, m1.description) == (
        "sk",
        {"area": "diabetes", "type": "regression"},
        {"score": "0.9"},
        "Ridge",
    )
    assert (m1.model_framework, m1.model_framework_version) == ("ScikitLearn", "1.4")
    assert m1.created_time is not None and m1.run_id is None
    assert Model(ws, "sk").version == 2  # the latest
    assert Model(ws, "sk", version=1) == m1
    assert Model(ws, id="sk:1").description == "Ridge"
    with pytest.raises(ModelNotFoundError, match="'sk:3'"):
        Model(ws, "sk", version=3)
    with pytest.raises(ModelNotFoundError, match="Known: 'sk'"):
        Model(ws, "sj")


def test_list_filters_by_name_tags_properties_and_latest(ws: Workspace, files: Path) -> None:
    Model.register(ws, "model.pkl", "a", tags={"stage": "dev"})
    Model.register(ws, "model.pkl", "a", tags={"stage": "prod"}, properties={"p": "1"})
    Model.register(ws, "model.pkl", "b", tags={"stage": "prod"})
    assert [m.id for m in Model.list(ws)] == ["a:2", "a:1", "b:1"]
    assert [m.id for m in Model.list(ws, name="a")] == ["a:2", "a:1"]
    assert [m.id for m in Model.list(ws, tags=[["stage", "prod"]])] == ["a:2", "b:1"]
    assert [m.id for m in Model.list(ws, tags=["stage"], latest=True)] == ["a:2", "b:1"]
    assert [m.id for m in Model.list(ws, properties=["p"])] == ["a:2"]
    assert Model(ws, "a", tags=[["stage", "dev"]]).version == 1
    with pytest.raises(ConfigurationError, match="list type"):
        Model.list(ws, tags={"stage": "prod"})  # type: ignore[arg-type]


def test_download_copies_the_files_and_refuses_to_overwrite(ws: Workspace, files: Path, tmp_path: Path) -> None:
    Model.register(ws, "folder_model", "f")
    Model.register(ws, "model.pkl", "p")
    out = tmp_path / "out"
    folder = Model(ws, "f").download(target_dir=out)
    assert folder == str(out / "folder_model")
    assert (out / "folder_model" / "sub" / "b.json").read_text() == '{"k": 1}'
    with pytest.raises(DataAccessError, match="exist_ok=True"):
        Model(ws, "f").download(target_dir=out)
    assert Model(ws, "f").download(target_dir=out, exist_ok=True) == folder
    single = Model(ws, "p").download(str(out))
    assert Path(single).read_bytes() == b"weights-1"
    Path(single).write_bytes(b"changed")  # a download is the user's copy: the registry keeps its bytes
    assert Path(Model(ws, "p").download(tmp_path / "again")).read_bytes() == b"weights-1"


def test_identical_bytes_are_stored_once_and_read_only(ws: Workspace, files: Path) -> None:
    Model.register(ws, "folder_model", "f")
    before = _stored(ws)
    assert len(before) == 2
    assert all(not os.access(p, os.W_OK) or os.geteuid() == 0 for p in before)
    assert all(p.stat().st_mode & 0o222 == 0 for p in before)
    inodes = {p: p.stat().st_ino for p in before}
    Model.register(ws, "folder_model", "f")  # a new version, no new bytes
    Model.register(ws, "folder_model", "other")
    assert _stored(ws) == before
    assert {p: p.stat().st_ino for p in before} == inodes
    assert Model(ws, "f").version == 2


def test_get_model_path_uses_the_cache_then_the_workspace(
    ws: Workspace, files: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Model.register(ws, "model.pkl", "m")
    Model.register(ws, "folder_model", "m")
    app = tmp_path / "app"
    app.mkdir()
    monkeypatch.chdir(app)
    with pytest.raises(ModelNotFoundError, match="_workspace=ws"):
        Model.get_model_path("m")
    path = Model.get_model_path("m", _workspace=ws)  # latest: fetched into the cache
    assert path == os.path.join("azureml-models", "m", "2", "folder_model")
    assert (app / path / "a.bin").read_bytes() == b"aaa"
    assert Model.get_model_path("m") == path  # now the cache's highest version
    assert Model.get_model_path("m", version=1, _workspace=ws) == os.path.join("azureml-models", "m", "1", "model.pkl")
    with pytest.raises(ModelNotFoundError):
        Model.get_model_path("m", version=5, _workspace=ws)


def test_tags_properties_update_and_delete(ws: Workspace, files: Path) -> None:
    m = Model.register(ws, "model.pkl", "m", tags={"a": "1"}, properties={"p": "x"})
    m.add_tags({"b": "2"})
    m.remove_tags(["a"])
    m.add_properties({"q": "y"})
    with pytest.raises(ConfigurationError, match="cannot be changed"):
        m.add_properties({"p": "changed"})
    m.update(description="new")
    again = Model(ws, "m")
    assert (again.tags, again.properties, again.description) == ({"b": "2"}, {"p": "x", "q": "y"}, "new")
    m.update(tags={"only": "this"})
    assert Model(ws, "m").tags == {"only": "this"}
    Model.register(ws, "model.pkl", "m")
    Model(ws, "m", version=2).delete()
    assert [x.id for x in Model.list(ws)] == ["m:1"]


def test_datasets_are_recorded_with_the_version(ws: Workspace, files: Path) -> None:
    from headwater import Dataset

    ds = Dataset.File.from_files(path=(ws.get_default_datastore(), "x/*"), validate=False)
    m = Model.register(ws, "model.pkl", "m", datasets=[("training", ds)])
    assert [d.id for d in Model(ws, "m").datasets["training"]] == [ds.id]
    assert [x.id for x in Model.list(ws, dataset_id=ds.id)] == [m.id]


def test_invalid_names_and_deployment_are_refused(ws: Workspace, files: Path) -> None:
    with pytest.raises(ConfigurationError, match="Invalid model name"):
        Model.register(ws, "model.pkl", "bad name!")
    with pytest.raises(ConfigurationError, match="without a valid framework"):
        Model.register(ws, "model.pkl", "m", model_framework_version="1.0")
    with pytest.raises(DataAccessError, match="does not exist"):
        Model.register(ws, "missing.pkl", "m")
    with pytest.raises(NotSupportedError, match="get_model_path"):
        Model.deploy(ws, "svc", [])


def test_workspace_models_are_the_latest_versions_by_name(ws: Workspace, files: Path) -> None:
    Model.register(ws, "model.pkl", "a")
    Model.register(ws, "folder_model", "a")
    Model.register(ws, "model.pkl", "b")
    assert {name: m.version for name, m in ws.models.items()} == {"a": 2, "b": 1}


def test_in_a_step_the_lookup_opens_the_store_read_only(
    ws: Workspace, files: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from headwater.runtime.context import CONTEXT_ENV, StepContext, WorkspaceRef
    from headwater.store.metadata import MetadataStore

    Model.register(ws, "model.pkl", "m")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    StepContext(
        run_id="r",
        experiment_name="e",
        workspace=WorkspaceRef(ws.name, str(ws.folder)),
        run_dir=str(run_dir),
        events_file=str(run_dir / "events.jsonl"),
    ).write(run_dir / "context.json")
    opened: list[MetadataStore] = []
    real_open = MetadataStore.open.__func__  # type: ignore[attr-defined]

    def spy(cls: type[MetadataStore], url: str, **kwargs: bool) -> MetadataStore:
        opened.append(store := real_open(cls, url, **kwargs))
        return store

    monkeypatch.setattr(MetadataStore, "open", classmethod(spy))
    monkeypatch.setenv(CONTEXT_ENV, str(run_dir / "context.json"))
    monkeypatch.chdir(run_dir)
    path = Model.get_model_path("m")
    assert Path(path).read_bytes() == b"weights-1"
    assert [s.read_only for s in opened] == [True]
    assert opened[0].closed  # closed again at once: a step holds no database connection
