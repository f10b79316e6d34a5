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
from headwater.errors import DataAccessError, NotSupportedError

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

    @staticmethod
    def upload_directory(
        src_dir: Any, target: Any, pattern: str | None = None, overwrite: bool = False, show_progress: bool = True
    ) -> FileDataset:
        """Upload a local folder to ``target`` and return a FileDataset of the uploaded files.

        ``target``: a Datastore, a DataPath or ``(datastore, 'folder')``. ``pattern`` keeps the files
        whose absolute path matches it (``fnmatch``, e.g. ``'*.csv'``), as in SDK v1. Files that exist
        on the datastore are skipped unless ``overwrite``.
        """
        from headwater.sdk.dataset_writes import console, parse_target, upload_folder

        say = console(show_progress)
        say("Validating arguments.")
        datastore, relative = parse_target(target)
        say("Arguments validated.")
        upload_folder(src_dir, datastore, relative, pattern=pattern, overwrite=overwrite, show_progress=show_progress)
        say("Creating new dataset")
        return FileDatasetFactory.from_files((datastore, relative or "/"))


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

    @staticmethod
    def register_pandas_dataframe(
        dataframe: Any,
        target: Any,
        name: str,
        description: str | None = None,
        tags: dict[str, Any] | None = None,
        show_progress: bool = True,
        row_group_size: int | None = None,
        make_target_path_unique: bool = True,
    ) -> TabularDataset:
        """Write ``dataframe`` as Parquet under ``target`` and register a TabularDataset of it under ``name``.

        ``target``: a Datastore (its ``managed-dataset`` folder), a DataPath or ``(datastore, 'folder')``.
        With ``make_target_path_unique`` (SDK v1's default) the file goes to a new ``<uuid>`` subfolder,
        so earlier versions keep their data; otherwise ``dataframe.parquet`` in the folder is replaced.
        A new version is registered when ``name`` exists. The index is not written (as in SDK v1).
        """
        import pandas as pd

        from headwater.sdk.dataset_writes import console, parse_target, unique_folder, write_frames

        say = console(show_progress)
        say("Validating arguments.")
        if not isinstance(dataframe, pd.DataFrame):
            raise DatasetArgumentError(f"dataframe must be a pandas DataFrame, got {type(dataframe).__name__}.")
        if not isinstance(name, str) or not name.strip():
            raise DatasetArgumentError(f"Invalid dataset name {name!r}.", hint="Use a non-empty string.")
        datastore, relative = parse_target(target, managed=True)
        say("Arguments validated.")
        folder = unique_folder(relative, make_target_path_unique)
        frame = dataframe.reset_index(drop=True)
        frame.columns = [str(c) for c in frame.columns]
        write_frames(
            {"dataframe.parquet": frame},
            datastore,
            folder,
            file_format="parquet",
            row_group_size=row_group_size,
            show_progress=show_progress,
        )
        say("Successfully uploaded file to datastore.")
        say("Creating and registering a new dataset.")
        dataset = TabularDatasetFactory.from_parquet_files((datastore, f"{folder}/dataframe.parquet"))
        registered = dataset.register(
            datastore.workspace, name, description=description, tags=tags, create_new_version=True
        )
        say("Successfully created and registered a new dataset.")
        return registered

    @staticmethod
    def register_spark_dataframe(
        dataframe: Any,
        target: Any,
        name: str,
        description: str | None = None,
        tags: dict[str, Any] | None = None,
        show_progress: bool = True,
    ) -> TabularDataset:
        """Not supported: Headwater has no Spark; convert with ``dataframe.toPandas()`` first."""
        raise NotSupportedError(
            "TabularDatasetFactory.register_spark_dataframe is not supported: Headwater runs no Spark.",
            hint="Convert it (dataframe.toPandas()) and use Dataset.Tabular.register_pandas_dataframe(...).",
        )

    @staticmethod
    def register_dask_dataframe(
        dataframe: Any,
        target: Any,
        name: str,
        description: str | None = None,
        tags: dict[str, Any] | None = None,
        show_progress: bool = True,
    ) -> TabularDataset:
        """Not supported: compute the frame (``dataframe.compute()``) and register the pandas result."""
        raise NotSupportedError(
            "TabularDatasetFactory.register_dask_dataframe is not supported: Headwater does not use Dask.",
            hint="Compute it (dataframe.compute()) and use Dataset.Tabular.register_pandas_dataframe(...).",
        )

    @staticmethod
    def from_sql_query(query: Any, validate: bool = True, set_column_types: Any = None, query_timeout: int = 30) -> Any:
        """Not supported: SQL datastores (Azure SQL, PostgreSQL, MySQL) are Azure services."""
        raise NotSupportedError(
            "TabularDatasetFactory.from_sql_query is not supported: Headwater has no SQL datastores.",
            hint="Export the query result to CSV or Parquet files (pandas.read_sql(...).to_parquet(...)), "
            "upload them to a datastore and use Dataset.Tabular.from_parquet_files(...), or "
            "Dataset.Tabular.register_pandas_dataframe(pandas.read_sql(...), target, name).",
        )
