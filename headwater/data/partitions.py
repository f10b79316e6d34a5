"""Partition pruning: the files a tabular dataset's filters can keep rows from.

A dataset partitioned by ``partition_format`` (``'{ts:yyyy/MM/dd}/data.csv'``) gets its partition
columns from each file's path. A filter on those columns (``time_between`` on a partition
timestamp) decides every row of a file at once, so a file whose partition values fail it need not
be read, nor digested. Only the leading ``filter`` transformations prune: after a ``take``, a
``skip`` or a sample, which rows remain depends on the files read before.

The expression is evaluated on the file's partition values with the semantics of
:func:`headwater.sdk.dataset_expr.evaluate` (a comparison with a missing value is false); any part
that cannot be decided from the path alone (another column, a type the comparison refuses, a
column retyped by ``set_column_types``) keeps the file.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from headwater.data.definition import partition_keys, partition_values

__all__ = ["needed_files"]

F = TypeVar("F")

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _leading_filters(definition: Mapping[str, Any]) -> list[dict[str, Any]]:
    filters = []
    for t in definition.get("transformations", []):
        if t.get("op") != "filter":
            break
        filters.append(t["expression"])
    return filters


def _scalar(value: Any) -> Any:
    if isinstance(value, dict) and "$datetime" in value:
        return datetime.fromisoformat(value["$datetime"])
    return value


def _decide(expression: Mapping[str, Any], row: Mapping[str, Any]) -> bool | None:
    """True / False when the partition values decide ``expression``; None when they cannot."""
    op = expression.get("op")
    if op in ("and", "or"):
        results = [_decide(e, row) for e in expression["args"]]
        if op == "and":
            return False if False in results else (True if all(r is True for r in results) else None)
        return True if True in results else (False if all(r is False for r in results) else None)
    if op == "not":
        inner = _decide(expression["arg"], row)
        return None if inner is None else not inner
    compare = _COMPARE.get(str(op))
    column = str(expression.get("column"))
    value = expression.get("value")
    if compare is None or column not in row or (isinstance(value, dict) and "$column" in value):
        return None
    left, right = row[column], _scalar(value)
    if right is None:
        return (left is None) == (op == "==") if op in ("==", "!=") else None
    if left is None:
        return False
    if isinstance(left, datetime) and isinstance(right, datetime) and (left.tzinfo is None) != (right.tzinfo is None):
        return None  # pandas refuses to compare naive with aware times: leave it to the row filter
    if isinstance(right, date) and not isinstance(right, datetime):
        right = datetime(right.year, right.month, right.day)
    try:
        return bool(compare(left, right))
    except TypeError:
        return None


def needed_files(definition: Mapping[str, Any], files: Sequence[F], path_of: Callable[[F], str]) -> list[F]:
    """The ``files`` of a tabular ``definition`` that its leading filters can keep rows from, in order."""
    fmt = definition.get("partition_format")
    filters = _leading_filters(definition)
    if not fmt or not filters:
        return list(files)
    retyped = set((definition.get("reader") or {}).get("set_column_types") or {})
    keys = [k for k in partition_keys(fmt) if k not in retyped]
    if not keys:
        return list(files)
    kept = []
    for f in files:
        values = partition_values(fmt, path_of(f))
        row = {k: values[k] for k in keys}
        if all(_decide(e, row) is not False for e in filters):
            kept.append(f)
    return kept
