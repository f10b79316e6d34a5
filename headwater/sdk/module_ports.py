"""A module's port definitions (SDK v1: azureml.pipeline.core.graph.InputPortDef / OutputPortDef).

A :class:`~headwater.sdk.module.Module` version declares its inputs and outputs with these; a
:class:`~headwater.sdk.module_step.ModuleStep` maps each port, by name, to the data it reads or
writes (PipelineData, OutputFileDatasetConfig, a dataset ...). In a module's ``arguments`` a port
definition stands for the path of the data mapped to it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["InputPortDef", "OutputPortDef"]


class InputPortDef:
    """An input port of a module: its name and defaults (SDK v1's signature)."""

    def __init__(
        self,
        name: str,
        data_types: list[str] | None = None,
        default_datastore_mode: str | None = None,
        default_path_on_compute: str | None = None,
        is_optional: bool = False,
        default_overwrite: bool | None = None,
        default_data_reference_name: str | None = None,
        is_resource: bool = False,
        label: str | None = None,
        additional_transformations: Any = None,
        **kwargs: Any,
    ) -> None:
        self._name = name
        self._data_types = list(data_types) if data_types is not None else ["AnyFile", "AnyDirectory"]
        self._default_datastore_mode = default_datastore_mode
        self._default_path_on_compute = default_path_on_compute
        self._is_optional = bool(is_optional)
        self._default_overwrite = default_overwrite
        self._default_data_reference_name = default_data_reference_name
        self._is_resource = bool(is_resource)
        self._label = label
        self._additional_transformations = additional_transformations

    name = property(lambda self: self._name, doc="The port's name.")
    data_types = property(lambda self: list(self._data_types), doc="The data types the port accepts.")
    default_datastore_mode = property(lambda self: self._default_datastore_mode, doc="'mount' or 'download'.")
    default_path_on_compute = property(lambda self: self._default_path_on_compute)
    is_optional = property(lambda self: self._is_optional, doc="Whether a ModuleStep may leave it unmapped.")
    default_overwrite = property(lambda self: self._default_overwrite)
    default_data_reference_name = property(lambda self: self._default_data_reference_name)
    is_resource = property(lambda self: self._is_resource)
    label = property(lambda self: self._label)
    additional_transformations = property(lambda self: self._additional_transformations)

    def _to_dict(self) -> dict[str, Any]:
        return {
            "name": self._name,
            "data_types": self._data_types,
            "default_datastore_mode": self._default_datastore_mode,
            "default_path_on_compute": self._default_path_on_compute,
            "is_optional": self._is_optional,
            "default_overwrite": self._default_overwrite,
            "default_data_reference_name": self._default_data_reference_name,
            "is_resource": self._is_resource,
            "label": self._label,
        }

    @staticmethod
    def _from_dict(d: dict[str, Any]) -> InputPortDef:
        return InputPortDef(**d)

    def __repr__(self) -> str:
        return f"InputPortDef(name={self._name!r})"


class OutputPortDef:
    """An output port of a module: its name and defaults (SDK v1's signature)."""

    def __init__(
        self,
        name: str,
        default_datastore_name: str | None = None,
        default_datastore_mode: str | None = None,
        default_path_on_compute: str | None = None,
        is_directory: bool = False,
        data_type: str | None = None,
        default_overwrite: bool | None = None,
        training_output: Any = None,
        label: str | None = None,
    ) -> None:
        self._name = name
        self._default_datastore_name = default_datastore_name
        self._default_datastore_mode = default_datastore_mode
        self._default_path_on_compute = default_path_on_compute
        self._is_directory = bool(is_directory)
        self._data_type = data_type if data_type is not None else ("AnyDirectory" if is_directory else "AnyFile")
        self._default_overwrite = default_overwrite
        self._training_output = training_output
        self._label = label

    name = property(lambda self: self._name, doc="The port's name.")
    default_datastore_name = property(lambda self: self._default_datastore_name)
    default_datastore_mode = property(lambda self: self._default_datastore_mode, doc="'mount' or 'upload'.")
    default_path_on_compute = property(lambda self: self._default_path_on_compute)
    is_directory = property(lambda self: self._is_directory)
    data_type = property(lambda self: self._data_type)
    default_overwrite = property(lambda self: self._default_overwrite)
    training_output = property(lambda self: self._training_output)
    label = property(lambda self: self._label)

    def _to_dict(self) -> dict[str, Any]:
        return {
            "name": self._name,
            "default_datastore_name": self._default_datastore_name,
            "default_datastore_mode": self._default_datastore_mode,
            "default_path_on_compute": self._default_path_on_compute,
            "is_directory": self._is_directory,
            "data_type": self._data_type,
            "default_overwrite": self._default_overwrite,
            "label": self._label,
        }

    @staticmethod
    def _from_dict(d: dict[str, Any]) -> OutputPortDef:
        return OutputPortDef(**d)

    def __repr__(self) -> str:
        return f"OutputPortDef(name={self._name!r})"
