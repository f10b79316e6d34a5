"""``Experiment`` (SDK v1: azureml.core.Experiment): a named group of runs in a workspace."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, overload

from headwater.config import validate_name
from headwater.errors import NotSupportedError

if TYPE_CHECKING:
    from headwater.sdk.pipeline import Pipeline
    from headwater.sdk.runs import PipelineRun
    from headwater.sdk.script_run import ScriptRun
    from headwater.sdk.script_run_config import ScriptRunConfig
    from headwater.sdk.workspace import Workspace

__all__ = ["Experiment"]

#: SDK v1's ViewType values for Experiment.list.
_VIEW_TYPES = ("ActiveOnly", "ArchivedOnly", "All")


class Experiment:
    """An experiment; created in the workspace on first use.

    ``Experiment(ws, 'name').submit(pipeline)`` records and starts a pipeline run and returns a
    :class:`~headwater.sdk.runs.PipelineRun` at once; ``submit(ScriptRunConfig(...))`` starts a
    single script run and returns a :class:`~headwater.sdk.script_run.ScriptRun`.
    """

    # SDK v1's class constants (paths of its cloud service, kept for code that reads them)
    DELIM = "#"
    EXPERIMENT_ID_PATH = "/experiments/id/{0}"
    EXPERIMENT_NAME_PATH = "/experiments/{0}"
    TID_FMT = "&tid={0}"
    WORKSPACE_FMT = "?wsid=/subscriptions/{0}/resourcegroups/{1}/workspaces/{2}"

    def __init__(
        self,
        workspace: Workspace,
        name: str,
        _skip_name_validation: bool = False,
        _id: str | None = None,
        _archived_time: str | None = None,
        _create_in_cloud: bool = True,
        _experiment_dto: Any = None,
        **kwargs: Any,
    ) -> None:
        if not _skip_name_validation:
            validate_name("experiment", name)
        self._workspace = workspace
        self._name = name
        self._id: str | None = None

    @property
    def name(self) -> str:
        return self._name

    @property
    def workspace(self) -> Workspace:
        return self._workspace

    @property
    def workspace_object(self) -> Workspace:
        """The experiment's workspace (SDK v1's older name for ``workspace``)."""
        return self._workspace

    @property
    def identity(self) -> str:
        """A name for the experiment in logs: ``Experiment#<name>``."""
        return f"Experiment{self.DELIM}{self._name}"

    def get_portal_url(self) -> str:
        """Where to look at the experiment's runs: the workspace's runs folder (SDK v1: a studio URL);
        ``headwater run list`` lists them."""
        from headwater.layout import WorkspaceLayout

        return str(WorkspaceLayout(self._workspace.folder).runs)

    @property
    def portal_url(self) -> str:
        """``get_portal_url()``."""
        return self.get_portal_url()

    @property
    def id(self) -> str:
        if self._id is None:
            self._id = self._workspace.metadata_store.get_or_create_experiment(self._name).id
        return self._id

    @overload
    def submit(self, config: Pipeline, tags: dict[str, str] | None = None, **kwargs: Any) -> PipelineRun: ...

    @overload
    def submit(self, config: ScriptRunConfig, tags: dict[str, str] | None = None, **kwargs: Any) -> ScriptRun: ...

    def submit(self, config: Any, tags: dict[str, str] | None = None, **kwargs: Any) -> Any:
        """Submit a Pipeline, a ScriptRunConfig, a PublishedPipeline or a PipelineEndpoint; returns its
        run (PipelineRun, ScriptRun) at once.

        A Pipeline takes ``pipeline_parameters`` (``pipeline_params``, SDK v1's deprecated alias),
        ``regenerate_outputs`` and ``continue_on_step_failure``. A ScriptRunConfig runs its script
        once, as a single script run (never reused). A PublishedPipeline takes ``pipeline_parameters``,
        ``parent_run_id`` and ``continue_on_step_failure``; a PipelineEndpoint ``pipeline_parameters``,
        ``parent_run_id`` and ``pipeline_version``.
        """
        from headwater.sdk.pipeline import Pipeline
        from headwater.sdk.script_run_config import ScriptRunConfig

        if isinstance(config, ScriptRunConfig):
            if kwargs:
                raise TypeError(
                    f"Experiment.submit() of a ScriptRunConfig got unexpected keyword arguments: {sorted(kwargs)}"
                )
            return config._submit(self._workspace, self._name, tags=tags)
        if isinstance(config, Pipeline):
            params = kwargs.pop("pipeline_parameters", None)
            if params is None:
                params = kwargs.pop("pipeline_params", None)
            run = config._submit(
                self._name,
                pipeline_parameters=params,
                continue_on_step_failure=bool(kwargs.pop("continue_on_step_failure", False)),
                regenerate_outputs=bool(kwargs.pop("regenerate_outputs", False)),
                tags=tags,
            )
            for ignored in ("parent_run_id", "enable_email_notification", "credential_passthrough"):
                kwargs.pop(ignored, None)
            if kwargs:
                raise TypeError(f"Experiment.submit() got unexpected keyword arguments: {sorted(kwargs)}")
            print(f"Submitted PipelineRun {run.id}")
            return run
        published = self._submit_published(config, tags, kwargs)
        if published is not None:
            return published
        raise NotSupportedError(
            f"Experiment.submit() of a {type(config).__name__} is not supported in this version of Headwater.",
            hint="Submit a Pipeline of steps, a ScriptRunConfig, a PublishedPipeline or a PipelineEndpoint.",
        )

    def _submit_published(self, config: Any, tags: dict[str, str] | None, kwargs: dict[str, Any]) -> Any:
        """A PublishedPipeline (``pipeline_parameters``, ``parent_run_id``, ``continue_on_step_failure``)
        or a PipelineEndpoint (and ``pipeline_version``) submitted; None for anything else."""
        from headwater.sdk.pipeline_endpoint import PipelineEndpoint
        from headwater.sdk.published_pipeline import PublishedPipeline

        if not isinstance(config, PublishedPipeline | PipelineEndpoint):
            return None
        params = kwargs.pop("pipeline_parameters", None)
        if params is None:
            params = kwargs.pop("pipeline_params", None)
        parent_run_id = kwargs.pop("parent_run_id", None)
        if isinstance(config, PublishedPipeline):
            cosf = kwargs.pop("continue_on_step_failure", None)
            self._no_more(kwargs)
            run = config._submit(
                self._workspace,
                self._name,
                pipeline_parameters=params,
                parent_run_id=parent_run_id,
                continue_on_step_failure=cosf,
                tags=tags,
            )
        else:
            version = kwargs.pop("pipeline_version", None)
            self._no_more(kwargs)
            run = config._submit(
                self._name, pipeline_parameters=params, parent_run_id=parent_run_id, pipeline_version=version, tags=tags
            )
        print(f"Submitted PipelineRun {run.id}")
        return run

    @staticmethod
    def _no_more(kwargs: dict[str, Any]) -> None:
        if kwargs:
            raise TypeError(f"Experiment.submit() got unexpected keyword arguments: {sorted(kwargs)}")

    def start_logging(self, *args: Any, **kwargs: Any) -> Any:
        """Start an interactive run (SDK v1): log to it from this notebook or script, then ``complete()`` it.

        Takes SDK v1's ``outputs=None`` (the folder whose files ``complete()`` keeps, default
        ``./outputs``) and ``display_name=None``. The run is Running at once and shows in
        ``headwater run list``; use it as a context manager to complete it (or fail it on an
        exception). See :mod:`headwater.sdk.interactive_run`.
        """
        from headwater.sdk.interactive_run import start_logging

        return start_logging(self, *args, **kwargs)

    def get_runs(
        self, type: str | None = None, tags: Any = None, properties: Any = None, include_children: bool = False
    ) -> Iterator[Any]:
        """Runs of this experiment, newest first (top-level runs unless ``include_children``), filtered
        as SDK v1 does: ``type`` (``azureml.PipelineRun``, ``azureml.scriptrun`` ...), ``tags`` and
        ``properties`` (a key, a list of keys or a ``{key: value}`` dict)."""
        from headwater.sdk.run_filters import run_matches
        from headwater.sdk.runs import run_from_record

        store = self._workspace.metadata_store
        record = store.get_experiment(self._name)
        if record is None:
            return
        for r in store.list_runs(experiment_id=record.id, top_level=not include_children):
            run = run_from_record(self._workspace, r, self)
            if run_matches(run, r, tags=tags, properties=properties, type=type):
                yield run

    @staticmethod
    def list(
        workspace: Workspace, experiment_name: str | None = None, view_type: str = "ActiveOnly", tags: Any = None
    ) -> list[Experiment]:
        """The workspace's experiments by name: ``view_type`` ``ActiveOnly`` (default), ``ArchivedOnly``
        or ``All``; ``experiment_name`` picks one; ``tags`` filters as in ``get_runs``."""
        from headwater.sdk import experiment_state
        from headwater.sdk.run_filters import mapping_matches

        view = str(getattr(view_type, "value", view_type))
        if view not in _VIEW_TYPES:
            raise ValueError(f"Experiment.list(view_type={view_type!r}): use one of {', '.join(_VIEW_TYPES)}.")
        store = workspace.metadata_store
        out = []
        for r in store.list_experiments():
            if experiment_name not in (None, r.name):
                continue
            archived = experiment_state.archived_time(store, r.id) is not None
            if (view == "ActiveOnly" and archived) or (view == "ArchivedOnly" and not archived):
                continue
            if tags is not None and not mapping_matches(experiment_state.get_tags(store, r.id), tags):
                continue
            out.append(Experiment(workspace, r.name, _skip_name_validation=True))
        return out

    # -- tags and archiving (SDK v1) -----------------------------------------------------------

    @property
    def tags(self) -> dict[str, str | None]:
        """The experiment's tags."""
        from headwater.sdk import experiment_state

        return experiment_state.get_tags(self._workspace.metadata_store, self.id)

    def tag(self, key: str, value: Any = None) -> None:
        """Set one tag of the experiment (``value`` None: a tag that is only a key)."""
        self.set_tags({key: value})

    def set_tags(self, tags: dict[str, Any]) -> None:
        """Add or change tags of the experiment."""
        from headwater.sdk import experiment_state

        if not isinstance(tags, dict):
            raise TypeError(f"Experiment.set_tags needs a dict of tag -> value, got {type(tags).__name__}")
        store = self._workspace.metadata_store
        merged = {**experiment_state.get_tags(store, self.id)}
        merged.update({str(k): None if v is None else str(v) for k, v in tags.items()})
        experiment_state.set_tags(store, self.id, merged)

    def remove_tags(self, tags: Any) -> None:
        """Remove tags of the experiment by key (a key or a list of keys)."""
        from headwater.sdk import experiment_state

        keys = [tags] if isinstance(tags, str) else [str(k) for k in tags]
        store = self._workspace.metadata_store
        current = experiment_state.get_tags(store, self.id)
        experiment_state.set_tags(store, self.id, {k: v for k, v in current.items() if k not in keys})

    @property
    def archived_time(self) -> str | None:
        """When the experiment was archived (ISO-8601 UTC), or None while it is active."""
        from headwater.sdk import experiment_state

        return experiment_state.archived_time(self._workspace.metadata_store, self.id)

    def archive(self) -> None:
        """Archive the experiment: ``Experiment.list`` leaves it out unless ``view_type`` asks for it.
        Its runs stay, and it can still be submitted to."""
        from headwater.sdk import experiment_state

        experiment_state.set_archived(self._workspace.metadata_store, self.id, True)

    def reactivate(self, new_name: str | None = None) -> None:
        """Make an archived experiment active again."""
        from headwater.sdk import experiment_state

        if new_name is not None and new_name != self._name:
            raise NotSupportedError(
                f"Experiment.reactivate(new_name={new_name!r}): Headwater cannot rename an experiment.",
                hint="Reactivate it under its own name (reactivate()), and submit new runs to "
                f"Experiment(ws, {new_name!r}) if you want them under another name.",
            )
        experiment_state.set_archived(self._workspace.metadata_store, self.id, False)

    def refresh(self) -> None:
        """Nothing to refresh: every property is read from the workspace's store when asked for."""

    @classmethod
    def get_docs_url(cls) -> str:
        """Where this class is documented: SDK v1's reference page (Headwater follows its API)."""
        return "https://learn.microsoft.com/python/api/azureml-core/azureml.core.experiment.experiment"

    @staticmethod
    def delete(workspace: Workspace, experiment_id: str) -> None:
        """SDK v1 deletes an experiment with its runs in the cloud; Headwater does not delete experiments."""
        raise NotSupportedError(
            "Experiment.delete(): Headwater does not delete experiments (their runs keep their records).",
            hint="Archive it with Experiment(ws, name).archive() so Experiment.list() leaves it out; "
            "free the disk its old runs use with `headwater gc`.",
        )

    @staticmethod
    def from_directory(path: Any, auth: Any = None) -> Experiment:
        """SDK v1 reads a cloud project's experiment from a folder's configuration; Headwater has none."""
        raise NotSupportedError(
            "Experiment.from_directory(): Headwater keeps no experiment in a project folder.",
            hint="Use Experiment(Workspace.from_config(path), 'name').",
        )

    def __repr__(self) -> str:
        return f"Experiment(Name: {self._name}, Workspace: {self._workspace.name})"
