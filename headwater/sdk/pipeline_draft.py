"""``PipelineDraft`` (SDK v1: azureml.pipeline.core.PipelineDraft): a named, editable pipeline kept in
the workspace, submitted as often as wanted.

A draft holds a *frozen* copy of the pipeline's graph: when it is created or updated from a
Pipeline, every step's source directory is stored as a workspace snapshot
(:func:`headwater.ops.freeze.freeze_spec`) and the draft runs those files, so editing the scripts
afterwards does not change what the draft runs (update the draft with the pipeline to take the
edits). The draft also keeps the experiment, parameter assignments and
``continue_on_step_failure`` its runs are submitted with; its runs reuse steps like any run.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from headwater.errors import ConfigurationError, GraphValidationError, NotFoundError
from headwater.graph.spec import PipelineSpec
from headwater.sdk.frozen_submit import frozen_from_run, json_parameters, submit_spec

if TYPE_CHECKING:
    from headwater.sdk.published_pipeline import PublishedPipeline
    from headwater.sdk.runs import PipelineRun
    from headwater.sdk.workspace import Workspace
    from headwater.store.repo_drafts import DraftRecord

__all__ = ["PipelineDraft"]

_PARENT_DRAFT = "azureml.parentPipelineDraftId"
_PARENT_RUN = "azureml.parentPipelineRunId"
_PARENT_PIPELINE = "azureml.parentPipelineId"


def _freeze(workspace: Workspace, pipeline: Any) -> PipelineSpec:
    """The pipeline's graph, validated, with each step pointed at its stored snapshot."""
    from headwater.graph.analysis import validate
    from headwater.ops.freeze import freeze_spec

    spec = pipeline._spec()
    problems = validate(spec)
    if problems:
        raise GraphValidationError(problems)
    return freeze_spec(spec, workspace.metadata_store, workspace.folder)


