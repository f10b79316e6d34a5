"""Register the models a run asked for: from a step when it succeeds, or from a finished run directly.

A step's ``run.register_model(...)`` leaves a request in its run folder
(:mod:`headwater.runtime.model_requests`); :meth:`~headwater.engine.step_runner.StepRunner.finish`
calls :func:`register_requested_models` after the step's outputs are committed, so a failed step
registers nothing. ``Run.register_model`` on a run read from the store (``headwater.sdk.runs``) calls
:func:`register_request` at once. Either way the model's files are copied from the run folder into
the workspace's content-addressed model store, and the version records the run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from headwater.errors import NotFoundError
from headwater.layout import WorkspaceLayout
from headwater.runtime.model_requests import find_run_path, read_model_requests
from headwater.store.metadata import MetadataStore
from headwater.store.model_files import collect_model_files, register_model_files
from headwater.store.repo_models import ModelRecord

__all__ = ["register_request", "register_requested_models", "run_model_sources"]


def run_model_sources(run_dir: Path, path: str, sub_paths: list[str] | None = None, *, run_id: str) -> dict[str, Path]:
    """The files the run's file or folder ``path`` holds, by their names in the model."""
    found = find_run_path(str(run_dir), path)
    if found is None:
        from headwater.runtime.run_files import file_names

        raise NotFoundError(
            "Run file",
            path,
            where=f"run {run_id}",
            candidates=file_names(str(run_dir)),
            hint="Name a file or folder of the run, e.g. 'outputs/model.pkl'.",
        )
    return collect_model_files(found, sub_paths)


def register_request(
    store: MetadataStore,
    workspace_folder: Path,
    run_id: str,
    run_dir: Path,
    experiment_name: str | None,
    request: dict[str, Any],
) -> ModelRecord:
    """Register one request (the shape :func:`headwater.runtime.model_requests.build_request` makes)."""
    sources = run_model_sources(run_dir, request["path"], request.get("sub_paths"), run_id=run_id)
    return register_model_files(
        store,
        WorkspaceLayout(workspace_folder),
        request["name"],
        sources,
        description=request.get("description"),
        tags=request.get("tags") or {},
        properties=request.get("properties") or {},
        framework=request.get("framework"),
        framework_version=request.get("framework_version"),
        run_id=run_id,
        experiment_name=experiment_name,
        datasets=request.get("datasets") or [],
        extra=request.get("extra") or {},
    )


def register_requested_models(
    store: MetadataStore, workspace_folder: Path, run_id: str, run_dir: Path, experiment_name: str | None
) -> list[ModelRecord]:
    """Register every model the step at ``run_dir`` asked for (none asked: nothing is read but one stat)."""
    return [
        register_request(store, workspace_folder, run_id, run_dir, experiment_name, request)
        for request in read_model_requests(str(run_dir))
    ]
