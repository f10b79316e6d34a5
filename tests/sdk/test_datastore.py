"""Datastore: lookup by kind, registration, default, unregister, upload/download, path validation."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from headwater import (
    AlreadyExistsError,
    AzureBlobDatastore,
    AzureFileDatastore,
    ConfigurationError,
    DataAccessError,
    DataReference,
    Datastore,
    LocalDatastore,
    NotFoundError,
    PathEscapeError,
    Workspace,
)
from headwater.store.datastores import LocalBackend
from tests.conftest import gen

TMP_PREFIX = ".hw-tmp-"


def files_under(root: Path) -> dict[str, str]:
    """Every file below ``root`` (hidden ones too) as ``{relative posix path: text}``."""
    return {
        p.relative_to(root).as_posix(): p.read_text(encoding="utf-8") for p in sorted(root.rglob("*")) if p.is_file()
    }


def temp_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.startswith(TMP_PREFIX)]


@pytest.fixture
def blob(ws: Workspace) -> Datastore:
    return Datastore(ws, "workspaceblobstore")


@pytest.fixture
def blob_root(blob: Datastore) -> Path:
    return Path(blob._backend.root)


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder outside every datastore, with a secret in it."""
    return gen(tmp_path / "outside", {"secret.txt": "secret"})


# -- kinds and lookup ------------------------------------------------------------------------------


def test_constructor_returns_the_concrete_kind(ws: Workspace) -> None:
    blob = Datastore(ws, "workspaceblobstore")
    files = Datastore(ws, "workspacefilestore")
    assert isinstance(blob, AzureBlobDatastore)
    assert isinstance(files, AzureFileDatastore)
    assert (blob.datastore_type, files.datastore_type) == ("AzureBlob", "AzureFile")
    assert blob.name == "workspaceblobstore"
    assert blob.workspace is ws
    # the built-ins live in local folders: no container or account
    assert blob.container_name is None and blob.account_name is None
    assert files.container_name is None and files.account_name is None


def test_constructor_without_name_is_the_default(ws: Workspace) -> None:
    default = Datastore(ws)
    assert isinstance(default, AzureBlobDatastore)
    assert default == ws.get_default_datastore() == Datastore.get_default(ws)
    assert default.name == "workspaceblobstore"


def test_subclass_constructor_checks_the_kind(ws: Workspace) -> None:
    assert AzureFileDatastore(ws, "workspacefilestore").name == "workspacefilestore"
    with pytest.raises(ConfigurationError, match="is a AzureBlobDatastore, not a AzureFileDatastore"):
        AzureFileDatastore(ws, "workspaceblobstore")


@pytest.mark.parametrize("lookup", [Datastore.get, Datastore])
def test_unknown_name_suggests_close_names(ws: Workspace, lookup: Any) -> None:
    with pytest.raises(NotFoundError) as info:
        lookup(ws, "workspaceblobstor")
    assert info.value.name == "workspaceblobstor"
    assert "Did you mean 'workspaceblobstore'" in str(info.value)
    assert "workspaceblobstore" in info.value.candidates


def test_workspace_lists_datastores_with_their_kinds(ws: Workspace, tmp_path: Path) -> None:
    Datastore.register_local_folder(ws, "mine", tmp_path / "mine")
    stores = ws.datastores
    assert sorted(stores) == ["mine", "workspaceblobstore", "workspacefilestore"]
    assert isinstance(stores["mine"], LocalDatastore)
    assert isinstance(stores["workspaceblobstore"], AzureBlobDatastore)


def test_backend_is_cached_and_rooted_in_the_workspace(ws: Workspace, blob: Datastore) -> None:
    backend = blob._backend
    assert backend is blob._backend
    assert isinstance(backend, LocalBackend)
    assert Path(backend.root) == (ws.folder / "datastores" / "workspaceblobstore").resolve()


def test_datastore_is_a_shared_handle(blob: Datastore, ws: Workspace) -> None:
    assert copy.copy(blob) is blob and copy.deepcopy(blob) is blob
    assert blob == Datastore.get(ws, "workspaceblobstore")
    assert hash(blob) == hash(Datastore.get(ws, "workspaceblobstore"))
    assert blob != Datastore.get(ws, "workspacefilestore")
    assert "workspaceblobstore" in repr(blob)


# -- register_local_folder -------------------------------------------------------------------------


