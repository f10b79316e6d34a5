"""Publish a pipeline and run what was published — the verbs the SDK, the REST API and the scheduler share.

:func:`publish_pipeline` stores a frozen copy of a pipeline (each step's source directory replaced
by its workspace snapshot, :func:`headwater.ops.freeze.freeze_spec`) as a published pipeline: what
it runs never changes afterwards. :func:`submit_published` checks a submission's assignments
(parameters, DataPaths, datasets) against the published pipeline before anything is recorded, then
submits the frozen spec like any pipeline, so reuse works across its runs.
:func:`resolve_endpoint` finds the published pipeline an endpoint (and version) stands for.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from headwater.config import validate_name
from headwater.errors import ConfigurationError, GraphValidationError, HeadwaterError, NotFoundError
from headwater.graph.analysis import validate
from headwater.graph.spec import PipelineSpec
from headwater.layout import WorkspaceLayout
from headwater.ops.freeze import freeze_spec, frozen_snapshot_ids
from headwater.ops.parameters import parameter_kind
from headwater.runtime.context import WorkspaceRef
from headwater.store.metadata import MetadataStore
from headwater.store.repo_published import ACTIVE, PublishedRecord

__all__ = [
    "AssignmentError",
    "DisabledError",
    "coerce_parameter",
    "graph_id",
    "publish_pipeline",
    "published_spec",
    "resolve_endpoint",
    "run_spec",
    "submit_published",
    "workspace_ref",
]


class AssignmentError(HeadwaterError, ValueError):
    """A submission's assignment the published pipeline cannot take; ``field`` is what is wrong:
    ``("parameter" | "data_path" | "dataset" | "experiment_name", name)``."""

    def __init__(self, message: str, *, field: tuple[str, str], hint: str | None = None) -> None:
        self.field = field
        super().__init__(message, hint=hint)


class DisabledError(HeadwaterError, ValueError):
    """Submitting a Disabled published pipeline or endpoint (a ValueError, as in SDK v1)."""


def publish_pipeline(
    store: MetadataStore,
    ws_folder: Path,
    spec: PipelineSpec,
    *,
    name: str | None,
    description: str | None = None,
    version: str | None = None,
    continue_on_step_failure: bool | None = None,
    source_run_id: str | None = None,
) -> PublishedRecord:
    """Store ``spec``, frozen, as a new Active published pipeline; returns its record.

    Raises GraphValidationError (nothing stored) when the pipeline cannot run.
    """
    problems = validate(spec)
    if problems:
        raise GraphValidationError(problems)
    frozen = freeze_spec(spec, store, ws_folder)
    if description is not None:
        frozen = dataclasses.replace(frozen, description=description)
    record = PublishedRecord(
        id=str(uuid.uuid4()),
        name=name,
        description=description,
        version=version,
        graph=frozen.to_dict(),
        continue_on_step_failure=bool(continue_on_step_failure),
        source_run_id=source_run_id,
        properties={"snapshot_ids": sorted(frozen_snapshot_ids(frozen, ws_folder))},
    )
    return store.create_published_pipeline(record)


def run_spec(store: MetadataStore, ws_folder: Path, run_id: str) -> PipelineSpec:
    """The spec a pipeline run ran, each step pointing at the snapshot it ran (already frozen)."""
    from headwater.plan.run_plan import RunPlan

    run = store.get_run(run_id)
    if run is None or run.kind != "pipeline" or not run.definition.get("plan"):
        raise NotFoundError("Pipeline run", run_id, hint="Publish a run of a Pipeline (a PipelineRun).")
    plan = RunPlan.load(Path(run.definition["plan"]))
    snapshots = WorkspaceLayout(ws_folder).snapshots
    steps = tuple(
        dataclasses.replace(s, source_directory=str(snapshots / plan.steps[s.node_id].snapshot_id))
        for s in plan.spec.steps
    )
    return dataclasses.replace(plan.spec, steps=steps)


def graph_id(pipeline_id: str) -> str:
    """SDK v1's ``graph_id`` of a published pipeline (stable: derived from its id)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "headwater-graph:" + pipeline_id))


