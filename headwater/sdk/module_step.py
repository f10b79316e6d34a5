"""``ModuleStep`` (SDK v1: azureml.pipeline.steps.ModuleStep): run one version of a Module in a pipeline.

The step is an ordinary Python step: the version's script in the version's frozen snapshot folder,
its ports mapped by name to the step's data (``inputs_map``: PipelineData, an OutputFileDatasetConfig
or its ``as_input()``, a dataset, a DataReference ...; ``outputs_map``: PipelineData or
OutputFileDatasetConfig), its parameters' defaults overridden by ``params`` and passed as
``AML_PARAMETER_<name>`` environment variables, as in SDK v1. ``arguments`` are the step's command
line; when none are given, the version's published arguments are used, each port in them standing
for the data mapped to it. The version is resolved when the step is made (``module`` +
``version``, the default version, or the highest one).
"""

from __future__ import annotations

from typing import Any

from headwater.errors import ConfigurationError
from headwater.sdk.module import Module
from headwater.sdk.module_version import ModuleVersion
from headwater.sdk.parameters import PipelineParameter
from headwater.sdk.steps import PipelineStep

__all__ = ["ModuleStep", "ModuleStepBase"]


def _as_input(item: Any, port: str) -> Any:
    """A dataset mapped to an input port is consumed under the port's name (mounted when it is files)."""
    from headwater.sdk.dataset import FileDataset, TabularDataset

    if isinstance(item, FileDataset):
        return item.as_named_input(port).as_mount()
    if isinstance(item, TabularDataset):
        return item.as_named_input(port)
    return item


class ModuleStep(PipelineStep):
    """A pipeline step that runs a ModuleVersion (see the module docstring)."""

    def __init__(
        self,
        module: Module | None = None,
        version: str | None = None,
        module_version: ModuleVersion | None = None,
        inputs_map: dict[str, Any] | None = None,
        outputs_map: dict[str, Any] | None = None,
        compute_target: Any = None,
        runconfig: Any = None,
        runconfig_pipeline_params: dict[str, Any] | None = None,
        arguments: list[Any] | None = None,
        params: dict[str, Any] | None = None,
        name: str | None = None,
        _workflow_provider: Any = None,
    ) -> None:
        if (module is None) == (module_version is None):
            raise ConfigurationError(
                "ModuleStep needs exactly one of module and module_version, "
                + ("got neither." if module is None else "got both."),
                hint="Pass module=Module.get(ws, name=...) (with version=...), or module_version=...",
            )
        if module_version is None:
            assert module is not None
            module_version = module.resolve(None if version is None else str(version))
            step_name = name or module.name
        else:
            step_name = name or module_version.module().name
        self.module_version = module_version
        definition = module_version._definition
        where = f"Step {step_name!r}"
        in_ports = {p["name"]: p for p in definition.get("inputs", [])}
        out_ports = {p["name"]: p for p in definition.get("outputs", [])}
        inputs_map, outputs_map = dict(inputs_map or {}), dict(outputs_map or {})
        for key in set(inputs_map) | set(outputs_map):
            if key not in in_ports and key not in out_ports:
                raise ConfigurationError(
                    f"{where}: module version {module_version.version} has no port {key!r}.",
                    key=key,
                    hint=f"Its inputs: {sorted(in_ports)}; its outputs: {sorted(out_ports)}.",
                )
        # SDK v1 samples pass one wiring dict as both maps: a port of the other kind is skipped
        # when the other map holds it too.
        for key in inputs_map:
            if key in out_ports and outputs_map.get(key) is not inputs_map[key]:
                raise ConfigurationError(f"{where}: {key!r} is an output port.", hint="Map it in outputs_map.")
        for key in outputs_map:
            if key in in_ports and inputs_map.get(key) is not outputs_map[key]:
                raise ConfigurationError(f"{where}: {key!r} is an input port.", hint="Map it in inputs_map.")
        inputs = {k: _as_input(v, k) for k, v in inputs_map.items() if k in in_ports}
        outputs = {k: v for k, v in outputs_map.items() if k in out_ports}
        missing = [k for k, p in in_ports.items() if k not in inputs and not p.get("is_optional")]
        if missing:
            raise ConfigurationError(
                f"{where}: the module's input ports {missing} are not mapped.", hint="Map each one in inputs_map."
            )
        if not arguments:
            arguments = self._arguments(definition.get("arguments", []), inputs, outputs, in_ports, where)
        else:
            ports = {**{k: inputs[k] for k in inputs}, **{k: outputs[k] for k in outputs}}
            arguments = [ports.get(str(getattr(a, "name", "")), a) if _is_port(a) else a for a in arguments]
        merged_params = {**definition.get("params", {}), **(params or {})}
        self.script_name = str(definition["script"])
        self.inputs_map, self.outputs_map = inputs_map, outputs_map
        super().__init__(
            step_name,
            arguments=arguments,
            inputs=list(inputs.values()),
            outputs=list(outputs.values()),
            compute_target=compute_target,
            runconfig=runconfig if runconfig is not None else module_version.runconfig,
            runconfig_pipeline_params=runconfig_pipeline_params,
            params=merged_params,
            source_directory=definition["source_directory"],
        )

    @staticmethod
    def _arguments(
        tokens: list[dict[str, Any]],
        inputs: dict[str, Any],
        outputs: dict[str, Any],
        in_ports: dict[str, Any],
        where: str,
    ) -> list[Any]:
        """The version's arguments with each port replaced by its data; an optional input left
        unmapped is dropped with the option flag before it (``--in <port>``)."""
        out: list[Any] = []
        for token in tokens:
            port = token.get("input")
            if port is not None and port not in inputs and in_ports.get(port, {}).get("is_optional"):
                if out and isinstance(out[-1], str) and out[-1].startswith("-"):
                    out.pop()
                continue
            out.append(ModuleStep._argument(token, inputs, outputs, where))
        return out

    @staticmethod
    def _argument(token: dict[str, Any], inputs: dict[str, Any], outputs: dict[str, Any], where: str) -> Any:
        if "literal" in token:
            return token["literal"]
        if "parameter" in token:
            return PipelineParameter(token["parameter"], token.get("default"))
        port = str(token.get("input") or token.get("output"))
        mapped = inputs.get(port) if "input" in token else outputs.get(port)
        if mapped is None:
            raise ConfigurationError(
                f"{where}: the module's arguments use port {port!r}, which is not mapped.",
                hint="Map it in inputs_map/outputs_map, or pass arguments=[...] to the step.",
            )
        return mapped

    def _kind(self) -> str:
        return "python"


def _is_port(value: Any) -> bool:
    from headwater.sdk.module_ports import InputPortDef, OutputPortDef

    return isinstance(value, InputPortDef | OutputPortDef)


#: SDK v1's base class of ModuleStep (``azureml.pipeline.core.module_step_base.ModuleStepBase``).
ModuleStepBase = ModuleStep
