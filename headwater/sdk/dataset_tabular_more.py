"""More of SDK v1's ``TabularDataset``: timestamp columns and time filters, partitioning, conversions.

A mixin of :class:`~headwater.sdk.dataset.TabularDataset`. Timestamp columns are recorded in the
definition (``timestamp_columns``); the time filters are ordinary ``filter`` transformations on
them, with SDK v1's rounding of the bounds to the second. ``partition_by``, ``to_csv_files`` and
``to_parquet_files`` read the data now and write files to a datastore; Spark, Dask, stream columns
and profiles need Azure and raise NotSupportedError with what to do instead.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NoReturn

from headwater.data.definition import DatasetArgumentError
from headwater.errors import DataAccessError, NotSupportedError

if TYPE_CHECKING:
    import pandas as pd

    from headwater.sdk.dataset_expr import Expression
    from headwater.sdk.datastore import Datastore
    from headwater.sdk.workspace import Workspace

__all__ = ["TabularMembers"]

_HALF_SECOND = 500000


def _not_supported(member: str, why: str, instead: str) -> NoReturn:
    raise NotSupportedError(f"TabularDataset.{member} is not supported: {why}.", hint=instead)


class TabularMembers:
    """Time series, partitioning and conversions of a TabularDataset (mixed into TabularDataset)."""

    _definition: dict[str, Any]
    _workspace: Workspace | None

    if TYPE_CHECKING:

        def _derive(self, transformation: dict[str, Any]) -> Any: ...
        def to_pandas_dataframe(self, on_error: str = "null", out_of_range_datetime: str = "null") -> Any: ...
        def filter(self, expression: Expression) -> Any: ...
        def take(self, count: int) -> Any: ...

    # -- timestamp columns -----------------------------------------------------------------------

    @property
    def timestamp_columns(self) -> tuple[str | None, str | None]:
        """``(timestamp, partition_timestamp)``: the columns set by :meth:`with_timestamp_columns` (None if unset)."""
        cols = self._definition.get("timestamp_columns") or {}
        return cols.get("timestamp"), cols.get("partition_timestamp")

    def with_timestamp_columns(
        self,
        timestamp: str | None = None,
        partition_timestamp: str | None = None,
        validate: bool = False,
        **kwargs: Any,
    ) -> Any:
        """A copy with these timestamp columns (``timestamp=None`` clears them), for the ``time_*`` filters.

        SDK v1's older names ``fine_grain_timestamp``/``coarse_grain_timestamp`` are accepted.
        ``validate=True`` reads the data now to check that the columns exist.
        """
        fine = kwargs.pop("fine_grain_timestamp", None)
        coarse = kwargs.pop("coarse_grain_timestamp", None)
        if kwargs:
            raise DatasetArgumentError(f"with_timestamp_columns() got unexpected arguments {sorted(kwargs)}.")
        if timestamp is None and fine is not None:
            timestamp, partition_timestamp = fine, coarse if partition_timestamp is None else partition_timestamp
        if partition_timestamp and not timestamp:
            raise DatasetArgumentError("partition_timestamp can be assigned only if timestamp is assigned.")
        if timestamp and timestamp == partition_timestamp:
            raise DatasetArgumentError("partition_timestamp cannot be the same as timestamp.")
        for value, what in ((timestamp, "timestamp"), (partition_timestamp, "partition_timestamp")):
            if value is not None and not isinstance(value, str):
                raise DatasetArgumentError(f"{what} must be a column name, got {value!r}.")
        if validate:
            self._check_columns([c for c in (timestamp, partition_timestamp) if c])
        definition = copy.deepcopy(self._definition)
        if timestamp:
            definition["timestamp_columns"] = {"timestamp": timestamp, "partition_timestamp": partition_timestamp}
        else:
            definition.pop("timestamp_columns", None)
        return type(self)(definition, workspace=self._workspace)  # type: ignore[call-arg]

    def _check_columns(self, columns: list[str]) -> None:
        frame = self.take(1).to_pandas_dataframe()
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise DataAccessError(
                f"The dataset has no column {missing[0]!r}.",
                hint=f"Columns: {', '.join(map(str, frame.columns))}.",
            )

    def time_before(self, end_time: datetime, include_boundary: bool = True, validate: bool = True) -> Any:
        """The rows whose timestamp is before ``end_time`` (or at it, with ``include_boundary``)."""
        return self._time_filter("time_before", None, end_time, include_boundary, validate)

    def time_after(self, start_time: datetime, include_boundary: bool = True, validate: bool = True) -> Any:
        """The rows whose timestamp is after ``start_time`` (or at it, with ``include_boundary``)."""
        return self._time_filter("time_after", start_time, None, include_boundary, validate)

    def time_between(
        self, start_time: datetime, end_time: datetime, include_boundary: bool = True, validate: bool = True
    ) -> Any:
        """The rows whose timestamp is between ``start_time`` and ``end_time``."""
        return self._time_filter("time_between", start_time, end_time, include_boundary, validate)

    def time_recent(self, time_delta: timedelta, include_boundary: bool = True, validate: bool = True) -> Any:
        """The rows of the last ``time_delta`` (timestamp after ``datetime.now() - time_delta``, local time)."""
        if not isinstance(time_delta, timedelta):
            raise DatasetArgumentError(f"time_delta must be a datetime.timedelta, got {time_delta!r}.")
        return self._time_filter("time_recent", datetime.now() - time_delta, None, include_boundary, validate)

    def _time_filter(
        self, method: str, lower: datetime | None, upper: datetime | None, include_boundary: bool, validate: bool
    ) -> Any:
        from headwater.sdk.dataset_expr import ColumnReference

        fine, coarse = self.timestamp_columns
        if fine is None:
            raise DatasetArgumentError(
                f"Cannot perform time-series filter `{method}` on dataset without timestamp columns defined.",
                hint="Use with_timestamp_columns(timestamp='column') first to enable time-series capabilities.",
            )
        for bound in (lower, upper):
            if bound is not None and not isinstance(bound, datetime):
                raise DatasetArgumentError(f"{method}: the bounds must be datetime objects, got {bound!r}.")
        if validate:
            self._check_columns([c for c in (fine, coarse) if c])
        if lower is not None:
            lower = lower.replace(microsecond=0)  # floored to the second, as in SDK v1
        if upper is not None:
            if upper.microsecond > _HALF_SECOND:
                upper = upper + timedelta(seconds=1)
            upper = upper.replace(microsecond=0)  # rounded to the nearest second
        result = self
        for name in (coarse, fine):  # the partition timestamp first, as SDK v1 filters
            if name is None:
                continue
            column = ColumnReference(name)
            conditions = []
            if lower is not None:
                conditions.append(column >= lower if include_boundary else column > lower)
            if upper is not None:
                conditions.append(column <= upper if include_boundary else column < upper)
            condition = conditions[0]
            for more in conditions[1:]:
                condition = condition & more
            result = result.filter(condition)
        return result

    # -- writing the data elsewhere ----------------------------------------------------------------

    def _conversion_target(self, kind: str) -> tuple[Datastore, str]:
        from headwater.sdk.datastore import Datastore

        if self._workspace is None:
            raise DatasetArgumentError(
                f"to_{kind}_files() writes the converted files to the workspace's default datastore, and this "
                "dataset belongs to no workspace.",
                hint="Create it from a datastore path ((datastore, 'path')), or use to_pandas_dataframe().",
            )
        return Datastore.get_default(self._workspace), f"converted/{self.id}/{kind}"  # type: ignore[attr-defined]

    def to_csv_files(self, separator: str = ",") -> Any:
        """A FileDataset of CSV files with this dataset's rows (written now to the default datastore).

        The files are under ``converted/<dataset id>/csv`` on the workspace's default datastore and
        are rewritten by each call.
        """
        if not isinstance(separator, str) or not separator:
            raise DatasetArgumentError(f"separator must be a non-empty string, got {separator!r}.")
        return self._convert("csv", separator)

    def to_parquet_files(self) -> Any:
        """A FileDataset of Parquet files with this dataset's rows (written now to the default datastore)."""
        return self._convert("parquet", ",")

    def _convert(self, kind: str, separator: str) -> Any:
        from headwater.sdk.dataset_factory import FileDatasetFactory
        from headwater.sdk.dataset_writes import write_frames

        datastore, folder = self._conversion_target(kind)
        frame = self.to_pandas_dataframe()
        write_frames({f"part-00000.{kind}": frame}, datastore, folder, file_format=kind, separator=separator)
        return FileDatasetFactory.from_files((datastore, f"{folder}/*.{kind}"))

    def partition_by(
        self,
        partition_keys: list[str],
        target: Any,
        name: str | None = None,
        show_progress: bool = True,
        partition_as_file_dataset: bool = False,
    ) -> Any:
        """Copy the data to ``target`` as Parquet files in one folder per value of ``partition_keys``.

        The files go to ``<target>/<uuid>/<key1 value>/<key2 value>/part-00000.parquet`` (datetime keys as
        ``yyyyMMddHHmmss``); the returned TabularDataset (FileDataset with ``partition_as_file_dataset``)
        has the matching ``partition_format``, so its :attr:`partition_keys` are ``partition_keys``. With
        ``name`` it is registered (a new version when the name exists).
        """
        from headwater.sdk.dataset_factory import FileDatasetFactory, TabularDatasetFactory
        from headwater.sdk.dataset_writes import console, parse_target, unique_folder, write_frames

        say = console(show_progress)
        say("Validating arguments.")
        keys = [partition_keys] if isinstance(partition_keys, str) else list(partition_keys or [])
        if not keys:
            raise DatasetArgumentError("partition_keys cannot be empty")
        if len(keys) != len(set(keys)):
            raise DatasetArgumentError("partition_keys cannot have duplicates")
        frame = self.to_pandas_dataframe()
        invalid = [k for k in keys if k not in frame.columns]
        if invalid:
            raise DatasetArgumentError(
                f"{invalid} are invalid partition keys.", hint=f"Columns: {', '.join(map(str, frame.columns))}."
            )
        datastore, relative = parse_target(target)
        say("Arguments validated.")
        folder = unique_folder(relative, True)
        fmt, types = _partition_format(frame, keys)
        files = _partitions(frame, keys)
        say(f"Uploading file to /{folder}/")
        write_frames(files, datastore, folder, file_format="parquet", show_progress=show_progress)
        say("Successfully uploaded file to datastore.")
        say("Creating a new dataset.")
        path = (datastore, f"{folder}/{'*/' * len(keys)}*.parquet")
        dataset: Any
        if partition_as_file_dataset:
            dataset = FileDatasetFactory.from_files(path, partition_format=f"{folder}/{fmt}")
        else:
            dataset = TabularDatasetFactory.from_parquet_files(
                path, partition_format=f"{folder}/{fmt}", set_column_types=types or None
            )
            if self.timestamp_columns[0] is not None:
                ts, pts = self.timestamp_columns
                dataset = dataset.with_timestamp_columns(ts, pts)
        say("Successfully created a new dataset.")
        if name is None:
            return dataset
        say("registering a new dataset.")
        registered = dataset.register(datastore.workspace, name, create_new_version=True)
        say("Successfully created and registered a new dataset.")
        return registered

    # -- what needs Azure ----------------------------------------------------------------------

    def download(
        self, stream_column: str, target_path: Any = None, overwrite: bool = False, ignore_not_found: bool = True
    ) -> NoReturn:
        """Not supported: stream columns (labeled image datasets) are an Azure feature."""
        _not_supported(
            "download",
            "it downloads the files a stream column references, and Headwater's tabular datasets have no stream "
            "columns (Azure labeling projects create them)",
            "Use a FileDataset of the files (Dataset.File.from_files((datastore, 'folder'))).download(...), or "
            "to_csv_files()/to_parquet_files() and download that FileDataset.",
        )

    def mount(self, stream_column: str, mount_point: Any = None) -> NoReturn:
        """Not supported: stream columns (labeled image datasets) are an Azure feature."""
        _not_supported(
            "mount",
            "it mounts the files a stream column references, and Headwater's tabular datasets have no stream "
            "columns (Azure labeling projects create them)",
            "Mount a FileDataset of the files instead: Dataset.File.from_files((datastore, 'folder')).mount().",
        )

    def to_spark_dataframe(self) -> NoReturn:
        """Not supported: Headwater runs no Spark."""
        _not_supported(
            "to_spark_dataframe",
            "Headwater runs no Spark",
            "Use to_pandas_dataframe(), or spark.createDataFrame(ds.to_pandas_dataframe()) in your own Spark.",
        )

    def to_dask_dataframe(
        self, sample_size: int = 10000, dtypes: Any = None, on_error: str = "null", out_of_range_datetime: str = "null"
    ) -> NoReturn:
        """Not supported: read with pandas, or point Dask at the files."""
        _not_supported(
            "to_dask_dataframe",
            "Headwater does not use Dask",
            "Use to_pandas_dataframe(), or dask.dataframe.from_pandas(ds.to_pandas_dataframe(), npartitions=n).",
        )

    def get_profile(self, workspace: Any = None) -> NoReturn:
        """Not supported: data profiles are computed by Azure ML runs."""
        _not_supported(
            "get_profile", "data profiles are computed by Azure ML", "Use ds.to_pandas_dataframe().describe()."
        )

    def get_profile_runs(self, workspace: Any = None) -> NoReturn:
        """Not supported: data profiles are computed by Azure ML runs."""
        _not_supported(
            "get_profile_runs", "data profiles are computed by Azure ML", "Use ds.to_pandas_dataframe().describe()."
        )

    def submit_profile_run(self, compute_target: Any, experiment: Any, cache_datastore_name: Any = None) -> NoReturn:
        """Not supported: data profiles are computed by Azure ML runs."""
        _not_supported(
            "submit_profile_run",
            "data profiles are computed by Azure ML",
            "Compute statistics in a step: ds.to_pandas_dataframe().describe(), logged with run.log_table(...).",
        )


