"""``PipelineData.as_dataset()``: intermediate data promoted to a dataset (SDK v1:
``azureml.pipeline.core.pipeline_output_dataset``).

The producer lists the promoted object in its ``outputs`` (the data is still written to
``$AZUREML_DATAREFERENCE_<name>``, committed like any PipelineData); a consumer lists it, or
``parse_delimited_files()`` / ``parse_parquet_files()`` of it, in ``inputs`` and reads it by its
input name from ``Run.get_context().input_datasets`` (a path when mounted or downloaded, a
TabularDataset when parsed). Steps lower these objects to Headwater's own output/input bindings
when they are built (:func:`lower_step_data`), so the pipeline builder sees nothing new.
"""

from __future__ import annotations

import copy
from typing import Any

from headwater.data.definition import PromoteHeadersBehavior, header_mode, normalize_column_types
from headwater.errors import NotSupportedError
from headwater.sdk.pipeline_data import (
    OutputFileDatasetConfig,
    OutputInput,
    OutputTabularDatasetConfig,
    PipelineData,
    check_name,
)

__all__ = [
    "DatasetRegistration",
    "PipelineOutputAbstractDataset",
    "PipelineOutputFileDataset",
    "PipelineOutputTabularDataset",
    "lower_step_data",
]


class DatasetRegistration:
    """How promoted intermediate data is registered (SDK v1: a name and whether to add a version)."""

    def __init__(self, name: str | None, create_new_version: bool) -> None:
        self._name = name
        self._create_new_version = create_new_version

    @property
    def name(self) -> str | None:
        return self._name

    @property
    def create_new_version(self) -> bool:
        return self._create_new_version


class PipelineOutputAbstractDataset:
    """What file and tabular promoted data share: an input name, a consumption mode, a registration."""

    def __init__(self, pipeline_data: PipelineData) -> None:
        self._pipeline_data = pipeline_data
        self._registration_name: str | None = None
        self._create_new_version: bool | None = None
        self._input_mode = "mount"
        self._input_name = pipeline_data.name
        self._input_path_on_compute: str | None = None

    def register(self, name: str, create_new_version: bool = True) -> Any:
        """Register the output as a new version of dataset ``name`` when the producing step succeeds.

        As in SDK v1 this applies only where the object is a step's output.
        """
        if not create_new_version:
            raise NotSupportedError(
                f"register({name!r}, create_new_version=False) is not supported by Headwater: every run writes "
                "its intermediate data to a new folder, so each registration is a new version.",
                hint="Leave create_new_version=True (the default); Dataset.get_by_name(ws, name, version=...) "
                "reads an older version.",
            )
        other = self._clone()
        other._registration_name = name
        other._create_new_version = True
        return other

    def as_named_input(self, name: str) -> Any:
        """The name the consuming step reads this data by (``run.input_datasets[name]``)."""
        other = self._clone()
        other._input_name = check_name(name, "input")
        return other

    @property
    def name(self) -> str:
        """The output name of the PipelineData."""
        return self._pipeline_data.name

    @property
    def input_name(self) -> str:
        """The name the consuming step reads this data by."""
        return self._input_name

    @property
    def _port(self) -> Any:
        return self._pipeline_data._port

    def create_input_binding(self) -> OutputInput:
        """This data as an input of the consuming step."""
        return OutputInput(
            _file_view(self._pipeline_data), self.input_name, self._input_mode, self._input_path_on_compute
        )

    def _clone(self) -> Any:
        return copy.copy(self)

    def __str__(self) -> str:
        return f"DatasetConsumptionConfig:{self.input_name}"


