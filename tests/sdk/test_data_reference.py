"""DataReference, DataPath and DataPathComputeBinding: SDK v1 behaviour, stable names, validation."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from headwater import (
    ConfigurationError,
    DataPath,
    DataPathComputeBinding,
    DataReference,
    Datastore,
    NotFoundError,
    PathEscapeError,
    Workspace,
)


@pytest.fixture
def blob(ws: Workspace) -> Datastore:
    return Datastore(ws, "workspaceblobstore")


@pytest.fixture
def escapes(blob: Datastore, tmp_path: Path) -> list[str]:
    """Paths that leave the datastore: '..', absolute, a symlink leading out."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (Path(blob._backend.root) / "link").symlink_to(outside, target_is_directory=True)
    return ["..", "../x", "a/../../x", "/etc/passwd", "C:/Windows", "link", "link/inner"]


# -- DataReference ---------------------------------------------------------------------------------


def test_reference_to_the_root_is_named_after_the_datastore(blob: Datastore) -> None:
    ref = DataReference(blob)
    assert ref.datastore is blob
    assert ref.datastore_name == "workspaceblobstore"
    assert ref.path_on_datastore is None
    assert ref.mode == "mount"
    assert ref.path_on_compute is None and ref.overwrite is False
    assert ref.data_reference_name == "workspaceblobstore"
    assert str(ref) == repr(ref) == "$AZUREML_DATAREFERENCE_workspaceblobstore"


@pytest.mark.parametrize("spelling", ["", ".", "./", "/"])
def test_sdk_spellings_of_the_root(blob: Datastore, spelling: str) -> None:
    ref = DataReference(blob, path_on_datastore=spelling)
    assert ref.path_on_datastore is None
    assert ref.data_reference_name == "workspaceblobstore"


def test_default_names_are_stable_per_path(ws: Workspace, blob: Datastore) -> None:
    a1 = DataReference(blob, path_on_datastore="data/a")
    a2 = DataReference(Datastore(ws, "workspaceblobstore"), path_on_datastore="./data//a/")
    b = DataReference(blob, path_on_datastore="data/b")
    other_store = DataReference(Datastore(ws, "workspacefilestore"), path_on_datastore="data/a")
    assert a1.data_reference_name == a2.data_reference_name
    assert a1.data_reference_name.startswith("workspaceblobstore_")
    assert len({a1.data_reference_name, b.data_reference_name, other_store.data_reference_name}) == 3
    assert a1 == a2 and hash(a1) == hash(a2)


def test_explicit_name_and_normalised_path(blob: Datastore) -> None:
    ref = DataReference(blob, "raw", "a//b/./c/../d/", mode="download", path_on_compute="/mnt/x", overwrite=True)
    assert ref.data_reference_name == "raw"
    assert ref.path_on_datastore == "a/b/d"
    assert (ref.mode, ref.path_on_compute, ref.overwrite) == ("download", "/mnt/x", True)
    assert str(ref) == "$AZUREML_DATAREFERENCE_raw"


def test_reference_refuses_paths_that_escape(blob: Datastore, escapes: list[str]) -> None:
    for path in escapes:
        with pytest.raises(PathEscapeError) as info:
            DataReference(blob, path_on_datastore=path)
        assert info.value.path == path


def test_reference_needs_a_datastore_and_a_known_mode(blob: Datastore) -> None:
    with pytest.raises(ValueError, match="datastore"):
        DataReference(None)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="Invalid mode 'copy'") as info:
        DataReference(blob, "x", mode="copy")
    assert info.value.key == "mode"


def test_as_mode_returns_new_references(blob: Datastore) -> None:
    ref = DataReference(blob, "d", "data")
    down = ref.as_download("/mnt/in", overwrite=True)
    up = ref.as_upload(path_on_compute="out")
    mount = down.as_mount()
    assert ref.mode == "mount" and ref.path_on_compute is None  # unchanged
    assert (down.mode, down.path_on_compute, down.overwrite) == ("download", "/mnt/in", True)
    assert (up.mode, up.path_on_compute, up.overwrite) == ("upload", "out", False)
    assert (mount.mode, mount.path_on_compute) == ("mount", "/mnt/in")
    for derived in (down, up, mount):
        assert derived is not ref
        assert (derived.data_reference_name, derived.path_on_datastore) == ("d", "data")
    assert ref.as_download().as_mount() == ref


def test_path_joins_below_the_reference(blob: Datastore) -> None:
    base = DataReference(blob, "base", "data")
    child = base.path("raw/2024")
    assert child.path_on_datastore == "data/raw/2024"
    assert child.mode == "mount"
    assert child.data_reference_name == DataReference(blob, path_on_datastore="data/raw/2024").data_reference_name
    assert base.path("x", "named").data_reference_name == "named"
    assert base.path("../sibling").path_on_datastore == "sibling"  # still inside the datastore
    assert DataReference(blob).path("a").path_on_datastore == "a"


def test_path_without_a_path_keeps_this_one(blob: Datastore) -> None:
    base = DataReference(blob, "base", "data")
    assert base.path() is base
    assert base.path("/") is base
    renamed = base.path(None, "other")
    assert (renamed.path_on_datastore, renamed.data_reference_name) == ("data", "other")


def test_path_refuses_escapes_below_a_reference(blob: Datastore, escapes: list[str]) -> None:
    base = DataReference(blob, "base", "data")
    for path in ("../../x", "/etc", "../link"):
        with pytest.raises(PathEscapeError):
            base.path(path)
    for path in escapes:
        with pytest.raises(PathEscapeError):
            DataReference(blob).path(path)


