"""``Dataset.File`` and ``Dataset.Tabular``: SDK v1's FileDatasetFactory and TabularDatasetFactory.

Each factory method builds a JSON definition (sources, reader options, partition format, no
transformations yet) and, with ``validate=True``, checks that every path matches at least one file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from headwater.data.definition import (
    DEFINITION_FORMAT,
    DatasetArgumentError,
    has_glob,
    header_mode,
    normalize_column_types,
    normalize_sources,
    python_encoding,
)
from headwater.data.files import DataAccess, describe_source, resolve
from headwater.errors import DataAccessError

if TYPE_CHECKING:
    from headwater.sdk.dataset import FileDataset, TabularDataset

__all__ = ["FileDatasetFactory", "TabularDatasetFactory"]


def _definition(path: object, reader: dict[str, Any], partition_format: str | None) -> tuple[dict[str, Any], Any]:
    sources, workspace = normalize_sources(path)
    if partition_format is not None and not isinstance(partition_format, str):
        raise DatasetArgumentError(f"partition_format must be a string, got {partition_format!r}.")
    definition = {
        "format": DEFINITION_FORMAT,
        "sources": sources,
        "reader": reader,
        "partition_format": partition_format,
        "transformations": [],
    }
    return definition, workspace


def _validate(definition: dict[str, Any], workspace: Any) -> None:
    """Every source must match at least one file; the error names the path and its datastore."""
    with DataAccess(workspace) as access:
        for source in definition["sources"]:
            if "url" in source and not has_glob(source["url"]):
                found = access.exists(source)
            else:
                found = not resolve([source], access).missing
            if not found:
                raise DataAccessError(
                    f"Cannot create the dataset: no file matches {describe_source(source)}.",
                    path=source.get("path", source.get("url")),
                    hint="Check the path (relative to the datastore root; globs such as 'folder/*.csv' or "
                    "'folder/**/*.csv' work), or pass validate=False to create the dataset anyway "
                    "(e.g. for data a pipeline writes later).",
                )


def _bool(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise DatasetArgumentError(f"{what} must be True or False, got {value!r}.")
    return value


class FileDatasetFactory:
    """Creates FileDatasets (``Dataset.File``)."""

    @staticmethod
    def from_files(
        path: Any, validate: bool = True, partition_format: str | None = None, is_file: bool = False
    ) -> FileDataset:
        """A FileDataset of the files at ``path``.

        ``path``: ``(datastore, 'folder/or/glob/*.csv')``, a DataPath, an http(s) URL, or a list
        of these. ``validate`` checks now that each path matches a file. ``partition_format``
        (``'{key}/{date:yyyy/MM/dd}/data.csv'``) defines :attr:`partition_keys`. ``is_file`` is
        accepted for compatibility (listing is cheap here).
        """
        from headwater.sdk.dataset import FileDataset

        definition, workspace = _definition(path, {"type": "files"}, partition_format)
        if validate:
            _validate(definition, workspace)
        return FileDataset(definition, workspace=workspace)


class TabularDatasetFactory:
    """Creates TabularDatasets (``Dataset.Tabular``)."""

    @staticmethod
    def _make(path: Any, reader: dict[str, Any], partition_format: str | None, validate: bool) -> TabularDataset:
        from headwater.sdk.dataset import TabularDataset

        definition, workspace = _definition(path, reader, partition_format)
        if validate:
            _validate(definition, workspace)
        return TabularDataset(definition, workspace=workspace)

    @staticmethod
    def from_delimited_files(
        path: Any,
        validate: bool = True,
        include_path: bool = False,
        infer_column_types: bool = True,
        set_column_types: dict[str, Any] | None = None,
        separator: str = ",",
        header: bool | int = True,
        partition_format: str | None = None,
        support_multi_line: bool = False,
        empty_as_string: bool = False,
        encoding: str = "utf8",
    ) -> TabularDataset:
        """Rows of CSV/TSV files, read with pandas.

        ``header=False`` names the columns ``Column1``..``ColumnN``; SDK v1's PromoteHeadersBehavior
        values (0-3) are accepted too. ``set_column_types`` maps columns to ``'int'``, ``'float'``,
        ``'string'``, ``'bool'``, ``'datetime'`` (or Python types). Quoted fields may span lines
        whatever ``support_multi_line`` says.
        """
        if not isinstance(separator, str) or not separator:
            raise DatasetArgumentError(f"separator must be a non-empty string, got {separator!r}.")
        python_encoding(encoding)
        reader = {
            "type": "delimited",
            "separator": separator,
            "header": header_mode(header),
            "infer_column_types": _bool(infer_column_types, "infer_column_types"),
            "set_column_types": normalize_column_types(set_column_types),
            "include_path": _bool(include_path, "include_path"),
            "support_multi_line": _bool(support_multi_line, "support_multi_line"),
            "empty_as_string": _bool(empty_as_string, "empty_as_string"),
            "encoding": encoding,
        }
        return TabularDatasetFactory._make(path, reader, partition_format, validate)

    @staticmethod
    def from_parquet_files(
        path: Any,
        validate: bool = True,
        include_path: bool = False,
        set_column_types: dict[str, Any] | None = None,
        partition_format: str | None = None,
    ) -> TabularDataset:
        """Rows of Parquet files, read with pyarrow."""
        reader = {
            "type": "parquet",
            "include_path": _bool(include_path, "include_path"),
            "set_column_types": normalize_column_types(set_column_types),
        }
        return TabularDatasetFactory._make(path, reader, partition_format, validate)

    @staticmethod
    def from_json_lines_files(
        path: Any,
        validate: bool = True,
        include_path: bool = False,
        set_column_types: dict[str, Any] | None = None,
        partition_format: str | None = None,
        invalid_lines: str = "error",
        encoding: str = "utf8",
    ) -> TabularDataset:
        """Rows of JSON-lines files (one JSON object per line); ``invalid_lines='drop'`` skips bad lines."""
        if invalid_lines not in ("error", "drop"):
            raise DatasetArgumentError(f"invalid_lines must be 'error' or 'drop', got {invalid_lines!r}.")
        python_encoding(encoding)
        reader = {
            "type": "json_lines",
            "include_path": _bool(include_path, "include_path"),
            "set_column_types": normalize_column_types(set_column_types),
            "invalid_lines": invalid_lines,
            "encoding": encoding,
        }
        return TabularDatasetFactory._make(path, reader, partition_format, validate)
