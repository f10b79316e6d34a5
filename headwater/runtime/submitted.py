"""``_SubmittedRun``: the run of a step process, writing its events to the step's events file."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from headwater.errors import NotSupportedError
from headwater.runtime import statuses
from headwater.runtime.events import append_event
from headwater.runtime.run import Run

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from headwater.runtime.context import InputDatasetRef, StepContext, WorkspaceRef

__all__ = ["_SubmittedRun"]


class _StepExperiment:
    """``run.experiment`` in a step: its name and id, and the workspace, opened on first use."""

    def __init__(self, name: str, experiment_id: str | None, workspace: WorkspaceRef) -> None:
        self.name = name
        self.id = experiment_id
        self._ref = workspace
        self._workspace: Any = None

    @property
    def workspace(self) -> Any:
        """The step's Workspace (opened from the workspace folder in the context file)."""
        if self._workspace is None:
            from headwater.runtime._bridge import open_workspace

            self._workspace = open_workspace(self._ref)
        return self._workspace

    def __repr__(self) -> str:
        return f"Experiment(Name: {self.name}, Workspace: {self._ref.name})"


if TYPE_CHECKING:
    _StrMapping = Mapping[str, object]
else:  # a subscripted ABC as a base class needs Python 3.9; steps may run on 3.8
    _StrMapping = Mapping


class _InputDatasets(_StrMapping):
    """``run.input_datasets``: a path for download/mount inputs, a Dataset (built on access) for direct."""

    def __init__(self, run: _SubmittedRun, refs: dict[str, InputDatasetRef]) -> None:
        self._run = run
        self._refs = refs
        self._values: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name in self._values:
            return self._values[name]
        ref = self._refs.get(name)
        if ref is None:
            known = ", ".join(repr(n) for n in sorted(self._refs)) or "none"
            raise KeyError(f"The step has no input dataset {name!r} (its inputs: {known}).")
        if ref.mode == "direct":
            from headwater.runtime._bridge import dataset_from_record, require_sdk

            require_sdk(f"run.input_datasets[{name!r}] (a direct-mode input, so a Dataset)")
            value = dataset_from_record(self._run.experiment.workspace, ref.dataset or {})
        else:
            value = ref.path
        self._values[name] = value
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._refs)

    def __len__(self) -> int:
        return len(self._refs)

    def __repr__(self) -> str:
        return repr(dict(self.items()))


