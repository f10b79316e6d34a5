"""Data passed between steps: ``OutputFileDatasetConfig`` (the preferred form) and ``PipelineData``
(the legacy form found in most SDK v1 code), and the input bindings made from them.

Copies made by ``as_mount()``, ``as_upload()``, ``register_on_complete()`` ... share one *port*
with the object they were made from, so a producer's ``output.as_upload()`` and a consumer's
``output.as_input()`` are the same edge. A port with no name gets a stable generated one when a
Pipeline is built (SDK v1's random names made steps re-run every time).
"""

from __future__ import annotations

import copy
import re
from typing import Any

from headwater.data.definition import PromoteHeadersBehavior, header_mode, normalize_column_types
from headwater.errors import HeadwaterError, NotSupportedError

__all__ = [
    "OutputDatasetConfig",
    "OutputFileDatasetConfig",
    "OutputTabularDatasetConfig",
    "PipelineData",
    "PipelineDataInput",
    "OutputInput",
    "DataDefinitionError",
    "check_name",
]

_NAME_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
DEFAULT_OUTPUT_PATH = "dataset/{run-id}/{output-name}"
PIPELINE_DATA_PATH = "azureml/{run-id}/{output-name}"


class DataDefinitionError(HeadwaterError, ValueError):
    """A bad input/output definition (also a ValueError, as SDK v1 raises)."""


def check_name(name: str, what: str) -> str:
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise DataDefinitionError(
            f"Invalid {what} name {name!r}: it must match ^[a-zA-Z_][a-zA-Z0-9_]*$ "
            "(it becomes an environment variable name)."
        )
    return name


class _Port:
    """The identity of an output, shared by all copies of the output object."""

    def __init__(self, name: str | None) -> None:
        self.name = name
        self.producers: list[Any] = []  # steps that list it among their outputs (for closure)
        self.promoted = False  # a producer lists PipelineData.as_dataset() in its outputs

    def __deepcopy__(self, memo: dict[int, Any]) -> _Port:
        return self


def _datastore_name(datastore: Any) -> str | None:
    if datastore is None:
        return None
    if isinstance(datastore, str):
        return datastore
    name = getattr(datastore, "name", None)
    if not isinstance(name, str):
        raise DataDefinitionError(f"Expected a datastore, got {type(datastore).__name__}.")
    return name


class OutputDatasetConfig:
    """Common base of output configurations (SDK v1: ``OutputDatasetConfig``)."""

    def __init__(self, mode: str, name: str | None = None, **kwargs: Any) -> None:
        if name is not None:
            check_name(name, "output")
        self._port = _Port(name)
        self._mode = mode
        self._registration: dict[str, Any] | None = None
        self._upload: dict[str, Any] | None = None

    @property
    def name(self) -> str | None:
        """The output's name (generated at Pipeline() time when not given)."""
        return self._port.name

    @property
    def mode(self) -> str:
        return self._mode

    def _copy(self, **changes: Any) -> Any:
        other = copy.copy(self)
        for key, value in changes.items():
            setattr(other, key, value)
        return other

    def register_on_complete(
        self, name: str, description: str | None = None, tags: dict[str, str] | None = None
    ) -> Any:
        """Register the output as a new version of dataset ``name`` when the step succeeds."""
        reg = {"name": name, "description": description, "tags": dict(tags or {})}
        return self._copy(_registration=reg)

    def as_input(self, name: str | None = None) -> OutputInput:
        """Bind this output as the next step's input (mounted)."""
        if name is not None:
            check_name(name, "input")
        return OutputInput(self, name, "mount")

    def __str__(self) -> str:
        return f"DatasetOutputConfig:{self.name}"


