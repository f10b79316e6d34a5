"""A pipeline run's graph (read from its run plan) and SDK v1's pipeline YAML written from a graph.

:func:`pipeline_yaml` writes the format ``Pipeline.load_yaml`` reads (:mod:`headwater.sdk.pipeline_yaml`):
``pipeline: {description, parameters, data_references, steps}``, each step with its ``type``
(``PythonScriptStep``, ``CommandStep``, ``DataTransferStep``), ``inputs``/``outputs`` bound by
name and ``arguments`` in which ``input:<name>``, ``output:<name>`` and ``parameter:<name>`` stand
for the step's data and parameters.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from headwater.graph.spec import PipelineSpec, StepSpec

__all__ = ["pipeline_yaml", "run_plan", "run_spec", "save_yaml"]

_TYPES = {"python": "PythonScriptStep", "command": "CommandStep", "transfer": "DataTransferStep"}


def run_plan(run: Any) -> Any:
    """The RunPlan a pipeline run was submitted with."""
    from headwater.plan.run_plan import RunPlan

    record = run._refresh()
    from headwater.layout import RunLayout

    return RunPlan.load(Path(record.definition.get("plan") or RunLayout(run._folder).plan))


def run_spec(run: Any) -> PipelineSpec:
    """The graph a pipeline run ran."""
    spec: PipelineSpec = run_plan(run).spec
    return spec


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, dict) and "datastore" in value:
        return "datapath"
    return "string"


def _parameters(spec: PipelineSpec) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, default in spec.parameters.items():
        kind = _type_name(default)
        if kind == "datapath":
            value: Any = {"datastore": default["datastore"], "path_on_datastore": default.get("path", "")}
        else:
            value = default
        out[name] = {"type": kind, "default": value}
    return out


def _step(step: StepSpec, refs: dict[str, Any]) -> dict[str, Any]:
    section: dict[str, Any] = {"type": _TYPES.get(step.kind, step.kind), "name": step.name}
    if step.script:
        section["script_name"] = step.script
    section["source_directory"] = step.source_directory
    if step.compute_target:
        section["compute"] = step.compute_target
    if not step.allow_reuse:
        section["allow_reuse"] = False
    if step.version:
        section["version"] = step.version
    parameters: dict[str, Any] = {
        name: {"source": token["parameter"]} if "parameter" in token else token.get("literal")
        for name, token in step.params.items()
    }
    arguments: list[str] = []
    for token in step.arguments:
        if "input" in token:
            arguments.append(f"input:{token['input']}")
        elif "output" in token:
            arguments.append(f"output:{token['output']}")
        elif "parameter" in token:  # a pipeline parameter: load_yaml resolves it by name
            arguments.append(f"parameter:{token['parameter']}")
        else:
            arguments.append(str(token.get("literal", "")))
    if arguments:
        section["arguments"] = arguments
    if parameters:
        section["parameters"] = parameters
    inputs: dict[str, Any] = {}
    for spec_input in step.inputs:
        source = spec_input.source
        if "output" in source:
            name = str(source["output"])
        elif "parameter" in source:
            name = str(source["parameter"])
        elif "datapath" in source:
            name = spec_input.name
            refs[name] = {
                "datastore": source["datapath"].get("datastore"),
                "path_on_datastore": source["datapath"].get("path", ""),
            }
        else:
            name = spec_input.name
            dataset = source.get("dataset") or {}
            refs[name] = {"dataset_name": dataset["name"]} if dataset.get("name") else {"dataset": dataset}
        binding: dict[str, Any] = {
            "source": name,
            "bind_mode": "download" if spec_input.mode == "download" else "mount",
        }
        if spec_input.path_on_compute:
            binding["path_on_compute"] = spec_input.path_on_compute
        inputs[spec_input.name] = binding
    if inputs:
        section["inputs"] = inputs
    outputs: dict[str, Any] = {}
    for out in step.outputs:
        entry: dict[str, Any] = {"destination": out.name, "bind_mode": "upload" if out.mode == "upload" else "mount"}
        if out.datastore:
            entry["datastore"] = out.datastore
        outputs[out.name] = entry
    if outputs:
        section["outputs"] = outputs
    return section


def pipeline_yaml(spec: PipelineSpec, description: str | None = None) -> dict[str, Any]:
    """The graph as SDK v1's pipeline YAML (a dict to dump)."""
    refs: dict[str, Any] = {}
    steps = {s.node_id: _step(s, refs) for s in spec.steps}
    pipeline: dict[str, Any] = {"description": description or spec.description or ""}
    if spec.parameters:
        pipeline["parameters"] = _parameters(spec)
    if refs:
        pipeline["data_references"] = refs
    if spec.default_datastore:
        pipeline["default_datastore"] = spec.default_datastore
    pipeline["steps"] = steps
    return {"pipeline": pipeline}


def save_yaml(spec: PipelineSpec, path: str | os.PathLike[str] | None, name: str, description: str | None) -> str:
    """Write the graph's YAML to ``path`` (``<path>/<name>.yml`` when it is a folder; the current
    directory when None); returns the file written."""
    import yaml

    target = os.fspath(path) if path else os.getcwd()
    if os.path.isdir(target):
        target = os.path.join(target, f"{name}.yml")
    with open(target, "w", encoding="utf-8") as fh:
        yaml.safe_dump(pipeline_yaml(spec, description), fh, sort_keys=False)
    return target
