"""SDK v1's REST submit routes: run a published pipeline or a pipeline endpoint.

``POST {AML_BASE}/PipelineRuns/PipelineSubmit/{id}``, ``…/PipelineEndpointSubmit/Id/{id}`` and
``…/PipelineEndpointSubmit/Name?name=…`` take SDK v1's ``PipelineSubmissionInfo`` JSON body and
answer 200 with SDK v1's ``PipelineRunEntity`` (``Id`` is the new run's id). Every check is made
by :func:`headwater.ops.publish.submit_published` before anything is recorded: an unknown
parameter, a value of the wrong type, an unknown datastore or dataset is a 400 whose ``target``
names the field; an unknown pipeline or endpoint is a 404. Scope: submit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from headwater.errors import HeadwaterError, NotFoundError
from headwater.server.auth import require
from headwater.server.deps import get_store, get_ws_folder
from headwater.server.urls import AML_BASE
from headwater.store.metadata import MetadataStore
from headwater.store.repo_tokens import TokenRecord

__all__ = ["router"]

router = APIRouter(tags=["submit"])

_FIELDS = {
    "parameter": "ParameterAssignments",
    "data_path": "DataPathAssignments",
    "dataset": "DataSetDefinitionValueAssignments",
    "experiment_name": "ExperimentName",
}


class PipelineSubmissionInfo(BaseModel):
    """SDK v1's submission body (documentation only: the route reads the JSON itself, so that a
    bad field is a 400 naming it)."""

    model_config = ConfigDict(extra="allow")

    ExperimentName: str
    Description: str | None = None
    ParameterAssignments: dict[str, Any] = Field(default_factory=dict)
    DataPathAssignments: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="{name: {DataStoreName, RelativePath}} for DataPath parameters"
    )
    DataSetDefinitionValueAssignments: dict[str, dict[str, dict[str, str]]] = Field(
        default_factory=dict, description="{name: {SavedDataSetReference: {Id}}} for dataset parameters"
    )
    ContinueRunOnStepFailure: bool | None = None
    RunSource: str | None = None
    Tags: dict[str, str] | None = None
    pipelineVersion: str | None = Field(default=None, description="Endpoints only: the version to run.")


_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": PipelineSubmissionInfo.model_json_schema()}},
    }
}


class _BadField(Exception):
    def __init__(self, target: str, message: str) -> None:
        self.target = target
        self.message = message
        super().__init__(message)


def _error(status: int, code: str, message: str, target: str | None = None) -> JSONResponse:
    content = {"error": {"code": code, "message": message, "target": target}, "detail": message}
    return JSONResponse(status_code=status, content=content)


def _mapping(body: dict[str, Any], key: str) -> dict[str, Any]:
    value = body.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _BadField(key, f"{key} must be a JSON object, not {type(value).__name__}.")
    return value


def _data_paths(body: dict[str, Any]) -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    for name, value in _mapping(body, "DataPathAssignments").items():
        target = f"DataPathAssignments.{name}"
        if not isinstance(value, dict) or not isinstance(value.get("DataStoreName"), str):
            raise _BadField(target, f"{target} must be {{'DataStoreName': ..., 'RelativePath': ...}}.")
        path = value.get("RelativePath") or ""
        if not isinstance(path, str):
            raise _BadField(target, f"{target}.RelativePath must be a string.")
        out[str(name)] = (value["DataStoreName"], path)
    return out


def _datasets(body: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in _mapping(body, "DataSetDefinitionValueAssignments").items():
        target = f"DataSetDefinitionValueAssignments.{name}"
        ref = None
        if isinstance(value, dict):
            ref = value.get("SavedDataSetReference") or value.get("DataSetReference")
        if not isinstance(ref, dict) or not isinstance(ref.get("Id"), str):
            raise _BadField(target, f"{target} must be {{'SavedDataSetReference': {{'Id': <dataset id>}}}}.")
        out[str(name)] = ref["Id"]
    return out


def _submission(body: Any) -> dict[str, Any]:
    """``submit_published``'s keyword arguments from an SDK v1 body; _BadField for a malformed one."""
    if not isinstance(body, dict):
        raise _BadField("body", "The body must be a JSON object (SDK v1's PipelineSubmissionInfo).")
    experiment = body.get("ExperimentName")
    if not isinstance(experiment, str) or not experiment:
        raise _BadField("ExperimentName", "ExperimentName is required: the experiment the run is recorded under.")
    cosf = body.get("ContinueRunOnStepFailure")
    if cosf is not None and not isinstance(cosf, bool):
        raise _BadField("ContinueRunOnStepFailure", "ContinueRunOnStepFailure must be true or false.")
    description = body.get("Description")
    if description is not None and not isinstance(description, str):
        raise _BadField("Description", "Description must be a string.")
    tags = body.get("Tags", body.get("tags"))
    if tags is not None and not isinstance(tags, dict):
        raise _BadField("Tags", "Tags must be a JSON object of strings.")
    return {
        "experiment_name": experiment,
        "parameter_assignments": _mapping(body, "ParameterAssignments"),
        "data_path_assignments": _data_paths(body),
        "dataset_assignments": _datasets(body),
        "continue_on_step_failure": cosf,
        "description": description,
        "tags": None if tags is None else {str(k): str(v) for k, v in tags.items()},
    }


