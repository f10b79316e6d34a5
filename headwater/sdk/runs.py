"""Client-side runs (SDK v1: PipelineRun, StepRun, PortDataReference) read from the metadata store.

They subclass the script-side :class:`~headwater.runtime.run.Run`, so logging on them works the
same way; their events go straight to the store through the ingest module.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from headwater.errors import ActivityFailedException, NotFoundError
from headwater.layout import RunLayout
from headwater.ops.run_views import metrics_view
from headwater.ops.runs import ORCHESTRATOR_STALE_SECONDS, cancel_run, refresh_status
from headwater.runtime.run import Run
from headwater.sdk.model_runs import RegisterModel
from headwater.sdk.run_details import input_datasets_detail
from headwater.sdk.run_graph import run_spec, save_yaml
from headwater.sdk.step_outputs import (
    PortDataReference,
    StepRunOutput,
    pipeline_output,
    step_run_output,
    step_run_outputs,
)
from headwater.status import StepRunStatus
from headwater.store.records import RunRecord

if TYPE_CHECKING:
    from headwater.graph.spec import PipelineSpec
    from headwater.sdk.experiment import Experiment
    from headwater.sdk.published_pipeline import PublishedPipeline
    from headwater.sdk.workspace import Workspace
    from headwater.store.metadata import MetadataStore

__all__ = [
    "ORCHESTRATOR_STALE_SECONDS",
    "PipelineRun",
    "PortDataReference",
    "StepRun",
    "StepRunOutput",
    "metrics_view",
    "read_log",
    "run_from_record",
]


def read_log(path: Path) -> str:
    """A run's log as text ('' before it exists; bytes that are not UTF-8 are replaced)."""
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""