def test_reference_round_trips_through_a_dict(ws: Workspace, blob: Datastore) -> None:
    ref = DataReference(blob, "raw", "data/raw").as_download("/mnt/raw", overwrite=True)
    d = ref.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d == {
        "datastore": "workspaceblobstore",
        "path_on_datastore": "data/raw",
        "data_reference_name": "raw",
        "mode": "download",
        "path_on_compute": "/mnt/raw",
        "overwrite": True,
    }
    assert DataReference.from_dict(ws, d) == ref
    with Workspace.get("test-ws") as again:  # another process would open the workspace afresh
        assert DataReference.from_dict(again, d).to_dict() == d


def test_reference_from_a_bad_dict(ws: Workspace) -> None:
    with pytest.raises(NotFoundError, match="Did you mean 'workspaceblobstore'"):
        DataReference.from_dict(ws, {"datastore": "workspaceblobstor"})
    with pytest.raises(ConfigurationError, match="needs 'datastore'"):
        DataReference.from_dict(ws, {"mode": "mount"})
    with pytest.raises(ConfigurationError, match="Unknown keys"):
        DataReference.from_dict(ws, {"datastore": "workspaceblobstore", "colour": "red"})
    with pytest.raises(PathEscapeError):
        DataReference.from_dict(ws, {"datastore": "workspaceblobstore", "path_on_datastore": "../x"})


def test_reference_copies_share_the_datastore(blob: Datastore) -> None:
    ref = DataReference(blob, "r", "data")
    clone = copy.deepcopy(ref)
    assert clone == ref and clone.datastore is blob


# -- DataPath and DataPathComputeBinding -----------------------------------------------------------


def test_data_path_basics(blob: Datastore) -> None:
    dp = DataPath(blob, "data/raw/")
    assert dp.datastore is blob
    assert dp.datastore_name == "workspaceblobstore"
    assert dp.path_on_datastore == "data/raw"
    assert dp.name == DataPath(blob, "data/raw").name  # stable, unlike SDK v1's random suffix
    assert dp.name.startswith("workspaceblobstore_")
    assert DataPath(blob, "data/raw", name="input").name == "input"
    assert DataPath(blob).path_on_datastore is None
    assert "data/raw" in repr(dp)


def test_data_path_validation(blob: Datastore, escapes: list[str]) -> None:
    with pytest.raises(ValueError, match="datastore parameter is required"):
        DataPath(path_on_datastore="x")
    for path in escapes:
        with pytest.raises(PathEscapeError):
            DataPath(blob, path)


def test_data_path_creates_references(blob: Datastore) -> None:
    dp = DataPath(blob, "data")
    binding = DataPathComputeBinding(mode="download", path_on_compute="/mnt/d", overwrite=True)
    ref = dp.create_data_reference("in", binding)
    assert isinstance(ref, DataReference)
    assert (ref.data_reference_name, ref.path_on_datastore, ref.mode) == ("in", "data", "download")
    assert (ref.path_on_compute, ref.overwrite) == ("/mnt/d", True)
    assert binding.create_data_reference("in", dp) == ref
    assert DataReference.create("in", dp, binding) == ref
    assert dp.create_data_reference(datapath_compute_binding=DataPathComputeBinding()).mode == "mount"
    with pytest.raises(ValueError, match="datapath_compute_binding is a required parameter"):
        dp.create_data_reference("in")
    with pytest.raises(ValueError, match="Expected DataPathComputeBinding"):
        dp.create_data_reference("in", "mount")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Expected DataPath"):
        binding.create_data_reference("in", None)
    with pytest.raises(ValueError, match="expected parameters"):
        DataReference.create("in", dp)


def test_from_data_reference(blob: Datastore) -> None:
    ref = DataReference(blob, "in", "data").as_download("/mnt/d", overwrite=True)
    dp = DataPath.create_from_data_reference(ref)
    binding = DataPathComputeBinding.create_from_data_reference(ref)
    assert (dp.datastore_name, dp.path_on_datastore) == ("workspaceblobstore", "data")
    assert binding == DataPathComputeBinding("download", "/mnt/d", True)
    assert dp.create_data_reference("in", binding) == ref
    with pytest.raises(ValueError, match="Expected DataReference"):
        DataPath.create_from_data_reference(dp)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Expected DataReference"):
        DataPathComputeBinding.create_from_data_reference(None)  # type: ignore[arg-type]


def test_binding_defaults_and_validation() -> None:
    binding = DataPathComputeBinding()
    assert (binding.mode, binding.path_on_compute, binding.overwrite) == ("mount", None, False)
    with pytest.raises(ConfigurationError, match="Invalid mode 'stream'"):
        DataPathComputeBinding(mode="stream")
    assert "mount" in repr(binding)


def test_data_path_and_binding_round_trip_through_dicts(ws: Workspace, blob: Datastore) -> None:
    dp = DataPath(blob, "data/raw", name="raw")
    binding = DataPathComputeBinding("download", "/mnt/raw", True)
    assert dp.to_dict() == {"datastore": "workspaceblobstore", "path_on_datastore": "data/raw", "name": "raw"}
    assert binding.to_dict() == {"mode": "download", "path_on_compute": "/mnt/raw", "overwrite": True}
    assert DataPath.from_dict(ws, json.loads(json.dumps(dp.to_dict()))) == dp
    assert DataPathComputeBinding.from_dict(ws, json.loads(json.dumps(binding.to_dict()))) == binding
    assert hash(DataPath.from_dict(ws, dp.to_dict())) == hash(dp)
    with pytest.raises(ConfigurationError, match="Unknown keys"):
        DataPathComputeBinding.from_dict(ws, {"mode": "mount", "extra": 1})
    with pytest.raises(NotFoundError):
        DataPath.from_dict(ws, {"datastore": "nope", "path_on_datastore": "x"})
