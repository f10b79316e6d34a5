"""``PublishedPipeline`` (SDK v1: azureml.pipeline.core.PublishedPipeline): a frozen copy of a pipeline.

``Pipeline.publish(...)`` or ``PipelineRun.publish_pipeline(...)`` stores it in the workspace
(:mod:`headwater.ops.publish`); it runs the snapshot it was published with, whatever happens to
the scripts afterwards. Submit it from Python (``published.submit(ws, "exp")``,
``Experiment(ws, "exp").submit(published)``) or over REST: ``published.endpoint`` is its URL on
the workspace's server (``headwater serve``), which reading it starts when none runs.
"""

from __future__ import annotations

import builtins
import json
import os
from typing import TYPE_CHECKING, Any

from headwater.graph.spec import PipelineSpec

if TYPE_CHECKING:
    from headwater.sdk.runs import PipelineRun
    from headwater.sdk.workspace import Workspace
    from headwater.store.repo_published import PublishedRecord

__all__ = ["PublishedPipeline", "split_parameters", "server_url"]


def server_url(workspace: Workspace, build: Any, *args: Any) -> str:
    """A URL on the workspace's server (started in the background when none runs): ``build(server_url,
    ws_ref, *args)`` is one of :mod:`headwater.server.urls`' builders."""
    from headwater.ops.server_process import ensure_server

    info = ensure_server(workspace.folder)
    return str(build(info.url, workspace._ref(), *args))


def split_parameters(
    workspace: Workspace, pipeline_parameters: dict[str, Any] | None
) -> tuple[dict[str, Any], dict[str, tuple[str, str]], dict[str, str]]:
    """SDK values as ``submit_published``'s three kinds of assignment: plain values, DataPaths
    ``{name: (datastore, path)}`` and datasets ``{name: id}`` (an unsaved dataset is saved first)."""
    from headwater.sdk.parameters import parameter_value
    from headwater.store.records import DatasetRecord

    plain: dict[str, Any] = {}
    paths: dict[str, tuple[str, str]] = {}
    datasets: dict[str, str] = {}
    store = workspace.metadata_store
    for name, value in (pipeline_parameters or {}).items():
        v = value if value is None else parameter_value(value, name=name)
        if isinstance(v, dict) and "definition" in v:
            if store.get_dataset_by_id(v["id"]) is None:
                store.save_dataset(
                    DatasetRecord(
                        id=v["id"],
                        kind=v["kind"],
                        definition=v["definition"],
                        name=v.get("name"),
                        version=v.get("version"),
                        digest=v.get("digest"),
                        file_digests=v.get("file_digests"),
                    )
                )
            datasets[name] = v["id"]
        elif isinstance(v, dict) and "datastore" in v:
            paths[name] = (v["datastore"], v["path"])
        else:
            plain[name] = v
    return plain, paths, datasets


