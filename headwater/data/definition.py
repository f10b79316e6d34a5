"""Dataset definitions: plain JSON that says where the files are, how to read them, what to do after.

A definition is what the metadata store keeps and what a step process receives, so it holds only
JSON values::

    {
      "format": 1,
      "sources": [{"datastore": "workspaceblobstore", "path": "raw/*.csv"}, {"url": "https://..."}],
      "reader": {"type": "delimited", "separator": ",", "header": "all_files_same", ...},
      "partition_format": null,
      "transformations": [{"op": "take", "count": 10}, {"op": "filter", "expression": {...}}]
    }

This module turns the many shapes SDK v1 accepts for ``path`` into ``sources``, normalises reader
options, parses ``partition_format`` and derives the stable id of an unsaved dataset. No I/O here.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from datetime import date, datetime
from enum import Enum
from typing import Any

from headwater.errors import HeadwaterError
from headwater.store.datastores import normalize_relative

__all__ = [
    "DEFINITION_FORMAT",
    "DatasetArgumentError",
    "PromoteHeadersBehavior",
    "canonical_json",
    "check_count",
    "check_fraction",
    "check_seed",
    "definition_id",
    "has_glob",
    "header_mode",
    "normalize_column_types",
    "normalize_sources",
    "partition_keys",
    "partition_values",
    "python_encoding",
]

DEFINITION_FORMAT = 1
# Fixed namespace for uuid5 ids of unsaved definitions: never change it, ids would change with it.
_ID_NAMESPACE = uuid.UUID("5b0d8f0e-7c4a-4f59-9d2c-3e1b6a2f9c41")
_GLOB_CHARS = frozenset("*?[")
_AZUREML_URI = re.compile(r"^azureml://datastores/(?P<name>[^/]+)/paths/(?P<path>.*)$")


class DatasetArgumentError(HeadwaterError, ValueError):
    """An argument a dataset call cannot accept (also a ``ValueError``, as SDK v1 raises)."""


def canonical_json(value: Any) -> str:
    """Sorted-key, compact JSON: equal definitions give equal text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def definition_id(kind: str, definition: Mapping[str, Any]) -> str:
    """The stable id of an unsaved dataset: uuid5 over the canonical JSON of kind and definition."""
    return str(uuid.uuid5(_ID_NAMESPACE, canonical_json({"kind": kind, "definition": definition})))


def has_glob(path: str) -> bool:
    """Whether ``path`` contains a glob character (``*``, ``?``, ``[``)."""
    return any(c in _GLOB_CHARS for c in path)


def check_count(value: object, what: str) -> int:
    """``value`` if it is a non-negative int (``take``/``skip`` counts)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise DatasetArgumentError(f"{what}: count must be a non-negative integer, got {value!r}.")
    return value


def check_fraction(value: object, what: str, *, open_interval: bool) -> float:
    """``value`` as a float in [0, 1], or in (0, 1) with ``open_interval``."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
        if (0 < number < 1) if open_interval else (0 <= number <= 1):
            return number
    interval = "strictly between 0 and 1" if open_interval else "between 0 and 1"
    raise DatasetArgumentError(f"{what} must be a number {interval}, got {value!r}.")


def check_seed(seed: object) -> int:
    """``seed``, or a random one for None: drawn once and recorded, so every read sees the same sample."""
    if seed is None:
        import secrets  # ~10 ms to import: only when a sample needs a fresh seed

        return secrets.randbelow(2**32)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise DatasetArgumentError(f"seed must be a non-negative integer or None, got {seed!r}.")
    return seed


# -- path arguments ----------------------------------------------------------------------------


def _datastore_source(name: str, path: object) -> dict[str, str]:
    if not isinstance(path, str):
        raise DatasetArgumentError(
            f"The path on datastore {name!r} must be a string, not {type(path).__name__}.",
            hint="Write (datastore, 'folder/*.csv').",
        )
    rel = normalize_relative(path.lstrip("/"), root=name, datastore=name)
    return {"datastore": name, "path": rel}


def _is_datastore(obj: object) -> bool:
    return hasattr(obj, "name") and hasattr(obj, "workspace") and not isinstance(obj, str)


def _datapath_workspace(obj: object) -> Any:
    for attr in ("datastore", "_datastore"):
        try:
            store = getattr(obj, attr, None)
        except Exception:  # a property that needs something missing: no workspace from it
            store = None
        if store is not None and hasattr(store, "workspace"):
            return store.workspace
    return None


