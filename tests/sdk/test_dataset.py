"""Datasets: definitions, ids, registration and lookup, change detection, step inputs."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

import headwater
from headwater import (
    DataAccessError,
    DataPath,
    Dataset,
    DatasetConsumptionConfig,
    DatasetDataChangedWarning,
    FileDataset,
    HeadwaterError,
    NotFoundError,
    TabularDataset,
    Workspace,
)
from headwater.errors import AlreadyExistsError, NotSupportedError
from headwater.plan import digests
from tests.conftest import gen


@pytest.fixture
def store(ws: Workspace) -> Any:
    return ws.get_default_datastore()


@pytest.fixture
def root(store: Any) -> Path:
    """The default datastore's folder, with a few CSV files."""
    base = Path(store._backend.root)
    gen(base, {"data": {"train": {"a.csv": "x,y\n1,2\n3,4\n", "b.csv": "x,y\n5,6\n"}}})
    return base


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the files whose bytes the digest code reads."""
    seen: list[str] = []
    real = digests._hash_file

    def spy(path: str, size: int) -> str:
        seen.append(Path(path).name)
        return real(path, size)

    monkeypatch.setattr(digests, "_hash_file", spy)
    return seen


# -- creation and identity -----------------------------------------------------------------------


def test_factories_are_class_attributes_and_make_the_right_kinds(store: Any, root: Path) -> None:
    assert Dataset.File.__name__ == "FileDatasetFactory"
    assert Dataset.Tabular.__name__ == "TabularDatasetFactory"
    files = Dataset.File.from_files((store, "data/train/*.csv"))
    table = Dataset.Tabular.from_delimited_files([(store, "data/train/a.csv")])
    assert isinstance(files, FileDataset) and isinstance(files, Dataset)
    assert isinstance(table, TabularDataset)
    assert files.name is None and files.version is None and files.tags == {} and files.description is None


def test_validate_names_the_path_and_the_datastore(store: Any, root: Path) -> None:
    with pytest.raises(DataAccessError) as info:
        Dataset.File.from_files([(store, "data/train/*.csv"), (store, "nope/*.parquet")])
    text = str(info.value)
    assert "'nope/*.parquet'" in text and "'workspaceblobstore'" in text and "validate=False" in text


def test_validate_false_accepts_missing_files_and_sees_them_later(store: Any, root: Path) -> None:
    ds = Dataset.File.from_files((store, "later/*.csv"), validate=False)
    assert ds.to_path() == []
    gen(root / "later", {"x.csv": "1"})
    assert ds.to_path() == ["/x.csv"]


def test_unknown_datastore_name_in_a_datapath_is_not_found(ws: Workspace, store: Any, root: Path) -> None:
    ds = Dataset.File.from_files(DataPath(store, "data/train"))
    assert ds.to_path() == ["/a.csv", "/b.csv"]
    with pytest.raises(NotFoundError, match=r"workspaceblobstor'.*Did you mean 'workspaceblobstore'"):
        Dataset.File.from_files([(store, "data"), "azureml://datastores/workspaceblobstor/paths/data"])


def test_azureml_uri_on_a_known_datastore(store: Any, root: Path) -> None:
    ds = Dataset.File.from_files(
        [(store, "data/train/a.csv"), "azureml://datastores/workspaceblobstore/paths/x/"], validate=False
    )
    assert ds._definition["sources"][1] == {"datastore": "workspaceblobstore", "path": "x"}


@pytest.mark.parametrize("bad", ["/tmp/local.csv", 42, [], ("only-a-name", "x.csv")])
def test_unreadable_path_arguments_are_value_errors(bad: object) -> None:
    with pytest.raises(ValueError) as info:
        Dataset.File.from_files(bad)
    assert isinstance(info.value, HeadwaterError)


def test_path_cannot_escape_the_datastore(store: Any, root: Path) -> None:
    with pytest.raises(DataAccessError, match="escapes"):
        Dataset.File.from_files((store, "../../metadata.db"))


def test_id_is_derived_from_the_definition(store: Any, root: Path) -> None:
    a = Dataset.Tabular.from_delimited_files((store, "data/train/*.csv"))
    b = Dataset.Tabular.from_delimited_files([(store, "/data/train/*.csv")])  # same definition, spelt differently
    c = Dataset.Tabular.from_delimited_files((store, "data/train/*.csv"), separator=";")
    assert a.id == b.id != c.id
    assert uuid.UUID(a.id).version == 5
    assert a.take(1).id == b.take(1).id != a.id
    assert Dataset.File.from_files((store, "data/train/*.csv")).id != a.id  # kind is part of the identity


def test_definition_is_plain_json(store: Any, root: Path) -> None:
    ds = Dataset.Tabular.from_delimited_files((store, "data/train/*.csv"), set_column_types={"x": int})
    ds = ds.filter((ds["x"] > 1) & (ds["y"] != "q")).take_sample(0.5, seed=3).keep_columns(["x"])
    spec = ds._to_spec()
    assert json.loads(json.dumps(spec)) == spec
    assert spec["definition"]["reader"]["set_column_types"] == {"x": "int"}
    assert [t["op"] for t in spec["definition"]["transformations"]] == ["filter", "take_sample", "keep_columns"]
    assert spec["definition"]["transformations"][0]["expression"] == {
        "op": "and",
        "args": [{"op": ">", "column": "x", "value": 1}, {"op": "!=", "column": "y", "value": "q"}],
    }


def test_transformations_return_new_datasets(store: Any, root: Path) -> None:
    ds = Dataset.File.from_files((store, "data/train"))
    taken = ds.take(1)
    assert ds._definition["transformations"] == [] and taken is not ds
    assert taken.to_path() == ["/a.csv"] and ds.skip(1).to_path() == ["/b.csv"]


# -- registration and lookup ---------------------------------------------------------------------


def test_register_versions_one_to_n_and_get_by_name(ws: Workspace, store: Any, root: Path) -> None:
    base = Dataset.File.from_files((store, "data/train"))
    v1 = base.register(ws, "train", description="first", tags={"k": "v"})
    v2 = base.take(1).register(ws, "train", create_new_version=True)
    v3 = base.skip(1).register(ws, "train", create_new_version=True)
    assert (v1.name, v1.version, v2.version, v3.version) == ("train", 1, 2, 3)
    assert v1.description == "first" and v1.tags == {"k": "v"}
    assert len({v1.id, v2.id, v3.id}) == 3
    assert Dataset.get_by_name(ws, "train").version == 3
    assert Dataset.get_by_name(ws, "train", version=2).to_path() == ["/a.csv"]
    assert Dataset.get_by_name(ws, "train", version="1").id == v1.id
    assert isinstance(Dataset.get_by_name(ws, "train"), FileDataset)
    assert set(ws.datasets) == {"train"} and ws.datasets["train"].version == 3


def test_reregistering_the_same_definition_returns_the_existing_version(ws: Workspace, store: Any, root: Path) -> None:
    ds = Dataset.File.from_files((store, "data/train"))
    first = ds.register(ws, "train")
    again = Dataset.File.from_files((store, "data/train")).register(ws, "train")
    same_data = ds.register(ws, "train", create_new_version=True)  # same definition and same data
    assert again.version == same_data.version == 1 and again.id == first.id
    gen(root / "data" / "train", {"c.csv": "x,y\n9,9\n"})
    new_data = ds.register(ws, "train", create_new_version=True)
    assert new_data.version == 2 and new_data.data_changed() == []


def test_another_definition_under_a_taken_name_needs_create_new_version(ws: Workspace, store: Any, root: Path) -> None:
    Dataset.File.from_files((store, "data/train")).register(ws, "train")
    with pytest.raises(AlreadyExistsError, match="create_new_version=True"):
        Dataset.File.from_files((store, "data/train/a.csv")).register(ws, "train")


def test_unknown_dataset_name_suggests_close_names(ws: Workspace, store: Any, root: Path) -> None:
    Dataset.File.from_files((store, "data/train")).register(ws, "training-data")
    with pytest.raises(NotFoundError) as info:
        Dataset.get_by_name(ws, "trainig-data")
    assert "'trainig-data'" in str(info.value) and "Did you mean 'training-data'" in str(info.value)


def test_unknown_version_lists_the_existing_ones(ws: Workspace, store: Any, root: Path) -> None:
    ds = Dataset.File.from_files((store, "data/train"))
    ds.register(ws, "train")
    ds.take(1).register(ws, "train", create_new_version=True)
    with pytest.raises(NotFoundError) as info:
        Dataset.get_by_name(ws, "train", version=7)
    assert "'train:7'" in str(info.value) and "1, 2" in str(info.value)
    with pytest.raises(ValueError, match="not a number"):
        Dataset.get_by_name(ws, "train", version="newest")


def test_get_by_id_finds_registered_and_saved_datasets(ws: Workspace, store: Any, root: Path) -> None:
    registered = Dataset.File.from_files((store, "data/train")).register(ws, "train")
    assert Dataset.get_by_id(ws, registered.id).version == 1
    unsaved = Dataset.Tabular.from_delimited_files((store, "data/train/*.csv")).take(1)
    with pytest.raises(NotFoundError):
        Dataset.get_by_id(ws, unsaved.id)
    saved = unsaved._ensure_saved(ws)
    assert saved.id == unsaved.id
    found = Dataset.get_by_id(ws, unsaved.id)
    assert isinstance(found, TabularDataset) and found.name is None
    assert len(found.to_pandas_dataframe()) == 1


def test_registration_records_file_and_content_digests(ws: Workspace, store: Any, root: Path) -> None:
    ds = Dataset.File.from_files((store, "data/train")).register(ws, "train")
    record = ws.metadata_store.get_dataset("train")
    assert record is not None and record.file_digests is not None
    assert set(record.file_digests) == {"data/train/a.csv", "data/train/b.csv"}
    assert record.file_digests["data/train/a.csv"] == digests.file_digest(root / "data/train/a.csv")
    assert record.digest == digests.tree_digest(record.file_digests)
    assert ds.id == record.id


# -- change detection ----------------------------------------------------------------------------


def test_data_changed_lists_modified_added_and_removed_files(ws: Workspace, store: Any, root: Path) -> None:
    ds = Dataset.Tabular.from_delimited_files((store, "data/train/*.csv")).register(ws, "train")
    assert ds.data_changed() == []
    (root / "data/train/a.csv").write_text("x,y\n1,2\n3,4\n5,6\n")
    assert ds.data_changed() == ["data/train/a.csv"]
    gen(root / "data/train", {"c.csv": "x,y\n0,0\n"})
    (root / "data/train/b.csv").unlink()
    assert ds.data_changed() == ["data/train/a.csv", "data/train/b.csv", "data/train/c.csv"]
    # another object for the same version sees the same thing
    assert Dataset.get_by_name(ws, "train", version=1).data_changed() == ds.data_changed()


def test_reading_a_changed_version_warns(ws: Workspace, store: Any, root: Path) -> None:
    ds = Dataset.Tabular.from_delimited_files((store, "data/train/*.csv")).register(ws, "train")
    assert len(ds.to_pandas_dataframe()) == 3  # unchanged: no warning (warnings are errors here)
    gen(root / "data/train", {"c.csv": "x,y\n7,8\n"})
    with pytest.warns(DatasetDataChangedWarning) as record:
        df = ds.to_pandas_dataframe()
    assert len(df) == 4
    warning = record[0].message
    assert isinstance(warning, DatasetDataChangedWarning)
    assert (warning.name, warning.version, warning.files) == ("train", 1, ["data/train/c.csv"])
    assert "'train' version 1" in str(warning) and "added data/train/c.csv" in str(warning)
    with pytest.warns(DatasetDataChangedWarning):  # transformations of a registered version still check
        ds.take(1).to_pandas_dataframe()


def test_file_dataset_reads_warn_too(ws: Workspace, store: Any, root: Path, tmp_path: Path) -> None:
    ds = Dataset.File.from_files((store, "data/train")).register(ws, "files")
    (root / "data/train/b.csv").write_text("changed")
    with pytest.warns(DatasetDataChangedWarning, match="modified data/train/b.csv"):
        ds.download(tmp_path / "dl")
    with pytest.warns(DatasetDataChangedWarning), ds.mount():
        pass


def test_change_check_is_a_stat_walk_when_nothing_changed(
    ws: Workspace, store: Any, root: Path, reads: list[str]
) -> None:
    ds = Dataset.File.from_files((store, "data/train")).register(ws, "train")
    assert sorted(reads) == ["a.csv", "b.csv"]  # hashed once, at registration
    assert ds.data_changed() == []
    ds.download(overwrite=True)
    assert sorted(reads) == ["a.csv", "b.csv"]  # no file was read again
    (root / "data/train/a.csv").write_text("x,y\n10,20\n30,40\n")
    assert ds.data_changed() == ["data/train/a.csv"]
    assert sorted(reads) == ["a.csv", "a.csv", "b.csv"]  # only the changed file


def test_workspace_digest_cache_location(ws: Workspace, store: Any, root: Path) -> None:
    Dataset.File.from_files((store, "data/train")).register(ws, "train")
    assert (ws.folder / "cache" / "digests.db").is_file()


def test_data_changed_needs_a_registered_dataset(store: Any, root: Path) -> None:
    with pytest.raises(ValueError, match="registered"):
        Dataset.File.from_files((store, "data/train")).data_changed()


def test_spec_round_trip_keeps_identity_and_the_change_check(ws: Workspace, store: Any, root: Path) -> None:
    ds = Dataset.Tabular.from_delimited_files((store, "data/train/*.csv")).register(ws, "train")
    spec = json.loads(json.dumps(ds._to_spec()))  # what a step process receives
    assert set(spec["file_digests"]) == {"data/train/a.csv", "data/train/b.csv"}
    again = Dataset._from_spec(spec, ws)
    assert isinstance(again, TabularDataset)
    assert (again.id, again.name, again.version) == (ds.id, "train", 1)
    gen(root / "data/train", {"c.csv": "x,y\n7,8\n"})
    with pytest.warns(DatasetDataChangedWarning) as caught:
        again.to_pandas_dataframe()
    warning = caught[0].message
    assert isinstance(warning, DatasetDataChangedWarning)
    copied = pickle.loads(pickle.dumps(warning))
    assert (copied.name, copied.files, str(copied)) == ("train", ["data/train/c.csv"], str(warning))


# -- step inputs ---------------------------------------------------------------------------------


def test_as_named_input_and_modes(store: Any, root: Path) -> None:
    ds = Dataset.File.from_files((store, "data/train"))
    direct = ds.as_named_input("raw_data")
    assert isinstance(direct, DatasetConsumptionConfig)
    assert (direct.name, direct.mode, direct.dataset) == ("raw_data", "direct", ds)
    mounted = direct.as_mount("/mnt/raw")
    assert (mounted.name, mounted.mode, mounted.path_on_compute) == ("raw_data", "mount", "/mnt/raw")
    assert direct.as_download().mode == "download" and direct.mode == "direct"
    with pytest.raises(NotSupportedError):
        direct.as_hdfs()


@pytest.mark.parametrize("name", ["1abc", "has-dash", "", "a b", None])
def test_input_names_must_be_identifiers(store: Any, root: Path, name: Any) -> None:
    ds = Dataset.File.from_files((store, "data/train"))
    with pytest.raises(ValueError, match="Invalid dataset input name") as info:
        ds.as_named_input(name)
    assert isinstance(info.value, HeadwaterError)


def test_tabular_inputs_are_direct_only(store: Any, root: Path) -> None:
    ds = Dataset.Tabular.from_delimited_files((store, "data/train/*.csv"))
    config = ds.as_named_input("table")
    assert config.mode == "direct"
    with pytest.raises(ValueError, match="'direct' mode"):
        config.as_mount()
    with pytest.raises(ValueError, match="'direct' mode"):
        DatasetConsumptionConfig("table", ds, mode="download")


def test_auto_input_names_are_stable(ws: Workspace, store: Any, root: Path) -> None:
    a = Dataset.File.from_files((store, "data/train")).as_mount()
    b = Dataset.File.from_files((store, "data/train")).as_download()
    assert a.name == b.name == "input__" + Dataset.File.from_files((store, "data/train")).id[:8]
    assert (a.mode, b.mode) == ("mount", "download")
    registered = Dataset.File.from_files((store, "data/train")).register(ws, "train")
    assert registered.as_mount().name == f"input__{registered.id[:8]}"


def test_consumption_config_resolves_workspace_name_tuples(ws: Workspace, store: Any, root: Path) -> None:
    ds = Dataset.File.from_files((store, "data/train"))
    ds.register(ws, "train")
    ds.take(1).register(ws, "train", create_new_version=True)
    assert DatasetConsumptionConfig("x", (ws, "train")).dataset.version == 2
    assert DatasetConsumptionConfig("x", (ws, "train", 1)).dataset.version == 1


# -- module hygiene ------------------------------------------------------------------------------


def test_exports() -> None:
    assert headwater.DatasetDataChangedWarning is DatasetDataChangedWarning
    assert issubclass(DatasetDataChangedWarning, UserWarning)
    assert headwater.DatasetConsumptionConfig is DatasetConsumptionConfig


def test_import_does_not_load_heavy_libraries() -> None:
    code = (
        "import sys, json\n"
        "import headwater.sdk.dataset, headwater.sdk.consumption\n"
        "print(json.dumps([m for m in ('pandas', 'pyarrow', 'fsspec', 'numpy', 'aiohttp') if m in sys.modules]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout) == []


def test_dataset_objects_hold_no_open_handles(ws: Workspace, store: Any, root: Path) -> None:
    ds = Dataset.Tabular.from_delimited_files((store, "data/train/*.csv")).register(ws, "t")
    ds.to_pandas_dataframe()
    held = [type(v).__name__ for v in vars(ds).values()]
    assert held == ["dict", "Workspace", "DatasetRecord", "_Baseline"]