class PublishedPipeline:
    """A published pipeline: a frozen copy of a pipeline, submittable by id, from Python or REST."""

    PIPELINE_PATH = "/pipelines/{0}"
    TID_FMT = "&tid={0}"
    WORKSPACE_FMT = "?wsid=/subscriptions/{0}/resourcegroups/{1}/workspaces/{2}"

    def __init__(
        self,
        name: str | None,
        graph_id: str,
        description: str | None,
        version: str | None,
        published_pipeline_id: str,
        status: str,
        endpoint: str | None,
        total_run_steps: int,
        workspace: Workspace,
        continue_on_step_failure: bool | None = None,
        _pipeline_provider: Any = None,
        **kwargs: Any,
    ) -> None:
        self._name = name
        self._graph_id = graph_id
        self._description = description
        self._version = version
        self._id = published_pipeline_id
        self._status = status
        self._endpoint = endpoint
        self._total_run_steps = total_run_steps
        self._workspace = workspace
        self._continue_on_step_failure = continue_on_step_failure
        self._record: PublishedRecord | None = kwargs.get("_record")

    @staticmethod
    def _from_record(workspace: Workspace, record: PublishedRecord) -> PublishedPipeline:
        from headwater.ops.publish import graph_id

        steps = record.graph.get("steps") or []
        return PublishedPipeline(
            name=record.name,
            graph_id=graph_id(record.id),
            description=record.description,
            version=record.version,
            published_pipeline_id=record.id,
            status=record.status,
            endpoint=None,
            total_run_steps=len(steps),
            workspace=workspace,
            continue_on_step_failure=record.continue_on_step_failure,
            _record=record,
        )

    # -- members -----------------------------------------------------------------------------------

    @property
    def id(self) -> str:
        return self._id

    @property
    def name(self) -> str | None:
        return self._name

    @property
    def description(self) -> str | None:
        return self._description

    @property
    def version(self) -> str | None:
        return self._version

    @property
    def status(self) -> str:
        """``Active`` or ``Disabled``."""
        return self._status

    @property
    def graph_id(self) -> str:
        return self._graph_id

    @property
    def total_run_steps(self) -> int:
        return self._total_run_steps

    @property
    def continue_on_step_failure(self) -> bool | None:
        return self._continue_on_step_failure

    @property
    def endpoint(self) -> str:
        """The REST URL that submits this pipeline (SDK v1's ``…/PipelineRuns/PipelineSubmit/{id}``),
        on the workspace's server; reading it starts the server in the background when none runs."""
        if self._endpoint is None:
            from headwater.server.urls import published_pipeline_url

            self._endpoint = server_url(self._workspace, published_pipeline_url, self._id)
        return self._endpoint

    def get_portal_url(self) -> str:
        """Where to look at it: its REST endpoint (``headwater pipeline show ID`` prints it too)."""
        return self.endpoint

    @property
    def portal_url(self) -> str:
        return self.get_portal_url()

    def get_graph(self, _workflow_provider: Any = None) -> PipelineSpec:
        """The frozen pipeline's graph (Headwater's :class:`~headwater.graph.PipelineSpec`)."""
        return PipelineSpec.from_dict(self._get_record().graph)

    def get_step_names(self, _workflow_provider: Any = None) -> builtins.list[str]:
        return [s.name for s in self.get_graph().steps]

    def save(self, path: str | os.PathLike[str] | None = None, _workflow_provider: Any = None) -> None:
        """Write the pipeline's graph to ``path`` (a folder: ``<folder>/<name>.yml``; default: the
        current directory), as JSON (which YAML readers read too)."""
        target = os.fspath(path) if path else os.getcwd()
        if os.path.isdir(target):
            target = os.path.join(target, f"{self._name or self._id}.yml")
        with open(target, "w", encoding="utf-8") as fh:
            json.dump(self._get_record().graph, fh, indent=2, sort_keys=True)

    def _get_record(self) -> PublishedRecord:
        if self._record is None:
            from headwater.ops.publish import get_published

            self._record = get_published(self._workspace.metadata_store, self._id)
        return self._record

    # -- look-up ---------------------------------------------------------------------------------

    @staticmethod
    def get(
        workspace: Workspace, id: str, _workflow_provider: Any = None, _service_endpoint: Any = None
    ) -> PublishedPipeline:
        """The published pipeline with this id (NotFoundError when there is none)."""
        from headwater.ops.publish import get_published

        return PublishedPipeline._from_record(workspace, get_published(workspace.metadata_store, id))

    @staticmethod
    def list(
        workspace: Workspace, active_only: bool = True, _service_endpoint: Any = None
    ) -> builtins.list[PublishedPipeline]:
        """The workspace's published pipelines (only the Active ones unless ``active_only=False``)."""
        records = workspace.metadata_store.list_published_pipelines(active_only=active_only)
        return [PublishedPipeline._from_record(workspace, r) for r in records]

    @staticmethod
    def get_all(
        workspace: Workspace, active_only: bool = True, _service_endpoint: Any = None
    ) -> builtins.list[PublishedPipeline]:
        """``list`` (SDK v1's older name)."""
        return PublishedPipeline.list(workspace, active_only=active_only)

    # -- status ----------------------------------------------------------------------------------

    def enable(self) -> None:
        """Make it Active: it can be submitted again."""
        self._set_status("Active")

    def disable(self) -> None:
        """Make it Disabled: submitting it fails until it is enabled."""
        self._set_status("Disabled")

    def _set_status(self, status: str) -> None:
        self._record = self._workspace.metadata_store.set_published_pipeline_status(self._id, status)
        self._status = status

    # -- submitting ------------------------------------------------------------------------------

    def submit(
        self,
        workspace: Workspace,
        experiment_name: str,
        pipeline_parameters: dict[str, Any] | None = None,
        _workflow_provider: Any = None,
        _service_endpoint: Any = None,
        parent_run_id: str | None = None,
        continue_on_step_failure: bool | None = None,
    ) -> PipelineRun:
        """Submit the published pipeline to experiment ``experiment_name``; returns its run at once."""
        return self._submit(
            workspace,
            experiment_name,
            pipeline_parameters=pipeline_parameters,
            parent_run_id=parent_run_id,
            continue_on_step_failure=continue_on_step_failure,
        )

    def _submit(
        self,
        workspace: Workspace,
        experiment_name: str,
        *,
        pipeline_parameters: dict[str, Any] | None = None,
        parent_run_id: str | None = None,
        continue_on_step_failure: bool | None = None,
        tags: dict[str, str] | None = None,
    ) -> PipelineRun:
        from headwater.ops.publish import submit_published
        from headwater.sdk.runs import PipelineRun

        plain, paths, datasets = split_parameters(workspace, pipeline_parameters)
        run_id = submit_published(
            workspace.metadata_store,
            workspace._ref(),
            self._id,
            experiment_name=experiment_name,
            parameter_assignments=plain,
            data_path_assignments=paths,
            dataset_assignments=datasets,
            continue_on_step_failure=continue_on_step_failure,
            parent_run_id=parent_run_id,
            tags=tags,
        )
        return PipelineRun._get(workspace, run_id)

    def __repr__(self) -> str:
        return (
            f"PublishedPipeline(Name: {self._name}, Id: {self._id}, Status: {self._status}, Version: {self._version})"
        )