class _StoreRun(RegisterModel, Run):
    """A run read from the store; logging on it writes to the store."""

    _type = "azureml.Run"

    def __init__(self, workspace: Workspace, record: RunRecord, experiment: Experiment | None = None) -> None:
        from headwater.sdk.experiment import Experiment

        if experiment is None:
            exp = next((e for e in workspace.metadata_store.list_experiments() if e.id == record.experiment_id), None)
            experiment = Experiment(workspace, exp.name if exp else "unknown", _skip_name_validation=True)
        super().__init__(experiment, record.id)
        self._workspace = workspace
        self._record = record
        self._folder = RunLayout.of(workspace.folder, record.id).folder
        self._run_dir = str(self._folder)

    # -- store access --------------------------------------------------------------------------

    @property
    def _store(self) -> MetadataStore:
        return self._workspace.metadata_store

    def _refresh(self) -> RunRecord:
        record = self._store.get_run(self.id)
        if record is not None:
            self._record = record
        return self._record

    def _emit(self, event: dict[str, Any]) -> None:
        from headwater.engine.ingest import apply_event  # only a run that logs needs it

        apply_event(self._store, self.id, self._record.parent_id, event)

    # -- what it is ----------------------------------------------------------------------------

    @property
    def name(self) -> str | None:
        return self._record.name

    @property
    def type(self) -> str:
        return self._type

    @property
    def status(self) -> str:
        return self.get_status()

    def get_status(self) -> str:
        """The current status string (SDK v1's vocabulary)."""
        return self._refresh().status

    @property
    def properties(self) -> dict[str, str]:
        return self._store.get_properties(self.id)

    def get_properties(self) -> dict[str, str]:
        return self._store.get_properties(self.id)

    def get_tags(self) -> dict[str, str | None]:
        return self._store.get_tags(self.id)

    def get_metrics(
        self, name: str | None = None, recursive: bool = False, run_type: str | None = None, populate: bool = False
    ) -> dict[str, Any]:
        """Metrics by name; ``recursive=True`` gives ``{run_id: {name: value}}`` over this run and its children."""
        if recursive:
            out = {self.id: metrics_view(self._store.get_metrics(self.id, name))}
            for child in self.get_children():
                out.update(child.get_metrics(name=name, recursive=True))
            return out
        return metrics_view(self._store.get_metrics(self.id, name))

    def get_children(
        self,
        recursive: bool = False,
        tags: Any = None,
        properties: Any = None,
        type: str | None = None,
        status: str | None = None,
        _rehydrate_runs: bool = True,
    ) -> Iterator[Any]:
        """The child runs, oldest first (SDK v1's filters: ``tags`` a key or ``{key: value}``,
        ``properties`` likewise, ``type`` a run type such as ``azureml.StepRun``, ``status``);
        ``recursive`` also yields their descendants (the filters apply to each)."""
        from headwater.sdk.run_filters import run_matches

        for r in reversed(self._store.list_runs(parent_id=self.id)):
            child = run_from_record(self._workspace, r, self._experiment)
            if run_matches(child, r, tags=tags, properties=properties, type=type, status=status):
                yield child
            if recursive:
                yield from child.get_children(
                    recursive=True, tags=tags, properties=properties, type=type, status=status
                )

    def get_details(self) -> dict[str, Any]:
        """SDK v1's run details: ids, status, times, properties, log files, error."""
        r = self._refresh()
        details: dict[str, Any] = {
            "runId": r.id,
            "target": r.compute_target or "local",
            "status": r.status,
            "startTimeUtc": r.started_at,
            "endTimeUtc": r.ended_at,
            "properties": self.get_properties(),
            "tags": self.get_tags(),
            "logFiles": {name: str(self._folder / name) for name in self._log_files()},
            "inputDatasets": input_datasets_detail(r.definition.get("inputs") or {}),
            "outputDatasets": [
                {"name": o.name, "datastore": o.datastore, "path": o.path} for o in self._store.get_run_outputs(r.id)
            ],
            "runDefinition": {k: r.definition[k] for k in ("argv", "inputs", "outputs") if k in r.definition},
            "warnings": [],
        }
        if r.reason:
            details["reuseReason"] = r.reason
        if r.error:
            details["error"] = r.error
        return details

    def _log_files(self) -> list[str]:
        root = self._folder
        run = RunLayout(root)
        out: list[str] = []
        for folder in (run.std_log.parent, run.driver_log.parent, run.system_logs, root / "logs"):
            if folder.is_dir():
                out.extend(str(p.relative_to(root)) for p in sorted(folder.rglob("*")) if p.is_file())
        return out

    def get_portal_url(self) -> str:
        """Where to look at the run: its folder in the workspace (SDK v1: a studio URL)."""
        return str(self._folder)

    def _studio_url(self) -> str | None:
        """The run's studio page when the workspace's server runs (``headwater serve``), else None."""
        from headwater.ops.server_process import running_server
        from headwater.ops.studio_links import run_url

        info = running_server(self._workspace.folder)
        return None if info is None else run_url(info.url, self.id)

    def complete(self, _set_status: bool = True) -> None:
        """A submitted run is completed by its orchestrator: nothing to do once it has ended; while it
        runs, NotSupportedError (wait for it, or cancel or fail it)."""
        from headwater.sdk.run_lifecycle import refuse_step, require_ended

        (refuse_step if self._record.kind == "step" else require_ended)(self, "complete")

    def fail(self, error_details: Any = None, error_code: Any = None, _set_status: bool = True) -> None:
        """Mark the run Failed now (with ``error_details`` and ``error_code`` as its error) and stop its
        steps. A run that has ended keeps its status. A step run ends with its pipeline run."""
        from headwater.sdk.run_lifecycle import fail_run, refuse_step

        if self._record.kind == "step":
            refuse_step(self, "fail")
        elif _set_status:
            fail_run(self, error_details, error_code)

    def cancel(self) -> None:
        """Ask the run's orchestrator to stop it (Canceled). A step run ends with its pipeline run."""
        from headwater.sdk.run_lifecycle import refuse_step

        if self._record.kind == "step":
            refuse_step(self, "cancel")
        else:
            cancel_run(self._store, self._workspace.folder, self.id)

    def __repr__(self) -> str:
        kind = type(self).__name__
        return f"{kind}(Experiment: {self._experiment.name}, Id: {self.id}, Status: {self._record.status})"


