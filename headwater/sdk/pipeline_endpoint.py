"""``PipelineEndpoint`` (SDK v1: azureml.pipeline.core.PipelineEndpoint): one name and one URL for
numbered versions of published pipelines.

``PipelineEndpoint.publish(ws, name, description, pipeline)`` creates it with the pipeline as
version ``"0"`` (its default); ``add``/``add_default`` add versions, ``set_default``/
``set_default_version`` choose the default; ``submit`` (or a POST to ``endpoint``) runs the default
version unless another is asked for. The URL stays the same across versions.
"""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any

from headwater.errors import AlreadyExistsError, HeadwaterError, NotFoundError
from headwater.sdk.published_pipeline import PublishedPipeline, server_url

if TYPE_CHECKING:
    from headwater.sdk.runs import PipelineRun
    from headwater.sdk.workspace import Workspace
    from headwater.store.repo_published import EndpointRecord

__all__ = ["PipelineEndpoint", "PipelineEndpointError", "PipelineIdVersion", "PipelineVersion"]


class PipelineEndpointError(HeadwaterError, ValueError):
    """A PipelineEndpoint call SDK v1 refuses with a ValueError (a taken name, an unknown version ...)."""


class PipelineIdVersion:
    """A version of an endpoint and the id of the published pipeline it runs."""

    def __init__(self, version: str, pipeline_id: str) -> None:
        self._version = version
        self._pipeline_id = pipeline_id

    @property
    def version(self) -> str:
        return self._version

    @property
    def pipeline_id(self) -> str:
        return self._pipeline_id

    def __repr__(self) -> str:
        return f"PipelineIdVersion(version={self._version!r}, pipeline_id={self._pipeline_id!r})"


class PipelineVersion:
    """A version of an endpoint and the published pipeline it runs."""

    def __init__(self, version: str, pipeline: PublishedPipeline) -> None:
        self._version = version
        self._pipeline = pipeline

    @property
    def version(self) -> str:
        return self._version

    @property
    def pipeline(self) -> PublishedPipeline:
        return self._pipeline

    def __repr__(self) -> str:
        return f"PipelineVersion(version={self._version!r}, pipeline={self._pipeline!r})"


def _pipeline_id(pipeline: Any, name: str | None = None, description: str | None = None) -> str:
    """The id of a PublishedPipeline (a Pipeline is published first, under the endpoint's name and
    description, as SDK v1's ``PipelineEndpoint.publish`` does)."""
    if isinstance(pipeline, PublishedPipeline):
        return pipeline.id
    publish = getattr(pipeline, "publish", None)
    if callable(publish):
        return str(publish(name=name, description=description).id)
    raise TypeError(f"Expected a PublishedPipeline or a Pipeline, got {type(pipeline).__name__}")


