"""``DataTransferStep`` (SDK v1: ``azureml.pipeline.steps.DataTransferStep``): copy data between datastores.

In SDK v1 an Azure Data Factory copies the data; here the step's own process does
(:mod:`headwater.engine.transfer`), on this machine, whatever ``compute_target`` names (a
``DataFactoryCompute`` is accepted for that reason). Every copied file is verified against its
source by size and content digest. The step is an ordinary step otherwise: it has a log, it can
be canceled or time out, and it is reused while its source's content and its destination are
unchanged (the source is one of its inputs, fingerprinted by content).

Sources: a ``DataReference``, a ``DataPath``, a ``FileDataset`` (datastore files; globs allowed),
or an upstream step's output (``PipelineData``, ``OutputFileDatasetConfig`` or their input
bindings). Destinations:

- a ``DataReference``: the files are written there directly, next to what is already there (a
  file of the same name is replaced); a single source file is written *as* the destination path
  when that is an existing file or ``destination_reference_type='file'``, else into it;
- a ``PipelineData`` or ``OutputFileDatasetConfig``: an output like any step's, committed when
  the step succeeds.

:meth:`DataTransferStep.get_output` gives what downstream steps list in their inputs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from headwater.sdk.consumption import DatasetConsumptionConfig
from headwater.sdk.data_reference import DataPath, DataPathComputeBinding, DataReference
from headwater.sdk.pipeline_data import (
    DataDefinitionError,
    OutputDatasetConfig,
    OutputFileDatasetConfig,
    OutputInput,
    PipelineData,
    PipelineDataInput,
)
from headwater.sdk.steps import PipelineStep

__all__ = ["DataTransferStep"]

#: The step's source directory: a folder with only a README, so its snapshot never changes.
TRANSFER_SOURCE_DIRECTORY = Path(__file__).resolve().parent.parent / "engine" / "transfer_source"
_REFERENCE_TYPES = (None, "file", "directory")


class _TransferDestination(PipelineData):
    """The output a DataReference destination becomes: written in place (output mode ``direct``),
    at the reference's path, so ``get_output()`` can be listed in downstream steps' inputs."""

    def __init__(self, reference: DataReference) -> None:
        super().__init__(reference.data_reference_name, datastore=reference.datastore)
        self.output_mode = "direct"
        self._path_template = reference.path_on_datastore or ""
        self.reference = reference


def _location(datastore: Any, path: str | None) -> str:
    """A location argument of :mod:`headwater.engine.transfer`: the datastore record (no secrets) and a path."""
    record = datastore._record
    store = {"name": record.name, "kind": record.kind, "config": record.config}
    return json.dumps({"store": store, "path": path or ""}, sort_keys=True)


def _check_type(value: str | None, what: str) -> str | None:
    if value not in _REFERENCE_TYPES:
        raise DataDefinitionError(f"DataTransferStep {what} must be 'file', 'directory' or None, not {value!r}.")
    return value


class DataTransferStep(PipelineStep):
    """Copy data from one datastore to another (see the module docstring).

    ``source_reference_type`` / ``destination_reference_type`` are ``'file'``, ``'directory'``
    or None (decided by what exists, as in SDK v1). ``compute_target`` is recorded but the copy
    always runs on this machine.
    """

    def __init__(
        self,
        name: str,
        source_data_reference: Any = None,
        destination_data_reference: Any = None,
        compute_target: Any = None,
        source_reference_type: str | None = None,
        destination_reference_type: str | None = None,
        allow_reuse: bool = True,
    ) -> None:
        if source_data_reference is None:
            raise DataDefinitionError(f"DataTransferStep {name!r} needs a source_data_reference.")
        if destination_data_reference is None:
            raise DataDefinitionError(f"DataTransferStep {name!r} needs a destination_data_reference.")
        self.source_reference_type = _check_type(source_reference_type, "source_reference_type")
        self.destination_reference_type = _check_type(destination_reference_type, "destination_reference_type")
        self.source_data_reference = source_data_reference
        self.destination_data_reference = destination_data_reference
        source_inputs, source_args = self._source(name, source_data_reference)
        output, dest_args = self._destination(name, destination_data_reference)
        self._output = output
        arguments: list[Any] = [*source_args, *dest_args]
        if self.source_reference_type:
            arguments += ["--source-type", self.source_reference_type]
        if self.destination_reference_type:
            arguments += ["--destination-type", self.destination_reference_type]
        super().__init__(
            name,
            arguments=arguments,
            inputs=source_inputs,
            outputs=[output],
            compute_target=compute_target,
            source_directory=TRANSFER_SOURCE_DIRECTORY,
            allow_reuse=allow_reuse,
        )

    @staticmethod
    def _source(name: str, source: Any) -> tuple[list[Any], list[Any]]:
        """The step's inputs (for ordering and the content digest) and the copier's source arguments."""
        if isinstance(source, DataPath):
            binding = DataPathComputeBinding(mode="mount")
            source = DataReference.create(source.name, source, binding)
        if isinstance(source, DataReference):
            return [source.as_mount()], ["--source", _location(source.datastore, source.path_on_datastore)]
        if isinstance(source, PipelineData):
            return [source], ["--source-local", source]
        if isinstance(source, OutputDatasetConfig):
            source = source.as_input()
        if isinstance(source, OutputInput | PipelineDataInput):
            return [source], ["--source-local", source]
        if isinstance(source, DatasetConsumptionConfig):
            source = source.dataset
        if hasattr(source, "_to_spec") and hasattr(source, "as_named_input"):
            return DataTransferStep._dataset_source(name, source)
        raise DataDefinitionError(
            f"DataTransferStep {name!r}: unsupported source_data_reference {source!r} ({type(source).__name__}).",
            hint="Use a DataReference, a DataPath, a FileDataset, a PipelineData or an OutputFileDatasetConfig.",
        )

    @staticmethod
    def _dataset_source(name: str, dataset: Any) -> tuple[list[Any], list[Any]]:
        from headwater.sdk.datastore import Datastore

        spec = dataset._to_spec()
        definition = spec["definition"]
        if spec.get("kind") != "file":
            raise DataDefinitionError(
                f"DataTransferStep {name!r}: a TabularDataset cannot be copied.",
                hint="Copy its files: pass a FileDataset or a DataReference to the folder.",
            )
        if definition.get("transformations"):
            raise DataDefinitionError(
                f"DataTransferStep {name!r}: the FileDataset has transformations "
                f"({[t.get('kind', t) for t in definition['transformations']]}), which a copy cannot apply.",
                hint="Pass the dataset before filter/take/skip, or copy with a PythonScriptStep.",
            )
        args: list[Any] = []
        for src in definition.get("sources", []):
            if "datastore" not in src:
                raise DataDefinitionError(
                    f"DataTransferStep {name!r}: the FileDataset reads {src.get('url')!r}, "
                    "which is not on a datastore.",
                    hint="Download it in a PythonScriptStep, or upload it to a datastore first.",
                )
            workspace = getattr(dataset, "_workspace", None)
            if workspace is None:
                raise DataDefinitionError(
                    f"DataTransferStep {name!r}: the FileDataset is not bound to a workspace.",
                    hint="Create it from (datastore, 'path') tuples or get it with Dataset.get_by_name(ws, name).",
                )
            args += ["--source", _location(Datastore.get(workspace, src["datastore"]), src["path"])]
        return [dataset.as_named_input(f"{_word(name)}_source")], args

    @staticmethod
    def _destination(name: str, destination: Any) -> tuple[Any, list[Any]]:
        if isinstance(destination, DataReference):
            output = _TransferDestination(destination)
            return output, ["--destination", _location(destination.datastore, destination.path_on_datastore)]
        if isinstance(destination, PipelineData | OutputFileDatasetConfig):
            return destination, ["--destination-local", destination]
        raise DataDefinitionError(
            f"DataTransferStep {name!r}: unsupported destination_data_reference {destination!r} "
            f"({type(destination).__name__}).",
            hint="Use a DataReference, a PipelineData or an OutputFileDatasetConfig.",
        )

    def get_output(self) -> Any:
        """The step's output, for downstream steps' ``inputs`` (SDK v1 returns a PipelineData):
        a PipelineData for a DataReference destination, else the destination object itself."""
        return self._output

    def _kind(self) -> str:
        return "transfer"


def _word(name: str) -> str:
    text = "".join(c if c.isalnum() or c == "_" else "_" for c in name).strip("_") or "transfer"
    return f"_{text}" if text[0].isdigit() else text
