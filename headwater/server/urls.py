"""The URLs of published pipelines and endpoints, in SDK v1's REST shapes.

SDK v1 users build the by-name endpoint URL by string replacement on the by-id one, so the shapes
are kept exactly; the routes accept any subscription and resource group in them.
"""

from __future__ import annotations

import os
from typing import Protocol
from urllib.parse import quote

__all__ = [
    "AML_BASE",
    "DEFAULT_RESOURCE_GROUP",
    "DEFAULT_SUBSCRIPTION",
    "aml_base",
    "endpoint_by_name_url",
    "endpoint_url",
    "published_pipeline_url",
]

AML_BASE = (
    "/pipelines/v1.0/subscriptions/{subscription_id}/resourceGroups/{resource_group}"
    "/providers/Microsoft.MachineLearningServices/workspaces/{workspace_name}"
)
#: What a workspace without a subscription id / resource group shows in its URLs.
DEFAULT_SUBSCRIPTION = "local"
DEFAULT_RESOURCE_GROUP = "local"


class _WorkspaceLike(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def subscription_id(self) -> str | None: ...
    @property
    def resource_group(self) -> str | None: ...


def aml_base(ws: str | os.PathLike[str] | _WorkspaceLike) -> str:
    """:data:`AML_BASE` filled in for a workspace: its folder, or an object with ``name``,
    ``subscription_id`` and ``resource_group`` (a ``WorkspaceRef``, a ``Workspace``)."""
    if isinstance(ws, (str, os.PathLike)):
        from headwater.ops.workspace_folder import workspace_info

        info = workspace_info(ws)
        name, sub, group = info["name"], info.get("subscription_id"), info.get("resource_group")
    else:
        name, sub, group = ws.name, ws.subscription_id, ws.resource_group
    return AML_BASE.format(
        subscription_id=quote(sub or DEFAULT_SUBSCRIPTION, safe=""),
        resource_group=quote(group or DEFAULT_RESOURCE_GROUP, safe=""),
        workspace_name=quote(name, safe=""),
    )


def published_pipeline_url(server_url: str, ws: str | os.PathLike[str] | _WorkspaceLike, pipeline_id: str) -> str:
    """``published.endpoint``: ``{server}{AML_BASE}/PipelineRuns/PipelineSubmit/{id}``."""
    return f"{server_url.rstrip('/')}{aml_base(ws)}/PipelineRuns/PipelineSubmit/{pipeline_id}"


def endpoint_url(server_url: str, ws: str | os.PathLike[str] | _WorkspaceLike, endpoint_id: str) -> str:
    """``pipeline_endpoint.endpoint``: ``{server}{AML_BASE}/PipelineRuns/PipelineEndpointSubmit/Id/{id}``."""
    return f"{server_url.rstrip('/')}{aml_base(ws)}/PipelineRuns/PipelineEndpointSubmit/Id/{endpoint_id}"


def endpoint_by_name_url(server_url: str, ws: str | os.PathLike[str] | _WorkspaceLike, name: str) -> str:
    """The by-name form: ``{server}{AML_BASE}/PipelineRuns/PipelineEndpointSubmit/Name?name=...``."""
    return (
        f"{server_url.rstrip('/')}{aml_base(ws)}/PipelineRuns/PipelineEndpointSubmit/Name?name={quote(name, safe='')}"
    )