class OutputFileDatasetConfig(OutputDatasetConfig):
    """A folder a step writes, committed to a datastore when the step succeeds.

    ``destination`` is a datastore, or ``(datastore, 'path')`` where the path may use ``{run-id}``
    and ``{output-name}``; the default is the pipeline's default datastore under
    ``dataset/{run-id}/{output-name}``.
    """

    def __init__(
        self,
        name: str | None = None,
        destination: Any = None,
        source: str | None = None,
        partition_format: str | None = None,
    ) -> None:
        super().__init__("mount", name)
        self._datastore: str | None = None
        self._path_template = DEFAULT_OUTPUT_PATH
        if destination is not None:
            if isinstance(destination, tuple):
                if len(destination) != 2:
                    raise DataDefinitionError("destination must be a datastore or (datastore, 'path').")
                self._datastore = _datastore_name(destination[0])
                path = destination[1]
                if not isinstance(path, str):
                    raise DataDefinitionError(
                        f"The destination path must be a string, got {type(path).__name__}.",
                        hint="A PipelineParameter cannot be used in a destination path (as in SDK v1).",
                    )
                # a leading '/' is kept: an absolute destination is refused at validation and submit
                self._path_template = path.rstrip("/") or DEFAULT_OUTPUT_PATH
            else:
                self._datastore = _datastore_name(destination)
        self.source = source
        self.partition_format = partition_format
        self._tabular: dict[str, Any] | None = None

    @property
    def destination(self) -> tuple[str | None, str]:
        return (self._datastore, self._path_template)

    def as_mount(self, disable_metadata_cache: bool = False) -> OutputFileDatasetConfig:
        """Write through a mounted folder (locally: a staging folder committed on success)."""
        return self._copy(_mode="mount")

    def as_upload(self, overwrite: bool = False, source_globs: list[str] | None = None) -> OutputFileDatasetConfig:
        """Upload the folder when the step succeeds; nothing is uploaded when it fails.

        ``source_globs`` keeps only the files whose path inside the folder matches one of the
        patterns (``fnmatch`` style: ``*.csv``, ``model/*``; ``*`` also crosses folders); the
        others are neither uploaded nor part of the output's digest. With ``overwrite=False`` a
        file that already exists at the destination fails the step's commit (nothing is written);
        ``True`` replaces what is there.
        """
        if isinstance(source_globs, str):
            source_globs = [source_globs]
        globs = [str(g) for g in source_globs] if source_globs else None
        return self._copy(_mode="upload", _upload={"overwrite": bool(overwrite), "source_globs": globs})

    def read_delimited_files(
        self,
        include_path: bool = False,
        separator: str = ",",
        header: Any = PromoteHeadersBehavior.ALL_FILES_HAVE_SAME_HEADERS,
        partition_format: str | None = None,
        path_glob: str | None = None,
        set_column_types: dict[str, Any] | None = None,
    ) -> OutputTabularDatasetConfig:
        """Hand the next step this output as a TabularDataset read from delimited files.

        The reader options are those of ``Dataset.Tabular.from_delimited_files``; ``path_glob``
        selects files inside the output folder (``'*.csv'``).
        """
        if not isinstance(separator, str) or not separator:
            raise DataDefinitionError(f"separator must be a non-empty string, got {separator!r}.")
        reader = {
            "type": "delimited",
            "separator": separator,
            "header": header_mode(header),
            "infer_column_types": True,
            "set_column_types": normalize_column_types(set_column_types),
            "include_path": bool(include_path),
            "support_multi_line": False,
            "empty_as_string": False,
            "encoding": "utf8",
            "path_glob": path_glob,
        }
        return OutputTabularDatasetConfig(output_file_dataset_config=self, _reader=reader)

    def read_parquet_files(
        self,
        include_path: bool = False,
        partition_format: str | None = None,
        path_glob: str | None = None,
        set_column_types: dict[str, Any] | None = None,
    ) -> OutputTabularDatasetConfig:
        """Hand the next step this output as a TabularDataset read from parquet files."""
        reader = {
            "type": "parquet",
            "include_path": bool(include_path),
            "set_column_types": normalize_column_types(set_column_types),
            "path_glob": path_glob,
        }
        return OutputTabularDatasetConfig(output_file_dataset_config=self, _reader=reader)


