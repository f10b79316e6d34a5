"""Turn SDK step objects into the pure :class:`~headwater.graph.PipelineSpec`.

Everything user-facing is resolved here, once: nested step lists and StepSequences into control
edges, the closure of producers, stable names for unnamed outputs, argument tokens, input and
output bindings, parameters, source directories, environments and compute target names. Problems
are collected (not raised) so ``Pipeline.validate()`` can report all of them at once.
"""

from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from headwater.errors import ConfigurationError
from headwater.graph.spec import ArgToken, InputSpec, OutputSpec, PipelineSpec, StepSpec
from headwater.sdk.consumption import DatasetConsumptionConfig
from headwater.sdk.data_reference import DataPath, DataPathComputeBinding, DataReference
from headwater.sdk.parameters import PipelineParameter, PipelineParameterError
from headwater.sdk.pipeline_data import (
    PIPELINE_DATA_PATH,
    DataDefinitionError,
    OutputDatasetConfig,
    OutputFileDatasetConfig,
    OutputInput,
    OutputTabularDatasetConfig,
    PipelineData,
    PipelineDataInput,
    _Port,
)
from headwater.sdk.pipeline_output_dataset import pipeline_outputs, promotion_problem
from headwater.sdk.runconfig import step_vm_size
from headwater.sdk.steps import PipelineStep, StepSequence

__all__ = ["BuildResult", "build_spec", "flatten_steps"]

_NON_WORD = re.compile(r"\W")


@dataclass
class BuildResult:
    spec: PipelineSpec
    steps: dict[str, PipelineStep] = field(default_factory=dict)  # node id -> step object


def flatten_steps(steps: Any) -> tuple[list[PipelineStep], list[tuple[PipelineStep, PipelineStep]]]:
    """Steps in declaration order, and the (after, before) control edges StepSequences imply."""
    ordered: list[PipelineStep] = []
    edges: list[tuple[PipelineStep, PipelineStep]] = []

    def members(item: Any) -> list[PipelineStep]:
        if isinstance(item, PipelineStep):
            if all(s is not item for s in ordered):
                ordered.append(item)
            return [item]
        if isinstance(item, StepSequence):
            previous: list[PipelineStep] = []
            all_members: list[PipelineStep] = []
            for element in item.steps:
                current = members(element)
                for after in current:
                    edges.extend((after, before) for before in previous)
                previous = current
                all_members.extend(current)
            return all_members
        if isinstance(item, list | tuple):
            out: list[PipelineStep] = []
            for element in item:
                out.extend(members(element))
            return out
        raise DataDefinitionError(f"Expected a step, a list of steps or a StepSequence, got {type(item).__name__}.")

    members(steps)
    return ordered, edges


def _needs(step: PipelineStep) -> list[PipelineStep]:
    """The steps ``step`` depends on: those that write what it reads (through its inputs or
    arguments), and those it runs after."""
    found: list[PipelineStep] = []
    for item in [*step.inputs, *step.arguments]:
        port = _port_of_input(item)
        if port is None and isinstance(item, OutputDatasetConfig | PipelineData):
            port = item._port  # SDK v1 samples list the PipelineData itself in the consumer's inputs
        if port is not None and all(p is not step for p in port.producers):  # not one of its own outputs
            found.extend(p for p in port.producers if all(f is not p for f in found))
    found.extend(p for p in step._run_after if all(f is not p for f in found))
    return found


def _closure(steps: list[PipelineStep]) -> list[PipelineStep]:
    """Add the steps the listed ones depend on but that were not listed (SDK v1's resolve_closure):
    the producers of what they read and the steps they run after, transitively.

    The listed steps keep their order; each added step comes just before the first step that
    needs it, so a pipeline built from its last step lists its steps in dependency order.
    """
    listed = list(steps)
    i = 0
    while i < len(listed):
        listed.extend(p for p in _needs(listed[i]) if all(s is not p for s in listed))
        i += 1
    added = listed[len(steps) :]
    if not added:
        return listed
    ordered: list[PipelineStep] = []

    def place(step: PipelineStep, path: set[int]) -> None:
        if any(s is step for s in ordered) or id(step) in path:  # placed, or a cycle (validation reports it)
            return
        for needed in _needs(step):
            if any(a is needed for a in added):
                place(needed, path | {id(step)})
        ordered.append(step)

    for step in listed:
        place(step, set())
    return ordered


