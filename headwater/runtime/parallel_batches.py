"""A ParallelRunStep's mini-batches (stdlib only; the driver plans them without reading the data).

- FileDataset: ``mini_batch_size`` files per mini-batch, in path order.
- TabularDataset: about ``mini_batch_size`` bytes per mini-batch, never crossing a file: a file
  of S bytes is split into ceil(S / size) byte ranges; a range holds the lines that *start* in it
  (:mod:`headwater.runtime.parallel_read` reads them), a Parquet file is split by row groups.
- ``partition_keys``: one mini-batch per distinct value of the keys, taken from each file's path
  by the dataset's ``partition_format``.

A mini-batch is a JSON-able dict: ``{"index", "kind": "file"|"tabular", "items": [...],
"partition": {key: value} | None}``; a tabular item is ``{"path", "start", "end", "part", "parts"}``.
"""

from __future__ import annotations

import math
import os
import re
from typing import Any

__all__ = [
    "describe",
    "failed_items",
    "file_batches",
    "list_files",
    "parse_size",
    "partition_batches",
    "partition_values",
    "tabular_batches",
]

_PART = re.compile(r"\{(\w+)(?::([^}]*))?\}")


def list_files(root: str) -> list[tuple[str, str]]:
    """``(path, path relative to root)`` of every file under ``root`` (``root`` itself if a file), sorted."""
    if os.path.isfile(root):
        return [(root, os.path.basename(root))]
    found = []
    for folder, dirs, files in os.walk(root, followlinks=True):
        dirs.sort()
        for name in files:
            path = os.path.join(folder, name)
            found.append((path, os.path.relpath(path, root).replace(os.sep, "/")))
    found.sort(key=lambda f: f[1])
    return found


def file_batches(files: list[str], per_batch: int, start: int = 0) -> list[dict[str, Any]]:
    """FileDataset mini-batches: ``per_batch`` paths each."""
    per_batch = max(1, int(per_batch))
    return [
        {"index": start + n, "kind": "file", "items": files[i : i + per_batch], "partition": None}
        for n, i in enumerate(range(0, len(files), per_batch))
    ]


def tabular_batches(files: list[str], size: int, reader: dict[str, Any], start: int = 0) -> list[dict[str, Any]]:
    """TabularDataset mini-batches of about ``size`` bytes, each within one file."""
    size = max(1, int(size))
    batches: list[dict[str, Any]] = []
    for path in files:
        length = os.path.getsize(path)
        if reader.get("type") == "parquet":
            parts = _parquet_parts(path, length, size)
            ranges = [(p, p + 1) for p in range(parts)]
        else:
            parts = max(1, math.ceil(length / size))
            ranges = [(p * size, min(length, (p + 1) * size)) for p in range(parts)]
        for part, (lo, hi) in enumerate(ranges):
            item = {"path": path, "start": lo, "end": hi, "part": part, "parts": parts}
            batches.append({"index": start + len(batches), "kind": "tabular", "items": [item], "partition": None})
    return batches


def _parquet_parts(path: str, length: int, size: int) -> int:
    """How many row-group ranges a Parquet file is split into (1 when it has one row group)."""
    import pyarrow.parquet as pq  # only for Parquet inputs: the step environment has it then

    groups = pq.ParquetFile(path).metadata.num_row_groups
    return max(1, min(groups, math.ceil(length / size)))


def _compile(fmt: str) -> tuple[Any, list[str]]:
    pattern, keys, pos = [], [], 0
    for m in _PART.finditer(fmt):
        pattern.append(_literal(fmt[pos : m.start()]))
        keys.append(m.group(1))
        pattern.append("(?P<{}>{})".format(m.group(1), ".+?" if m.group(2) else "[^/]+"))
        pos = m.end()
    pattern.append(_literal(fmt[pos:]))
    return re.compile("/" + "".join(pattern) + "$"), keys


def _literal(text: str) -> str:
    parts = (re.escape(p).replace(r"\?", "[^/]").replace(r"\*", "[^/]*") for p in text.split("**"))
    return ".*".join(parts)


def partition_values(fmt: str, relative: str) -> dict[str, str] | None:
    """The partition values in a file's path (matched at its end), None when it does not match."""
    regex, keys = _compile(fmt.lstrip("/"))
    m = regex.search("/" + relative.lstrip("/"))
    return None if m is None else {k: m.group(k) for k in keys}


def partition_batches(
    inputs: list[tuple[str, list[tuple[str, str]], str | None]], keys: list[str], kind: str
) -> list[dict[str, Any]]:
    """One mini-batch per distinct value of ``keys`` over all inputs (``(name, files, partition_format)``).

    Raises ValueError when an input has no ``partition_format`` or it lacks one of the keys.
    """
    groups: dict[tuple[str, ...], list[Any]] = {}
    for name, files, fmt in inputs:
        if not fmt:
            raise ValueError(
                f"Input {name!r} is not a partitioned dataset: partition_keys need datasets created with "
                "partition_format=... (or partitioned with partition_by)."
            )
        missing = [k for k in keys if k not in _compile(fmt.lstrip("/"))[1]]
        if missing:
            raise ValueError(f"partition_keys {missing} are not keys of input {name!r} (partition_format {fmt!r}).")
        for path, rel in files:
            values = partition_values(fmt, rel)
            if values is None:
                continue
            key = tuple(values[k] for k in keys)
            item: Any = path if kind == "file" else {"path": path, "start": 0, "end": -1, "part": 0, "parts": 1}
            groups.setdefault(key, []).append(item)
    return [
        {"index": n, "kind": kind, "items": items, "partition": dict(zip(keys, key))}
        for n, (key, items) in enumerate(sorted(groups.items()))
    ]


def parse_size(text: str) -> int:
    """``mini_batch_size`` as given (a PipelineParameter's value may still be ``"10KB"``)."""
    units = {"kb": 1024, "mb": 1024**2, "gb": 1024**3}
    text = text.strip()
    return int(text[:-2]) * units[text[-2:].lower()] if text[-2:].lower() in units else int(text)


def failed_items(batch: dict[str, Any], read: int | None) -> int:
    """The items of a mini-batch that failed for good: files, or rows (as its last try read them; 1 if
    it could not be read)."""
    if batch["kind"] == "file":
        return len(batch["items"])
    return read if read else 1


def describe(batch: dict[str, Any]) -> str:
    items = batch["items"]
    if batch["kind"] == "file":
        names = [os.path.basename(p) for p in items[:3]]
        return ", ".join(names) + (f" +{len(items) - 3} more" if len(items) > 3 else "")
    item = items[0]
    return f"{os.path.basename(item['path'])} part {item['part'] + 1}/{item['parts']}"