def normalize_sources(path: object) -> tuple[list[dict[str, str]], Any]:
    """``path`` as SDK v1 accepts it, turned into JSON sources plus the workspace they belong to.

    Accepted: ``(datastore, 'rel/path/or/glob')`` (the second item may be a list), a DataPath (an
    object with ``datastore_name`` and ``path_on_datastore``), an ``http(s)://`` URL, an
    ``azureml://datastores/<name>/paths/<path>`` URI, or a list of any of these. The workspace is
    taken from the datastore objects (None when only URLs or unbound DataPaths are given).
    """
    items = path if isinstance(path, list) else [path]
    if not items:
        raise DatasetArgumentError("The path list is empty.", hint="Pass at least one (datastore, 'path').")
    sources: list[dict[str, str]] = []
    workspaces: list[Any] = []
    for item in items:
        if isinstance(item, tuple):
            if len(item) != 2 or not _is_datastore(item[0]):
                raise DatasetArgumentError(
                    f"A path tuple must be (datastore, 'relative/path'), got {item!r}.",
                    hint="The first item is a Datastore object, e.g. ws.get_default_datastore().",
                )
            store, rel = item
            workspaces.append(store.workspace)
            rels = rel if isinstance(rel, list) else [rel]
            sources.extend(_datastore_source(store.name, r) for r in rels)
        elif hasattr(item, "datastore_name") and hasattr(item, "path_on_datastore"):
            sources.append(_datastore_source(item.datastore_name, item.path_on_datastore or ""))
            ws = _datapath_workspace(item)
            if ws is not None:
                workspaces.append(ws)
        elif isinstance(item, str) and item.lower().startswith(("http://", "https://")):
            sources.append({"url": item})
        elif isinstance(item, str) and (m := _AZUREML_URI.match(item)):
            sources.append(_datastore_source(m["name"], m["path"]))
        else:
            raise DatasetArgumentError(
                f"Cannot read dataset files from {item!r}.",
                hint="Pass (datastore, 'relative/path'), a DataPath, an http(s) URL or a list of them; "
                "upload local files to a datastore first (datastore.upload(...)).",
            )
    workspace = workspaces[0] if workspaces else None
    if any(ws != workspace for ws in workspaces[1:]):
        raise DatasetArgumentError(
            "The paths of one dataset come from datastores of different workspaces.",
            hint="Use datastores of a single workspace.",
        )
    return sources, workspace


# -- reader options ----------------------------------------------------------------------------


class PromoteHeadersBehavior(Enum):
    """How column headers are read from delimited files (SDK v1: ``azureml.data.dataset_type_definitions``)."""

    NO_HEADERS = 0
    ONLY_FIRST_FILE_HAS_HEADERS = 1
    COMBINE_ALL_FILES_HEADERS = 2
    ALL_FILES_HAVE_SAME_HEADERS = 3


# SDK v1's PromoteHeadersBehavior values; True/False are handled first (True == 1 in Python).
_HEADER_MODES = {
    0: "none",  # NO_HEADERS
    1: "first_file",  # ONLY_FIRST_FILE_HAS_HEADERS
    2: "combine",  # COMBINE_ALL_FILES_HEADERS
    3: "all_files_same",  # ALL_FILES_HAVE_SAME_HEADERS
}


def header_mode(header: object) -> str:
    """SDK v1's ``header`` (a bool or a PromoteHeadersBehavior value) as a mode name."""
    value = getattr(header, "value", header)  # an enum member
    if isinstance(value, bool):
        return "all_files_same" if value else "none"
    if isinstance(value, int) and value in _HEADER_MODES:
        return _HEADER_MODES[value]
    if isinstance(value, str) and value in _HEADER_MODES.values():
        return value
    raise DatasetArgumentError(
        f"header={header!r} is not understood.",
        hint="Use True, False or a PromoteHeadersBehavior value (0-3).",
    )


_ENCODINGS = {
    "utf8": "utf-8",
    "utf8bom": "utf-8-sig",
    "iso88591": "iso-8859-1",
    "latin1": "latin-1",
    "ascii": "ascii",
    "utf16": "utf-16",
    "utf32": "utf-32",
    "windows1252": "cp1252",
}


def python_encoding(encoding: str) -> str:
    """SDK v1's encoding names (``utf8``, ``iso88591``, ``utf8bom`` ...) as Python codec names."""
    import codecs

    name = _ENCODINGS.get(encoding.lower().replace("-", "").replace("_", ""), encoding)
    try:
        codecs.lookup(name)
    except LookupError:
        raise DatasetArgumentError(
            f"Unknown encoding {encoding!r}.", hint=f"Use one of {', '.join(sorted(_ENCODINGS))}."
        ) from None
    return name


