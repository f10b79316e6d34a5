"""SDK v1's dataset API through the azureml layer: register_pandas_dataframe, upload_directory, registration
metadata, time series, partitioning, conversions and the deprecated ``azureml.core.dataset.Dataset`` members."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from headwater import Workspace
from headwater.errors import HeadwaterError, NotSupportedError
from tests.conftest import gen

pytestmark = pytest.mark.usefixtures("azureml_on")


@pytest.fixture
def datastore(ws: Workspace) -> Any:
    return ws.get_default_datastore()


@pytest.fixture
def events(datastore: Any) -> Any:
    """A registered-able CSV of timestamped events."""
    root = Path(datastore._backend.root)
    rows = ["when,country,n", *(f"2024-01-0{d} 12:00:00,{'US' if d % 2 else 'FR'},{d}" for d in range(1, 6))]
    gen(root, {"events": {"e.csv": "\n".join(rows) + "\n"}})
    return datastore


# -- 1. what pipeline code uses ------------------------------------------------------------------


def test_register_pandas_dataframe_writes_parquet_to_the_target_and_registers(ws: Workspace, datastore: Any) -> None:
    from azureml.core import Dataset
    from azureml.data.datapath import DataPath

    df = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]}, index=[7, 8, 9])
    ds = Dataset.Tabular.register_pandas_dataframe(df, (datastore, "frames"), "frame", description="d", tags={"k": 1})
    assert (ds.name, ds.version, ds.description, ds.tags) == ("frame", 1, "d", {"k": 1})
    written = sorted(
        p.relative_to(datastore._backend.root).as_posix() for p in Path(datastore._backend.root).rglob("*.parquet")
    )
    assert len(written) == 1 and written[0].startswith("frames/") and written[0].endswith("/dataframe.parquet")
    pd.testing.assert_frame_equal(Dataset.get_by_name(ws, "frame").to_pandas_dataframe(), df.reset_index(drop=True))
    again = Dataset.Tabular.register_pandas_dataframe(
        df.head(1), DataPath(datastore, "fixed"), "frame", show_progress=False, make_target_path_unique=False
    )
    assert again.version == 2 and (Path(datastore._backend.root) / "fixed" / "dataframe.parquet").is_file()
    assert len(again.to_pandas_dataframe()) == 1


def test_upload_directory_uploads_matching_files_and_returns_a_file_dataset(datastore: Any, tmp_path: Path) -> None:
    from azureml.core import Dataset

    src = gen(tmp_path / "src", {"a.csv": "x\n1\n", "sub": {"b.csv": "x\n2\n"}, "notes.txt": "skip me"})
    ds = Dataset.File.upload_directory(str(src), (datastore, "up"), pattern="*.csv", show_progress=False)
    assert sorted(ds.to_path()) == ["/a.csv", "/sub/b.csv"]
    assert not (Path(datastore._backend.root) / "up" / "notes.txt").exists()
    everything = Dataset.File.upload_directory(str(src), (datastore, "all"), show_progress=False)
    assert len(everything.to_path()) == 3


def test_registration_metadata_update_add_remove_tags_and_unregister(ws: Workspace, events: Any) -> None:
    from azureml.core import Dataset
    from azureml.data import TabularDataset

    ds = Dataset.Tabular.from_delimited_files((events, "events/e.csv")).register(ws, "ev", tags={"a": "1"})
    updated = ds.update(description="events")
    assert isinstance(updated, TabularDataset)
    assert Dataset.get_by_name(ws, "ev").description == "events" and ds.description == "events"
    ds.add_tags({"b": "2"})
    assert Dataset.get_by_name(ws, "ev").tags == {"a": "1", "b": "2"}
    with pytest.raises(HeadwaterError, match="different values"):
        ds.add_tags({"a": "other"})
    ds.remove_tags(["a"])
    assert Dataset.get_by_name(ws, "ev").tags == {"b": "2"}
    assert set(Dataset.get_all(ws)) == {"ev"}
    data_id = ds.id
    ds.unregister_all_versions()
    assert dict(Dataset.get_all(ws)) == {}
    assert Dataset.get_by_id(ws, data_id).to_pandas_dataframe().shape == (5, 3)  # runs still find it
    with pytest.raises(HeadwaterError, match="must be registered"):
        Dataset.Tabular.from_delimited_files((events, "events/e.csv")).update(description="x")


def test_data_changed_time_and_partition_key_values(events: Any) -> None:
    from azureml.core import Dataset

    root = Path(events._backend.root)
    gen(root, {"p": {"US": {"2024": {"x.csv": "n\n1\n"}}, "FR": {"2025": {"x.csv": "n\n2\n"}}}})
    ds = Dataset.File.from_files((events, "p/**/*.csv"), partition_format="p/{country}/{year}/x.csv")
    assert ds.get_partition_key_values() == [{"country": "FR", "year": "2025"}, {"country": "US", "year": "2024"}]
    assert ds.get_partition_key_values(["country"]) == [{"country": "FR"}, {"country": "US"}]
    with pytest.raises(HeadwaterError, match="invalid partition keys"):
        ds.get_partition_key_values(["nope"])
    changed = ds.data_changed_time
    assert isinstance(changed, datetime)
    expected = max((root / "p").rglob("x.csv"), key=lambda p: p.stat().st_mtime).stat().st_mtime
    assert changed.timestamp() == pytest.approx(expected)


def test_time_filters_on_timestamp_columns_with_sdk_v1_boundaries(events: Any) -> None:
    from azureml.core import Dataset

    ds = Dataset.Tabular.from_delimited_files((events, "events/e.csv"), set_column_types={"when": "datetime"})
    with pytest.raises(HeadwaterError, match="with_timestamp_columns"):
        ds.time_after(datetime(2024, 1, 1))
    ts = ds.with_timestamp_columns(timestamp="when", validate=True)
    assert ts.timestamp_columns == ("when", None) and ds.timestamp_columns == (None, None)
    noon = datetime(2024, 1, 3, 12)

    def days(d: Any) -> list[int]:
        return list(d.to_pandas_dataframe()["n"])

    assert days(ts.time_after(noon)) == [3, 4, 5]
    assert days(ts.time_after(noon, include_boundary=False)) == [4, 5]
    assert days(ts.time_before(noon)) == [1, 2, 3]
    assert days(ts.time_before(noon.replace(microsecond=400000), include_boundary=False)) == [1, 2]
    assert days(ts.time_before(noon - timedelta(microseconds=1), include_boundary=False)) == [1, 2]  # rounded up
    assert days(ts.time_between(datetime(2024, 1, 2), datetime(2024, 1, 4, 12))) == [2, 3, 4]
    assert days(ts.time_recent(datetime.now() - datetime(2024, 1, 4))) == [4, 5]
    assert ts.with_timestamp_columns(None).timestamp_columns == (None, None)
    with pytest.raises(HeadwaterError, match="only if timestamp"):
        ds.with_timestamp_columns(partition_timestamp="when")


def test_partition_by_writes_one_folder_per_key_and_registers(ws: Workspace, events: Any) -> None:
    from azureml.core import Dataset

    ds = Dataset.Tabular.from_delimited_files((events, "events/e.csv"))
    parted = ds.partition_by(["country"], (events, "parted"), name="by_country", show_progress=False)
    assert (parted.name, parted.partition_keys) == ("by_country", ["country"])
    folders = sorted(p.parent.name for p in Path(events._backend.root, "parted").rglob("*.parquet"))
    assert folders == ["FR", "US"]
    df = parted.to_pandas_dataframe().sort_values("n").reset_index(drop=True)
    assert list(df["n"]) == [1, 2, 3, 4, 5] and list(df["country"]) == ["US", "FR", "US", "FR", "US"]
    assert parted.get_partition_key_values() == [{"country": "FR"}, {"country": "US"}]
    files = ds.partition_by("country", (events, "parted_files"), partition_as_file_dataset=True, show_progress=False)
    assert len(files.to_path()) == 2 and files.name is None
    with pytest.raises(HeadwaterError, match="invalid partition keys"):
        ds.partition_by(["nope"], (events, "x"), show_progress=False)


def test_to_csv_and_parquet_files_materialise_file_datasets(events: Any, tmp_path: Path) -> None:
    from azureml.core import Dataset
    from azureml.data import FileDataset

    ds = Dataset.Tabular.from_delimited_files((events, "events/e.csv")).take(2)
    csv = ds.to_csv_files(separator=";")
    assert isinstance(csv, FileDataset)
    [path] = csv.download(str(tmp_path / "csv"))
    assert Path(path).read_text().splitlines()[0] == "when;country;n"
    [parquet] = ds.to_parquet_files().download(str(tmp_path / "parquet"))
    assert list(pd.read_parquet(parquet)["n"]) == [1, 2]


def test_azure_only_members_say_what_to_do_instead(events: Any) -> None:
    from azureml.core import Dataset

    table = Dataset.Tabular.from_delimited_files((events, "events/e.csv"))
    files = Dataset.File.from_files((events, "events"))
    for call, member in [
        (lambda: table.download("image"), "TabularDataset.download"),
        (lambda: table.mount("image"), "TabularDataset.mount"),
        (table.to_spark_dataframe, "TabularDataset.to_spark_dataframe"),
        (table.to_dask_dataframe, "TabularDataset.to_dask_dataframe"),
        (lambda: files.as_hdfs(), "FileDataset.as_hdfs"),
        (lambda: files.hydrate(None), "FileDataset.hydrate"),
        (lambda: Dataset.Tabular.from_sql_query("select 1"), "from_sql_query"),
        (lambda: Dataset.Tabular.register_spark_dataframe(None, None, "x"), "register_spark_dataframe"),
        (lambda: table.archive(), "Dataset.archive"),
        (lambda: table.create_snapshot("s"), "Dataset.create_snapshot"),
    ]:
        with pytest.raises(NotSupportedError, match=member):
            call()


# -- 2. the deprecated azureml.core.dataset.Dataset members ----------------------------------------


def test_deprecated_dataset_factories_lookups_and_reads(ws: Workspace, events: Any) -> None:
    from azureml.core import Dataset
    from azureml.core.dataset import FileEncoding, PromoteHeadersBehavior
    from azureml.data import FileDataset, TabularDataset

    table = Dataset.from_delimited_files(
        (events, "events/e.csv"), header=PromoteHeadersBehavior.ALL_FILES_HAVE_SAME_HEADERS, encoding=FileEncoding.UTF8
    )
    assert isinstance(table, TabularDataset)
    assert list(table.head(2)["n"]) == [1, 2]
    assert list(table.sample("top_n", {"n": 1}).to_pandas_dataframe()["n"]) == [1]
    assert isinstance(Dataset.from_binary_files((events, "events/e.csv")), FileDataset)
    assert isinstance(Dataset.auto_read_files((events, "events/e.csv")), TabularDataset)
    registered = table.register(ws, "legacy", "a description", {"t": "1"}, True)  # visible, positionally
    assert (registered.name, registered.description, registered.is_visible, registered.state) == (
        "legacy",
        "a description",
        True,
        "active",
    )
    assert Dataset.get(ws, name="legacy").id == registered.id == Dataset.get(ws, id=registered.id).id
    assert [d.name for d in Dataset.list(ws)] == ["legacy"]
    assert registered.definition_version == "1" and registered.get_definitions() == {"1": registered.definition}
    assert registered.get_definition() == registered.definition and registered.workspace is ws
    assert registered.update(description="new").description == "new"
    df = pd.DataFrame({"q": [1, 2]})
    from_frame = Dataset.from_pandas_dataframe(df, events.path("frames"))
    assert list(from_frame.to_pandas_dataframe()["q"]) == [1, 2]
    with pytest.raises(HeadwaterError, match="datastore folder"):
        Dataset.from_pandas_dataframe(df)


def test_dataset_constructor_takes_sdk_v1_arguments(ws: Workspace, events: Any) -> None:
    from azureml.core import Dataset
    from azureml.data import TabularDataset

    table = Dataset.Tabular.from_delimited_files((events, "events/e.csv")).register(ws, "ctor")
    by_name = Dataset(None, ws, name="ctor")
    assert isinstance(by_name, TabularDataset) and by_name.id == table.id
    copied = Dataset(table.definition, ws)
    assert isinstance(copied, TabularDataset) and len(copied.to_pandas_dataframe()) == 5


def test_file_dataset_filter_on_file_metadata(events: Any) -> None:
    from azureml.core import Dataset

    root = Path(events._backend.root)
    gen(root, {"mixed": {"big.csv": "x\n" + "1\n" * 500, "small.csv": "x\n1\n", "pic.jpg": "not really"}})
    ds = Dataset.File.from_files((events, "mixed"))
    csv = ds.filter(ds.file_metadata("Extension") == "csv")
    assert sorted(csv.to_path()) == ["/big.csv", "/small.csv"]
    assert csv.filter(csv.file_metadata("Size") > 100).to_path() == ["/big.csv"]
    recent = ds.filter(ds.file_metadata("LastModifiedTime") >= datetime(2000, 1, 1)).take(1)
    assert len(recent.to_path()) == 1
    both = ds.filter((ds.file_metadata("Size") < 100) & (ds.file_metadata("CanSeek") == True))  # noqa: E712
    assert sorted(both.to_path()) == ["/pic.jpg", "/small.csv"]
    with pytest.raises(HeadwaterError, match="not a file metadata column"):
        ds.file_metadata("Colour")


STEP = """
import os, sys
from azureml.core import Run