def _port_of_input(item: Any) -> _Port | None:
    if isinstance(item, OutputInput):
        return item.output._port
    if isinstance(item, PipelineDataInput):
        return item.data._port
    if isinstance(item, DatasetConsumptionConfig) and isinstance(item.dataset, OutputDatasetConfig):
        return item.dataset._port
    return None


def _sanitize(name: str) -> str:
    text = _NON_WORD.sub("_", name).strip("_") or "step"
    return f"_{text}" if text[0].isdigit() else text


class _Builder:
    def __init__(
        self, workspace: Any, default_datastore: str | None, default_source_directory: str | None, cwd: str
    ) -> None:
        self.workspace = workspace
        self.default_datastore = default_datastore
        self.default_source = default_source_directory
        self.cwd = cwd
        self.problems: list[str] = []
        self.parameters: dict[str, Any] = {}
        self.parameter_objects: dict[str, PipelineParameter] = {}

    # -- names ---------------------------------------------------------------------------------

    def name_ports(self, steps: list[PipelineStep]) -> None:
        """Give unnamed outputs stable names derived from their producing step."""
        taken = {p.name for s in steps for p in self._output_ports(s) if p.name}
        for step in steps:
            unnamed = [p for p in self._output_ports(step) if p.name is None]
            for k, port in enumerate(unnamed):
                base = f"{_sanitize(step.name)}_output" + (f"_{k + 1}" if len(unnamed) > 1 else "")
                name, n = base, 1
                while name in taken:
                    n += 1
                    name = f"{base}_{n}"
                port.name = name
                taken.add(name)

    def _output_ports(self, step: PipelineStep) -> list[_Port]:
        ports: list[_Port] = []
        for item in [*step.outputs, *step.arguments]:
            port = getattr(item, "_port", None) if isinstance(item, OutputDatasetConfig | PipelineData) else None
            if port is not None and all(port is not p for p in ports) and not self._is_input_of(step, port):
                ports.append(port)
        return ports

    @staticmethod
    def _is_input_of(step: PipelineStep, port: _Port) -> bool:
        for item in step.inputs:
            if _port_of_input(item) is port or getattr(item, "_port", None) is port:
                return True
        return any(_port_of_input(a) is port for a in step.arguments)

    # -- parameters ----------------------------------------------------------------------------

    def param(self, p: PipelineParameter, where: str) -> str:
        try:
            value = p._json_default()
        except PipelineParameterError as exc:
            self.problems.append(f"{where}: {exc}")
            return p.name
        if p.name in self.parameters and self.parameters[p.name] != value:
            self.problems.append(
                f"Pipeline parameter {p.name!r} is defined twice with different defaults "
                f"({self.parameters[p.name]!r} and {value!r})."
            )
        self.parameters.setdefault(p.name, value)
        self.parameter_objects.setdefault(p.name, p)
        return p.name

    # -- inputs and outputs --------------------------------------------------------------------

    def input_spec(self, item: Any, step: PipelineStep) -> InputSpec | None:
        where = f"Step {step.name!r}"
        if isinstance(item, OutputInput):
            tabular = None
            if isinstance(item.output, OutputTabularDatasetConfig):
                tabular = {**item.output._reader, "transformations": list(item.output._transformations)}
            source = {"output": item.output.name}
            if promotion_problem(item):
                self.problems.append(f"{where}: {promotion_problem(item)}")
            return InputSpec(item.name or "", source, item.mode, item.path_on_compute, False, tabular)
        if isinstance(item, OutputDatasetConfig):
            return self.input_spec(item.as_input(), step)
        if isinstance(item, PipelineData):
            return InputSpec(item.name, {"output": item.name}, "mount", None, True)
        if isinstance(item, PipelineDataInput):
            return InputSpec(item.name, {"output": item.data.name}, item.mode, item.path_on_compute, True)
        if isinstance(item, DatasetConsumptionConfig):
            ds = item.dataset
            if isinstance(ds, PipelineParameter):
                return InputSpec(item.name, {"parameter": self.param(ds, where)}, item.mode, item.path_on_compute)
            if isinstance(ds, OutputDatasetConfig):
                return InputSpec(item.name, {"output": ds.name}, item.mode, item.path_on_compute)
            return InputSpec(item.name, {"dataset": ds._to_spec()}, item.mode, item.path_on_compute)
        if isinstance(item, DataReference):
            src = {"datastore": item.datastore_name, "path": item.path_on_datastore or ""}
            return InputSpec(item.data_reference_name, {"datapath": src}, item.mode, item.path_on_compute, True)
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], DataPathComputeBinding):
            target, binding = item
            if isinstance(target, PipelineParameter):
                source = {"parameter": self.param(target, where)}
                return InputSpec(target.name, source, binding.mode, binding.path_on_compute)
            if isinstance(target, DataPath):
                src = {"datastore": target.datastore_name, "path": target.path_on_datastore or ""}
                return InputSpec(target.name, {"datapath": src}, binding.mode, binding.path_on_compute)
        if hasattr(item, "as_named_input") and hasattr(item, "_to_spec"):
            return self.input_spec(item.as_named_input(f"input__{item.id[:8]}"), step)
        self.problems.append(f"{where}: unsupported input {item!r} ({type(item).__name__}).")
        return None

    def output_spec(self, item: Any, step: PipelineStep) -> OutputSpec | None:
        if isinstance(item, OutputFileDatasetConfig | OutputTabularDatasetConfig):
            datastore, template = item.destination
            assert item.name is not None
            return OutputSpec(
                item.name, datastore, template, item.mode, False, item._registration, getattr(item, "_upload", None)
            )
        if isinstance(item, PipelineData):  # a DataTransferStep's DataReference destination has its own path
            template = getattr(item, "_path_template", PIPELINE_DATA_PATH)
            registration = getattr(item, "_registration", None)  # as_dataset().register(name)
            return OutputSpec(item.name, item._datastore_name, template, item.output_mode, True, registration)
        self.problems.append(f"Step {step.name!r}: unsupported output {item!r} ({type(item).__name__}).")
        return None

    # -- arguments -----------------------------------------------------------------------------

    def token(
        self, arg: Any, step: PipelineStep, in_names: dict[int, str], out_names: dict[int, str]
    ) -> ArgToken | None:
        if isinstance(arg, bool | int | float | str):
            return {"literal": str(arg)}
        if isinstance(arg, PipelineParameter):
            return {"parameter": self.param(arg, f"Step {step.name!r}")}
        if isinstance(arg, OutputDatasetConfig | PipelineData):
            port = arg._port
            if id(port) in out_names:
                return {"output": out_names[id(port)]}
            if id(port) in in_names:
                return {"input": in_names[id(port)]}
        if isinstance(arg, OutputInput | PipelineDataInput | DatasetConsumptionConfig):
            return {"input": arg.name or ""}
        if isinstance(arg, DataReference):
            return {"input": arg.data_reference_name}
        if _is_datapath_binding(arg):
            return {"input": arg[0].name}
        if hasattr(arg, "as_named_input") and hasattr(arg, "_to_spec"):
            self.problems.append(
                f"Step {step.name!r}: Datasets cannot be used directly as arguments. "
                "Use dataset.as_named_input('name') (optionally .as_mount() or .as_download())."
            )
            return None
        return {"literal": str(arg)}

    # -- the step ------------------------------------------------------------------------------

    def _outputs(self, step: PipelineStep) -> tuple[list[OutputSpec], dict[int, str]]:
        """The step's outputs, and port id -> output name (an output it also reads is an input)."""
        outputs: list[OutputSpec] = []
        names: dict[int, str] = {}
        for item in [*step.outputs, *[a for a in step.arguments if isinstance(a, OutputDatasetConfig)]]:
            port = item._port
            if id(port) in names or self._is_input_of(step, port):
                continue
            spec = self.output_spec(item, step)
            if spec is not None:
                outputs.append(spec)
                names[id(port)] = spec.name
        return outputs, names

    def _inputs(self, step: PipelineStep) -> tuple[list[InputSpec], dict[int, str]]:
        """The step's inputs (declared, and those only passed in arguments), and port id -> input name."""
        consumable = (OutputInput, PipelineDataInput, DatasetConsumptionConfig, DataReference)
        auto = [a for a in step.arguments if isinstance(a, consumable) or _is_datapath_binding(a)]
        auto += [
            a
            for a in step.arguments
            if isinstance(a, OutputDatasetConfig | PipelineData)
            and self._is_input_of(step, a._port)
            and a not in step.inputs
        ]
        inputs: list[InputSpec] = []
        names: dict[int, str] = {}
        for item in [*step.inputs, *auto]:
            spec = self.input_spec(item, step)
            if spec is None or any(i.name == spec.name for i in inputs):
                continue
            inputs.append(spec)
            port = _port_of_input(item)
            if port is None and isinstance(item, OutputDatasetConfig | PipelineData):
                port = item._port
            if port is not None:
                names[id(port)] = spec.name
        return inputs, names

    def _source(self, step: PipelineStep, script: str | None) -> Path:
        """The step's source directory (absolute), checking it and its script."""
        where = f"Step {step.name!r}"
        source = step.source_directory or self.default_source or self.cwd
        path = (Path(source) if os.path.isabs(source) else Path(self.cwd) / source).resolve()
        if not path.is_dir():
            self.problems.append(f"{where}: source_directory {str(path)!r} does not exist.")
        elif script is not None:
            script_path = (path / script).resolve()
            if not script_path.is_relative_to(path):
                self.problems.append(f"{where}: script {script!r} is outside its source_directory {str(path)!r}.")
            elif not script_path.is_file():
                self.problems.append(f"Step {step.name!r}: script not found at {str(script_path)!r}.")
        return path

    def step_spec(self, step: PipelineStep, node_id: str) -> StepSpec:
        where = f"Step {step.name!r}"
        outputs, out_names = self._outputs(step)
        inputs, in_names = self._inputs(step)
        arguments = [t for t in (self.token(a, step, in_names, out_names) for a in step.arguments) if t is not None]
        params: dict[str, ArgToken] = {
            key: {"parameter": self.param(value, where)}
            if isinstance(value, PipelineParameter)
            else {"literal": str(value)}
            for key, value in step.params.items()
        }
        script = getattr(step, "script_name", None)
        source_path = self._source(step, script)

        runconfig = getattr(step.runconfig, "run_config", step.runconfig)  # a ScriptRunConfig's (CommandStep)
        if runconfig is None or not hasattr(runconfig, "environment"):
            from headwater.sdk.environment import RunConfiguration

            runconfig = RunConfiguration()
        environment = runconfig.environment
        env_vars = {
            **(getattr(environment, "environment_variables", None) or {}),
            **(getattr(runconfig, "environment_variables", None) or {}),
        }
        target = step.compute_target if step.compute_target is not None else getattr(runconfig, "target", None)
        target_name = _compute_name(target)
        spec = StepSpec(
            node_id=node_id,
            name=step.name,
            kind=step._kind(),
            source_directory=str(source_path),
            script=script,
            arguments=tuple(arguments),
            inputs=tuple(inputs),
            outputs=tuple(outputs),
            params=params,
            allow_reuse=step.allow_reuse,
            version=step.version,
            compute_target=target_name,
            environment=environment.to_spec(),
            environment_variables={str(k): str(v) for k, v in env_vars.items()},
            max_run_duration_seconds=getattr(runconfig, "max_run_duration_seconds", None),
            run_after=(),
            resource_request=self.resource_request(step, step_vm_size(runconfig), target_name),
        )
        lower = getattr(step, "_lower", None)  # a step kind's own adjustments (ParallelRunStep)
        return lower(spec) if lower is not None else spec

    def resource_request(self, step: PipelineStep, vm_size: str | None, target: str | None) -> dict[str, Any] | None:
        """The step's own request (``runconfig.amlcompute.vm_size``) as its full figures, or None.

        An unknown size is a problem. On a target that runs on this machine (``local``, an
        AmlCompute pool) the size is checked against this machine as a compute target's is: a
        ResourceRequestWarning when it is lowered, a problem with ``HEADWATER_STRICT_RESOURCES=1``;
        concurrency is not changed. A Ray target's cluster checks it at submit
        (``headwater.ops.ray_targets``).
        """
        if not vm_size:
            return None
        from headwater.sdk import vm_sizes

        where = f"Step {step.name!r}"
        try:
            asked = vm_sizes.requested(vm_size)
            if not self._on_ray(target):
                for text in vm_sizes.local_request(vm_size).warnings:
                    warnings.warn(vm_sizes.ResourceRequestWarning(f"step {step.name!r}: {text}"), stacklevel=6)
        except ConfigurationError as exc:
            self.problems.append(f"{where}: runconfig.amlcompute.vm_size: {exc}")
            return None
        return {"vm_size": vm_size.strip().upper(), **asked.to_config()}

    def _on_ray(self, target: str | None) -> bool:
        """Whether compute target ``target`` is bound to a Ray cluster in the workspace."""
        if target in (None, "local"):
            return False
        from headwater.sdk.compute_config import RAY_KIND

        store = getattr(self.workspace, "metadata_store", None)
        record = None if store is None else store.get_compute_target(target)
        return record is not None and record.kind == RAY_KIND


