"""TabularDataset: readers (delimited, Parquet, JSON lines), types, bad rows, columns, filters, splits."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from headwater import DataAccessError, Dataset, Workspace
from tests.conftest import gen


@pytest.fixture
def store(ws: Workspace) -> Any:
    return ws.get_default_datastore()


@pytest.fixture
def root(store: Any) -> Path:
    base = Path(store._backend.root)
    gen(
        base,
        {
            "people": {
                "p1.csv": "name,age,city\nann,31,Oslo\nbob,45,Rome\n",
                "p2.csv": "name,age,city\ncid,28,Oslo\ndee,52,Lima\neve,19,Rome\n",
            }
        },
    )
    return base


def _people(store: Any, **kwargs: Any) -> Any:
    return Dataset.Tabular.from_delimited_files((store, "people/*.csv"), **kwargs)


# -- delimited files -----------------------------------------------------------------------------


def test_delimited_files_are_concatenated_in_path_order(store: Any, root: Path) -> None:
    df = _people(store).to_pandas_dataframe()
    assert df["name"].tolist() == ["ann", "bob", "cid", "dee", "eve"]
    assert df["age"].tolist() == [31, 45, 28, 52, 19]


def test_include_path_adds_a_path_column(store: Any, root: Path) -> None:
    df = _people(store, include_path=True).to_pandas_dataframe()
    assert df.columns[0] == "Path"
    assert df["Path"].tolist() == ["/p1.csv", "/p1.csv", "/p2.csv", "/p2.csv", "/p2.csv"]


def test_header_false_names_columns_like_sdk_v1(store: Any, root: Path) -> None:
    gen(root / "raw", {"r.tsv": "01\tx\n02\ty\n"})
    ds = Dataset.Tabular.from_delimited_files((store, "raw/r.tsv"), header=False, separator="\t")
    df = ds.to_pandas_dataframe()
    assert list(df.columns) == ["Column1", "Column2"] and df["Column2"].tolist() == ["x", "y"]
    assert df["Column1"].tolist() == [1, 2]
    typed = Dataset.Tabular.from_delimited_files(
        (store, "raw/r.tsv"), header=False, separator="\t", set_column_types={"Column1": "string"}
    )
    assert typed.to_pandas_dataframe()["Column1"].tolist() == ["01", "02"]


def test_only_first_file_has_headers(store: Any, root: Path) -> None:
    gen(root / "split", {"1.csv": "a,b\n1,2\n", "2.csv": "3,4\n"})
    df = Dataset.Tabular.from_delimited_files((store, "split"), header=1).to_pandas_dataframe()
    assert list(df.columns) == ["a", "b"] and df["a"].tolist() == [1, 3]


def test_set_column_types_and_on_error(store: Any, root: Path) -> None:
    gen(root / "typed", {"t.csv": "n,f,b,d,s\n1,1.5,yes,2024-01-02,007\nx,2,no,not a date,8\n"})
    types = {"n": "int", "f": float, "b": "bool", "d": "datetime", "s": str}
    ds = Dataset.Tabular.from_delimited_files((store, "typed/t.csv"), set_column_types=types)
    df = ds.to_pandas_dataframe()
    assert df["n"].tolist()[0] == 1 and pd.isna(df["n"].tolist()[1])  # 'x' is an error value: null
    assert df["f"].tolist() == [1.5, 2.0]
    assert df["b"].tolist() == [True, False]
    assert df["d"].tolist()[0] == pd.Timestamp("2024-01-02") and pd.isna(df["d"].tolist()[1])
    assert df["s"].tolist() == ["007", "8"]
    with pytest.raises(DataAccessError, match="Column 'n' cannot be converted to int"):
        ds.to_pandas_dataframe(on_error="fail")


def test_set_column_types_names_an_unknown_column(store: Any, root: Path) -> None:
    ds = _people(store, set_column_types={"agee": "int"})
    with pytest.raises(DataAccessError, match=r"'agee'.*Did you mean 'age'"):
        ds.to_pandas_dataframe()


def test_infer_column_types_false_keeps_strings(store: Any, root: Path) -> None:
    df = _people(store, infer_column_types=False).to_pandas_dataframe()
    assert df["age"].tolist() == ["31", "45", "28", "52", "19"]


def test_empty_as_string(store: Any, root: Path) -> None:
    gen(root / "gaps", {"g.csv": "a,b\nx,\n,y\n"})
    nulls = Dataset.Tabular.from_delimited_files((store, "gaps/g.csv")).to_pandas_dataframe()
    empties = Dataset.Tabular.from_delimited_files((store, "gaps/g.csv"), empty_as_string=True).to_pandas_dataframe()
    assert pd.isna(nulls["b"][0]) and empties["b"].tolist() == ["", "y"]


def test_encoding(store: Any, root: Path) -> None:
    gen(root / "enc", {"l.csv": "name\nJosé\n".encode("latin-1")})
    with pytest.raises(DataAccessError, match="encoding="):
        Dataset.Tabular.from_delimited_files((store, "enc/l.csv")).to_pandas_dataframe()
    df = Dataset.Tabular.from_delimited_files((store, "enc/l.csv"), encoding="iso88591").to_pandas_dataframe()
    assert df["name"].tolist() == ["José"]


def test_a_bad_row_names_the_file_and_the_line(store: Any, root: Path) -> None:
    gen(root / "bad", {"ok.csv": "a,b\n1,2\n", "broken.csv": "a,b\n1,2\n3,4,5\n6,7\n"})
    ds = Dataset.Tabular.from_delimited_files((store, "bad/*.csv"))
    with pytest.raises(DataAccessError) as info:
        ds.to_pandas_dataframe()
    err = info.value
    assert err.path == "bad/broken.csv"
    assert "'bad/broken.csv'" in str(err) and "line 3 has 3 fields where 2 were expected" in str(err)
    assert err.hint is not None and "separator" in err.hint


def test_partition_format_adds_columns(store: Any, root: Path) -> None:
    gen(
        root / "sales",
        {
            "north": {"2024": {"01": {"02": {"d.csv": "v\n1\n"}}}},
            "south": {"2023": {"12": {"31": {"d.csv": "v\n2\n"}}}},
        },
    )
    ds = Dataset.Tabular.from_delimited_files(
        (store, "sales/**/*.csv"), partition_format="/{region}/{day:yyyy/MM/dd}/d.csv"
    )
    assert ds.partition_keys == ["region", "day"]
    df = ds.to_pandas_dataframe()
    assert df["region"].tolist() == ["north", "south"]
    assert df["day"].tolist() == [datetime(2024, 1, 2), datetime(2023, 12, 31)]


# -- Parquet and JSON lines ----------------------------------------------------------------------


def test_parquet_files(store: Any, root: Path) -> None:
    (root / "pq").mkdir()
    pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}).to_parquet(root / "pq" / "1.parquet")
    pd.DataFrame({"a": [3], "b": ["z"]}).to_parquet(root / "pq" / "2.parquet")
    ds = Dataset.Tabular.from_parquet_files((store, "pq/*.parquet"), include_path=True, set_column_types={"a": "float"})
    df = ds.to_pandas_dataframe()
    assert df["a"].tolist() == [1.0, 2.0, 3.0] and df["b"].tolist() == ["x", "y", "z"]
    assert df["Path"].tolist() == ["/1.parquet", "/1.parquet", "/2.parquet"]


def test_not_parquet_is_a_data_access_error(store: Any, root: Path) -> None:
    with pytest.raises(DataAccessError, match="as Parquet"):
        Dataset.Tabular.from_parquet_files((store, "people/p1.csv")).to_pandas_dataframe()


def test_json_lines_files(store: Any, root: Path) -> None:
    (root / "jl").mkdir()
    pd.DataFrame({"id": [1, 2], "tag": ["a", "b"]}).to_json(root / "jl" / "1.jsonl", orient="records", lines=True)
    gen(root / "jl", {"2.jsonl": '{"id": 3, "tag": "c"}\n\n'})
    df = Dataset.Tabular.from_json_lines_files((store, "jl/*.jsonl")).to_pandas_dataframe()
    assert df["id"].tolist() == [1, 2, 3] and df["tag"].tolist() == ["a", "b", "c"]


def test_invalid_json_line_errors_or_is_dropped(store: Any, root: Path) -> None:
    gen(root / "jl", {"bad.jsonl": '{"id": 1}\n{"id": 2,\n[3]\n{"id": 4}\n'})
    with pytest.raises(DataAccessError, match=re.escape("'jl/bad.jsonl' on datastore 'workspaceblobstore': line 2")):
        Dataset.Tabular.from_json_lines_files((store, "jl/bad.jsonl")).to_pandas_dataframe()
    dropped = Dataset.Tabular.from_json_lines_files((store, "jl/bad.jsonl"), invalid_lines="drop")
    assert dropped.to_pandas_dataframe()["id"].tolist() == [1, 4]


# -- columns and filters -------------------------------------------------------------------------


def test_keep_and_drop_columns(store: Any, root: Path) -> None:
    ds = _people(store)
    assert list(ds.keep_columns(["name", "city"]).to_pandas_dataframe().columns) == ["name", "city"]
    assert list(ds.keep_columns("age").to_pandas_dataframe().columns) == ["age"]
    assert list(ds.drop_columns(["age", "no-such"]).to_pandas_dataframe().columns) == ["name", "city"]
    lazy = ds.keep_columns(["name", "citty"])  # not checked until read
    with pytest.raises(DataAccessError, match="Did you mean 'city'"):
        lazy.to_pandas_dataframe()
    with pytest.raises(DataAccessError):
        ds.keep_columns(["citty"], validate=True)


@pytest.mark.parametrize(
    ("build", "names"),
    [
        (lambda ds: ds["age"] > 30, ["ann", "bob", "dee"]),
        (lambda ds: ds["age"] >= 45, ["bob", "dee"]),
        (lambda ds: ds["age"] < 28, ["eve"]),
        (lambda ds: ds["age"] <= 28, ["cid", "eve"]),
        (lambda ds: ds["city"] == "Oslo", ["ann", "cid"]),
        (lambda ds: ds["city"] != "Oslo", ["bob", "dee", "eve"]),
        (lambda ds: (ds["city"] == "Rome") & (ds["age"] > 20), ["bob"]),
        (lambda ds: (ds["city"] == "Lima") | (ds["age"] < 20), ["dee", "eve"]),
        (lambda ds: ~(ds["city"] == "Oslo"), ["bob", "dee", "eve"]),
    ],
)
def test_filter(store: Any, root: Path, build: Any, names: list[str]) -> None:
    ds = _people(store)
    assert ds.filter(build(ds)).to_pandas_dataframe()["name"].tolist() == names


def test_filter_comparing_columns_and_datetimes(store: Any, root: Path) -> None:
    gen(root / "ev", {"e.csv": "lo,hi,at\n1,2,2024-01-01\n5,3,2024-06-01\n"})
    ds = Dataset.Tabular.from_delimited_files((store, "ev/e.csv"), set_column_types={"at": "datetime"})
    assert ds.filter(ds["hi"] > ds["lo"]).to_pandas_dataframe()["lo"].tolist() == [1]
    assert ds.filter(ds["at"] > datetime(2024, 3, 1)).to_pandas_dataframe()["lo"].tolist() == [5]


def test_filter_mistakes_are_explained(store: Any, root: Path) -> None:
    ds = _people(store)
    with pytest.raises(ValueError, match="& and \\|"):
        ds.filter(ds["age"] > 1 and ds["age"] < 5)
    with pytest.raises(DataAccessError, match="Did you mean 'age'"):
        ds.filter(ds["ages"] > 1).to_pandas_dataframe()
    with pytest.raises(DataAccessError, match="compare it with a value of that type"):
        ds.filter(ds["name"] > 3).to_pandas_dataframe()
    with pytest.raises(ValueError):
        ds.filter("age > 3")


# -- rows: take, skip, samples, splits -----------------------------------------------------------


def test_take_and_skip_rows_across_files(store: Any, root: Path) -> None:
    ds = _people(store)
    assert ds.take(3).to_pandas_dataframe()["name"].tolist() == ["ann", "bob", "cid"]
    assert ds.skip(3).to_pandas_dataframe()["name"].tolist() == ["dee", "eve"]
    assert ds.skip(1).take(2).to_pandas_dataframe()["name"].tolist() == ["bob", "cid"]


def test_random_split_partitions_rows_deterministically(store: Any, root: Path) -> None:
    gen(root / "rows", {"r.csv": "i\n" + "".join(f"{i}\n" for i in range(200))})
    ds = Dataset.Tabular.from_delimited_files((store, "rows/r.csv"))
    train, test = ds.random_split(0.8, seed=42)
    a = train.to_pandas_dataframe()["i"].tolist()
    b = test.to_pandas_dataframe()["i"].tolist()
    assert sorted(a + b) == list(range(200)) and not set(a) & set(b)
    assert 120 < len(a) < 190
    again, _ = ds.random_split(0.8, seed=42)
    assert again.to_pandas_dataframe()["i"].tolist() == a
    other, _ = ds.random_split(0.8, seed=43)
    assert other.to_pandas_dataframe()["i"].tolist() != a


def test_take_sample_rows(store: Any, root: Path) -> None:
    gen(root / "rows", {"r.csv": "i\n" + "".join(f"{i}\n" for i in range(100))})
    ds = Dataset.Tabular.from_delimited_files((store, "rows/r.csv"))
    sample = ds.take_sample(0.3, seed=1).to_pandas_dataframe()["i"].tolist()
    assert sample == ds.take_sample(0.3, seed=1).to_pandas_dataframe()["i"].tolist()
    assert 10 < len(sample) < 60 and sample == sorted(sample)
    assert ds.take_sample(0.0, seed=1).to_pandas_dataframe().empty
    with pytest.raises(ValueError):
        ds.take_sample(1.5)


def test_a_missing_path_fails_the_read(store: Any, root: Path) -> None:
    ds = Dataset.Tabular.from_delimited_files([(store, "people/p1.csv"), (store, "none/*.csv")], validate=False)
    with pytest.raises(DataAccessError, match=re.escape("'none/*.csv' on datastore 'workspaceblobstore'")):
        ds.to_pandas_dataframe()