def _partition_format(frame: pd.DataFrame, keys: list[str]) -> tuple[str, dict[str, str]]:
    """The partition format of the folders :func:`_partitions` writes, and the types to restore the keys with."""
    import pandas as pd

    parts: list[str] = []
    types: dict[str, str] = {}
    for key in keys:
        column = frame[key]
        if pd.api.types.is_datetime64_any_dtype(column):
            parts.append("{" + key + ":yyyyMMddHHmmss}/")
            continue
        parts.append("{" + key + "}/")
        if pd.api.types.is_bool_dtype(column):
            types[key] = "bool"
        elif pd.api.types.is_integer_dtype(column):
            types[key] = "int"
        elif pd.api.types.is_float_dtype(column):
            types[key] = "float"
    return "".join(parts) + "*.parquet", types


def _partitions(frame: pd.DataFrame, keys: list[str]) -> dict[str, pd.DataFrame]:
    import pandas as pd

    files: dict[str, pd.DataFrame] = {}
    for values, group in frame.groupby(keys, sort=True, dropna=False):
        values = values if isinstance(values, tuple) else (values,)
        folders = []
        for key, value in zip(keys, values, strict=True):
            if value is None or (not isinstance(value, str) and bool(pd.isna(value))):  # type: ignore[call-overload]
                raise DataAccessError(
                    f"partition_by: column {key!r} has missing values, which cannot name a folder.",
                    hint="Fill or drop them first (a filter on the column), then partition.",
                )
            text = value.strftime("%Y%m%d%H%M%S") if isinstance(value, datetime) else str(value)
            if "/" in text or text in (".", ".."):
                raise DataAccessError(f"partition_by: the value {text!r} of column {key!r} cannot name a folder.")
            folders.append(text)
        files["/".join([*folders, "part-00000.parquet"])] = group.drop(columns=keys).reset_index(drop=True)
    return files