def workspace_ref(ws_folder: Path, store: MetadataStore) -> WorkspaceRef:
    """The workspace in ``ws_folder`` as the engine knows it (for a process without the SDK: the server)."""
    from headwater.ops.workspace_folder import workspace_info

    info = workspace_info(ws_folder)
    return WorkspaceRef(
        name=info["name"],
        folder=str(Path(ws_folder).resolve()),
        metadata_url=store.url,
        subscription_id=info.get("subscription_id") or "",
        resource_group=info.get("resource_group") or "",
        strict_python=bool(info.get("strict_python", False)),
    )


def published_spec(record: PublishedRecord) -> PipelineSpec:
    return PipelineSpec.from_dict(record.graph)


def get_published(store: MetadataStore, pipeline_id: str) -> PublishedRecord:
    record = store.get_published_pipeline(pipeline_id)
    if record is None:
        raise NotFoundError(
            "Published pipeline",
            pipeline_id,
            candidates=[p.id for p in store.list_published_pipelines(active_only=False)],
            hint="`headwater pipeline list` lists the published pipelines.",
        )
    return record


# -- checking a submission's assignments -----------------------------------------------------------

_TRUE, _FALSE = ("true", "1", "yes"), ("false", "0", "no")


def coerce_parameter(name: str, default: Any, value: Any) -> Any:
    """``value`` as a value of ``default``'s type. SDK v1's service receives every parameter as a
    string and converts it to the parameter's type: a string is converted here the same way; a
    value of another type (a list, a dict, a bool for a number ...) is refused naming the parameter."""
    expected = parameter_kind(default)
    field = ("parameter", name)

    def wrong() -> AssignmentError:
        return AssignmentError(
            f"Pipeline parameter {name!r} has type {expected} (its default is {default!r}), "
            f"but the value given is {value!r} ({type(value).__name__}).",
            field=field,
        )

    if expected in ("DataPath", "dataset"):
        kind = "DataPathAssignments" if expected == "DataPath" else "DataSetDefinitionValueAssignments"
        if parameter_kind(value) == expected:
            return value
        raise AssignmentError(
            f"Pipeline parameter {name!r} is a {expected}: assign it in {kind}, not as a plain value.", field=field
        )
    if expected is None or parameter_kind(value) == expected:
        return value
    if expected == "float" and parameter_kind(value) == "int":
        return value
    if expected == "str" and parameter_kind(value) in ("int", "float"):
        return str(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            if expected == "int":
                return int(text)
            if expected == "float":
                return float(text)
        except ValueError:
            raise wrong() from None
        if expected == "bool" and text.lower() in _TRUE + _FALSE:
            return text.lower() in _TRUE
    raise wrong()


def _parameters(spec: PipelineSpec, assignments: Mapping[str, Any]) -> dict[str, Any]:
    from headwater.errors import did_you_mean

    values: dict[str, Any] = {}
    for name, value in assignments.items():
        if name not in spec.parameters:
            raise AssignmentError(
                f"Pipeline parameter with name {name!r} does not exist.{did_you_mean(name, spec.parameters)}",
                field=("parameter", name),
                hint=f"The pipeline's parameters: {sorted(spec.parameters) or 'none'}.",
            )
        values[name] = coerce_parameter(name, spec.parameters[name], value)
    return values


def _data_paths(spec: PipelineSpec, store: MetadataStore, assignments: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, pair in assignments.items():
        field = ("data_path", name)
        if name not in spec.parameters or parameter_kind(spec.parameters[name]) != "DataPath":
            known = sorted(n for n, v in spec.parameters.items() if parameter_kind(v) == "DataPath")
            raise AssignmentError(
                f"The pipeline has no DataPath parameter named {name!r}.",
                field=field,
                hint=f"Its DataPath parameters: {known or 'none'}.",
            )
        datastore, path = pair
        if not isinstance(datastore, str) or store.get_datastore(datastore) is None:
            raise AssignmentError(
                f"DataPath parameter {name!r}: datastore {datastore!r} is not registered in the workspace.",
                field=field,
                hint=f"Registered datastores: {sorted(d.name for d in store.list_datastores())}.",
            )
        values[name] = {"datastore": datastore, "path": str(path or "")}
    return values


def _datasets(spec: PipelineSpec, store: MetadataStore, assignments: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, dataset_id in assignments.items():
        field = ("dataset", name)
        default = spec.parameters.get(name)
        if parameter_kind(default) != "dataset":
            raise AssignmentError(f"The pipeline has no dataset parameter named {name!r}.", field=field)
        record = store.get_dataset_by_id(str(dataset_id)) if isinstance(dataset_id, str) else None
        if record is None:
            raise AssignmentError(
                f"Dataset parameter {name!r}: no saved or registered dataset has the id {dataset_id!r}.", field=field
            )
        assert isinstance(default, dict)
        if record.kind != default.get("kind"):
            raise AssignmentError(
                f"Dataset parameter {name!r} takes a {default.get('kind')} dataset; dataset {dataset_id!r} "
                f"is {record.kind}.",
                field=field,
            )
        values[name] = {
            "id": record.id,
            "kind": record.kind,
            "definition": record.definition,
            "name": record.name,
            "version": record.version,
            "digest": record.digest,
            "file_digests": record.file_digests,
            "baseline": None,
        }
    return values


def submit_published(
    store: MetadataStore,
    workspace_ref: WorkspaceRef,
    pipeline_id: str,
    *,
    experiment_name: str,
    parameter_assignments: Mapping[str, Any] | None,
    data_path_assignments: Mapping[str, tuple[str, str]] | None = None,
    dataset_assignments: Mapping[str, str] | None = None,
    continue_on_step_failure: bool | None = None,
    parent_run_id: str | None = None,
    description: str | None = None,
    tags: dict[str, str] | None = None,
) -> str:
    """Submit published pipeline ``pipeline_id``; returns the new run's id.

    Raises before recording anything: NotFoundError (no such published pipeline), DisabledError,
    AssignmentError naming the field (an unknown parameter, a wrong type, an unknown datastore
    or dataset, a bad experiment name).
    """
    from headwater.ops.submit import SubmitOptions, submit_pipeline

    record = get_published(store, pipeline_id)
    if record.status != ACTIVE:
        raise DisabledError(
            f"Published pipeline {record.name or record.id!r} ({record.id}) is {record.status}.",
            hint="Enable it (PublishedPipeline.enable(), `headwater pipeline enable ID`) to submit it.",
        )
    try:
        validate_name("experiment", experiment_name)
    except ConfigurationError as exc:
        raise AssignmentError(exc.message, field=("experiment_name", str(experiment_name)), hint=exc.hint) from None
    spec = published_spec(record)
    params = _parameters(spec, parameter_assignments or {})
    params.update(_data_paths(spec, store, data_path_assignments or {}))
    params.update(_datasets(spec, store, dataset_assignments or {}))
    if description is not None:
        spec = dataclasses.replace(spec, description=description)
    run_id = submit_pipeline(
        store,
        workspace_ref,
        spec,
        SubmitOptions(
            experiment_name=experiment_name,
            pipeline_parameters=params,
            continue_on_step_failure=(
                record.continue_on_step_failure if continue_on_step_failure is None else continue_on_step_failure
            ),
            tags=tags,
            pipeline_source_directory=spec.steps[0].source_directory if spec.steps else None,
        ),
    )
    store.add_properties(run_id, {"azureml.pipelineid": record.id})
    store.link_run_to_published(run_id, record.id)
    return run_id


def resolve_endpoint(
    store: MetadataStore, *, endpoint_id: str | None = None, name: str | None = None, version: str | None = None
) -> str:
    """The id of the published pipeline endpoint ``endpoint_id`` (or ``name``) runs at ``version``
    (its default version when None). NotFoundError for an unknown endpoint or version,
    DisabledError for an endpoint that is not Active."""
    endpoint = store.get_pipeline_endpoint(endpoint_id=endpoint_id, name=name if endpoint_id is None else None)
    if endpoint is None:
        raise NotFoundError(
            "PipelineEndpoint",
            str(endpoint_id or name),
            candidates=[e.name for e in store.list_pipeline_endpoints(active_only=False)] if name else (),
            hint="`headwater endpoint list` lists the pipeline endpoints.",
        )
    if endpoint.status != ACTIVE:
        raise DisabledError(
            f"PipelineEndpoint {endpoint.name!r} is {endpoint.status}: its status must be Active.",
            hint="Enable it (PipelineEndpoint.enable(), `headwater endpoint enable NAME`).",
        )
    wanted = endpoint.default_version if version is None else str(version)
    for v in store.list_endpoint_versions(endpoint.id):
        if v.version == wanted:
            return v.pipeline_id
    raise NotFoundError(
        f"Version of PipelineEndpoint {endpoint.name!r}:",
        str(wanted),
        hint=f"Its versions: {[v.version for v in store.list_endpoint_versions(endpoint.id)]}.",
    )