async def _body(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        raise _BadField("body", "The body is not valid JSON.") from None


def _entity(
    store: MetadataStore, run_id: str, pipeline_id: str, args: dict[str, Any], body: dict[str, Any]
) -> dict[str, Any]:
    """SDK v1's PipelineRunEntity for the new run."""
    from headwater.ops.publish import graph_id

    run = store.get_run(run_id)
    record = store.get_published_pipeline(pipeline_id)
    assert run is not None and record is not None
    return {
        "Id": run_id,
        "Description": args["description"] if args["description"] is not None else record.description,
        "Status": {
            "StatusCode": run.status,
            "StatusDetail": None,
            "CreationTime": run.created_at,
            "EndTime": run.ended_at,
        },
        "GraphId": graph_id(pipeline_id),
        "IsSubmitted": True,
        "HasErrors": False,
        "HasWarnings": False,
        "UploadState": "Completed",
        "ParameterAssignments": {k: str(v) for k, v in args["parameter_assignments"].items()},
        "DataPathAssignments": body.get("DataPathAssignments") or {},
        "DataSetDefinitionValueAssignments": body.get("DataSetDefinitionValueAssignments") or {},
        "RunHistoryExperimentName": args["experiment_name"],
        "PipelineId": pipeline_id,
        "RunSource": body.get("RunSource") or "SDK",
        "RunType": body.get("RunType") or "HTTP",
        "TotalRunSteps": len(record.graph.get("steps") or []),
        "ScheduleId": body.get("ScheduleId"),
        "tags": store.get_tags(run_id),
        "Properties": store.get_properties(run_id),
        "EntityStatus": "Active",
        "Etag": None,
        "CreatedDate": run.created_at,
        "LastModifiedDate": run.created_at,
    }


async def _submit(
    request: Request,
    store: MetadataStore,
    ws_folder: Path,
    *,
    pipeline_id: str | None = None,
    endpoint_id: str | None = None,
    endpoint_name: str | None = None,
    version: str | None = None,
    parent_run_id: str | None = None,
) -> JSONResponse:
    from starlette.concurrency import run_in_threadpool

    from headwater.ops.publish import AssignmentError, DisabledError

    try:
        body = await _body(request)
        args = _submission(body)
        if version is None and isinstance(body.get("pipelineVersion"), str | int):
            version = str(body["pipelineVersion"])
    except _BadField as bad:
        return _error(400, "UserError", bad.message, bad.target)
    try:
        run_id, pid = await run_in_threadpool(
            _run, store, ws_folder, pipeline_id, endpoint_id, endpoint_name, version, parent_run_id, args
        )
        return JSONResponse(await run_in_threadpool(_entity, store, run_id, pid, args, body))
    except AssignmentError as exc:
        kind, name = exc.field
        target = _FIELDS[kind] + (f".{name}" if kind != "experiment_name" else "")
        return _error(400, "UserError", str(exc), target)
    except NotFoundError as exc:
        return _error(404, "NotFound", str(exc))
    except DisabledError as exc:
        return _error(400, "UserError", str(exc), "status")
    except HeadwaterError as exc:  # the pipeline cannot run here (a graph problem, an environment ...)
        return _error(400, "UserError", str(exc))


def _run(
    store: MetadataStore,
    ws_folder: Path,
    pipeline_id: str | None,
    endpoint_id: str | None,
    endpoint_name: str | None,
    version: str | None,
    parent_run_id: str | None,
    args: dict[str, Any],
) -> tuple[str, str]:
    from headwater.ops.publish import resolve_endpoint, submit_published, workspace_ref

    if pipeline_id is None:
        pipeline_id = resolve_endpoint(store, endpoint_id=endpoint_id, name=endpoint_name, version=version)
    run_id = submit_published(store, workspace_ref(ws_folder, store), pipeline_id, parent_run_id=parent_run_id, **args)
    return run_id, pipeline_id


_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {
        "description": "A malformed body, an unknown parameter, datastore or dataset, a wrong type; nothing recorded"
    },
    404: {"description": "No such published pipeline or endpoint"},
}