class OutputTabularDatasetConfig(OutputDatasetConfig):
    """An output read as a tabular dataset by the steps that consume it."""

    def __init__(self, **kwargs: Any) -> None:
        base = kwargs.get("output_file_dataset_config")
        reader = kwargs.get("_reader")
        if not isinstance(base, OutputFileDatasetConfig) or reader is None:
            raise DataDefinitionError(
                "OutputTabularDatasetConfig is not created directly.",
                hint="Call read_delimited_files() or read_parquet_files() on an OutputFileDatasetConfig.",
            )
        self._base = base
        self._port = base._port
        self._mode = base.mode
        self._registration = base._registration
        self._upload = base._upload
        self._reader = reader
        self._transformations: list[dict[str, Any]] = []

    @property
    def destination(self) -> tuple[str | None, str]:
        return self._base.destination

    def keep_columns(self, columns: list[str] | str) -> OutputTabularDatasetConfig:
        cols = [columns] if isinstance(columns, str) else list(columns)
        return self._copy(_transformations=[*self._transformations, {"op": "keep_columns", "columns": cols}])

    def drop_columns(self, columns: list[str] | str) -> OutputTabularDatasetConfig:
        cols = [columns] if isinstance(columns, str) else list(columns)
        return self._copy(_transformations=[*self._transformations, {"op": "drop_columns", "columns": cols}])

    def as_mount(self) -> OutputTabularDatasetConfig:
        """Write through a mounted folder (locally: a staging folder committed on success)."""
        return self._copy(_base=self._base.as_mount(), _mode="mount", _upload=None)

    def as_upload(self, overwrite: bool = False, source_globs: list[str] | None = None) -> OutputTabularDatasetConfig:
        """Upload the folder when the step succeeds (see ``OutputFileDatasetConfig.as_upload``)."""
        base = self._base.as_upload(overwrite, source_globs)
        return self._copy(_base=base, _mode="upload", _upload=base._upload)

    def random_split(self, percentage: float, seed: int | None = None) -> tuple[Any, Any]:
        raise NotSupportedError(
            "OutputTabularDatasetConfig.random_split is not supported by Headwater: a step output is not "
            "split before the consuming step runs.",
            hint="Split inside the consuming step: run.input_datasets[name].random_split(percentage, seed).",
        )

    def register_on_complete(
        self, name: str, description: str | None = None, tags: dict[str, str] | None = None
    ) -> OutputTabularDatasetConfig:
        tabular = {**self._reader, "transformations": list(self._transformations)}
        reg = {"name": name, "description": description, "tags": dict(tags or {}), "tabular": tabular}
        return self._copy(_registration=reg)

    def as_input(self, name: str | None = None) -> OutputInput:
        if name is not None:
            check_name(name, "input")
        return OutputInput(self, name, "direct")


class OutputInput:
    """An output bound as an input of a consuming step (SDK v1: a DatasetConsumptionConfig)."""

    def __init__(
        self, output: OutputDatasetConfig, name: str | None, mode: str, path_on_compute: str | None = None
    ) -> None:
        self.output = output
        self._name = name
        self.mode = mode
        self.path_on_compute = path_on_compute
        self.promoted_from: Any = None  # the PipelineData.as_dataset() object it was made from

    @property
    def name(self) -> str | None:
        return self._name or self.output.name

    def as_mount(self, path_on_compute: str | None = None) -> OutputInput:
        return OutputInput(self.output, self._name, "mount", path_on_compute)

    def as_download(self, path_on_compute: str | None = None) -> OutputInput:
        return OutputInput(self.output, self._name, "download", path_on_compute)

    def __str__(self) -> str:
        return f"DatasetConsumptionConfig:{self.name}"