class StepRun(_StoreRun):
    """A step of a pipeline run."""

    _type = "azureml.StepRun"

    def __init__(
        self,
        experiment: Experiment,
        step_run_id: str,
        pipeline_run_id: str | None = None,
        node_id: str | None = None,
        _service_endpoint: Any = None,
        _is_reused: bool = False,
        _current_node_id: str | None = None,
        _reused_run_id: str | None = None,
        _reused_node_id: str | None = None,
        _reused_pipeline_run_id: str | None = None,
        _record: RunRecord | None = None,
        **kwargs: Any,
    ) -> None:
        ws = experiment.workspace
        record = _record or ws.metadata_store.get_run(step_run_id)
        if record is None or record.kind != "step" or pipeline_run_id not in (None, record.parent_id):
            raise NotFoundError(
                "Step run",
                step_run_id,
                where=f"workspace {ws.name!r}" + (f", pipeline run {pipeline_run_id}" if pipeline_run_id else ""),
                hint="Find step runs with pipeline_run.find_step_run(name) or get_steps().",
            )
        super().__init__(ws, record, experiment)

    @property
    def pipeline_run_id(self) -> str | None:
        return self._record.parent_id

    @property
    def parent(self) -> PipelineRun | None:
        if self._record.parent_id is None:
            return None
        return PipelineRun._get(self._workspace, self._record.parent_id)

    @property
    def reused(self) -> bool:
        return self._refresh().reused_run_id is not None

    @property
    def reason(self) -> str | None:
        """Why the step ran or was reused ("train.py changed", "reused run ...: unchanged")."""
        return self._refresh().reason

    def get_outputs(self) -> dict[str, StepRunOutput]:
        """The outputs the step committed: ``{name: StepRunOutput}`` (SDK v1)."""
        return step_run_outputs(self)

    def get_output(self, name: str) -> StepRunOutput:
        """The output ``name`` (SDK v1: a StepRunOutput); a missing name raises a KeyError naming the others."""
        return step_run_output(self, name)

    def get_output_data(self, name: str) -> PortDataReference:
        """Where output ``name`` was committed: ``get_output(name).get_port_data_reference()``."""
        return self.get_output(name).get_port_data_reference()

    def _build_log_path(self) -> Path:
        """The environment-build log (``system_logs/environment_build.log``), when one was built."""
        return RunLayout(str(self._run_dir)).environment_build_log

    def _log_path(self) -> Path:
        return RunLayout(self._folder).std_log

    def get_stdout_log(self) -> str:
        """The step's stdout and stderr (``user_logs/std_log.txt``)."""
        return read_log(self._log_path())

    get_job_log = get_stdout_log

    def get_stderr_log(self) -> str:
        return self.get_stdout_log()

    def get_details_with_logs(self) -> dict[str, Any]:
        """``get_details()`` with each log file's content in ``logFiles``, plus ``STDOUT``, ``STDERR`` and
        ``JOBLOG`` (SDK v1's StepRun)."""
        details = self.get_details()
        logs = details["logFiles"]
        for name in list(logs):
            logs[name] = read_log(self._folder / name)
        logs["STDOUT"] = self.get_stdout_log()
        logs["STDERR"] = self.get_stderr_log()
        logs["JOBLOG"] = self.get_job_log()
        return details

    def wait_for_completion(
        self, show_output: bool = True, timeout_seconds: float = sys.maxsize, raise_on_error: bool = True
    ) -> str:
        from headwater.sdk.run_wait import wait_for_steps

        return wait_for_steps(
            self, [self], show_output=show_output, timeout_seconds=timeout_seconds, raise_on_error=raise_on_error
        )


