"""The pipeline graph as plain data: frozen dataclasses that serialise to JSON and back.

The SDK turns user objects (steps, datasets, OutputFileDatasetConfig, PipelineParameter ...) into
these; the planner and the engine only ever see these. Nothing here does I/O.

Data edges are named: an output has a pipeline-wide unique ``name``; an input that reads it
carries ``source = {"output": <name>}``. Arguments are a list of tokens, each one of
``{"literal": str}``, ``{"input": name}``, ``{"output": name}``, ``{"parameter": name}``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["InputSpec", "OutputSpec", "StepSpec", "PipelineSpec", "ArgToken"]

ArgToken = dict[str, str]

#: Input modes: SDK v1's consumption modes (PipelineData inputs are 'mount' or 'download').
INPUT_MODES = ("direct", "download", "mount")
#: Output modes. ``direct``: the step process writes the datastore itself, nothing is staged
#: (DataTransferStep's DataReference destination).
OUTPUT_MODES = ("mount", "upload", "direct")
#: Step kinds: a Python script, a command line, a DataTransferStep's copy (``headwater.engine.transfer``),
#: a ParallelRunStep (``headwater.runtime.parallel_driver`` running ``script`` as its entry script).
STEP_KINDS = ("python", "command", "transfer", "parallel")


@dataclass(frozen=True)
class InputSpec:
    """One input of a step.

    ``source`` is one of:
    ``{"output": <output name>}`` — an output of another step in this pipeline;
    ``{"dataset": <dataset definition dict>}`` — a dataset (registered or not);
    ``{"datapath": {"datastore": ..., "path": ...}}`` — a folder/file on a datastore;
    ``{"parameter": <pipeline parameter name>}`` — a dataset/DataPath pipeline parameter.
    ``tabular`` holds reader options when an upstream file output is read as a tabular dataset.
    """

    name: str
    source: dict[str, Any]
    mode: str = "mount"
    path_on_compute: str | None = None
    legacy: bool = False  # PipelineData / DataReference: exported as $AZUREML_DATAREFERENCE_<name>
    tabular: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class OutputSpec:
    """One output of a step: written to a staging folder, committed to ``datastore`` on success.

    ``path_template`` may use ``{run-id}`` and ``{output-name}``; ``datastore`` None means the
    pipeline's default datastore.
    """

    name: str
    datastore: str | None = None
    path_template: str = "dataset/{run-id}/{output-name}"
    mode: str = "mount"
    legacy: bool = False
    register: dict[str, Any] | None = None  # {"name", "description", "tags", "tabular": reader opts}
    upload: dict[str, Any] | None = None  # as_upload(): {"overwrite": bool, "source_globs": [glob, ...] | None}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class StepSpec:
    """One step: a script (``kind='python'``), a command line (``kind='command'``) or a copy
    between datastores (``kind='transfer'``: its arguments are those of ``headwater.engine.transfer``)."""

    node_id: str  # unique in the pipeline; the display name when that is unique
    name: str  # the display name (SDK v1 allows duplicates)
    kind: str  # 'python' | 'command' | 'transfer' | 'parallel'
    source_directory: str  # absolute path on the submitting machine
    script: str | None = None  # relative to source_directory (python steps)
    arguments: tuple[ArgToken, ...] = ()  # python: argv after the script; command: the whole command
    inputs: tuple[InputSpec, ...] = ()
    outputs: tuple[OutputSpec, ...] = ()
    params: dict[str, ArgToken] = field(default_factory=dict)  # AML_PARAMETER_<name> -> literal/parameter
    allow_reuse: bool = True
    version: str | None = None
    compute_target: str | None = None
    environment: dict[str, Any] = field(default_factory=dict)  # the environment's spec (for its digest)
    environment_variables: dict[str, str] = field(default_factory=dict)
    max_run_duration_seconds: int | None = None
    run_after: tuple[str, ...] = ()  # node ids that must finish first (control edges)
    # The step's own request from its run configuration (``amlcompute.vm_size``), ahead of its
    # target's: {"vm_size": "STANDARD_NC6", "cpu": 6, "gpu": 1, "memory_gb": 56.0}; None: the target's.
    # Not part of the fingerprint: resources do not change results.
    resource_request: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["arguments"] = [dict(t) for t in self.arguments]
        d["run_after"] = list(self.run_after)
        return d

    @staticmethod
    def from_dict(d: dict[str, Any]) -> StepSpec:
        return StepSpec(
            node_id=d["node_id"],
            name=d["name"],
            kind=d["kind"],
            source_directory=d["source_directory"],
            script=d.get("script"),
            arguments=tuple(dict(t) for t in d.get("arguments", ())),
            inputs=tuple(InputSpec(**i) for i in d.get("inputs", ())),
            outputs=tuple(OutputSpec(**o) for o in d.get("outputs", ())),
            params=dict(d.get("params", {})),
            allow_reuse=d.get("allow_reuse", True),
            version=d.get("version"),
            compute_target=d.get("compute_target"),
            environment=dict(d.get("environment", {})),
            environment_variables=dict(d.get("environment_variables", {})),
            max_run_duration_seconds=d.get("max_run_duration_seconds"),
            run_after=tuple(d.get("run_after", ())),
            resource_request=dict(d["resource_request"]) if d.get("resource_request") else None,
        )


@dataclass(frozen=True)
class PipelineSpec:
    """A whole pipeline: its steps (in declaration order) and its parameters' defaults."""

    steps: tuple[StepSpec, ...]
    parameters: dict[str, Any] = field(default_factory=dict)  # name -> default (JSON-able)
    default_datastore: str | None = None
    description: str | None = None
    problems: tuple[str, ...] = ()  # problems found while building from SDK objects
    # PipelineData(pipeline_output_name=...): pipeline output name -> output name (PipelineRun.get_pipeline_output)
    pipeline_outputs: dict[str, str] = field(default_factory=dict)

    def step(self, node_id: str) -> StepSpec:
        for s in self.steps:
            if s.node_id == node_id:
                return s
        raise KeyError(node_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "steps": [s.to_dict() for s in self.steps],
            "parameters": dict(self.parameters),
            "default_datastore": self.default_datastore,
            "description": self.description,
            "problems": list(self.problems),
            **({"pipeline_outputs": dict(self.pipeline_outputs)} if self.pipeline_outputs else {}),
        }

    @staticmethod
    def from_dict(d: dict[str, Any]) -> PipelineSpec:
        return PipelineSpec(
            steps=tuple(StepSpec.from_dict(s) for s in d["steps"]),
            parameters=dict(d.get("parameters", {})),
            default_datastore=d.get("default_datastore"),
            description=d.get("description"),
            problems=tuple(d.get("problems", ())),
            pipeline_outputs=dict(d.get("pipeline_outputs", {})),
        )