class _SubmittedRun(Run):
    """The step run (or, as ``run.parent``, its pipeline run) seen from inside the step.

    Events go to the step's events file (``"run": "self"`` or ``"parent"``); the orchestrator
    ingests them into the metadata store. ``Run.get_context()`` keeps one per context file (that
    is, per run id) per process.
    """

    def __init__(self, context: StepContext, *, experiment: Any = None, target: str = "self") -> None:
        if experiment is None:
            experiment = _StepExperiment(context.experiment_name, context.experiment_id, context.workspace)
        run_id = context.run_id if target == "self" else context.parent_run_id
        super().__init__(experiment, str(run_id))
        self._context = context
        self._target = target
        self._events_file = context.events_file
        self._parent: _SubmittedRun | None = None
        self._inputs: _InputDatasets | None = None
        if target == "self":
            self._run_dir = context.run_dir
            self._tags.update(context.tags)
            self._properties.update(context.properties)

    def _emit(self, event: dict[str, Any]) -> None:
        append_event(self._events_file, event)

    @property
    def parent(self) -> Run | None:
        """The pipeline run: ``run.parent.log(...)`` logs on it. None for a run without a parent."""
        if self._target != "self" or not self._context.parent_run_id:
            return None
        if self._parent is None:
            self._parent = _SubmittedRun(self._context, experiment=self._experiment, target="parent")
        return self._parent

    @property
    def input_datasets(self) -> Mapping[str, Any]:
        """Input datasets by name: the path for download/mount inputs, a Dataset for direct ones."""
        if self._target != "self":
            return {}
        if self._inputs is None:
            self._inputs = _InputDatasets(self, self._context.input_datasets)
        return self._inputs

    @property
    def output_datasets(self) -> Mapping[str, str]:
        """Output datasets by name: the folder to write each into (committed when the step succeeds)."""
        return dict(self._context.output_datasets) if self._target == "self" else {}

    def register_model(
        self,
        model_name: str,
        model_path: str | None = None,
        tags: dict[str, Any] | None = None,
        properties: dict[str, Any] | None = None,
        model_framework: str | None = None,
        model_framework_version: str | None = None,
        description: str | None = None,
        datasets: list[Any] | None = None,
        sample_input_dataset: Any = None,
        sample_output_dataset: Any = None,
        resource_configuration: Any = None,
        **kwargs: Any,
    ) -> Any:
        """Register the run's file or folder ``model_path`` (``outputs/model.pkl``; default: the model
        name) as the next version of ``model_name`` when the step succeeds and its outputs are
        committed (:mod:`headwater.runtime.model_requests`); the arguments and the path are checked now."""
        from headwater.errors import NotFoundError
        from headwater.runtime.model_requests import PendingModel, build_request, find_run_path, request_model

        if self._target != "self" or self._run_dir is None:
            raise NotSupportedError(
                "run.parent.register_model: a step registers models from its own files.",
                hint="Call run.register_model(...) on Run.get_context().",
            )
        request = build_request(
            model_name,
            model_path,
            tags=tags,
            properties=properties,
            model_framework=model_framework,
            model_framework_version=model_framework_version,
            description=description,
            datasets=datasets,
            sample_input_dataset=sample_input_dataset,
            sample_output_dataset=sample_output_dataset,
            resource_configuration=resource_configuration,
        )
        if kwargs.get("sub_paths"):  # only these files or sub-folders of a folder (as Model.register's child_paths)
            request["sub_paths"] = [str(p) for p in kwargs["sub_paths"]]
        if find_run_path(self._run_dir, request["path"]) is None:
            raise NotFoundError(
                "Run file",
                request["path"],
                where=f"run {self._run_id}",
                hint="Write the model under ./outputs (e.g. outputs/model.pkl) or upload it with "
                "run.upload_file first, then pass that name as model_path.",
            )
        request_model(self._run_dir, request)
        return PendingModel(request, self._run_id)

    def fail(self, error_details: Any = None, error_code: Any = None, _set_status: bool = True) -> None:
        """End this step run as Failed when the script exits (its outputs are not saved), with
        ``error_details`` and ``error_code`` as its error. The pipeline run is not this step's to fail."""
        if not _set_status:
            return
        error: dict[str, Any] = {"message": "The script called run.fail()."}
        if isinstance(error_details, BaseException):
            error["message"] = f"{type(error_details).__name__}: {error_details}"
        elif error_details is not None:
            error["message"] = str(error_details)
        if error_code is not None:
            error["code"] = str(error_code)
        self._request_end(statuses.FAILED, error, "fail")

    def cancel(self) -> None:
        """End this step run as Canceled when the script exits (its outputs are not saved)."""
        self._request_end(statuses.CANCELED, {"message": "The script called run.cancel()."}, "cancel")

    def _request_end(self, status: str, error: dict[str, Any], member: str) -> None:
        if self._target != "self" or self._run_dir is None:
            raise NotSupportedError(
                f"run.parent.{member}(): a step cannot end its pipeline run ({self._run_id}).",
                hint=f"Call run.{member}() on the step's own run (Run.get_context()); a failed step fails "
                "the pipeline run, or cancel the pipeline run from a client with PipelineRun.cancel().",
            )
        from headwater.runtime.run_files import request_end

        request_end(self._run_dir, status, error)

    def _put_artifact(self, artifact: str, source: Any) -> str:
        if self._target != "self":
            raise NotSupportedError(
                f"A step cannot upload files to its pipeline run ({self._run_id}).",
                hint="Upload them to the step run (run.upload_file); they show under the step.",
            )
        return super()._put_artifact(artifact, source)

    def __repr__(self) -> str:
        kind = "StepRun" if self._context.parent_run_id else "ScriptRun"  # a script run has no parent
        if self._target != "self":
            kind = "PipelineRun"
        return f"Run(Experiment: {self._experiment.name}, Id: {self._run_id}, Type: {kind}, Status: Running)"