class PipelineDraft:
    """A mutable pipeline kept in the workspace (see the module docstring).

    ``PipelineDraft.create(ws, pipeline, name=..., experiment_name=...)`` makes one;
    ``draft.submit_run()`` submits it; ``draft.update(pipeline=...)`` replaces its graph.
    """

    def __init__(
        self,
        workspace: Workspace,
        id: str,
        name: str | None = None,
        description: str | None = None,
        experiment_name: str | None = None,
        tags: dict[str, Any] | None = None,
        properties: dict[str, Any] | None = None,
        graph_draft_id: str | None = None,
        parent_pipeline_id: str | None = None,
        parent_pipeline_run_id: str | None = None,
        parent_step_run_ids: list[str] | None = None,
        parent_pipeline_draft_id: str | None = None,
        last_submitted_pipeline_run_id: str | None = None,
        _pipeline_draft_provider: Any = None,
    ) -> None:
        self._workspace = workspace
        self._id = id
        self._name = name
        self._description = description
        self._experiment_name = experiment_name
        self._tags = dict(tags or {})
        self._properties = dict(properties or {})
        self._graph_draft_id = graph_draft_id or id
        self._parent_pipeline_id = parent_pipeline_id
        self._parent_pipeline_run_id = parent_pipeline_run_id
        self._parent_step_run_ids = list(parent_step_run_ids or [])
        self._parent_pipeline_draft_id = parent_pipeline_draft_id
        self._last_submitted_pipeline_run_id = last_submitted_pipeline_run_id
        self._pipeline_parameters: dict[str, Any] = {}
        self._continue_on_step_failure: bool | None = None

    @staticmethod
    def _from_record(workspace: Workspace, record: DraftRecord) -> PipelineDraft:
        props = record.properties
        draft = PipelineDraft(
            workspace,
            record.id,
            name=record.name,
            description=record.description,
            experiment_name=record.experiment_name,
            tags=record.tags,
            properties=props,
            parent_pipeline_id=props.get(_PARENT_PIPELINE),
            parent_pipeline_run_id=props.get(_PARENT_RUN),
            parent_pipeline_draft_id=props.get(_PARENT_DRAFT),
            last_submitted_pipeline_run_id=record.last_submitted_run_id,
        )
        draft._pipeline_parameters = dict(record.pipeline_parameters)
        draft._continue_on_step_failure = record.continue_on_step_failure
        return draft

    # -- properties ------------------------------------------------------------------------------

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
    def experiment_name(self) -> str | None:
        """The experiment its runs are submitted to."""
        return self._experiment_name

    @property
    def tags(self) -> dict[str, Any]:
        return dict(self._tags)

    @property
    def properties(self) -> dict[str, Any]:
        return dict(self._properties)

    @property
    def pipeline_parameters(self) -> dict[str, Any]:
        """The parameter assignments its runs are submitted with (JSON form)."""
        return dict(self._pipeline_parameters)

    @property
    def continue_on_step_failure(self) -> bool | None:
        return self._continue_on_step_failure

    @property
    def parent_pipeline_id(self) -> str | None:
        return self._parent_pipeline_id

    @property
    def parent_pipeline_run_id(self) -> str | None:
        return self._parent_pipeline_run_id

    @property
    def parent_step_run_ids(self) -> list[str]:
        return list(self._parent_step_run_ids)

    @property
    def parent_pipeline_draft_id(self) -> str | None:
        return self._parent_pipeline_draft_id

    @property
    def last_submitted_pipeline_run_id(self) -> str | None:
        """The id of the PipelineRun the last ``submit_run()`` started (None before the first)."""
        return self._last_submitted_pipeline_run_id

    # -- create, get, list -----------------------------------------------------------------------

    @staticmethod
    def get(
        workspace: Workspace, id: str, _workflow_provider: Any = None, _service_endpoint: Any = None
    ) -> PipelineDraft:
        """The draft with this id; NotFoundError naming the workspace's drafts otherwise."""
        store = workspace.metadata_store
        record = store.get_draft(id)
        if record is None:
            raise NotFoundError(
                "Pipeline draft",
                id,
                where=f"workspace {workspace.name!r}",
                candidates=[d.id for d in store.list_drafts()],
                hint="PipelineDraft.list(ws) lists the drafts.",
            )
        return PipelineDraft._from_record(workspace, record)

    @staticmethod
    def list(
        workspace: Workspace, tags: dict[str, Any] | None = None, _workflow_provider: Any = None
    ) -> list[PipelineDraft]:
        """Every draft of the workspace (oldest first); with ``tags``, those having all of them."""
        return [PipelineDraft._from_record(workspace, r) for r in workspace.metadata_store.list_drafts(tags=tags)]

    @staticmethod
    def create(
        workspace: Workspace,
        pipeline: Any,
        name: str | None = None,
        description: str | None = None,
        experiment_name: str | None = None,
        pipeline_parameters: dict[str, Any] | None = None,
        continue_on_step_failure: bool | None = None,
        tags: dict[str, Any] | None = None,
        properties: dict[str, Any] | None = None,
        _workflow_provider: Any = None,
        _service_endpoint: Any = None,
    ) -> PipelineDraft:
        """A new draft from a Pipeline (``name`` and ``experiment_name`` required), or a copy of a
        PipelineDraft, of what a PipelineRun ran (the snapshots it ran, its parameters) or of a
        PublishedPipeline."""
        from headwater.sdk.pipeline import Pipeline
        from headwater.sdk.published_pipeline import PublishedPipeline
        from headwater.sdk.runs import PipelineRun
        from headwater.store.repo_drafts import DraftRecord

        store = workspace.metadata_store
        if isinstance(pipeline, Pipeline):
            for value, arg in ((name, "name"), (experiment_name, "experiment_name")):
                if value is None:
                    raise ConfigurationError(
                        f"PipelineDraft.create: {arg} is required when creating a draft from a Pipeline.",
                        key=arg,
                        hint=f"Pass {arg}='...'.",
                    )
            assert name is not None
            record = DraftRecord(
                name=name,
                graph=_freeze(workspace, pipeline).to_dict(),
                description=description if description is not None else pipeline.description,
                experiment_name=experiment_name,
                pipeline_parameters=json_parameters(pipeline_parameters),
                continue_on_step_failure=continue_on_step_failure,
                tags=dict(tags or {}),
                properties=dict(properties or {}),
            )
        elif isinstance(pipeline, PipelineDraft):
            source = store.get_draft(pipeline.id)
            if source is None:
                raise NotFoundError("Pipeline draft", pipeline.id, where=f"workspace {workspace.name!r}")
            record = DraftRecord(
                name=source.name,
                graph=source.graph,
                description=source.description,
                experiment_name=source.experiment_name,
                pipeline_parameters=source.pipeline_parameters,
                continue_on_step_failure=source.continue_on_step_failure,
                tags=source.tags,
                properties={**source.properties, _PARENT_DRAFT: source.id},
            )
        elif isinstance(pipeline, PipelineRun):
            spec, parameters, continue_on = frozen_from_run(pipeline)
            record = DraftRecord(
                name=name or pipeline.name or pipeline.id,
                graph=spec.to_dict(),
                description=description,
                experiment_name=experiment_name or pipeline.experiment.name,
                pipeline_parameters=parameters,
                continue_on_step_failure=continue_on,
                tags=dict(tags or {}),
                properties={**(properties or {}), _PARENT_RUN: pipeline.id},
            )
        elif isinstance(pipeline, PublishedPipeline):
            published = store.get_published_pipeline(pipeline.id)
            if published is None:
                raise NotFoundError("Published pipeline", pipeline.id, where=f"workspace {workspace.name!r}")
            record = DraftRecord(
                name=name or published.name or published.id,
                graph=published.graph,
                description=description if description is not None else published.description,
                experiment_name=experiment_name,
                continue_on_step_failure=published.continue_on_step_failure,
                tags=dict(tags or {}),
                properties={**(properties or {}), _PARENT_PIPELINE: published.id},
            )
        else:
            raise ConfigurationError(
                f"PipelineDraft.create: pipeline is a {type(pipeline).__name__}.",
                key="pipeline",
                hint="Pass a Pipeline, a PipelineDraft, a PipelineRun or a PublishedPipeline.",
            )
        return PipelineDraft._from_record(workspace, store.create_draft(record))

    # -- using it ----------------------------------------------------------------------------------

    def _record(self) -> DraftRecord:
        record = self._workspace.metadata_store.get_draft(self._id)
        if record is None:
            raise NotFoundError(
                "Pipeline draft", self._id, where=f"workspace {self._workspace.name!r}", hint="It was deleted."
            )
        return record

    def get_graph(self, _workflow_provider: Any = None) -> PipelineSpec:
        """The draft's frozen graph (Headwater's :class:`~headwater.graph.PipelineSpec`)."""
        return PipelineSpec.from_dict(self._record().graph)

    def submit_run(self, _workflow_provider: Any = None) -> PipelineRun:
        """Submit the draft's frozen graph to its experiment, with its parameter assignments and
        continue_on_step_failure; returns the PipelineRun at once."""
        record = self._record()
        run = submit_spec(
            self._workspace,
            PipelineSpec.from_dict(record.graph),
            record.experiment_name or record.name,
            pipeline_parameters=record.pipeline_parameters,
            continue_on_step_failure=bool(record.continue_on_step_failure),
        )
        self._workspace.metadata_store.update_draft(self._id, last_submitted_run_id=run.id)
        self._last_submitted_pipeline_run_id = run.id
        return run

    def publish(self, _workflow_provider: Any = None) -> PublishedPipeline:
        """Publish the draft's frozen graph as a published pipeline named like the draft; the draft's
        parameter assignments become its parameters' defaults, its continue_on_step_failure the
        published default. Returns the PublishedPipeline."""
        import dataclasses

        from headwater.ops.publish import publish_pipeline
        from headwater.sdk.published_pipeline import PublishedPipeline

        record = self._record()
        spec = PipelineSpec.from_dict(record.graph)
        if record.pipeline_parameters:
            spec = dataclasses.replace(spec, parameters={**spec.parameters, **record.pipeline_parameters})
        published = publish_pipeline(
            self._workspace.metadata_store,
            self._workspace.folder,
            spec,
            name=record.name,
            description=record.description,
            continue_on_step_failure=record.continue_on_step_failure,
        )
        return PublishedPipeline._from_record(self._workspace, published)

    def update(
        self,
        pipeline: Any = None,
        name: str | None = None,
        description: str | None = None,
        experiment_name: str | None = None,
        tags: dict[str, Any] | None = None,
        pipeline_parameters: dict[str, Any] | None = None,
        continue_on_step_failure: bool | None = None,
        _workflow_provider: Any = None,
    ) -> None:
        """Change the given fields; ``pipeline`` replaces the graph (frozen again from its sources now)."""
        from headwater.sdk.pipeline import Pipeline

        changes: dict[str, Any] = {}
        if pipeline is not None:
            if not isinstance(pipeline, Pipeline):
                raise ConfigurationError(
                    f"PipelineDraft.update: pipeline is a {type(pipeline).__name__}.",
                    key="pipeline",
                    hint="Pass a Pipeline.",
                )
            changes["graph"] = _freeze(self._workspace, pipeline).to_dict()
        fields = {
            "name": name,
            "description": description,
            "experiment_name": experiment_name,
            "tags": None if tags is None else dict(tags),
            "pipeline_parameters": None if pipeline_parameters is None else json_parameters(pipeline_parameters),
            "continue_on_step_failure": continue_on_step_failure,
        }
        changes.update({k: v for k, v in fields.items() if v is not None})
        record = self._workspace.metadata_store.update_draft(self._id, **changes)
        if record is None:
            self._record()  # raises NotFoundError
            return
        self._sync(record)

    def _sync(self, record: DraftRecord) -> None:
        fresh = PipelineDraft._from_record(self._workspace, record)
        self.__dict__.update(fresh.__dict__)

    def delete(self, _workflow_provider: Any = None) -> None:
        """Remove the draft (its runs stay)."""
        if not self._workspace.metadata_store.delete_draft(self._id):
            self._record()  # raises NotFoundError

    def save(self, path: str | os.PathLike[str] | None = None, _workflow_provider: Any = None) -> None:
        """Write the draft's graph as YAML: to ``path``, or ``<path>/<name>.yml`` when ``path`` is a
        folder (the current directory when None)."""
        from headwater.sdk.run_graph import save_yaml

        save_yaml(self.get_graph(), path, str(self.name), self.description)

    # -- display -------------------------------------------------------------------------------------

    def _info(self) -> dict[str, Any]:
        return {
            "Name": self.name,
            "Id": self.id,
            "Tags": self.tags,
            "Properties": self.properties,
            "Last Submitted Pipeline Run Id": self.last_submitted_pipeline_run_id,
        }

    def __str__(self) -> str:
        return "PipelineDraft({})".format(",\n".join(f"{k}: {v}" for k, v in self._info().items()))

    __repr__ = __str__