def _is_datapath_binding(item: Any) -> bool:
    """``(DataPath or its PipelineParameter, DataPathComputeBinding)``: SDK v1's DataPath input."""
    return (
        isinstance(item, tuple)
        and len(item) == 2
        and isinstance(item[1], DataPathComputeBinding)
        and isinstance(item[0], DataPath | PipelineParameter)
    )


def _compute_name(target: Any) -> str | None:
    if target is None:
        return None
    if isinstance(target, str):
        return target
    if isinstance(target, tuple) and target:
        return str(target[0])
    name = getattr(target, "name", None)
    return str(name) if name is not None else None


def build_spec(
    workspace: Any,
    steps: Any,
    *,
    default_datastore: str | None,
    default_source_directory: str | None,
    cwd: str,
    description: str | None = None,
    resolve_closure: bool = True,
) -> BuildResult:
    """The pipeline graph of ``steps`` (problems are in ``spec.problems``)."""
    builder = _Builder(workspace, default_datastore, default_source_directory, cwd)
    try:
        ordered, edges = flatten_steps(steps)
    except DataDefinitionError as exc:
        return BuildResult(PipelineSpec(steps=(), problems=(str(exc),)))
    if resolve_closure:
        ordered = _closure(ordered)
    builder.name_ports(ordered)
    counts: dict[str, int] = {}
    node_ids: dict[int, str] = {}
    for step in ordered:
        counts[step.name] = counts.get(step.name, 0) + 1
        node_ids[id(step)] = step.name if counts[step.name] == 1 else f"{step.name}#{counts[step.name]}"
    after: dict[int, list[str]] = {id(s): [] for s in ordered}
    for later, earlier in edges:
        after[id(later)].append(node_ids[id(earlier)])
    for step in ordered:
        for earlier in step._run_after:
            if id(earlier) not in node_ids:
                builder.problems.append(
                    f"Step {step.name!r} runs after {earlier.name!r}, which is not in the pipeline."
                )
            else:
                after[id(step)].append(node_ids[id(earlier)])
    specs = []
    objects: dict[str, PipelineStep] = {}
    for step in ordered:
        spec = builder.step_spec(step, node_ids[id(step)])
        spec = StepSpec(**{**spec.__dict__, "run_after": tuple(dict.fromkeys(after[id(step)]))})
        specs.append(spec)
        objects[spec.node_id] = step
    named = pipeline_outputs(ordered)
    result = PipelineSpec(
        steps=tuple(specs),
        parameters=builder.parameters,
        default_datastore=default_datastore,
        description=description,
        problems=tuple(builder.problems) + named[1],
        pipeline_outputs=named[0],
    )
    return BuildResult(result, objects)
