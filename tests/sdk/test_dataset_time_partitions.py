"""Time filters on a dataset partitioned by time read, and digest, only the files of the period."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from headwater import DataAccessError, Dataset, Workspace
from headwater.data.files import DataAccess
from headwater.data.partitions import needed_files
from headwater.engine.inputs import dataset_digest
from tests.conftest import gen


def _days(ws: Workspace) -> tuple[Any, Path]:
    store = ws.get_default_datastore()
    root = Path(store._backend.root)
    tree: dict[str, object] = {}
    for day in range(1, 6):
        rows = "\n".join(f"2026-03-0{day}T{h:02d}:00:00,{day * 10 + h}" for h in (1, 13))
        tree[f"0{day}"] = {"data.csv": f"ts,value\n{rows}\n"}
    gen(root / "events" / "2026" / "03", tree)
    ds = Dataset.Tabular.from_delimited_files(
        (store, "events/**/data.csv"), partition_format="events/{day:yyyy/MM/dd}/data.csv"
    ).with_timestamp_columns(timestamp="ts", partition_timestamp="day")
    return ds, root


def test_time_between_reads_only_the_partitions_of_the_period(ws: Workspace) -> None:
    ds, root = _days(ws)
    (root / "events" / "2026" / "03" / "05" / "data.csv").write_bytes(b'ts,value\n"unterminated\n')
    with pytest.raises(DataAccessError):  # reading every file fails on the damaged one ...
        ds.to_pandas_dataframe()
    # ... a period that does not hold it never reads it
    period = ds.time_between(datetime(2026, 3, 2), datetime(2026, 3, 3, 23, 59, 59), validate=False)
    df = period.to_pandas_dataframe()
    assert sorted(df["value"].tolist()) == [21, 31, 33, 43]  # 2 March 01:00 to 3 March 13:00
    assert sorted({d.day for d in df["day"]}) == [2, 3]
    morning = ds.time_after(datetime(2026, 3, 4), validate=False).time_before(datetime(2026, 3, 4, 12), validate=False)
    assert morning.to_pandas_dataframe()["value"].tolist() == [41]


def test_a_period_digest_ignores_the_files_of_other_periods(ws: Workspace) -> None:
    ds, root = _days(ws)
    period = ds.time_between(datetime(2026, 3, 2), datetime(2026, 3, 2, 23, 59, 59), validate=False)
    with DataAccess(ws) as access:
        before = dataset_digest(period._to_spec(), access)
        whole = dataset_digest(ds._to_spec(), access)
    gen(root / "events" / "2026" / "03", {"04": {"data.csv": "ts,value\n2026-03-04T02:00:00,99\n"}, "06": {}})
    (root / "events" / "2026" / "03" / "06" / "data.csv").write_text("ts,value\n2026-03-06T01:00:00,1\n")
    with DataAccess(ws) as access:
        assert dataset_digest(period._to_spec(), access) == before
        assert dataset_digest(ds._to_spec(), access) != whole
    (root / "events" / "2026" / "03" / "02" / "data.csv").write_text("ts,value\n2026-03-02T01:00:00,5\n")
    with DataAccess(ws) as access:
        assert dataset_digest(period._to_spec(), access) != before


def test_only_leading_filters_on_partition_columns_prune() -> None:
    files = ["p/2026/03/01/d.csv", "p/2026/03/02/d.csv", "other.csv"]
    fmt = "p/{day:yyyy/MM/dd}/d.csv"
    after = {"op": ">=", "column": "day", "value": {"$datetime": "2026-03-02T00:00:00"}}

    def keep(transformations: list[dict[str, Any]], **extra: Any) -> list[str]:
        definition = {"partition_format": fmt, "transformations": transformations, "reader": {}, **extra}
        return needed_files(definition, files, lambda f: f)

    assert keep([{"op": "filter", "expression": after}]) == ["p/2026/03/02/d.csv"]  # no partition: day is missing
    assert keep([{"op": "take", "count": 1}, {"op": "filter", "expression": after}]) == files
    on_value = {"op": ">", "column": "value", "value": 3}
    assert keep([{"op": "filter", "expression": {"op": "or", "args": [after, on_value]}}]) == files
    # as the row filter: a comparison with a missing value is false, so its negation is true
    assert keep([{"op": "filter", "expression": {"op": "not", "arg": after}}]) == ["p/2026/03/01/d.csv", "other.csv"]
    retyped = {"reader": {"set_column_types": {"day": "string"}}}
    assert keep([{"op": "filter", "expression": after}], **retyped) == files
    aware = {"op": ">=", "column": "day", "value": {"$datetime": "2026-03-02T00:00:00+00:00"}}
    assert keep([{"op": "filter", "expression": aware}]) == files[:2]  # naive partitions vs an aware bound: undecided


def test_take_and_the_time_filters_validation_read_only_the_first_files(ws: Workspace) -> None:
    ds, root = _days(ws)
    (root / "events" / "2026" / "03" / "05" / "data.csv").write_bytes(b'ts,value\n"unterminated\n')
    assert ds.take(3)._derive({"op": "skip", "count": 0}).to_pandas_dataframe()["value"].tolist() == [11, 23, 21]
    # validate=True (SDK v1's default) checks the timestamp columns on the first rows only
    period = ds.time_between(datetime(2026, 3, 2), datetime(2026, 3, 2, 23, 59, 59))
    assert period.to_pandas_dataframe()["value"].tolist() == [21, 33]
    with pytest.raises(DataAccessError):
        ds.take(9).to_pandas_dataframe()  # nine rows need the fifth file