class PipelineEndpoint:
    """A named REST endpoint whose versions are published pipelines."""

    def __init__(
        self,
        workspace: Workspace,
        id: str,
        name: str,
        description: str | None,
        status: str,
        default_version: str | None,
        endpoint: str | None,
        pipeline_version_list: builtins.list[PipelineIdVersion],
        _pipeline_endpoint_provider: Any = None,
        _published_pipeline_provider: Any = None,
        _swaggerurl: str | None = None,
    ) -> None:
        self._workspace = workspace
        self._id = id
        self._name = name
        self._description = description
        self._status = status
        self._default_version = default_version
        self._endpoint = endpoint
        self._pipeline_version_list = pipeline_version_list
        self._swaggerurl = _swaggerurl

    @staticmethod
    def _from_record(workspace: Workspace, record: EndpointRecord) -> PipelineEndpoint:
        versions = workspace.metadata_store.list_endpoint_versions(record.id)
        return PipelineEndpoint(
            workspace,
            record.id,
            record.name,
            record.description,
            record.status,
            record.default_version,
            None,
            [PipelineIdVersion(v.version, v.pipeline_id) for v in versions],
        )

    def _refresh(self, record: EndpointRecord) -> None:
        fresh = PipelineEndpoint._from_record(self._workspace, record)
        self._name, self._description, self._status = fresh._name, fresh._description, fresh._status
        self._default_version, self._pipeline_version_list = fresh._default_version, fresh._pipeline_version_list

    # -- properties --------------------------------------------------------------------------------

    @property
    def id(self) -> str:
        return self._id

    @property
    def name(self) -> str:
        return self._name

    @property
    def description(self) -> str | None:
        return self._description

    @property
    def status(self) -> str:
        """``Active`` or ``Disabled``."""
        return self._status

    @property
    def default_version(self) -> str | None:
        return self._default_version

    @property
    def pipeline_version_list(self) -> builtins.list[PipelineIdVersion]:
        return list(self._pipeline_version_list)

    @property
    def endpoint(self) -> str:
        """The REST URL that submits this endpoint (``…/PipelineRuns/PipelineEndpointSubmit/Id/{id}``),
        on the workspace's server; reading it starts the server in the background when none runs."""
        if self._endpoint is None:
            from headwater.server.urls import endpoint_url

            self._endpoint = server_url(self._workspace, endpoint_url, self._id)
        return self._endpoint

    @property
    def swaggerurl(self) -> str:
        """The server's OpenAPI description (it documents the submit routes)."""
        if self._swaggerurl is None:
            from headwater.ops.server_process import ensure_server

            self._swaggerurl = ensure_server(self._workspace.folder).url.rstrip("/") + "/openapi.json"
        return self._swaggerurl

    # -- creating and finding ----------------------------------------------------------------------

    @staticmethod
    def publish(
        workspace: Workspace,
        name: str,
        description: str | None,
        pipeline: Any,
        _workflow_provider: Any = None,
        _service_endpoint: Any = None,
    ) -> PipelineEndpoint:
        """Create an endpoint named ``name`` whose version ``"0"`` is ``pipeline`` (a PublishedPipeline,
        or a Pipeline, which is published first). A name already taken is a ValueError."""
        store = workspace.metadata_store
        if store.get_pipeline_endpoint(name=name) is not None:
            raise PipelineEndpointError(
                f"PipelineEndpoint {name!r} already exists with the given name. Please choose a unique value.",
                hint="Add the pipeline to it instead: PipelineEndpoint.get(ws, name=...).add_default(pipeline).",
            )
        try:
            record = store.create_pipeline_endpoint(name, description, _pipeline_id(pipeline, name, description))
        except AlreadyExistsError as exc:
            raise PipelineEndpointError(str(exc)) from exc
        return PipelineEndpoint._from_record(workspace, record)

    @staticmethod
    def get(
        workspace: Workspace,
        id: str | None = None,
        name: str | None = None,
        _workflow_provider: Any = None,
        _service_endpoint: Any = None,
    ) -> PipelineEndpoint:
        """The endpoint with this id or name (NotFoundError when there is none)."""
        if id is None and name is None:
            raise PipelineEndpointError("PipelineEndpoint.get() needs an id or a name.")
        store = workspace.metadata_store
        record = store.get_pipeline_endpoint(endpoint_id=id) if id is not None else None
        if record is None and name is not None:
            record = store.get_pipeline_endpoint(name=name)
        if record is None:
            known = [e.name for e in store.list_pipeline_endpoints(active_only=False)]
            raise NotFoundError("PipelineEndpoint", str(id or name), candidates=known if id is None else ())
        return PipelineEndpoint._from_record(workspace, record)

    @staticmethod
    def list(
        workspace: Workspace,
        active_only: bool = True,
        max_results: int = 100,
        _workflow_provider: Any = None,
        _service_endpoint: Any = None,
    ) -> builtins.list[PipelineEndpoint]:
        """The workspace's endpoints (only the Active ones unless ``active_only=False``)."""
        records = workspace.metadata_store.list_pipeline_endpoints(active_only=active_only)
        return [PipelineEndpoint._from_record(workspace, r) for r in records[:max_results]]

    @staticmethod
    def get_all(
        workspace: Workspace, active_only: bool = True, _workflow_provider: Any = None, _service_endpoint: Any = None
    ) -> builtins.list[PipelineEndpoint]:
        """``list`` (SDK v1's older name)."""
        return PipelineEndpoint.list(workspace, active_only=active_only)

    # -- versions ------------------------------------------------------------------------------------

    def get_default_version(self) -> str | None:
        return self._default_version

    def get_pipeline(self, version: str | None = None) -> PublishedPipeline:
        """The published pipeline of ``version`` (the default version when None)."""
        wanted = self._default_version if version is None else str(version)
        for v in self._pipeline_version_list:
            if v.version == wanted:
                return PublishedPipeline.get(self._workspace, v.pipeline_id)
        raise PipelineEndpointError(f"Version {wanted}, pipeline not found in PipelineEndpoint {self._name!r}.")

    def list_versions(
        self, _workflow_provider: Any = None, _service_endpoint: Any = None
    ) -> builtins.list[PipelineVersion]:
        """Every version with its published pipeline."""
        return [
            PipelineVersion(v.version, PublishedPipeline.get(self._workspace, v.pipeline_id))
            for v in self._pipeline_version_list
        ]

    def get_all_versions(
        self, _workflow_provider: Any = None, _service_endpoint: Any = None
    ) -> builtins.list[PipelineVersion]:
        """``list_versions`` (SDK v1's older name)."""
        return self.list_versions()

    def list_pipelines(
        self, active_only: bool = True, _workflow_provider: Any = None, _service_endpoint: Any = None
    ) -> builtins.list[PublishedPipeline]:
        """The published pipelines of the endpoint's versions (only the Active ones by default)."""
        pipelines = [v.pipeline for v in self.list_versions()]
        return [p for p in pipelines if p.status == "Active" or not active_only]

    def get_all_pipelines(
        self, active_only: bool = True, _workflow_provider: Any = None, _service_endpoint: Any = None
    ) -> builtins.list[PublishedPipeline]:
        """``list_pipelines`` (SDK v1's older name)."""
        return self.list_pipelines(active_only=active_only)

    def add(self, pipeline: Any) -> None:
        """Add a published pipeline as the next version (the default stays)."""
        self._add(pipeline, make_default=False)

    def add_default(self, pipeline: Any) -> None:
        """Add a published pipeline as the next version and make it the default."""
        self._add(pipeline, make_default=True)

    def _add(self, pipeline: Any, *, make_default: bool) -> None:
        store = self._workspace.metadata_store
        store.add_endpoint_version(self._id, _pipeline_id(pipeline), make_default=make_default)
        self._reload()

    def set_default(self, pipeline: Any) -> None:
        """Make the version that runs ``pipeline`` the default (it must be one of the versions)."""
        for v in self._pipeline_version_list:
            if v.pipeline_id == pipeline.id:
                self.set_default_version(v.version)
                return
        raise PipelineEndpointError(
            f"Cannot set pipeline, pipeline id {pipeline.id} does not exist in PipelineEndpoint {self._name!r}.",
            hint="Use add() or add_default() to add it.",
        )

    def set_default_version(self, version: str) -> None:
        """Make ``version`` the default (it must exist)."""
        if all(v.version != str(version) for v in self._pipeline_version_list):
            raise PipelineEndpointError(
                f"Cannot set version {version}, it does not exist in PipelineEndpoint {self._name!r}.",
                hint="Use add() or add_default() to add a pipeline.",
            )
        self._update(default_version=str(version))

    # -- name and status -------------------------------------------------------------------------------

    def set_name(self, name: str) -> None:
        self._update(name=name)

    def enable(self) -> None:
        self._update(status="Active")

    def disable(self) -> None:
        self._update(status="Disabled")

    def archive(self) -> None:
        """Disable the endpoint and free its name (as SDK v1 does: it gets a random name)."""
        import uuid

        self._update(name=str(uuid.uuid4()), status="Disabled")

    def reactivate(self, name: str) -> PipelineEndpoint:
        """Make an archived endpoint Active again under ``name``."""
        self._update(name=name, status="Active")
        return self

    def _update(self, **changes: Any) -> None:
        try:
            record = self._workspace.metadata_store.update_pipeline_endpoint(self._id, **changes)
        except AlreadyExistsError as exc:
            raise PipelineEndpointError(str(exc)) from exc
        self._refresh(record)

    def _reload(self) -> None:
        record = self._workspace.metadata_store.get_pipeline_endpoint(endpoint_id=self._id)
        if record is None:
            raise NotFoundError("PipelineEndpoint", self._id)
        self._refresh(record)

    # -- submitting --------------------------------------------------------------------------------------

    def submit(
        self,
        experiment_name: str,
        pipeline_parameters: dict[str, Any] | None = None,
        parent_run_id: str | None = None,
        pipeline_version: str | None = None,
    ) -> PipelineRun:
        """Submit the default version (or ``pipeline_version``) to experiment ``experiment_name``."""
        return self._submit(
            experiment_name,
            pipeline_parameters=pipeline_parameters,
            parent_run_id=parent_run_id,
            pipeline_version=pipeline_version,
        )

    def _submit(
        self,
        experiment_name: str,
        *,
        pipeline_parameters: dict[str, Any] | None = None,
        parent_run_id: str | None = None,
        pipeline_version: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> PipelineRun:
        from headwater.ops.publish import resolve_endpoint

        pipeline_id = resolve_endpoint(
            self._workspace.metadata_store,
            endpoint_id=self._id,
            version=None if pipeline_version is None else str(pipeline_version),
        )
        published = PublishedPipeline.get(self._workspace, pipeline_id)
        return published._submit(
            self._workspace,
            experiment_name,
            pipeline_parameters=pipeline_parameters,
            parent_run_id=parent_run_id,
            tags=tags,
        )

    def __repr__(self) -> str:
        return (
            f"PipelineEndpoint(Name: {self._name}, Id: {self._id}, Status: {self._status}, "
            f"Default: {self._default_version})"
        )
