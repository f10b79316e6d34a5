"""Pipeline steps (SDK v1: azureml.pipeline.steps): ``PythonScriptStep``, ``CommandStep``,
``StepSequence``. Steps are plain descriptions; :mod:`headwater.sdk.pipeline_build` turns them
into the graph.
"""

from __future__ import annotations

import os
import warnings
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import Any

from headwater.errors import NotSupportedError
from headwater.sdk.pipeline_data import (
    DataDefinitionError,
    OutputDatasetConfig,
    PipelineData,
    PipelineDataInput,
)
from headwater.sdk.pipeline_output_dataset import lower_step_data

__all__ = ["PipelineStep", "PythonScriptStep", "CommandStep", "StepSequence"]


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


_OWN_GRAPH = (
    "Describe steps with PythonScriptStep, CommandStep, DataTransferStep or ModuleStep; Pipeline(ws, steps=[...]) "
    "builds the graph."
)


def _data_of(item: Any) -> Any:
    """The data object an input, output or argument stands for (a PipelineData's input binding: the PipelineData)."""
    data = getattr(item, "data", None)
    if isinstance(item, PipelineDataInput) and data is not None:
        return data
    output = getattr(item, "output", None)
    if output is not None and isinstance(output, OutputDatasetConfig):
        return output
    return item


def _is_data(item: Any) -> bool:
    from headwater.sdk.data_reference import DataReference

    return isinstance(item, PipelineData | DataReference)


