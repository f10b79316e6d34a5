"""Pipeline parameter values given at submit, resolved against the pipeline's defaults.

A value must have its parameter's type, the type of its default (SDK v1: ``PipelineParameter``'s
default is an int, float, str, bool, DataPath or dataset): an int is accepted for a float (as in
SDK v1), nothing else is converted — a bool is not an int here, a numeric string is not a number,
a path string is not a DataPath. Values arrive in their JSON form
(:func:`headwater.sdk.parameters.parameter_value`): a DataPath as ``{"datastore", "path"}``, a
dataset as its definition (``{"id", "definition", ...}``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from headwater.errors import HeadwaterError, did_you_mean

__all__ = ["UnknownParameterError", "ParameterTypeError", "parameter_kind", "resolve_parameters"]


class UnknownParameterError(HeadwaterError, ValueError):
    """``pipeline_parameters`` names a parameter the pipeline does not have."""


class ParameterTypeError(HeadwaterError, ValueError):
    """A ``pipeline_parameters`` value whose type is not its parameter's (a ValueError, as in SDK v1)."""


def parameter_kind(value: Any) -> str | None:
    """The type name of a parameter value in its JSON form: 'bool', 'int', 'float', 'str',
    'DataPath' or 'dataset'; None for anything else (None included)."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, Mapping):
        if "definition" in value:
            return "dataset"
        if "datastore" in value:
            return "DataPath"
    return None


_ACCEPTED = {"float": ("float", "int")}
_HINTS = {
    "bool": "Pass True or False.",
    "int": "Pass an int.",
    "float": "Pass a float (an int is accepted too).",
    "str": "Pass a str.",
    "DataPath": "Pass a DataPath(datastore, 'path').",
    "dataset": "Pass a FileDataset or TabularDataset.",
}


def _shown(value: Any) -> str:
    if parameter_kind(value) == "DataPath":
        return f"DataPath({value.get('datastore')!r}, {value.get('path')!r})"
    if parameter_kind(value) == "dataset":
        return f"dataset {value.get('name') or value.get('id')!r}"
    return repr(value)


def resolve_parameters(defaults: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """``defaults`` overridden by ``given``; raises UnknownParameterError for a name the pipeline
    lacks, ParameterTypeError (naming every wrong value) for a value of another type."""
    values = dict(defaults)
    wrong: list[str] = []
    for name, value in given.items():
        if name not in defaults:
            raise UnknownParameterError(
                f"Pipeline parameter with name {name!r} does not exist.{did_you_mean(name, defaults)}",
                hint=f"The pipeline's parameters: {sorted(defaults) or 'none'}.",
            )
        expected = parameter_kind(defaults[name])
        if expected is not None and parameter_kind(value) not in _ACCEPTED.get(expected, (expected,)):
            kind = parameter_kind(value) or type(value).__name__
            wrong.append(
                f"Pipeline parameter {name!r} has type {expected} (its default is {_shown(defaults[name])}), "
                f"but the value given is {_shown(value)} ({kind}). {_HINTS[expected]}"
            )
        values[name] = value
    if wrong:
        raise ParameterTypeError(" ".join(wrong))
    return values