class PipelineOutputFileDataset(PipelineOutputAbstractDataset):
    """Intermediate data promoted to a FileDataset (``PipelineData.as_dataset()``)."""

    def as_download(self, path_on_compute: str | None = None) -> PipelineOutputFileDataset:
        """The consuming step gets a downloaded copy."""
        return self._set_mode("download", path_on_compute)

    def as_mount(self, path_on_compute: str | None = None) -> PipelineOutputFileDataset:
        """The consuming step reads the data in place (the default)."""
        return self._set_mode("mount", path_on_compute)

    def as_direct(self) -> PipelineOutputFileDataset:
        """The consuming step gets the data's location without a copy."""
        return self._set_mode("direct", None)

    def parse_delimited_files(
        self,
        include_path: bool = False,
        separator: str = ",",
        header: Any = PromoteHeadersBehavior.ALL_FILES_HAVE_SAME_HEADERS,
        partition_format: str | None = None,
        file_extension: str | None = "",
        set_column_types: dict[str, Any] | None = None,
        quoted_line_breaks: bool = False,
    ) -> PipelineOutputTabularDataset:
        """The consuming step reads the delimited files of the data as a TabularDataset.

        As in SDK v1, ``file_extension=''`` reads ``*.csv`` for ``','``, ``*.tsv`` for a tab and every
        file otherwise (``None``: every file); columns stay strings unless ``set_column_types`` says.
        """
        if not isinstance(separator, str) or not separator:
            raise ValueError(f"separator must be a non-empty string, got {separator!r}.")
        if file_extension == "":
            file_extension = {",": ".csv", "\t": ".tsv"}.get(separator)
        reader = {
            "type": "delimited",
            "separator": separator,
            "header": header_mode(header),
            "infer_column_types": False,
            "set_column_types": normalize_column_types(set_column_types),
            "include_path": bool(include_path),
            "support_multi_line": bool(quoted_line_breaks),
            "empty_as_string": False,
            "encoding": "utf8",
            "path_glob": _extension_glob(file_extension),
        }
        _no_partition_format(partition_format, "parse_delimited_files")
        return PipelineOutputTabularDataset(self, {"reader": reader, "transformations": []})

    def parse_parquet_files(
        self,
        include_path: bool = False,
        partition_format: str | None = None,
        file_extension: str | None = ".parquet",
        set_column_types: dict[str, Any] | None = None,
    ) -> PipelineOutputTabularDataset:
        """The consuming step reads the parquet files of the data as a TabularDataset."""
        reader = {
            "type": "parquet",
            "include_path": bool(include_path),
            "set_column_types": normalize_column_types(set_column_types),
            "path_glob": _extension_glob(file_extension),
        }
        _no_partition_format(partition_format, "parse_parquet_files")
        return PipelineOutputTabularDataset(self, {"reader": reader, "transformations": []})

    def _set_mode(self, mode: str, path_on_compute: str | None) -> PipelineOutputFileDataset:
        other: PipelineOutputFileDataset = self._clone()
        other._input_mode = mode
        other._input_path_on_compute = path_on_compute
        return other


class PipelineOutputTabularDataset(PipelineOutputAbstractDataset):
    """Intermediate data promoted to a TabularDataset (``parse_delimited_files()`` / ``parse_parquet_files()``).

    ``additional_transformations`` is ``{"reader": {...}, "transformations": [...]}`` (SDK v1: a dataflow).
    """

    def __init__(self, pipeline_output_dataset: PipelineOutputFileDataset, additional_transformations: Any) -> None:
        if not additional_transformations:
            raise ValueError("Argument additional_transformation cannot be empty or None")
        super().__init__(pipeline_output_dataset._pipeline_data)
        self._pipeline_output_dataset = pipeline_output_dataset
        self._additional_transformations = additional_transformations
        self._input_name = pipeline_output_dataset.input_name
        self._input_mode = "direct"

    def _with(self, op: str, columns: list[str] | str) -> PipelineOutputTabularDataset:
        cols = [columns] if isinstance(columns, str) else list(columns)
        t = self._additional_transformations
        changed = {**t, "transformations": [*t["transformations"], {"op": op, "columns": cols}]}
        other: PipelineOutputTabularDataset = self._clone()
        other._additional_transformations = changed
        return other

    def keep_columns(self, columns: list[str] | str) -> PipelineOutputTabularDataset:
        """Keep only these columns."""
        return self._with("keep_columns", columns)

    def drop_columns(self, columns: list[str] | str) -> PipelineOutputTabularDataset:
        """Drop these columns."""
        return self._with("drop_columns", columns)

    def random_split(self, percentage: float, seed: int | None = None) -> tuple[Any, Any]:
        raise NotSupportedError(
            "PipelineOutputTabularDataset.random_split is not supported by Headwater: an intermediate "
            "dataset is not split before the consuming step runs.",
            hint="Split inside the consuming step: run.input_datasets[name].random_split(percentage, seed).",
        )

    def create_input_binding(self) -> OutputInput:
        """This data as a direct (TabularDataset) input of the consuming step."""
        if self._input_mode != "direct":
            raise RuntimeError("Input mode for Tabular Dataset intermediate data can only be direct.")
        t = self._additional_transformations
        base = _file_view(self._pipeline_data)
        tabular = OutputTabularDatasetConfig(output_file_dataset_config=base, _reader=t["reader"])
        tabular._transformations = list(t["transformations"])
        return OutputInput(tabular, self.input_name, "direct")


