"""Read a tabular mini-batch into a pandas DataFrame with pyarrow (in a ParallelRunStep worker).

A delimited file's byte range ``[start, end)`` holds the lines that start inside it (the first
range after the header line): a line is read by exactly one mini-batch. ``end == -1`` is the whole
file. Quoted fields holding line breaks are not split correctly across ranges: use a
``mini_batch_size`` larger than such files, or Parquet. Parquet is split by row groups. Partition
columns (``partition_format``) are added as in ``to_pandas_dataframe()``.
"""

from __future__ import annotations

import io
from typing import Any

__all__ = ["read_tabular"]


def _read_range(path: str, start: int, end: int, header: bool) -> bytes:
    with open(path, "rb") as fh:
        first = fh.readline() if header else b""
        head_end = fh.tell()
        if end == -1:
            return first + fh.read()
        lo = max(start, head_end)
        if lo > 0:
            fh.seek(lo - 1)
            if fh.read(1) != b"\n":
                fh.readline()  # the line that started before the range belongs to the previous one
        at = fh.tell()
        if at >= end:
            return first
        body = fh.read(end - at)
        if body and not body.endswith(b"\n"):
            body += fh.readline()
        return first + body


def _delimited(item: dict[str, Any], reader: dict[str, Any]) -> Any:
    import pyarrow as pa
    import pyarrow.csv as pcsv

    header = reader.get("header", "all_files_same") != "no_header"
    data = _read_range(item["path"], item["start"], item["end"], header)
    read = pcsv.ReadOptions(autogenerate_column_names=not header, encoding=_encoding(reader.get("encoding") or "utf8"))
    parse = pcsv.ParseOptions(delimiter=reader.get("separator") or ",")
    convert = pcsv.ConvertOptions(strings_can_be_null=not reader.get("empty_as_string"))
    if not reader.get("infer_column_types", True):
        names = pcsv.read_csv(io.BytesIO(data.split(b"\n", 1)[0]), read_options=read, parse_options=parse).column_names
        convert = pcsv.ConvertOptions(column_types={n: pa.string() for n in names})
    if not data.strip():
        import pandas as pd

        return pd.DataFrame()
    table = pcsv.read_csv(io.BytesIO(data), read_options=read, parse_options=parse, convert_options=convert)
    if table.num_rows == 0 and not data.strip(b"\r\n").count(b"\n") and header:
        return table.to_pandas().iloc[0:0]
    return table.to_pandas()


def _encoding(name: str) -> str:
    return {"utf8": "utf8", "iso88591": "latin1", "latin1": "latin1", "ascii": "ascii"}.get(
        name.lower().replace("-", "").replace("_", ""), name
    )


def _parquet(item: dict[str, Any]) -> Any:
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(item["path"])
    groups = pf.metadata.num_row_groups
    if item["end"] == -1 or item["parts"] <= 1:
        return pf.read().to_pandas()
    part, parts = item["part"], item["parts"]
    chosen = list(range(part * groups // parts, (part + 1) * groups // parts))
    return pf.read_row_groups(chosen).to_pandas()


def read_tabular(items: list[dict[str, Any]], reader: dict[str, Any], partition: dict[str, Any] | None) -> Any:
    """The DataFrame of a tabular mini-batch (its items concatenated), with partition columns."""
    import pandas as pd

    frames = []
    for item in items:
        kind = reader.get("type", "delimited")
        if kind == "parquet":
            frame = _parquet(item)
        elif kind == "json_lines":
            frame = pd.read_json(io.BytesIO(_read_range(item["path"], item["start"], item["end"], False)), lines=True)
        else:
            frame = _delimited(item, reader)
        for key, value in (item.get("columns") or {}).items():
            frame[key] = value
        if reader.get("include_path"):
            frame["Path"] = item["path"]
        frames.append(frame)
    frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    return frame
