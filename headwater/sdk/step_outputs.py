"""What a finished step run produced: SDK v1's ``StepRunOutput`` and ``PortDataReference``.

``StepRun.get_outputs()`` returns ``{name: StepRunOutput}``; ``output.get_port_data_reference()``
says where the output was committed (a datastore and a path on it), downloads it, and binds it as
an input of a step in a new pipeline (``inputs=[ref]``, ``ref.as_mount()``, ``ref.as_download()``:
a :class:`~headwater.sdk.data_reference.DataReference` to the committed folder, as SDK v1's
InputPortBinding of it). ``PipelineRun.get_pipeline_output(name)`` finds the output of a
``PipelineData(pipeline_output_name=name)``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from headwater.errors import DataAccessError, NotFoundError

if TYPE_CHECKING:
    from headwater.sdk.data_reference import DataReference
    from headwater.sdk.datastore import Datastore
    from headwater.sdk.experiment import Experiment
    from headwater.sdk.workspace import Workspace

__all__ = ["OutputNotFoundError", "PortDataReference", "StepRunOutput", "pipeline_output"]


class OutputNotFoundError(NotFoundError, KeyError):
    """A step or pipeline output that does not exist (a KeyError too, as SDK v1 raises)."""

    def __str__(self) -> str:
        return Exception.__str__(self)


class _GraphContext:
    """The little of SDK v1's graph context a run's outputs carry: the workspace and the experiment."""

    def __init__(self, workspace: Workspace, experiment: Experiment) -> None:
        self._workspace = workspace
        self._experiment = experiment

    @property
    def workspace(self) -> Workspace:
        return self._workspace


class PortDataReference:
    """Data a step run committed (SDK v1: ``azureml.pipeline.core.PortDataReference``).

    ``str(ref)`` is ``$AZUREML_DATAREFERENCE_<name>`` as in SDK v1, so the object can stand in a
    step's arguments; listing it in ``inputs`` makes that step read the committed folder.
    """

    def __init__(self, context: Any, pipeline_run_id: str | None, data_reference: Any, step_run: Any = None) -> None:
        # data_reference: a DataReference, or (datastore name, path, name) resolved on first use
        if isinstance(data_reference, tuple):
            datastore_name, path, name = data_reference
            self._datastore_name: str = datastore_name
            self._path_on_datastore: str = path
            self.data_reference_name: str = name
            self._resolved: DataReference | None = None
        else:
            self._datastore_name = data_reference.datastore_name
            self._path_on_datastore = data_reference.path_on_datastore
            self.data_reference_name = data_reference.data_reference_name
            self._resolved = data_reference
        self.pipeline_run_id = pipeline_run_id
        self._context = context
        self._experiment = getattr(context, "_experiment", None)
        self._step_run = step_run

    @property
    def _data_reference(self) -> DataReference:
        """The DataReference to the committed folder (SDK v1 keeps one; here it is made on first use)."""
        if self._resolved is None:
            from headwater.sdk.data_reference import DataReference

            self._resolved = DataReference(
                self.datastore, data_reference_name=self.data_reference_name, path_on_datastore=self._path_on_datastore
            )
        return self._resolved

    @property
    def datastore(self) -> Datastore:
        """The datastore the data is on."""
        if self._resolved is not None:
            return self._resolved.datastore
        from headwater.sdk.datastore import Datastore

        return Datastore.get(self._context.workspace, self._datastore_name)

    @property
    def datastore_name(self) -> str:
        """The name of the datastore the data is on."""
        return self._datastore_name

    @property
    def path_on_datastore(self) -> str:
        """The path of the committed folder on its datastore."""
        return self._path_on_datastore

    @property
    def name(self) -> str:
        """The output's name (or the pipeline output's name)."""
        return self.data_reference_name

    def download(
        self, local_path: str | os.PathLike[str], overwrite: bool | None = None, show_progress: bool | None = None
    ) -> int:
        """Download the data to ``local_path/<path_on_datastore>`` (as SDK v1 does); returns the number of files."""
        ds = self.datastore
        count: int = ds.download(
            local_path,
            prefix=self._path_on_datastore + "/",
            overwrite=bool(overwrite),
            show_progress=bool(show_progress),
        )
        target = Path(local_path) / self._path_on_datastore
        if count == 0 and not target.exists():
            if not ds._backend.exists(self._path_on_datastore):
                raise DataAccessError(
                    f"Output {self.name!r} is no longer at {self._path_on_datastore!r} on "
                    f"datastore {self._datastore_name!r}.",
                    path=self._path_on_datastore,
                )
            target.mkdir(parents=True)  # the step wrote nothing: an empty folder, as on the datastore
        return count

    def as_download(
        self, input_name: str | None = None, path_on_compute: str | None = None, overwrite: bool | None = None
    ) -> DataReference:
        """This data as a step input, downloaded before the step starts."""
        return self.create_input_binding(input_name, "download", path_on_compute, overwrite)

    def as_mount(self, input_name: str | None = None) -> DataReference:
        """This data as a step input, mounted (read in place where the datastore is local)."""
        return self.create_input_binding(input_name, "mount")

    def as_input(self, input_name: str) -> DataReference:
        """This data as a step input named ``input_name`` (mounted)."""
        return self.create_input_binding(input_name)

    def create_input_binding(
        self,
        input_name: str | None = None,
        mode: str | None = None,
        path_on_compute: str | None = None,
        overwrite: bool | None = None,
    ) -> DataReference:
        """A step input reading this data (SDK v1: an InputPortBinding; here a DataReference to it)."""
        from headwater.sdk.data_reference import DataReference

        name = input_name or self.data_reference_name
        mode = mode or "mount"
        if mode not in ("mount", "download"):
            raise ValueError(f"Input [{name}] has an invalid mode [{mode}]: use 'mount' or 'download'.")
        return DataReference(
            self.datastore,
            data_reference_name=name,
            path_on_datastore=self._path_on_datastore,
            mode=mode,
            path_on_compute=path_on_compute,
            overwrite=bool(overwrite),
        )

    def __str__(self) -> str:
        return f"$AZUREML_DATAREFERENCE_{self.data_reference_name}"

    __repr__ = __str__


class StepRunOutput:
    """An output a step run created (SDK v1: ``azureml.pipeline.core.StepRunOutput``).

    ``step_output`` is the store's record of the committed output (datastore, path, digest).
    """

    def __init__(self, context: Any, pipeline_run_id: str | None, step_run: Any, name: str, step_output: Any) -> None:
        self.step_run = step_run
        self.pipeline_run_id = pipeline_run_id
        self.context = context
        self.name = name
        self.step_output = step_output

    def get_port_data_reference(self) -> PortDataReference:
        """Where the output was committed: a PortDataReference to download it or feed it to a new pipeline."""
        o = self.step_output
        return PortDataReference(
            self.context, self.pipeline_run_id, (o.datastore, o.path, self.name), step_run=self.step_run
        )

    def __repr__(self) -> str:
        return f"StepRunOutput(name={self.name!r}, step_run={getattr(self.step_run, 'id', None)!r})"


def step_run_outputs(step_run: Any) -> dict[str, StepRunOutput]:
    """``{name: StepRunOutput}`` for the outputs a step run committed."""
    context = _GraphContext(step_run._workspace, step_run._experiment)
    return {
        o.name: StepRunOutput(context, step_run.pipeline_run_id, step_run, o.name, o)
        for o in step_run._store.get_run_outputs(step_run.id)
    }


def step_run_output(step_run: Any, name: str) -> StepRunOutput:
    """One output of a step run; a missing name raises OutputNotFoundError (a KeyError) naming the others."""
    outputs = step_run_outputs(step_run)
    if name not in outputs:
        raise OutputNotFoundError(
            "Output", name, where=f"Step {step_run.name!r} (run {step_run.id})", candidates=outputs
        )
    return outputs[name]


def pipeline_output(pipeline_run: Any, pipeline_output_name: str) -> PortDataReference:
    """The output a ``PipelineData(pipeline_output_name=...)`` became in this pipeline run."""
    from headwater.layout import RunLayout
    from headwater.plan.run_plan import RunPlan

    record = pipeline_run._refresh()
    plan = RunPlan.load(Path(record.definition.get("plan") or RunLayout(pipeline_run._folder).plan))
    declared = plan.spec.pipeline_outputs
    output = declared.get(pipeline_output_name)
    where = f"pipeline run {pipeline_run.id}"
    if output is None:
        raise OutputNotFoundError(
            "Pipeline output",
            pipeline_output_name,
            where=where,
            candidates=declared,
            hint="Name one with PipelineData(..., pipeline_output_name='...') in the step that writes it.",
        )
    for step in pipeline_run.get_children():
        record = next((o for o in step._store.get_run_outputs(step.id) if o.name == output), None)
        if record is not None:
            context = _GraphContext(pipeline_run._workspace, pipeline_run._experiment)
            return PortDataReference(context, pipeline_run.id, (record.datastore, record.path, pipeline_output_name))
    raise OutputNotFoundError(
        "Pipeline output",
        pipeline_output_name,
        where=where,
        hint=f"The step writing output {output!r} has not committed it (it did not finish): check its status.",
    )