class PipelineStep(ABC):
    """What every step has: a name, inputs, outputs, arguments, reuse settings, ordering."""

    def __init__(
        self,
        name: str,
        inputs: Sequence[Any] | None = None,
        outputs: Sequence[Any] | None = None,
        arguments: Sequence[Any] | None = None,
        fix_port_name_collisions: bool = False,
        resource_inputs: Sequence[Any] | None = None,
        *,
        compute_target: Any = None,
        runconfig: Any = None,
        runconfig_pipeline_params: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        source_directory: str | os.PathLike[str] | None = None,
        allow_reuse: bool = True,
        version: str | None = None,
    ) -> None:
        if not isinstance(name, str) or not name.strip():
            raise DataDefinitionError(f"A step needs a name, got {name!r}.")
        self.name = name
        # SDK v1's resource_inputs are inputs too; port names never collide here (each is unique).
        self.inputs, self.outputs, self.arguments = lower_step_data(
            _as_list(inputs) + _as_list(resource_inputs), _as_list(outputs), _as_list(arguments)
        )
        self.compute_target = compute_target
        self.runconfig = runconfig
        self.runconfig_pipeline_params = dict(runconfig_pipeline_params or {})
        self.params = dict(params or {})
        self.source_directory = None if source_directory is None else os.fspath(source_directory)
        self.allow_reuse = bool(allow_reuse)
        self.version = None if version is None else str(version)
        self._run_after: list[PipelineStep] = []
        self._check_legacy_data()
        for out in self.outputs:
            port = getattr(out, "_port", None)
            if port is not None:
                port.producers.append(self)
        for arg in self.arguments:  # an output object in arguments is written here, unless listed as an input
            if isinstance(arg, OutputDatasetConfig) and all(
                getattr(o, "_port", None) is not arg._port for o in [*self.outputs, *self.inputs]
            ):
                arg._port.producers.append(self)

    def _check_legacy_data(self) -> None:
        """SDK v1: a PipelineData in arguments must also be listed in inputs or outputs."""
        declared = set()
        for item in self.inputs + self.outputs:
            if isinstance(item, PipelineData):
                declared.add(id(item._port))
            elif isinstance(item, PipelineDataInput):
                declared.add(id(item.data._port))
        for arg in self.arguments:
            data = arg.data if isinstance(arg, PipelineDataInput) else arg
            if isinstance(data, PipelineData) and id(data._port) not in declared:
                raise DataDefinitionError(
                    f"Step {self.name!r}: PipelineData {data.name!r} is used in arguments but is not in "
                    "the step's inputs or outputs.",
                    hint="Add it to outputs=[...] in the step that writes it and to inputs=[...] in the steps "
                    "that read it.",
                )

    @staticmethod
    def validate_arguments(arguments: Sequence[Any] | None, inputs: Sequence[Any], outputs: Sequence[Any]) -> None:
        """SDK v1: every PipelineData, DataReference or output used in ``arguments`` must be in
        ``inputs`` or ``outputs``; raises DataDefinitionError naming the first one that is not."""
        declared = {id(_data_of(item)) for item in [*(inputs or []), *(outputs or [])]}
        for arg in arguments or []:
            data = _data_of(arg)
            if _is_data(data) and id(data) not in declared:
                raise DataDefinitionError(
                    f"{type(data).__name__} {getattr(data, 'name', None) or data!r} appears in arguments but is not "
                    "in the input or output lists.",
                    hint="Add it to the step's inputs=[...] (or outputs=[...] for the step that writes it).",
                )

    @staticmethod
    def resolve_input_arguments(
        arguments: Sequence[Any], inputs: Sequence[Any], outputs: Sequence[Any], params: dict[str, Any] | None
    ) -> tuple[list[Any], list[dict[str, str]]]:
        """SDK v1: the arguments with each data object matched to the input or output it is, and the
        same arguments annotated: ``{"input": name}``, ``{"output": name}``, ``{"parameter": name}``
        or ``{"literal": text}``."""
        from headwater.sdk.parameters import PipelineParameter

        ins = {id(_data_of(i)): i for i in inputs or []}
        outs = {id(_data_of(o)): o for o in outputs or []}
        resolved: list[Any] = []
        annotated: list[dict[str, str]] = []
        for arg in arguments or []:
            key = id(_data_of(arg))
            if key in ins or key in outs:
                item = ins.get(key, outs.get(key))
                resolved.append(item)
                annotated.append({"input" if key in ins else "output": str(getattr(_data_of(arg), "name", arg))})
            elif isinstance(arg, PipelineParameter):
                resolved.append(arg)
                annotated.append({"parameter": arg.name})
            else:
                resolved.append(arg)
                annotated.append({"literal": str(arg)})
        return resolved, annotated

    def get_source_directory(self, context: Any, source_directory: str | None, script_name: str) -> str:
        """SDK v1: the step's source directory (``source_directory``, else the context's
        ``default_source_directory``, else the current directory), after checking that the script is in it."""
        folder = source_directory or getattr(context, "default_source_directory", None) or os.getcwd()
        script_path = os.path.join(folder, script_name)
        if not os.path.isfile(script_path):
            raise DataDefinitionError(
                f"Step {self.name!r}: script not found at {os.path.abspath(script_path)!r}.",
                hint="Pass the step's source_directory (or the Pipeline's default_source_directory) that holds it.",
            )
        return folder

    def create_node(self, graph: Any, default_datastore: Any, context: Any) -> Any:
        """SDK v1's service-graph node: Headwater builds its own graph."""
        raise NotSupportedError(
            "PipelineStep.create_node builds a node of SDK v1's service graph, which Headwater does not use.",
            hint=_OWN_GRAPH,
        )

    def create_input_output_bindings(
        self, inputs: Any, outputs: Any, default_datastore: Any, resource_inputs: Any = None
    ) -> Any:
        """SDK v1's service-graph port bindings: Headwater builds its own graph."""
        raise NotSupportedError(
            "PipelineStep.create_input_output_bindings makes port bindings of SDK v1's service graph, which "
            "Headwater does not use.",
            hint=_OWN_GRAPH,
        )

    def create_module_def(
        self,
        execution_type: str,
        input_bindings: Any,
        output_bindings: Any,
        param_defs: Any = None,
        create_sequencing_ports: bool = True,
        allow_reuse: bool = True,
        version: str | None = None,
        module_type: str | None = None,
        arguments: Any = None,
        runconfig: Any = None,
        cloud_settings: Any = None,
    ) -> Any:
        """SDK v1's service-side module definition: Headwater builds its own graph."""
        raise NotSupportedError(
            "PipelineStep.create_module_def builds a module definition of SDK v1's service graph, which Headwater "
            "does not use.",
            hint=_OWN_GRAPH + " To reuse a script as a versioned unit, publish it with Module.publish_python_script.",
        )

    def run_after(self, step: PipelineStep) -> None:
        """Run this step only after ``step`` has finished (a control edge)."""
        if not isinstance(step, PipelineStep):
            raise DataDefinitionError(f"run_after expects a step, got {type(step).__name__}.")
        self._run_after.append(step)

    @abstractmethod
    def _kind(self) -> str:
        """'python' or 'command'."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


class PythonScriptStep(PipelineStep):
    """Run a Python script with the step's environment's interpreter.

    The SDK v1 signature; ``hash_paths`` is accepted and ignored with a deprecation warning, as
    in SDK v1 (the whole source directory, minus ignore-file patterns, is hashed).
    """

    def __init__(
        self,
        script_name: str,
        name: str | None = None,
        arguments: Sequence[Any] | None = None,
        compute_target: Any = None,
        runconfig: Any = None,
        runconfig_pipeline_params: dict[str, Any] | None = None,
        inputs: Sequence[Any] | None = None,
        outputs: Sequence[Any] | None = None,
        params: dict[str, Any] | None = None,
        source_directory: str | os.PathLike[str] | None = None,
        allow_reuse: bool = True,
        version: str | None = None,
        hash_paths: Iterable[str] | None = None,
    ) -> None:
        if not isinstance(script_name, str) or not script_name:
            raise DataDefinitionError(f"PythonScriptStep needs a script_name, got {script_name!r}.")
        if hash_paths is not None:
            warnings.warn(
                "hash_paths is deprecated and ignored: the whole source_directory is hashed, "
                "minus the patterns in .amlignore (or .gitignore).",
                DeprecationWarning,
                stacklevel=2,
            )
        self.script_name = script_name
        super().__init__(
            name or script_name,
            arguments=arguments,
            inputs=inputs,
            outputs=outputs,
            compute_target=compute_target,
            runconfig=runconfig,
            runconfig_pipeline_params=runconfig_pipeline_params,
            params=params,
            source_directory=source_directory,
            allow_reuse=allow_reuse,
            version=version,
        )

    def _kind(self) -> str:
        return "python"


class CommandStep(PipelineStep):
    """Run any command line: a string (run by ``/bin/sh -c``) or a list of words mixing strings
    with inputs, outputs and parameters. A leading ``python`` means the step environment's
    interpreter. ``name`` defaults to the command's first word. ``runconfig`` may be a
    ScriptRunConfig, as in SDK v1: its command, source directory and run configuration are used.
    """

    def __init__(
        self,
        command: str | Sequence[Any] | None = None,
        name: str | None = None,
        compute_target: Any = None,
        runconfig: Any = None,
        runconfig_pipeline_params: dict[str, Any] | None = None,
        inputs: Sequence[Any] | None = None,
        outputs: Sequence[Any] | None = None,
        params: dict[str, Any] | None = None,
        source_directory: str | os.PathLike[str] | None = None,
        allow_reuse: bool = True,
        version: str | None = None,
    ) -> None:
        if command is None and runconfig is not None:
            command = getattr(runconfig, "command", None)
        if source_directory is None and runconfig is not None:  # a ScriptRunConfig names its folder
            source_directory = getattr(runconfig, "source_directory", None)
        if not command:
            raise DataDefinitionError("CommandStep needs a command.")
        words = [command] if isinstance(command, str) else list(command)
        first = str(words[0]).split()[0] if isinstance(words[0], str) and words[0].split() else "command"
        self.command = words
        super().__init__(
            name or first,
            arguments=words,
            inputs=inputs,
            outputs=outputs,
            compute_target=compute_target,
            runconfig=runconfig,
            runconfig_pipeline_params=runconfig_pipeline_params,
            params=params,
            source_directory=source_directory,
            allow_reuse=allow_reuse,
            version=version,
        )

    def _kind(self) -> str:
        return "command"


class StepSequence:
    """Steps that run in order; a nested list inside runs its members in parallel."""

    def __init__(self, steps: Sequence[Any] | None = None) -> None:
        self.steps = list(steps or [])