def test_register_local_folder_creates_the_folder(ws: Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "new" / "deep"
    ds = Datastore.register_local_folder(ws, "mine", folder)
    assert isinstance(ds, LocalDatastore)
    assert ds.datastore_type == "LocalFolder"
    assert folder.is_dir()
    assert ds.folder == folder.resolve()
    # persisted: another Workspace object sees it
    with Workspace.get("test-ws") as again:
        found = Datastore.get(again, "mine")
        assert isinstance(found, LocalDatastore) and found.folder == folder.resolve()


def test_register_local_folder_makes_a_relative_path_absolute(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    ds = Datastore.register_local_folder(ws, "rel", "data")
    assert ds.folder == (tmp_path / "data").resolve()
    record = ws.metadata_store.get_datastore("rel")
    assert record is not None and record.config["root"] == (tmp_path / "data").resolve().as_posix()


def test_register_local_folder_again(ws: Workspace, tmp_path: Path) -> None:
    first = Datastore.register_local_folder(ws, "mine", tmp_path / "a")
    assert Datastore.register_local_folder(ws, "mine", tmp_path / "a") == first  # same folder: fine
    with pytest.raises(AlreadyExistsError, match="overwrite=True"):
        Datastore.register_local_folder(ws, "mine", tmp_path / "b")
    assert not (tmp_path / "b").exists()
    moved = Datastore.register_local_folder(ws, "mine", tmp_path / "b", overwrite=True)
    assert moved.folder == (tmp_path / "b").resolve()
    again = Datastore.get(ws, "mine")
    assert isinstance(again, LocalDatastore) and again.folder == (tmp_path / "b").resolve()


@pytest.mark.parametrize("name", ["workspaceblobstore", "workspacefilestore"])
def test_register_local_folder_refuses_builtin_names(ws: Workspace, tmp_path: Path, name: str) -> None:
    with pytest.raises(ConfigurationError, match="built into every workspace"):
        Datastore.register_local_folder(ws, name, tmp_path / "x", overwrite=True)
    assert isinstance(Datastore(ws, name), AzureBlobDatastore | AzureFileDatastore)


def test_register_local_folder_refuses_bad_names_and_files(ws: Workspace, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="Invalid datastore name"):
        Datastore.register_local_folder(ws, "bad name/..", tmp_path / "x")
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(ConfigurationError, match="is not a folder"):
        Datastore.register_local_folder(ws, "mine", tmp_path / "file.txt")
    assert "mine" not in ws.datastores


# -- default and unregister ------------------------------------------------------------------------


def test_set_as_default(ws: Workspace, tmp_path: Path) -> None:
    mine = Datastore.register_local_folder(ws, "mine", tmp_path / "mine")
    mine.set_as_default()
    assert ws.get_default_datastore() == mine
    assert isinstance(Datastore(ws), LocalDatastore)
    Datastore(ws, "workspacefilestore").set_as_default()
    assert Datastore.get_default(ws).name == "workspacefilestore"


def test_unregister_removes_the_registration_not_the_files(ws: Workspace, tmp_path: Path) -> None:
    mine = Datastore.register_local_folder(ws, "mine", gen(tmp_path / "mine", {"a.txt": "a"}))
    mine.unregister()
    assert "mine" not in ws.datastores
    assert (tmp_path / "mine" / "a.txt").read_text() == "a"
    with pytest.raises(NotFoundError):
        Datastore.get(ws, "mine")
    with pytest.raises(NotFoundError):
        mine.unregister()


@pytest.mark.parametrize("name", ["workspaceblobstore", "workspacefilestore"])
def test_unregister_refuses_builtins(ws: Workspace, tmp_path: Path, name: str) -> None:
    Datastore.register_local_folder(ws, "mine", tmp_path / "mine").set_as_default()  # not the default
    with pytest.raises(ConfigurationError, match="built into every workspace"):
        Datastore(ws, name).unregister()
    assert name in ws.datastores


def test_unregister_refuses_the_default(ws: Workspace, tmp_path: Path) -> None:
    mine = Datastore.register_local_folder(ws, "mine", tmp_path / "mine")
    mine.set_as_default()
    with pytest.raises(ConfigurationError, match="default") as info:
        mine.unregister()
    assert "set_as_default" in str(info.value)
    assert "mine" in ws.datastores
    Datastore(ws, "workspaceblobstore").set_as_default()
    mine.unregister()
    assert "mine" not in ws.datastores


# -- upload ----------------------------------------------------------------------------------------


def test_upload_a_tree(blob: Datastore, blob_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = gen(tmp_path / "src", {"a.csv": "1", "sub": {"b.csv": "2", "deeper": {"c.bin": b"3"}}})
    ref = blob.upload(src, target_path="data/raw")
    assert isinstance(ref, DataReference)
    assert ref.datastore == blob and ref.path_on_datastore == "data/raw"
    assert files_under(blob_root) == {
        "data/raw/a.csv": "1",
        "data/raw/sub/b.csv": "2",
        "data/raw/sub/deeper/c.bin": "3",
    }
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Uploading an estimated of 3 files"
    assert out[-1] == "Uploaded 3 files"
    assert any(line.endswith("3 files out of an estimated total of 3") for line in out)
    assert temp_files(blob_root) == []


def test_upload_to_the_root_and_quietly(
    blob: Datastore, blob_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ref = blob.upload(gen(tmp_path / "src", {"a.txt": "a"}), show_progress=False)
    assert ref.path_on_datastore is None
    assert ref.data_reference_name == "workspaceblobstore"
    assert files_under(blob_root) == {"a.txt": "a"}
    assert capsys.readouterr().out == ""


def test_upload_keeps_existing_files_unless_overwrite(
    blob: Datastore, blob_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blob.upload(gen(tmp_path / "v1", {"a.txt": "old", "b.txt": "old"}), "d", show_progress=False)
    v2 = gen(tmp_path / "v2", {"a.txt": "new", "c.txt": "new"})
    blob.upload(v2, "d")
    assert files_under(blob_root) == {"d/a.txt": "old", "d/b.txt": "old", "d/c.txt": "new"}
    out = capsys.readouterr().out
    assert "Target already exists. Skipping upload for d/a.txt" in out
    assert "Uploaded 1 files" in out
    blob.upload(v2, "d", overwrite=True, show_progress=False)
    assert files_under(blob_root)["d/a.txt"] == "new"


def test_upload_needs_a_folder(blob: Datastore, tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("x")
    for src in (tmp_path / "missing", tmp_path / "f.txt"):
        with pytest.raises(DataAccessError, match="not a folder"):
            blob.upload(src)


def test_upload_into_the_datastore_root_spellings(blob: Datastore, blob_root: Path, tmp_path: Path) -> None:
    src = gen(tmp_path / "src", {"a.txt": "a"})
    for spelling in ("", ".", "./", "/"):
        ref = blob.upload(src, spelling, overwrite=True, show_progress=False)
        assert ref.path_on_datastore is None
    assert files_under(blob_root) == {"a.txt": "a"}


@pytest.fixture
def escapes(blob_root: Path, outside: Path) -> list[str]:
    """Target paths that leave the datastore: '..', absolute, a symlink leading out."""
    (blob_root / "link").symlink_to(outside, target_is_directory=True)
    return ["../x", "a/../../x", str(outside), "/etc", "link", "link/sub"]


def test_upload_refuses_targets_that_escape(
    blob: Datastore, blob_root: Path, outside: Path, tmp_path: Path, escapes: list[str]
) -> None:
    src = gen(tmp_path / "src", {"a.txt": "a", "sub": {"b.txt": "b"}})
    for target in escapes:
        with pytest.raises(PathEscapeError) as info:
            blob.upload(src, target, show_progress=False)
        assert info.value.path == target
        assert info.value.datastore == "workspaceblobstore"
    assert files_under(outside) == {"secret.txt": "secret"}
    assert [p.name for p in blob_root.iterdir()] == ["link"]


def test_upload_files_relative_to_their_common_folder(blob: Datastore, blob_root: Path, tmp_path: Path) -> None:
    src = gen(tmp_path / "src", {"x": {"a.txt": "a", "deep": {"b.txt": "b"}}})
    ref = blob.upload_files(
        [src / "x" / "a.txt", str(src / "x" / "deep" / "b.txt")], target_path="up", show_progress=False
    )
    assert ref.path_on_datastore == "up"
    assert files_under(blob_root) == {"up/a.txt": "a", "up/deep/b.txt": "b"}


def test_upload_files_single_file_goes_to_the_target(blob: Datastore, blob_root: Path, tmp_path: Path) -> None:
    src = gen(tmp_path / "src", {"a.txt": "a"})
    blob.upload_files([src / "a.txt"], target_path="t", show_progress=False)
    blob.upload_files(str(src / "a.txt"), show_progress=False)  # a single path is accepted too
    assert files_under(blob_root) == {"t/a.txt": "a", "a.txt": "a"}


def test_upload_files_with_relative_root(
    blob: Datastore, blob_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = gen(tmp_path / "src", {"x": {"a.txt": "a"}, "y": {"b.txt": "b"}})
    monkeypatch.chdir(tmp_path)
    blob.upload_files(["src/x/a.txt", "src/y/b.txt"], relative_root="src", target_path="t", show_progress=False)
    blob.upload_files([src / "x" / "a.txt"], relative_root=tmp_path, show_progress=False)
    assert files_under(blob_root) == {"t/x/a.txt": "a", "t/y/b.txt": "b", "src/x/a.txt": "a"}


def test_upload_files_refuses_a_file_outside_relative_root(blob: Datastore, blob_root: Path, tmp_path: Path) -> None:
    src = gen(tmp_path / "src", {"x": {"a.txt": "a"}, "y": {"b.txt": "b"}})
    with pytest.raises(DataAccessError, match="not under relative_root") as info:
        blob.upload_files([src / "x" / "a.txt", src / "y" / "b.txt"], relative_root=src / "x")
    assert info.value.path == str(src / "y" / "b.txt")
    with pytest.raises(DataAccessError, match="not under relative_root"):  # the root is not a file's folder
        blob.upload_files([src / "x" / "a.txt"], relative_root=src / "x" / "a.txt")
    assert files_under(blob_root) == {}  # nothing was uploaded


def test_upload_files_refuses_missing_files_and_escaping_targets(
    blob: Datastore, blob_root: Path, tmp_path: Path, escapes: list[str]
) -> None:
    src = gen(tmp_path / "src", {"a.txt": "a"})
    with pytest.raises(DataAccessError, match="not a file"):
        blob.upload_files([src / "a.txt", src / "missing.txt"])
    for target in escapes:
        with pytest.raises(PathEscapeError):
            blob.upload_files([src / "a.txt"], target_path=target)
    assert [p.name for p in blob_root.iterdir()] == ["link"]


def test_a_failing_upload_leaves_no_partial_file(
    blob: Datastore, blob_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = gen(tmp_path / "src", {"a.txt": "a" * 1000, "b.txt": "b" * 1000})
    fs = blob._backend.fs
    real_put = fs.put_file

    def put_half_then_fail(lpath: str, rpath: str, **kwargs: Any) -> None:
        if lpath.endswith("b.txt"):
            Path(rpath).write_text("b" * 500)  # half written to the temporary name, then the copy dies
            raise OSError("disk full")
        real_put(lpath, rpath, **kwargs)

    monkeypatch.setattr(fs, "put_file", put_half_then_fail)
    with pytest.raises(DataAccessError, match="disk full") as info:
        blob.upload(src, "d", show_progress=False)
    assert info.value.path == str(src / "b.txt")
    assert files_under(blob_root) == {"d/a.txt": "a" * 1000}  # a is whole, b is not there at all
    assert temp_files(blob_root) == []


# -- download --------------------------------------------------------------------------------------


@pytest.fixture
def filled(blob: Datastore, tmp_path: Path) -> Datastore:
    tree = {
        "data": {"a.txt": "a", "sub": {"b.txt": "b"}},
        "data2": {"c.txt": "c"},
        "data.csv": "d",
        "z.txt": "z",
    }
    blob.upload(gen(tmp_path / "seed", tree), show_progress=False)
    return blob


def test_download_everything(filled: Datastore, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dest = tmp_path / "dl" / "new"
    assert filled.download(dest) == 5
    assert files_under(dest) == {
        "data/a.txt": "a",
        "data/sub/b.txt": "b",
        "data2/c.txt": "c",
        "data.csv": "d",
        "z.txt": "z",
    }
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "Downloaded 5 files"
    assert "Downloaded z.txt, 5 files out of an estimated total of 5" in out
    assert temp_files(dest) == []


def test_download_prefix_is_a_string_prefix_as_for_blobs(filled: Datastore, tmp_path: Path) -> None:
    assert filled.download(tmp_path / "p1", "data", show_progress=False) == 4
    assert sorted(files_under(tmp_path / "p1")) == ["data.csv", "data/a.txt", "data/sub/b.txt", "data2/c.txt"]
    assert filled.download(tmp_path / "p2", "data/", show_progress=False) == 2
    assert sorted(files_under(tmp_path / "p2")) == ["data/a.txt", "data/sub/b.txt"]
    assert filled.download(tmp_path / "p3", "data/sub/b.txt", show_progress=False) == 1
    assert files_under(tmp_path / "p3") == {"data/sub/b.txt": "b"}
    assert filled.download(tmp_path / "p4", "nothing", show_progress=False) == 0


def test_download_counts_only_the_files_written(
    filled: Datastore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = gen(tmp_path / "dl", {"data": {"a.txt": "mine"}})
    assert filled.download(dest, "data/") == 1
    assert files_under(dest) == {"data/a.txt": "mine", "data/sub/b.txt": "b"}
    assert "Path already exists. Skipping download for" in capsys.readouterr().out
    assert filled.download(dest, "data/", show_progress=False) == 0
    assert filled.download(dest, "data/", overwrite=True, show_progress=False) == 2
    assert files_under(dest)["data/a.txt"] == "a"
    assert capsys.readouterr().out == ""


def test_download_refuses_prefixes_that_escape(
    filled: Datastore, tmp_path: Path, outside: Path, escapes: list[str]
) -> None:
    for prefix in escapes:
        dest = tmp_path / "dl"
        with pytest.raises(PathEscapeError) as info:
            filled.download(dest, prefix, show_progress=False)
        assert info.value.path == prefix
        assert not dest.exists()


def test_download_refuses_a_file_symlinked_out_of_the_datastore(
    filled: Datastore, blob_root: Path, outside: Path, tmp_path: Path
) -> None:
    (blob_root / "zz-evil.txt").symlink_to(outside / "secret.txt")
    with pytest.raises(DataAccessError, match=r"'zz-evil\.txt' is a symlink to .*secret\.txt', outside the datastore"):
        filled.download(tmp_path / "dl", show_progress=False)
    # never read through; the other files came (issue #12: one such link no longer breaks a whole prefix)
    assert not (tmp_path / "dl" / "zz-evil.txt").exists()
    assert len(files_under(tmp_path / "dl")) == 5


def test_download_follows_no_symlinked_folders_but_a_named_one(
    filled: Datastore, blob_root: Path, tmp_path: Path
) -> None:
    (blob_root / "alias").symlink_to(blob_root / "data", target_is_directory=True)
    assert filled.download(tmp_path / "all", show_progress=False) == 5  # alias/ is not listed again
    assert filled.download(tmp_path / "alias", "alias/", show_progress=False) == 2
    assert sorted(files_under(tmp_path / "alias")) == ["alias/a.txt", "alias/sub/b.txt"]
    assert filled.download(tmp_path / "alias2", "alias", show_progress=False) == 2


def test_download_refuses_names_that_would_leave_the_local_target(
    filled: Datastore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A remote store can hold names a local folder cannot; pretend this one does.
    backend = filled._backend
    monkeypatch.setattr(backend, "list_files", lambda prefix=None: ["ok.txt", "../../escaped.txt"])
    monkeypatch.setattr(backend, "full_path", lambda path: str(path))
    with pytest.raises(PathEscapeError) as info:
        filled.download(tmp_path / "dl" / "here", show_progress=False)
    assert info.value.path == "../../escaped.txt"
    assert info.value.root == str(tmp_path / "dl" / "here")
    assert not (tmp_path / "dl").exists()


def test_a_failing_download_leaves_no_partial_file(
    filled: Datastore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fs = filled._backend.fs
    real_get = fs.get_file

    def get_half_then_fail(rpath: str, lpath: str, **kwargs: Any) -> None:
        if rpath.endswith("z.txt"):
            Path(lpath).write_text("half")
            raise OSError("connection reset")
        real_get(rpath, lpath, **kwargs)

    monkeypatch.setattr(fs, "get_file", get_half_then_fail)
    dest = tmp_path / "dl"
    with pytest.raises(DataAccessError, match="connection reset"):
        filled.download(dest, show_progress=False)
    assert "z.txt" not in files_under(dest)
    assert temp_files(dest) == []


# -- path() ----------------------------------------------------------------------------------------


def test_path_makes_data_references(blob: Datastore) -> None:
    root = blob.path()
    assert root.path_on_datastore is None and root.data_reference_name == "workspaceblobstore"
    ref = blob.path("data/raw/", "raw")
    assert (ref.path_on_datastore, ref.data_reference_name, ref.mode) == ("data/raw", "raw", "mount")
    assert str(ref) == "$AZUREML_DATAREFERENCE_raw"
    assert blob.as_download("/tmp/x").mode == "download"
    assert blob.as_upload().mode == "upload"
    assert blob.as_mount().mode == "mount"


def test_path_refuses_paths_that_escape(blob: Datastore, escapes: list[str]) -> None:
    for path in escapes:
        with pytest.raises(PathEscapeError) as info:
            blob.path(path)
        assert info.value.path == path


# -- import cost -----------------------------------------------------------------------------------


def test_importing_the_module_loads_no_heavy_library() -> None:
    code = (
        "import sys, json\n"
        "import headwater.sdk.datastore, headwater.sdk.data_reference\n"
        "print(json.dumps([m for m in ('fsspec', 'pandas', 'pyarrow', 'sqlalchemy') if m in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
