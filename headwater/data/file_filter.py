"""SDK v1's ``FileDataset.filter``: the file metadata columns and a filter expression evaluated on them.

The columns are SDK v1's: ``Size`` (bytes), ``LastModifiedTime`` and ``CreationTime`` (UTC
datetimes; a local file's creation time is its ``ctime``), ``Extension`` (without the dot) and
``CanSeek`` (always True here). An expression is the JSON of
:class:`headwater.sdk.dataset_expr.Expression` (``{"op": ">", "column": "Size", "value": 10}``,
``and``/``or``/``not``), evaluated in plain Python; a comparison with a missing value is false.
"""

from __future__ import annotations

import operator
import posixpath
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from headwater.data.definition import DatasetArgumentError
from headwater.errors import DataAccessError, did_you_mean

if TYPE_CHECKING:
    from headwater.data.files import DataAccess, DatasetFile

__all__ = ["FILE_METADATA_COLUMNS", "file_metadata", "filter_files"]

FILE_METADATA_COLUMNS = ("Size", "LastModifiedTime", "CreationTime", "Extension", "CanSeek")
_NEEDS_STAT = {"Size", "LastModifiedTime", "CreationTime"}
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _utc(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, tz=UTC)
    if isinstance(value, str):
        try:
            return _utc(datetime.fromisoformat(value))
        except ValueError:
            return None
    return None


def file_metadata(access: DataAccess, f: DatasetFile, *, stat: bool = True) -> dict[str, Any]:
    """SDK v1's metadata columns of one file (``stat=False`` skips the ones that need the storage)."""
    extension = posixpath.splitext(f.path.split("?")[0])[1].lstrip(".")
    meta: dict[str, Any] = {"Extension": extension, "CanSeek": True}
    if not stat:
        return meta
    local = access.local_path(f)
    try:
        if local is not None:
            st = local.stat()
            meta.update(
                Size=st.st_size,
                LastModifiedTime=datetime.fromtimestamp(st.st_mtime, tz=UTC),
                CreationTime=datetime.fromtimestamp(st.st_ctime, tz=UTC),
            )
            return meta
        fs, path = access.filesystem(f)
        info = fs.info(path)
    except FileNotFoundError as exc:
        raise DataAccessError(f"File {f.where} does not exist (any more).", path=f.path) from exc
    modified = next((_utc(info[k]) for k in ("mtime", "last_modified", "LastModified") if info.get(k)), None)
    created = next((_utc(info[k]) for k in ("created", "creation_time", "ctime") if info.get(k)), None)
    meta.update(Size=info.get("size"), LastModifiedTime=modified, CreationTime=created or modified)
    return meta


def _columns(expression: dict[str, Any]) -> set[str]:
    if expression.get("op") in ("and", "or"):
        return set().union(*(_columns(e) for e in expression["args"]))
    if expression.get("op") == "not":
        return _columns(expression["arg"])
    value = expression.get("value")
    other = {value["$column"]} if isinstance(value, dict) and "$column" in value else set()
    return {expression["column"], *other}


def _value(meta: dict[str, Any], value: Any) -> Any:
    if isinstance(value, dict) and "$column" in value:
        return meta.get(value["$column"])
    if isinstance(value, dict) and "$datetime" in value:
        return _utc(value["$datetime"])
    return value


def _holds(expression: dict[str, Any], meta: dict[str, Any]) -> bool:
    op = expression.get("op")
    if op == "and":
        return all(_holds(e, meta) for e in expression["args"])
    if op == "or":
        return any(_holds(e, meta) for e in expression["args"])
    if op == "not":
        return not _holds(expression["arg"], meta)
    if op not in _OPS:
        raise DatasetArgumentError(f"Unknown filter operator {op!r}.", hint=f"Use one of {', '.join(_OPS)}.")
    left, right = meta.get(expression["column"]), _value(meta, expression["value"])
    if right is None:
        return (left is None) == (op == "==") if op in ("==", "!=") else False
    if left is None:
        return False
    try:
        return bool(_OPS[op](left, right))
    except TypeError as exc:
        raise DataAccessError(
            f"Cannot evaluate file filter {expression['column']!r} {op} {expression['value']!r}: {exc}.",
            hint="Compare Size with a number, LastModifiedTime/CreationTime with a datetime, Extension with a "
            "string ('csv', without the dot) and CanSeek with True/False.",
        ) from exc


def filter_files(files: list[DatasetFile], expression: dict[str, Any], access: DataAccess | None) -> list[DatasetFile]:
    """The files whose metadata satisfies ``expression``."""
    used = _columns(expression)
    unknown = sorted(used - set(FILE_METADATA_COLUMNS))
    if unknown:
        raise DatasetArgumentError(
            f"FileDataset.filter uses {unknown[0]!r}, which is not a file metadata column."
            + did_you_mean(unknown[0], list(FILE_METADATA_COLUMNS)),
            hint=f"Use ds.file_metadata(name) with one of {', '.join(FILE_METADATA_COLUMNS)}.",
        )
    stat = bool(used & _NEEDS_STAT)
    if stat and access is None:
        raise DatasetArgumentError("Filtering files by size or time needs access to the datastores.")
    return [f for f in files if _holds(expression, file_metadata(access, f, stat=stat))]  # type: ignore[arg-type]
