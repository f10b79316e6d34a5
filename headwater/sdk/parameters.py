"""``PipelineParameter``: a value chosen at submit time (SDK v1: azureml.pipeline.core)."""

from __future__ import annotations

from typing import Any

from headwater.errors import HeadwaterError

__all__ = ["PipelineParameter", "PipelineParameterError", "parameter_value"]


class PipelineParameterError(HeadwaterError, ValueError):
    """A pipeline parameter with a bad name or value (also a ValueError, as in SDK v1)."""


def parameter_value(value: Any, *, name: str) -> Any:
    """The JSON form of a parameter value: scalars as they are, a DataPath or a Dataset as a dict.

    SDK v1 accepts int, float, str, bool, DataPath and File/Tabular datasets; lists and dicts are
    not allowed (pass JSON strings instead).
    """
    if isinstance(value, bool | int | float | str):
        return value
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict) and hasattr(value, "path_on_datastore"):  # DataPath
        d = to_dict()
        return {"datastore": d["datastore"], "path": d.get("path_on_datastore") or ""}
    spec = getattr(value, "_to_spec", None)
    if callable(spec):  # FileDataset / TabularDataset
        return spec()
    raise PipelineParameterError(
        f"Pipeline parameter {name!r} has a value of type {type(value).__name__}, which is not supported.",
        hint="Use int, float, str, bool, a DataPath or a dataset; pass lists and dicts as JSON strings.",
    )


class PipelineParameter:
    """A named value that can change per submission; in arguments it becomes its value.

    ``PipelineParameter(name="lr", default_value=0.1)``; override with
    ``experiment.submit(pipeline, pipeline_parameters={"lr": 0.2})``.
    """

    def __init__(self, name: str, default_value: Any) -> None:
        if not isinstance(name, str) or not name:
            raise PipelineParameterError(f"A pipeline parameter needs a non-empty name, got {name!r}.")
        self.name = name
        self.default_value = default_value
        parameter_value(default_value, name=name)  # validates

    def _json_default(self) -> Any:
        return parameter_value(self.default_value, name=self.name)

    def __repr__(self) -> str:
        return f"PipelineParameter(name={self.name!r}, default_value={self.default_value!r})"

    def __str__(self) -> str:
        return f"$AML_PARAMETER_{self.name}"
