"""ParallelRunStep mini-batches: files by count, tables by size within files, partitions; ranges read back."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from headwater.runtime.parallel_batches import (
    file_batches,
    list_files,
    partition_batches,
    partition_values,
    tabular_batches,
)
from headwater.runtime.parallel_read import read_tabular
from tests.conftest import gen

CSV = {"type": "delimited", "separator": ",", "header": "all_files_same", "encoding": "utf8"}


def test_file_batches_by_count(tmp_path: Path) -> None:
    gen(tmp_path, {f"f{i:02d}.txt": str(i) for i in range(23)})
    files = [p for p, _ in list_files(str(tmp_path))]
    batches = file_batches(files, 10)
    assert [len(b["items"]) for b in batches] == [10, 10, 3]
    assert [b["index"] for b in batches] == [0, 1, 2]
    assert [f for b in batches for f in b["items"]] == files


def _csv(rows: range) -> str:
    return "id,value\n" + "".join(f"{i},{i * 10}\n" for i in rows)


def test_tabular_batches_never_cross_files_and_read_every_row_once(tmp_path: Path) -> None:
    gen(tmp_path, {"a.csv": _csv(range(0, 500)), "b.csv": _csv(range(500, 520))})
    files = [p for p, _ in list_files(str(tmp_path))]
    size = 1024
    batches = tabular_batches(files, size, CSV)
    a_size = (tmp_path / "a.csv").stat().st_size
    assert len([b for b in batches if b["items"][0]["path"].endswith("a.csv")]) == -(-a_size // size)
    assert len([b for b in batches if b["items"][0]["path"].endswith("b.csv")]) == 1
    assert all(len(b["items"]) == 1 for b in batches)  # one file's range each
    frames = [read_tabular(b["items"], CSV, None) for b in batches]
    assert all(list(f.columns) == ["id", "value"] for f in frames)
    ids = pd.concat(frames)["id"].tolist()
    assert ids == list(range(520))  # every row once, in order
    assert all(0 < len(f) < 150 for f in frames)  # about 1 KB of ~9-byte rows each


def test_size_larger_than_a_file_gives_the_whole_file(tmp_path: Path) -> None:
    gen(tmp_path, {"a.csv": _csv(range(10))})
    batches = tabular_batches([str(tmp_path / "a.csv")], 10 * 1024**2, CSV)
    assert len(batches) == 1
    assert read_tabular(batches[0]["items"], CSV, None)["value"].tolist() == [i * 10 for i in range(10)]


def test_parquet_is_split_by_row_groups(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"x": list(range(1000))})
    pq.write_table(table, tmp_path / "t.parquet", row_group_size=100)
    reader = {"type": "parquet"}
    batches = tabular_batches([str(tmp_path / "t.parquet")], 1024, reader)
    assert 1 < len(batches) <= 10
    xs = pd.concat(read_tabular(b["items"], reader, None) for b in batches)["x"].tolist()
    assert xs == list(range(1000))


def test_partition_batches_group_by_the_keys(tmp_path: Path) -> None:
    gen(
        tmp_path,
        {
            "us": {"1": {"a.txt": "x"}, "2": {"b.txt": "x"}},
            "fr": {"1": {"c.txt": "x", "d.txt": "x"}},
        },
    )
    files = list_files(str(tmp_path))
    assert partition_values("{country}/{day}/*.txt", "us/1/a.txt") == {"country": "us", "day": "1"}
    batches = partition_batches([("in", files, "{country}/{day}/*.txt")], ["country"], "file")
    assert [b["partition"] for b in batches] == [{"country": "fr"}, {"country": "us"}]
    assert [len(b["items"]) for b in batches] == [2, 2]
    by_day = partition_batches([("in", files, "/{country}/{day}/*.txt")], ["country", "day"], "file")
    assert len(by_day) == 3


def test_partition_keys_need_a_partitioned_dataset(tmp_path: Path) -> None:
    import pytest

    with pytest.raises(ValueError, match="not a partitioned dataset"):
        partition_batches([("in", [], None)], ["a"], "file")
    with pytest.raises(ValueError, match=r"\['b'\] are not keys"):
        partition_batches([("in", [], "{a}/*.txt")], ["b"], "file")
