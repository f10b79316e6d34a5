"""The fields of a model registration that refer to other objects: datasets, sample datasets, resources."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from headwater.errors import ConfigurationError

if TYPE_CHECKING:
    from headwater.sdk.workspace import Workspace

__all__ = ["check_dict", "dataset_references", "extra_fields", "saved"]


def check_dict(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigurationError(f"Model {what} must be a dict, got {type(value).__name__}", key=what)
    return dict(value)


def _dataset_id(workspace: Workspace, dataset: Any, what: str) -> str:
    if hasattr(dataset, "_ensure_saved"):
        dataset = dataset._ensure_saved(workspace)
    dataset_id = getattr(dataset, "id", None)
    if not dataset_id:
        raise ConfigurationError(
            f"The {what} has no id: {dataset!r}", key=what, hint="Pass a Dataset (registered or not)."
        )
    return str(dataset_id)


def dataset_references(workspace: Workspace, datasets: Any) -> list[dict[str, str]]:
    """SDK v1's ``datasets=[(scenario, dataset), ...]`` as stored references ``{"name", "id"}``."""
    refs = []
    for pair in datasets or []:
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ConfigurationError(
                f"datasets must be (scenario, dataset) pairs, got {pair!r}",
                key="datasets",
                hint="For example datasets=[('training', train_ds)].",
            )
        refs.append({"name": str(pair[0]), "id": _dataset_id(workspace, pair[1], "dataset")})
    return refs


def extra_fields(
    workspace: Workspace, sample_input_dataset: Any, sample_output_dataset: Any, resource_configuration: Any
) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if sample_input_dataset is not None:
        extra["sample_input_dataset_id"] = _dataset_id(workspace, sample_input_dataset, "sample_input_dataset")
    if sample_output_dataset is not None:
        extra["sample_output_dataset_id"] = _dataset_id(workspace, sample_output_dataset, "sample_output_dataset")
    if resource_configuration is not None:
        serialize = getattr(resource_configuration, "serialize", None)
        extra["resource_configuration"] = serialize() if callable(serialize) else dict(resource_configuration)
    return extra


def saved(workspace: Workspace, dataset: Any) -> Any:
    return dataset._ensure_saved(workspace) if hasattr(dataset, "_ensure_saved") else dataset