class PipelineData:
    """Legacy intermediate data (SDK v1: ``azureml.pipeline.core.PipelineData``).

    Stored at ``azureml/<step run id>/<name>`` on its datastore; the script receives its path as
    ``$AZUREML_DATAREFERENCE_<name>`` (argv token and environment variable). It must be listed in
    the producer's ``outputs`` and the consumers' ``inputs``.
    """

    def __init__(
        self,
        name: str,
        datastore: Any = None,
        output_name: str | None = None,
        output_mode: str = "mount",
        output_path_on_compute: str | None = None,
        output_overwrite: bool | None = None,
        data_type: str | None = None,
        is_directory: bool | None = None,
        pipeline_output_name: str | None = None,
        training_output: Any = None,
    ) -> None:
        if not isinstance(name, str) or not re.fullmatch(r"\w+", name):
            raise DataDefinitionError(f"Invalid PipelineData name {name!r}: it must match \\w+.")
        if output_mode not in ("mount", "upload"):
            raise DataDefinitionError(f"PipelineData output_mode must be 'mount' or 'upload', got {output_mode!r}.")
        self._port = _Port(name)
        self.datastore = datastore
        self._datastore_name = _datastore_name(datastore)
        self.output_mode = output_mode
        self.pipeline_output_name = pipeline_output_name
        self.data_type = data_type or "AnyDirectory"
        self.is_directory = is_directory
        self._registration: dict[str, Any] | None = None  # as_dataset().register(name) in a step's outputs

    @property
    def name(self) -> str:
        assert self._port.name is not None
        return self._port.name

    def as_input(self, input_name: str) -> PipelineDataInput:
        """This data as an input named ``input_name`` (mounted)."""
        return self.create_input_binding(check_name(input_name, "input"))

    def as_mount(self, input_name: str | None = None) -> PipelineDataInput:
        """This data as a mounted input."""
        return self.create_input_binding(input_name, "mount")

    def as_download(
        self, input_name: str | None = None, path_on_compute: str | None = None, overwrite: bool | None = None
    ) -> PipelineDataInput:
        """This data as an input downloaded before the step starts."""
        return self.create_input_binding(input_name, "download", path_on_compute, overwrite)

    def create_input_binding(
        self,
        input_name: str | None = None,
        mode: str | None = None,
        path_on_compute: str | None = None,
        overwrite: bool | None = None,
    ) -> PipelineDataInput:
        """This data as an input of a consuming step (SDK v1: an InputPortBinding)."""
        mode = mode or "mount"
        if mode not in ("mount", "download"):
            raise DataDefinitionError(f"Input [{input_name or self.name}] has an invalid mode [{mode}].")
        return PipelineDataInput(self, input_name, mode, path_on_compute)

    def as_dataset(self) -> Any:
        """Promote the data to a FileDataset (``PipelineOutputFileDataset``): list the returned object in the
        producer's ``outputs`` and in the consumers' ``inputs``; ``parse_delimited_files()`` of it reads it as
        a TabularDataset."""
        from headwater.sdk.pipeline_output_dataset import PipelineOutputFileDataset

        return PipelineOutputFileDataset(self)

    def get_env_variable_name(self) -> str:
        return f"AZUREML_DATAREFERENCE_{self.name}"

    def __str__(self) -> str:
        return f"$AZUREML_DATAREFERENCE_{self.name}"

    __repr__ = __str__


class PipelineDataInput:
    """A PipelineData bound as an input (mount or download)."""

    def __init__(self, data: PipelineData, name: str | None, mode: str, path_on_compute: str | None = None) -> None:
        self.data = data
        self._name = name
        self.mode = mode
        self.path_on_compute = path_on_compute

    @property
    def name(self) -> str:
        return self._name or self.data.name

    def __str__(self) -> str:
        return f"$AZUREML_DATAREFERENCE_{self.name}"
