"""``Pipeline.load_yaml``: SDK v1's pipeline YAML format, for the step kinds Headwater has.

The format (SDK v1's ``_PipelineYamlParser``)::

    pipeline:
      description: ...                # (``name:``, deprecated, is read too)
      parameters: {P: {type: int|float|bool|string|datapath, default: ...}}
      data_references: {R: {datastore: ..., path_on_datastore: ...} | {dataset_name: ...}}
      default_compute: cpu
      steps:
        Key:
          type: PythonScriptStep | ModuleStep | DataTransferStep | CommandStep (a Headwater addition)
          name: ..., script_name: ..., source_directory: ..., allow_reuse: ..., version: ...
          compute: ..., runconfig: <a .runconfig file>
          arguments: ['--in', 'input:<input>', '--out', 'output:<output>', '--n', 'parameter:<param>']
          parameters: {param: value | {source: P}}
          inputs: {in: {source: <output destination | R | P>, bind_mode: mount|download, path_on_compute: ...}}
          outputs: {out: {destination: D, datastore: ..., bind_mode: mount|upload, path_on_compute: ...}}

The older spellings (a ``python_script_step:``, ``module:`` or ``data_transfer_step:`` section)
are read as SDK v1 reads them. Relative paths are taken from the current directory, as SDK v1
does, else from the YAML file's folder.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from headwater.errors import ConfigurationError, NotSupportedError
from headwater.sdk.parameters import PipelineParameter

__all__ = ["load_pipeline_yaml"]

_KINDS = {"python_script_step": "PythonScriptStep", "module": "ModuleStep", "data_transfer_step": "DataTransferStep"}
_SUPPORTED = ("PythonScriptStep", "ModuleStep", "DataTransferStep", "CommandStep")


class _Loader:
    def __init__(self, workspace: Any, path: Path) -> None:
        self.ws = workspace
        self.path = path
        self.parameters: dict[str, PipelineParameter] = {}
        self.references: dict[str, Any] = {}
        self.data: dict[str, Any] = {}  # output destination -> PipelineData

    def error(self, message: str, hint: str | None = None) -> ConfigurationError:
        return ConfigurationError(message, path=str(self.path), hint=hint)

    def local(self, value: str | None) -> str | None:
        """A relative path from the current directory when it exists there, else from the YAML's folder."""
        if value is None or os.path.isabs(value) or Path(value).exists():
            return value
        beside = self.path.parent / value
        return str(beside) if beside.exists() else value

    # -- pipeline-wide sections ---------------------------------------------------------------------

    def read_parameters(self, section: dict[str, Any]) -> None:
        from headwater.sdk.data_reference import DataPath
        from headwater.sdk.datastore import Datastore

        for name, spec in (section or {}).items():
            kind = (spec or {}).get("type")
            default = spec.get("default") if spec else None
            if kind == "string":
                value: Any = None if default is None else str(default)
            elif kind == "int":
                value = int(default or 0)
            elif kind == "float":
                value = float(default or 0.0)
            elif kind == "bool":
                value = bool(default or False)
            elif kind == "datapath":
                if not isinstance(default, dict) or "datastore" not in default or "path_on_datastore" not in default:
                    raise self.error(f"Parameter {name!r}: a datapath default needs datastore and path_on_datastore.")
                value = DataPath(
                    Datastore.get(self.ws, default["datastore"]), default["path_on_datastore"], default.get("name")
                )
            else:
                raise self.error(
                    f"Parameter {name!r} has type {kind!r}.", hint="Use string, int, float, bool or datapath."
                )
            self.parameters[name] = PipelineParameter(name=name, default_value=value)

    def read_references(self, section: dict[str, Any]) -> None:
        from headwater.sdk.data_reference import DataReference
        from headwater.sdk.dataset import Dataset
        from headwater.sdk.datastore import Datastore

        for name, ref in (section or {}).items():
            if "dataset_name" in ref:
                self.references[name] = Dataset.get_by_name(self.ws, ref["dataset_name"])
            elif "datastore" in ref and "path_on_datastore" in ref:
                store = Datastore.get(self.ws, ref["datastore"])
                self.references[name] = DataReference(store, name, ref["path_on_datastore"])
            else:
                raise NotSupportedError(
                    f"Data reference {name!r} in {self.path}: only datastore paths and registered datasets "
                    "(dataset_name) are supported.",
                    hint="SQL data references have no local counterpart: export the data to a datastore.",
                )

    def read_outputs(self, steps: dict[str, Any]) -> None:
        """Every output destination becomes one PipelineData, whatever order the steps come in."""
        from headwater.sdk.datastore import Datastore
        from headwater.sdk.pipeline_data import PipelineData

        for key, step in steps.items():
            for out_name, out in ((step or {}).get("outputs") or {}).items():
                if "destination" not in (out or {}):
                    raise self.error(f"Step {key!r}: output {out_name!r} needs a destination.")
                mode = out.get("bind_mode", out.get("type", "mount"))
                if mode not in ("mount", "upload"):
                    raise self.error(f"Step {key!r}: output {out_name!r} has bind_mode {mode!r} (mount or upload).")
                data = PipelineData(
                    str(out["destination"]),
                    datastore=Datastore.get(self.ws, out["datastore"]) if out.get("datastore") else None,
                    output_name=out_name,
                    output_mode=mode,
                    output_path_on_compute=out.get("path_on_compute"),
                    output_overwrite=out.get("overwrite"),
                )
                self.data[str(out["destination"])] = data.as_dataset() if out.get("as_dataset") else data

    # -- one step ---------------------------------------------------------------------------------------

    def inputs(self, key: str, section: dict[str, Any] | None) -> dict[str, Any]:
        from headwater.sdk.data_reference import DataPath, DataPathComputeBinding
        from headwater.sdk.dataset import FileDataset

        out: dict[str, Any] = {}
        for name, binding in (section or {}).items():
            source = (binding or {}).get("source")
            mode = binding.get("bind_mode", binding.get("type", "mount"))
            if mode not in ("mount", "download"):
                raise self.error(f"Step {key!r}: input {name!r} has bind_mode {mode!r} (mount or download).")
            where = binding.get("path_on_compute")
            if source in self.parameters and isinstance(self.parameters[source].default_value, DataPath):
                out[name] = (
                    self.parameters[source],
                    DataPathComputeBinding(mode, where, bool(binding.get("overwrite"))),
                )
            elif source in self.references:
                ref = self.references[source]
                if isinstance(ref, FileDataset):
                    named = ref.as_named_input(name)
                    out[name] = named.as_download(where) if mode == "download" else named.as_mount(where)
                elif hasattr(ref, "as_named_input"):
                    out[name] = ref.as_named_input(name)
                else:
                    out[name] = ref.as_download(where) if mode == "download" else ref.as_mount()
            elif source in self.data:
                data = self.data[source]
                out[name] = data.as_download(path_on_compute=where) if mode == "download" else data
            else:
                raise self.error(
                    f"Step {key!r}: input {name!r} has source {source!r}, which is no pipeline parameter, data "
                    "reference or step output.",
                    hint="Name a parameter, a data reference or another step's output destination.",
                )
        return out

    def step(self, key: str, step: dict[str, Any], default_compute: str | None) -> Any:
        kind = step.get("type")
        section = step
        if kind is None:
            legacy = next((k for k in _KINDS if k in step), None)
            if legacy is None:
                raise self.error(f"Step {key!r} has no type.", hint=f"Give it type: one of {', '.join(_SUPPORTED)}.")
            kind = _KINDS[legacy]
            section = step[legacy] if legacy != "module" else step["module"]
        if kind not in _SUPPORTED:
            raise NotSupportedError(
                f"Step {key!r}: type {kind} in {self.path} is not supported by Headwater.",
                hint=f"Use one of {', '.join(_SUPPORTED)} (see docs/migrating-from-sdk-v1.md).",
            )
        params: dict[str, Any] = {}
        for name, value in (step.get("parameters") or {}).items():
            if isinstance(value, dict) and "source" in value:
                if value["source"] not in self.parameters:
                    raise self.error(
                        f"Step {key!r}: parameter {name!r} has source {value['source']!r}, not a parameter."
                    )
                params[name] = self.parameters[value["source"]]
            else:
                params[name] = value
        inputs = self.inputs(key, step.get("inputs"))
        outputs = {name: self.data[str(out["destination"])] for name, out in (step.get("outputs") or {}).items()}
        arguments = [self.argument(a, inputs, outputs, params) for a in step.get("arguments") or []]
        compute = step.get("compute", default_compute)
        runconfig = None
        if step.get("runconfig"):
            from headwater.sdk.environment import RunConfiguration

            runconfig = RunConfiguration.load(str(self.local(str(step["runconfig"]))))
        name = section.get("name") or key
        if kind == "ModuleStep":
            from headwater.sdk.module import Module
            from headwater.sdk.module_step import ModuleStep

            module = Module.get(self.ws, module_id=section.get("id"), name=section.get("name"))
            return ModuleStep(
                module=module,
                version=section.get("version"),
                inputs_map=inputs,
                outputs_map=outputs,
                compute_target=compute,
                runconfig=runconfig,
                arguments=arguments,
                params=params,
                name=key,
            )
        if kind == "DataTransferStep":
            from headwater.sdk.data_transfer_step import DataTransferStep

            source = self.inputs(key, step.get("source_data_reference"))
            destination = self.inputs(key, step.get("destination_data_reference")) or outputs
            if not source or not destination:
                raise self.error(
                    f"Step {key!r}: a DataTransferStep needs source_data_reference and destination_data_reference."
                )
            return DataTransferStep(
                name,
                source_data_reference=next(iter(source.values())),
                destination_data_reference=next(iter(destination.values())),
                compute_target=compute,
                source_reference_type=section.get("source_reference_type"),
                destination_reference_type=section.get("destination_reference_type"),
                allow_reuse=section.get("allow_reuse", True),
            )
        common = {
            "name": name,
            "compute_target": compute,
            "runconfig": runconfig,
            "inputs": list(inputs.values()),
            "outputs": list(outputs.values()),
            "params": params,
            "source_directory": self.local(section.get("source_directory")),
            "allow_reuse": section.get("allow_reuse", True),
            "version": section.get("version"),
        }
        if kind == "CommandStep":
            from headwater.sdk.steps import CommandStep

            command = section.get("command")
            if not command:
                raise self.error(f"Step {key!r}: a CommandStep needs command.")
            words = (
                [command] if isinstance(command, str) else [self.argument(w, inputs, outputs, params) for w in command]
            )
            return CommandStep(command=[*words, *arguments], **common)
        from headwater.sdk.steps import PythonScriptStep

        if not section.get("script_name"):
            raise self.error(f"Step {key!r}: a PythonScriptStep needs script_name.")
        return PythonScriptStep(section["script_name"], arguments=arguments, **common)

    def argument(self, arg: Any, inputs: dict[str, Any], outputs: dict[str, Any], params: dict[str, Any]) -> Any:
        if not isinstance(arg, str):
            return arg
        for prefix, found in (("input:", inputs), ("output:", outputs)):
            if arg.startswith(prefix) and arg[len(prefix) :] in found:
                return found[arg[len(prefix) :]]
        if arg.startswith("parameter:"):
            name = arg[len("parameter:") :]
            if name in params:
                return params[name]
            if name in self.parameters:
                return self.parameters[name]
        return arg


def load_pipeline_yaml(workspace: Any, filename: str | os.PathLike[str]) -> tuple[list[Any], str | None]:
    """The steps and description a pipeline YAML file describes."""
    import yaml

    path = Path(filename)
    with open(path, encoding="utf-8") as fh:
        document = yaml.safe_load(fh) or {}
    loader = _Loader(workspace, path)
    if not isinstance(document, dict) or "pipeline" not in document:
        raise loader.error('A pipeline YAML file must have a "pipeline:" section.')
    section = document["pipeline"] or {}
    description = section.get("description", section.get("name"))
    loader.read_parameters(section.get("parameters") or {})
    loader.read_references(section.get("data_references") or {})
    steps = section.get("steps")
    if not steps:
        raise loader.error("A pipeline YAML file must define at least one step (pipeline: steps:).")
    loader.read_outputs(steps)
    default_compute = section.get("default_compute")
    return [loader.step(key, step or {}, default_compute) for key, step in steps.items()], description