run = Run.get_context()
run.log("files", ",".join(sorted(os.listdir(sys.argv[1]))))
"""


@pytest.mark.slow
def test_a_filtered_file_dataset_reaches_a_step_filtered(pws: Workspace, tmp_path: Path) -> None:
    from azureml.core import Dataset, Experiment
    from azureml.pipeline.core import Pipeline
    from azureml.pipeline.steps import PythonScriptStep

    store = pws.get_default_datastore()
    gen(Path(store._backend.root), {"mixed": {"a.csv": "x\n1\n", "b.txt": "t\n"}})
    src = gen(tmp_path / "src", {"step.py": STEP})
    ds = Dataset.File.from_files((store, "mixed"))
    only_csv = ds.filter(ds.file_metadata("Extension") == "csv")
    step = PythonScriptStep(
        "step.py", name="list", source_directory=str(src), arguments=[only_csv.as_named_input("d").as_download()]
    )
    run = Experiment(pws, "filtered").submit(Pipeline(pws, steps=[step]))
    assert run.wait_for_completion(show_output=False) == "Finished"
    assert run.find_step_run("list")[0].get_metrics()["files"] == "a.csv"


# -- 3. signatures as SDK v1 has them -------------------------------------------------------------


def test_dataset_register_takes_sdk_v1_positional_order(ws: Workspace, events: Any) -> None:
    from azureml.core import Dataset

    table = Dataset.Tabular.from_delimited_files((events, "events/e.csv"))
    first = Dataset.register(table, ws, "pos", None, None, False)  # SDK v1: (..., tags, visible, exist_ok, ...)
    other = Dataset.Tabular.from_delimited_files((events, "events/e.csv")).take(1)
    assert Dataset.register(other, ws, "pos", None, None, True, True).version == first.version == 1  # exist_ok
    assert Dataset.register(other, ws, "pos", None, None, True, False, True).version == 2  # update_if_exist


def test_abstract_dataset_has_the_factories_and_sdk_v1_enums_and_references(ws: Workspace) -> None:
    from azureml.core.runconfig import Dataset as RunConfigDataset
    from azureml.data.abstract_dataset import AbstractDataset
    from azureml.data.dataset_factory import DataType, FileDatasetFactory, TabularDatasetFactory
    from azureml.data.dataset_type_definitions import FileEncoding, SkipLinesBehavior

    assert AbstractDataset.File is FileDatasetFactory and AbstractDataset.Tabular is TabularDatasetFactory
    assert FileEncoding(6) is FileEncoding.UTF8BOM and SkipLinesBehavior.NO_ROWS.value == 0
    ref = RunConfigDataset(dataset_name="ev", dataset_version="2")
    assert (ref.id, ref.name, ref.version) == (None, "ev", "2")
    assert DataType.to_float(".") == DataType.to_float() == "float"


def test_deprecated_members_delegate_or_name_the_replacement(ws: Workspace, events: Any) -> None:
    from azureml.core import Dataset

    parquet_root = Path(events._backend.root) / "pq"
    parquet_root.mkdir()
    pd.DataFrame({"v": [1, 2, 3]}).to_parquet(parquet_root / "a.parquet")
    table = Dataset.from_parquet_files((events, "pq/a.parquet"))
    assert list(table.to_pandas_dataframe()["v"]) == [1, 2, 3]
    assert len(table.sample("simple_random", {"probability": 1.0, "seed": 1}).to_pandas_dataframe()) == 3
    with pytest.raises(NotSupportedError, match="stratified"):
        table.sample("stratified", {})
    v1 = table.register(ws, "pq")
    Dataset.Tabular.from_parquet_files((events, "pq/a.parquet")).take(1).register(ws, "pq", create_new_version=True)
    assert v1.get_definition("2")["transformations"] == [{"op": "take", "count": 1}]
    assert v1.get_definition() == v1.get_definition("2") and set(v1.get_definitions()) == {"1", "2"}
    with pytest.raises(HeadwaterError, match="FileDataset"):
        Dataset.from_binary_files((events, "pq")).to_pandas_dataframe()
    for call, member in [
        (lambda: Dataset.from_json_files((events, "x.json")), "from_json_files"),
        (lambda: Dataset.from_excel_files((events, "x.xlsx")), "from_excel_files"),
        (lambda: Dataset.update(v1, name="renamed"), "update"),
        (lambda: v1.get_profile(), "get_profile"),
        (lambda: v1.deprecate("id"), "deprecate"),
    ]:
        with pytest.raises(NotSupportedError, match=member):
            call()
