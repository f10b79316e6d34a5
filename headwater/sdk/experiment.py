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


class Experiment:
    """An experiment; created in the workspace on first use.

    ``Experiment(ws, 'name').submit(pipeline)`` records and starts a pipeline run and returns a
    :class:`~headwater.sdk.runs.PipelineRun` at once; ``submit(ScriptRunConfig(...))`` starts a
    single script run and returns a :class:`~headwater.sdk.script_run.ScriptRun`.
    """

    def __init__(self, workspace: Workspace, name: str, _skip_name_validation: bool = False, **kwargs: Any) -> None:
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
    def id(self) -> str:
        if self._id is None:
            self._id = self._workspace.metadata_store.get_or_create_experiment(self._name).id
        return self._id

    @overload
    def submit(self, config: Pipeline, tags: dict[str, str] | None = None, **kwargs: Any) -> PipelineRun: ...

    @overload
    def submit(self, config: ScriptRunConfig, tags: dict[str, str] | None = None, **kwargs: Any) -> ScriptRun: ...

    def submit(self, config: Any, tags: dict[str, str] | None = None, **kwargs: Any) -> Any:
        """Submit a Pipeline or a ScriptRunConfig; returns its run (PipelineRun, ScriptRun) at once.

        A Pipeline takes ``pipeline_parameters`` (``pipeline_params``, SDK v1's deprecated alias),
        ``regenerate_outputs`` and ``continue_on_step_failure``. A ScriptRunConfig runs its script
        once, as a single script run (never reused).
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
        raise NotSupportedError(
            f"Experiment.submit() of a {type(config).__name__} is not supported in this version of Headwater.",
            hint="Submit a Pipeline of steps, or a ScriptRunConfig.",
        )

    def start_logging(self, *args: Any, **kwargs: Any) -> Any:
        """SDK v1's interactive run (logging from a notebook): not available in this version of Headwater."""
        raise NotSupportedError(
            "Experiment.start_logging() (an interactive run) is not available in this version of Headwater.",
            hint="Put the code in a script and submit it with ScriptRunConfig; or log from a script with "
            "Run.get_context(), which prints what it logs when the script runs on its own.",
        )

    def get_runs(
        self, type: str | None = None, tags: Any = None, properties: Any = None, include_children: bool = False
    ) -> Iterator[Any]:
        """Runs of this experiment, newest first (top-level runs unless ``include_children``)."""
        from headwater.sdk.runs import run_from_record

        store = self._workspace.metadata_store
        record = store.get_experiment(self._name)
        if record is None:
            return
        for r in store.list_runs(experiment_id=record.id, top_level=not include_children):
            if type is not None and type.lower() not in (r.kind, f"azureml.{r.kind}run"):  # azureml.scriptrun
                continue
            run = run_from_record(self._workspace, r)
            if tags is not None and not _matches(run.get_tags(), tags):
                continue
            if properties is not None and not _matches(run.get_properties(), properties):
                continue
            yield run

    @staticmethod
    def list(workspace: Workspace, experiment_name: str | None = None, **kwargs: Any) -> list[Experiment]:
        names = [r.name for r in workspace.metadata_store.list_experiments()]
        return [Experiment(workspace, n) for n in names if experiment_name in (None, n)]

    def __repr__(self) -> str:
        return f"Experiment(Name: {self._name}, Workspace: {self._workspace.name})"


def _matches(have: dict[str, Any], want: Any) -> bool:
    if isinstance(want, str):
        return want in have
    if isinstance(want, dict):
        return all(have.get(k) == v for k, v in want.items())
    return True