_TYPE_ALIASES = {
    "str": "string",
    "string": "string",
    "int": "int",
    "int64": "int",
    "integer": "int",
    "long": "int",
    "float": "float",
    "float64": "float",
    "double": "float",
    "bool": "bool",
    "boolean": "bool",
    "datetime": "datetime",
    "date": "datetime",
    "datetime64[ns]": "datetime",
}
_PY_TYPES: dict[object, str] = {str: "string", int: "int", float: "float", bool: "bool", datetime: "datetime"}


def normalize_column_types(types: Mapping[str, object] | None) -> dict[str, str] | None:
    """``set_column_types`` as ``{column: type name}``.

    A type is a name (``'int'``, ``'float'``, ``'string'``, ``'bool'``, ``'datetime'``, or
    ``'datetime:<strptime format>'``; other pandas dtype names are passed to ``astype``), or one of
    the Python types ``int``, ``float``, ``str``, ``bool``, ``datetime``.
    """
    if types is None:
        return None
    if not isinstance(types, Mapping):
        raise DatasetArgumentError(
            "set_column_types must be a dict of column name to type.", hint="e.g. {'age': 'int'}."
        )
    out: dict[str, str] = {}
    for column, kind in types.items():
        if isinstance(kind, type) and (kind in _PY_TYPES or kind is date):
            out[str(column)] = _PY_TYPES.get(kind, "datetime")
        elif isinstance(kind, str):
            base, sep, fmt = kind.partition(":")
            name = _TYPE_ALIASES.get(base.strip().lower(), base.strip())
            out[str(column)] = f"{name}:{fmt}" if sep and name == "datetime" else name
        else:
            raise DatasetArgumentError(
                f"Column {column!r}: type {kind!r} is not understood.",
                hint="Use 'int', 'float', 'string', 'bool', 'datetime' (or the Python types).",
            )
    return out


# -- partition_format --------------------------------------------------------------------------

_PART = re.compile(r"\{([^{}:]+)(?::([^{}]*))?\}")
_DATE_TOKENS = {
    "yyyy": (r"\d{4}", "%Y"),
    "MM": (r"\d{2}", "%m"),
    "dd": (r"\d{2}", "%d"),
    "HH": (r"\d{2}", "%H"),
    "mm": (r"\d{2}", "%M"),
    "ss": (r"\d{2}", "%S"),
}
_DATE_TOKEN = re.compile("|".join(_DATE_TOKENS))


def partition_keys(partition_format: str | None) -> list[str]:
    """The column names a ``partition_format`` defines, in order."""
    return [m[1] for m in _PART.finditer(partition_format or "")]


def _compile(partition_format: str) -> tuple[re.Pattern[str], dict[str, str]]:
    pattern: list[str] = []
    date_formats: dict[str, str] = {}
    pos = 0
    for m in _PART.finditer(partition_format):
        pattern.append(_literal(partition_format[pos : m.start()]))
        name, fmt = m[1], m[2]
        if fmt:
            regex = _DATE_TOKEN.sub(lambda t: _DATE_TOKENS[t[0]][0], re.escape(fmt))
            date_formats[name] = _DATE_TOKEN.sub(lambda t: _DATE_TOKENS[t[0]][1], fmt)
            pattern.append(f"(?P<{name}>{regex})")
        else:
            pattern.append(f"(?P<{name}>[^/]+)")
        pos = m.end()
    pattern.append(_literal(partition_format[pos:]))
    return re.compile("/" + "".join(pattern) + "$"), date_formats


def _literal(text: str) -> str:
    """Literal text of a partition format, where ``*``, ``?`` and ``**`` keep their glob meaning."""
    parts = (re.escape(p).replace(r"\?", "[^/]").replace(r"\*", "[^/]*") for p in text.split("**"))
    return ".*".join(parts)


def partition_values(partition_format: str, path: str) -> dict[str, str | datetime | None]:
    """The partition columns of one file path (matched at the end of the path), None where it does not match.

    ``'{Department}/{Date:yyyy/MM/dd}/data.csv'`` on ``'raw/Accounts/2019/01/02/data.csv'`` gives
    ``{'Department': 'Accounts', 'Date': datetime(2019, 1, 2)}``.
    """
    regex, date_formats = _compile(partition_format.lstrip("/"))
    m = regex.search("/" + path.lstrip("/"))
    out: dict[str, str | datetime | None] = {}
    for key in partition_keys(partition_format):
        value = None if m is None else m[key]
        if value is not None and key in date_formats:
            out[key] = datetime.strptime(value, date_formats[key])
        else:
            out[key] = value
    return out