class PipelineRun(_StoreRun):
    """A submitted pipeline run (SDK v1: ``azureml.pipeline.core.PipelineRun``)."""

    _type = "azureml.PipelineRun"

    def __init__(
        self,
        experiment: Experiment,
        run_id: str,
        _service_endpoint: Any = None,
        _record: RunRecord | None = None,
        **kwags: Any,  # SDK v1's spelling
    ) -> None:
        ws = experiment.workspace
        record = _record or ws.metadata_store.get_run(run_id)
        if record is None:
            raise NotFoundError("Run", run_id, where=f"workspace {ws.name!r}")
        super().__init__(ws, record, experiment)

    @staticmethod
    def _get(workspace: Workspace, run_id: str) -> PipelineRun:
        record = workspace.metadata_store.get_run(run_id)
        if record is None:
            raise NotFoundError("Run", run_id, where=f"workspace {workspace.name!r}")
        if record.kind != "pipeline":
            raise NotFoundError(
                "Pipeline run",
                run_id,
                where=f"workspace {workspace.name!r}",
                hint=f"It is a {record.kind} run: get it with Run.get(ws, {run_id!r}).",
            )
        run = run_from_record(workspace, record)
        assert isinstance(run, PipelineRun)
        return run

    @staticmethod
    def get(workspace: Workspace, run_id: str, _service_endpoint: Any = None) -> PipelineRun:
        return PipelineRun._get(workspace, run_id)

    def publish_pipeline(
        self, name: str, description: str, version: str, continue_on_step_failure: bool | None = None, **kwargs: Any
    ) -> PublishedPipeline:
        """Publish the pipeline this run ran, with the snapshots it ran (not the scripts as they are now)."""
        from headwater.ops.publish import publish_pipeline, run_spec
        from headwater.sdk.published_pipeline import PublishedPipeline

        ws = self._workspace
        store = ws.metadata_store
        record = publish_pipeline(
            store,
            ws.folder,
            run_spec(store, ws.folder, self.id),
            name=name,
            description=description,
            version=version,
            continue_on_step_failure=continue_on_step_failure,
            source_run_id=self.id,
        )
        return PublishedPipeline._from_record(ws, record)

    def get_status(self) -> str:
        """NotStarted, Running, Finished, Failed or Canceled; a dead orchestrator is detected here
        (the run becomes Failed, its unfinished steps Canceled)."""
        record = refresh_status(self._store, self.id)
        if record is not None:
            self._record = record
        return self._record.status

    def get_steps(self) -> Iterator[StepRun]:
        """The step runs that started (or were reused), in the order they were created."""
        for child in self.get_children():
            if child.get_status() != StepRunStatus.NotStarted:
                yield child

    def find_step_run(self, name: str) -> list[StepRun]:
        """Step runs whose name is ``name`` (a list, as in SDK v1)."""
        return [c for c in self.get_children() if c.name == name]

    def _all_steps(self) -> list[StepRun]:
        return list(self.get_children())

    def get_graph(self) -> PipelineSpec:
        """The graph this run ran (Headwater's :class:`~headwater.graph.PipelineSpec`)."""
        return run_spec(self)

    def save(self, path: str | None = None) -> None:
        """Write the run's pipeline as SDK v1's pipeline YAML: to ``path``, or ``<path>/pipeline.yml``
        when it is a folder (the current directory when None); ``Pipeline.load_yaml`` reads it."""
        save_yaml(self.get_graph(), path, "pipeline", self._record.name)

    @staticmethod
    def get_pipeline_runs(workspace: Workspace, pipeline_id: str, _service_endpoint: Any = None) -> list[PipelineRun]:
        """The runs of the published pipeline ``pipeline_id``, oldest first."""
        store = workspace.metadata_store
        if store.get_published_pipeline(pipeline_id) is None:
            raise NotFoundError("Published pipeline", pipeline_id, where=f"workspace {workspace.name!r}")
        return [PipelineRun._get(workspace, run_id) for run_id in store.runs_of_published(pipeline_id)]

    def get_pipeline_output(self, pipeline_output_name: str) -> PortDataReference:
        """The output of the ``PipelineData(pipeline_output_name=...)`` of that name (SDK v1)."""
        return pipeline_output(self, pipeline_output_name)

    def cancel(self) -> None:
        """Stop the run: running steps get SIGTERM, then SIGKILL; nothing new starts."""
        cancel_run(self._store, self._workspace.folder, self.id)

    def resume(self) -> PipelineRun:
        """Continue this run after its orchestrator stopped (it died, a step failed, or it was canceled):
        the same run, its Finished steps kept, the others run again. Returns this run.

        A Headwater addition (SDK v1 has no such method); see :mod:`headwater.ops.resume`.
        """
        from headwater.ops.resume import resume_run

        self._record = resume_run(self._store, self._workspace.folder, self.id).record
        return self

    def wait_for_completion(
        self, show_output: bool = True, timeout_seconds: float = sys.maxsize, raise_on_error: bool = True
    ) -> str:
        """Wait for the run to end, streaming step status and logs; return the final status.

        On failure (with ``raise_on_error``) raises ActivityFailedException naming the failing
        step, its exit code and the tail of its log.
        """
        from headwater.sdk.run_wait import wait_for_pipeline

        return wait_for_pipeline(
            self, show_output=show_output, timeout_seconds=timeout_seconds, raise_on_error=raise_on_error
        )

    def _failure(self) -> ActivityFailedException:
        lines = []
        for step in self._all_steps():
            r = step._refresh()
            if r.error and (
                r.status == StepRunStatus.Failed or (r.status == StepRunStatus.Canceled and "log_tail" in r.error)
            ):
                message = r.error.get("message", "failed")
                if r.status == StepRunStatus.Canceled:  # stopped by its max_run_duration_seconds
                    message = f"Step {r.name!r} was canceled: {message}"
                lines.append(message)
                tail = r.error.get("log_tail")
                if tail:
                    lines.append("--- last lines of its log ---\n" + tail)
        message = "\n".join(lines) or (self._record.error or {}).get("message", "The pipeline run failed.")
        return ActivityFailedException(f"PipelineRun {self.id} failed: {message}")


def run_from_record(workspace: Workspace, record: RunRecord, experiment: Experiment | None = None) -> Any:
    """The client-side run object for a record (PipelineRun, StepRun, ScriptRun, or a plain store run)."""
    from headwater.sdk.experiment import Experiment

    if experiment is None:
        exp = next((e for e in workspace.metadata_store.list_experiments() if e.id == record.experiment_id), None)
        experiment = Experiment(workspace, exp.name if exp else "unknown", _skip_name_validation=True)
    if record.kind == "pipeline":
        return PipelineRun(experiment, record.id, _record=record)
    if record.kind == "step":
        return StepRun(experiment, record.id, record.parent_id, _record=record)
    if record.kind == "script":
        from headwater.sdk.script_run import ScriptRun

        return ScriptRun(experiment, record.id, _record=record)
    if record.kind == "interactive":
        from headwater.sdk.interactive_run import InteractiveRun

        return InteractiveRun(workspace, record, experiment)
    return _StoreRun(workspace, record, experiment)
