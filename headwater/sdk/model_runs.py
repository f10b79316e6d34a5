"""``Run.register_model`` on a run read from the store (a finished step, script or pipeline run)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from headwater.sdk.model import Model
from headwater.sdk.model_fields import saved

__all__ = ["register_run_model"]


def register_run_model(
    run: Any,
    model_name: str,
    model_path: str | None = None,
    tags: dict[str, Any] | None = None,
    properties: dict[str, Any] | None = None,
    model_framework: str | None = None,
    model_framework_version: str | None = None,
    description: str | None = None,
    datasets: list[tuple[str, Any]] | None = None,
    sample_input_dataset: Any = None,
    sample_output_dataset: Any = None,
    resource_configuration: Any = None,
    **kwargs: Any,
) -> Model:
    """``Run.register_model`` on a run read from the store: register its files now."""
    from headwater.engine.step_models import register_request
    from headwater.runtime.model_requests import build_request

    workspace = run._workspace
    Model._check_registration(model_name, model_framework, model_framework_version)
    request = build_request(
        model_name,
        model_path,
        tags=tags,
        properties=properties,
        model_framework=model_framework,
        model_framework_version=model_framework_version,
        description=description,
        datasets=[(scenario, saved(workspace, ds)) for scenario, ds in datasets or []],
        sample_input_dataset=saved(workspace, sample_input_dataset),
        sample_output_dataset=saved(workspace, sample_output_dataset),
        resource_configuration=resource_configuration,
    )
    request["sub_paths"] = list(kwargs.get("sub_paths") or [])
    record = register_request(
        workspace.metadata_store, workspace.folder, run.id, Path(run._run_dir), run.experiment.name, request
    )
    return Model(workspace, _record=record)
