"""``Pipeline`` (SDK v1: azureml.pipeline.core.Pipeline): steps, validation, submission."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

from headwater.graph.analysis import validate as validate_spec
from headwater.graph.spec import PipelineSpec
from headwater.sdk.parameters import parameter_value
from headwater.sdk.pipeline_build import build_spec

if TYPE_CHECKING:
    from headwater.ops.preview import RunPreview
    from headwater.sdk.published_pipeline import PublishedPipeline
    from headwater.sdk.runs import PipelineRun
    from headwater.sdk.workspace import Workspace

__all__ = ["Pipeline"]

_ACCEPTED_KWARGS = {"enable_email_notification"}


class PlanShown(SystemExit):
    """Raised by ``Experiment.submit`` under ``headwater plan``: the plan was printed, nothing submitted."""


def _show_plan_and_stop(preview: RunPreview) -> NoReturn:
    import sys

    sys.stdout.write(preview.render())
    sys.stdout.write("Nothing was submitted (headwater plan stops the script at its first submit).\n")
    sys.stdout.flush()
    raise PlanShown(0)


class Pipeline:
    """A collection of steps run as one workflow.

    ``steps`` may be a list (steps run in parallel unless data or ``run_after`` orders them),
    nested lists (the seed page passes ``[[prep, train, compare]]``) or a StepSequence. A step
    without ``source_directory`` uses ``default_source_directory``, else the current directory
    *at the time Pipeline() is called*.
    """

    def __init__(
        self,
        workspace: Workspace,
        steps: Any,
        description: str | None = None,
        default_datastore: Any = None,
        default_source_directory: str | os.PathLike[str] | None = None,
        resolve_closure: bool = True,
        _workflow_provider: Any = None,
        _service_endpoint: Any = None,
        **kwargs: Any,
    ) -> None:
        unknown = set(kwargs) - _ACCEPTED_KWARGS
        if unknown:
            raise TypeError(f"Pipeline() got unexpected keyword arguments: {sorted(unknown)}")
        self._workspace = workspace
        self._steps = steps
        self.description = description
        self._default_datastore = (
            None if default_datastore is None else getattr(default_datastore, "name", default_datastore)
        )
        self._default_source = None if default_source_directory is None else os.fspath(default_source_directory)
        self._resolve_closure = resolve_closure
        self._cwd = os.getcwd()

    #: Set by ``headwater plan``: ``Experiment.submit`` prints the plan and stops the script.
    _plan_only: ClassVar[bool] = False

    @property
    def workspace(self) -> Workspace:
        return self._workspace

    def _spec(self) -> PipelineSpec:
        return build_spec(
            self._workspace,
            self._steps,
            default_datastore=self._default_datastore,
            default_source_directory=self._default_source,
            cwd=self._cwd,
            description=self.description,
            resolve_closure=self._resolve_closure,
        ).spec

    @property
    def graph(self) -> PipelineSpec:
        """The pipeline's graph (Headwater's :class:`~headwater.graph.PipelineSpec`)."""
        return self._spec()

    @staticmethod
    def load_yaml(
        workspace: Workspace,
        filename: str | os.PathLike[str],
        _workflow_provider: Any = None,
        _service_endpoint: Any = None,
    ) -> Pipeline:
        """A Pipeline from SDK v1's pipeline YAML (see :mod:`headwater.sdk.pipeline_yaml`)."""
        from headwater.sdk.pipeline_yaml import load_pipeline_yaml

        steps, description = load_pipeline_yaml(workspace, filename)
        return Pipeline(workspace, steps=steps, description=description)

    def validate(self) -> list[str]:
        """Every problem that keeps the pipeline from running ([] when it can run)."""
        return validate_spec(self._spec())

    def plan(
        self,
        experiment_name: str,
        pipeline_parameters: dict[str, Any] | None = None,
        regenerate_outputs: bool = False,
    ) -> RunPreview:
        """Which steps a submit to ``experiment_name`` would run and which it would reuse, and why.

        Nothing is recorded and nothing runs: see :mod:`headwater.ops.preview`. The reasons are the
        ones the run would record. ``print(pipeline.plan("exp").render())`` shows a table.
        """
        from headwater.ops.preview import preview_pipeline
        from headwater.ops.submit import SubmitOptions

        params = {
            name: None if value is None else parameter_value(value, name=name)
            for name, value in (pipeline_parameters or {}).items()
        }
        options = SubmitOptions(
            experiment_name=experiment_name, pipeline_parameters=params, regenerate_outputs=regenerate_outputs
        )
        ws = self._workspace
        return preview_pipeline(ws.metadata_store, ws._ref(), self._spec(), options)

    def submit(
        self,
        experiment_name: str,
        pipeline_parameters: dict[str, Any] | None = None,
        continue_on_step_failure: bool = False,
        regenerate_outputs: bool = False,
        parent_run_id: str | None = None,
        credential_passthrough: Any = None,
        **kwargs: Any,
    ) -> PipelineRun:
        """Submit to experiment ``experiment_name`` (created on first use); returns at once."""
        from headwater.sdk.experiment import Experiment

        return Experiment(self._workspace, experiment_name).submit(
            self,
            pipeline_parameters=pipeline_parameters,
            continue_on_step_failure=continue_on_step_failure,
            regenerate_outputs=regenerate_outputs,
            **kwargs,
        )

    def _submit(
        self,
        experiment_name: str,
        *,
        pipeline_parameters: dict[str, Any] | None,
        continue_on_step_failure: bool,
        regenerate_outputs: bool,
        tags: dict[str, str] | None,
    ) -> PipelineRun:
        if Pipeline._plan_only:  # `headwater plan SCRIPT`: show the plan, submit nothing
            _show_plan_and_stop(self.plan(experiment_name, pipeline_parameters, regenerate_outputs))
        from headwater.ops.reuse_hint import ReuseHint
        from headwater.ops.spawn import start_pending_run

        ws = self._workspace
        spec = self._spec()
        params = {  # None too: submit refuses it naming the parameter's type
            name: None if value is None else parameter_value(value, name=name)
            for name, value in (pipeline_parameters or {}).items()
        }
        # The orchestrator starts first, so that its start-up overlaps building and recording the
        # run; not when the last all-reused submit of this pipeline saw the same sources (then it
        # starts only if a step must run after all).
        hint = ReuseHint.of(ws.folder, experiment_name, spec, params, regenerate_outputs)
        pending = start_pending_run(ws.folder, start=not hint.predicts_all_reused())
        try:
            from headwater.ops.submit import SubmitOptions, submit_pipeline

            store, ref = ws.metadata_store, ws._ref()  # opening the store may fail (a damaged database)
        except BaseException:
            pending.discard()
            raise
        from headwater.sdk.runs import PipelineRun

        run_id = submit_pipeline(
            store,
            ref,
            spec,
            SubmitOptions(
                experiment_name=experiment_name,
                pipeline_parameters=params,
                regenerate_outputs=regenerate_outputs,
                continue_on_step_failure=continue_on_step_failure,
                tags=tags,
                max_concurrency=int(os.environ.get("HEADWATER_MAX_CONCURRENCY", "0") or 0),
                terminate_grace_seconds=float(os.environ.get("HEADWATER_TERMINATE_GRACE_SECONDS", "10") or 10),
                pipeline_source_directory=self._default_source or self._cwd,
            ),
            pending,
        )
        hint.record(pending.all_reused)
        return PipelineRun._get(ws, run_id)

    def publish(
        self,
        name: str | None = None,
        description: str | None = None,
        version: str | None = None,
        continue_on_step_failure: bool | None = None,
    ) -> PublishedPipeline:
        """Publish the pipeline: a frozen copy (its scripts as they are now) that runs later by id,
        from Python (``PublishedPipeline.get(ws, id).submit(ws, "exp")``) or over REST
        (``published.endpoint``). Editing the scripts afterwards does not change what it runs."""
        from headwater.ops.publish import publish_pipeline
        from headwater.sdk.published_pipeline import PublishedPipeline

        ws = self._workspace
        record = publish_pipeline(
            ws.metadata_store,
            ws.folder,
            self._spec(),
            name=name,
            description=description,
            version=version,
            continue_on_step_failure=continue_on_step_failure,
        )
        return PublishedPipeline._from_record(ws, record)

    def service_endpoint(self) -> str:
        """The base URL of the workspace's server, where published pipelines are submitted over REST
        (started in the background when none runs)."""
        from headwater.ops.server_process import ensure_server

        return ensure_server(self._workspace.folder).url