def _extension_glob(extension: str | None) -> str | None:
    if not extension:
        return None
    return "**/*" + (extension if extension.startswith(".") else "." + extension)


def _no_partition_format(partition_format: str | None, where: str) -> None:
    if partition_format:
        raise NotSupportedError(
            f"{where}(partition_format=...) is not supported by Headwater for intermediate data.",
            hint="Read the partition values from the path with include_path=True, or write them as columns.",
        )


def _file_view(data: PipelineData) -> OutputFileDatasetConfig:
    """An OutputFileDatasetConfig sharing the PipelineData's port (so inputs read that output)."""
    view = OutputFileDatasetConfig()
    view._port = data._port
    return view


def _is_output(item: Any, outputs: list[Any]) -> bool:
    port = getattr(item, "_port", None)
    return any(getattr(o, "_port", None) is port for o in outputs if isinstance(o, PipelineData | _PROMOTED))


def _lower_output(item: Any) -> Any:
    if not isinstance(item, PipelineOutputAbstractDataset):
        return item
    data = copy.copy(item._pipeline_data)
    data._port.promoted = True
    if item._registration_name:
        data._registration = {"name": item._registration_name, "description": None, "tags": {}}
    return data


def _lower_input(item: Any) -> Any:
    if isinstance(item, PipelineOutputAbstractDataset):
        binding = item.create_input_binding()
        binding.promoted_from = item  # checked when the pipeline is built: the producer must promote it
        return binding
    from headwater.sdk.step_outputs import PortDataReference

    if isinstance(item, PortDataReference):
        return item._data_reference
    return item


_PROMOTED = PipelineOutputAbstractDataset


def lower_step_data(inputs: list[Any], outputs: list[Any], arguments: list[Any]) -> tuple[list[Any], ...]:
    """A step's inputs, outputs and arguments with promoted data and PortDataReferences lowered to
    Headwater's bindings (a promoted object in ``outputs`` is that output also in ``arguments``)."""
    lowered_args = [
        _lower_output(a) if isinstance(a, _PROMOTED) and _is_output(a, outputs) else _lower_input(a) for a in arguments
    ]
    return [_lower_input(i) for i in inputs], [_lower_output(o) for o in outputs], lowered_args


def promotion_problem(item: Any) -> str | None:
    """Why an input that reads promoted data cannot (its producer did not promote it), or None."""
    source = getattr(item, "promoted_from", None)
    if source is None or getattr(source._port, "promoted", False):
        return None
    return (
        f"Input {item.name!r} is expected to be consumed as a dataset but the output {source.name!r} is not "
        "promoted to a dataset. Pass the object returned by as_dataset() to the outputs of the step that writes it."
    )


def pipeline_outputs(steps: list[Any]) -> tuple[dict[str, str], tuple[str, ...]]:
    """``{pipeline_output_name: output name}`` of the steps' PipelineData outputs, and the problems
    (SDK v1: pipeline output names are unique in a pipeline)."""
    named: dict[str, str] = {}
    problems: list[str] = []
    for step in steps:
        for out in step.outputs:
            key = getattr(out, "pipeline_output_name", None) if isinstance(out, PipelineData) else None
            if key is None:
                continue
            if key in named and named[key] != out.name:
                problems.append(f"Step {step.name!r}: pipeline output name {key!r} is used twice in the pipeline.")
            named.setdefault(key, out.name)
    return named, tuple(problems)