@router.post(
    AML_BASE + "/PipelineRuns/PipelineSubmit/{pipeline_id}",
    summary="Submit a published pipeline (SDK v1's PipelineSubmit)",
    openapi_extra=_BODY,
    responses=_RESPONSES,
)
async def submit_published_pipeline(
    request: Request,
    pipeline_id: str,
    subscription_id: str,
    resource_group: str,
    workspace_name: str,
    parentRunId: str | None = Query(default=None),
    store: MetadataStore = Depends(get_store),
    ws_folder: Path = Depends(get_ws_folder),
    _token: TokenRecord = Depends(require("submit")),
) -> JSONResponse:
    """Runs published pipeline `pipeline_id` with SDK v1's body (`ExperimentName` required;
    `ParameterAssignments`, `DataPathAssignments`, `DataSetDefinitionValueAssignments`,
    `ContinueRunOnStepFailure`, `Description`, `Tags`, `RunSource`). Answers SDK v1's
    PipelineRunEntity: `Id` is the new run's id. Scope: submit."""
    return await _submit(request, store, ws_folder, pipeline_id=pipeline_id, parent_run_id=parentRunId)


@router.post(
    AML_BASE + "/PipelineRuns/PipelineEndpointSubmit/Id/{endpoint_id}",
    summary="Submit a pipeline endpoint's default version, or pipelineVersion (SDK v1's PipelineEndpointSubmit)",
    openapi_extra=_BODY,
    responses=_RESPONSES,
)
async def submit_endpoint_by_id(
    request: Request,
    endpoint_id: str,
    subscription_id: str,
    resource_group: str,
    workspace_name: str,
    pipelineVersion: str | None = Query(default=None),
    parentRunId: str | None = Query(default=None),
    store: MetadataStore = Depends(get_store),
    ws_folder: Path = Depends(get_ws_folder),
    _token: TokenRecord = Depends(require("submit")),
) -> JSONResponse:
    """Runs the endpoint's default version, or `pipelineVersion` (in the body or the query), with
    SDK v1's body; answers SDK v1's PipelineRunEntity (`Id`: the new run). Scope: submit."""
    return await _submit(
        request, store, ws_folder, endpoint_id=endpoint_id, version=pipelineVersion, parent_run_id=parentRunId
    )


@router.post(
    AML_BASE + "/PipelineRuns/PipelineEndpointSubmit/Name",
    summary="Submit a pipeline endpoint by name (?name=...)",
    openapi_extra=_BODY,
    responses=_RESPONSES,
)
async def submit_endpoint_by_name(
    request: Request,
    subscription_id: str,
    resource_group: str,
    workspace_name: str,
    name: str = Query(description="The endpoint's name"),
    pipelineVersion: str | None = Query(default=None),
    parentRunId: str | None = Query(default=None),
    store: MetadataStore = Depends(get_store),
    ws_folder: Path = Depends(get_ws_folder),
    _token: TokenRecord = Depends(require("submit")),
) -> JSONResponse:
    """The by-name form of the endpoint submit route (SDK v1 users build it from the by-id URL by
    replacing `Id/{id}` with `Name?name={name}`). Scope: submit."""
    return await _submit(
        request, store, ws_folder, endpoint_name=name, version=pipelineVersion, parent_run_id=parentRunId
    )
