"""``ParallelRunStep`` (SDK v1: ``azureml.pipeline.steps.ParallelRunStep``): batch scoring.

The step's process is Headwater's driver (:mod:`headwater.runtime.parallel_driver`), run with the
step environment's Python: it splits the inputs into mini-batches, starts the worker processes that
import the entry script (``init()`` once, ``run(mini_batch)`` per mini-batch, ``shutdown()``),
retries, applies the error thresholds, and writes ``append_row`` results into the output. Its
command line is SDK v1's (``--scoring_module_name``, ``--mini_batch_size`` ... then the user's
``arguments``, then ``--input_fds_<i>`` / ``--input_ds_<i>``), so entry scripts that parse
``sys.argv`` with ``parse_known_args`` see what they saw in SDK v1.

FileDataset inputs are mounted; TabularDataset inputs (``direct``, as SDK v1 requires) are mounted
for the driver, which reads them with pyarrow. ``side_inputs`` are mounted, not split.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from typing import Any

from headwater.graph.spec import StepSpec
from headwater.sdk.consumption import DatasetConsumptionConfig
from headwater.sdk.parallel_run_config import ParallelRunConfig
from headwater.sdk.parameters import PipelineParameter
from headwater.sdk.pipeline_data import (
    OutputDatasetConfig,
    OutputInput,
    PipelineData,
    PipelineDataInput,
)
from headwater.sdk.steps import PipelineStep

__all__ = ["ParallelRunStep", "RESERVED_ARGUMENTS", "DEFAULT_FILES_PER_BATCH", "DEFAULT_TABULAR_BYTES"]

DEFAULT_FILES_PER_BATCH = 10
DEFAULT_TABULAR_BYTES = 1024 * 1024
RESERVED_ARGUMENTS = (
    "mini_batch_size",
    "error_threshold",
    "allowed_failed_count",
    "allowed_failed_percent",
    "output",
    "output_action",
    "logging_level",
    "process_count_per_node",
    "run_invocation_timeout",
    "run_max_try",
    "append_row_file_name",
    "partition_keys",
)
_NAME = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


def _input_type(item: Any, primary: bool, partitioned: bool) -> str:
    """'file' or 'tabular', checking the consumption mode as SDK v1 does."""
    if isinstance(item, DatasetConsumptionConfig):
        dataset = item.dataset
        if isinstance(dataset, PipelineParameter):
            dataset = dataset.default_value
        kind = getattr(dataset, "_KIND", None)
        if kind == "tabular" and item.mode != "direct":
            raise ValueError("Please ensure input dataset consumption mode is direct")
        if kind == "file" and partitioned and primary and item.mode != "direct":
            raise ValueError("Please ensure input dataset consumption mode is direct for partitioned dataset")
        if kind in ("file", "tabular"):
            return str(kind)
    if isinstance(item, OutputInput | PipelineDataInput | PipelineData):
        return "tabular" if getattr(item, "tabular", None) else "file"
    raise ValueError(
        "Step input must be of any type: (DatasetConsumptionConfig, PipelineOutputFileDataset, "
        f"OutputFileDatasetConfig), found {type(item)}"
    )


class ParallelRunStep(PipelineStep):
    """Run an entry script over mini-batches of the inputs in many processes (module docstring)."""

    def __init__(
        self,
        name: str,
        parallel_run_config: ParallelRunConfig,
        inputs: list[Any],
        output: Any = None,
        side_inputs: list[Any] | None = None,
        arguments: Sequence[Any] | None = None,
        allow_reuse: bool = True,
    ) -> None:
        if not isinstance(name, str) or not (3 <= len(name) <= 32) or not _NAME.match(name):
            raise ValueError(
                f"ParallelRunStep name {name!r} is invalid: it must be 3-32 characters of lowercase letters, "
                "digits and '-', start with a letter and not end with '-'."
            )
        if not isinstance(parallel_run_config, ParallelRunConfig):
            raise ValueError("Param parallel_run_config must be a azureml.pipeline.steps.ParallelRunConfig")
        config = parallel_run_config
        self.parallel_run_config = config
        self._user_arguments = list(arguments or [])
        inputs = [i.as_input() if isinstance(i, OutputDatasetConfig) else i for i in (inputs or [])]
        side = [i.as_input() if isinstance(i, OutputDatasetConfig) else i for i in (side_inputs or [])]
        self._check_arguments()
        if not isinstance(inputs, list) or not inputs:
            raise ValueError("The parameter 'inputs' must be a list and have at least one element.")
        partitioned = config.partition_keys is not None
        kinds = {_input_type(i, True, partitioned) for i in inputs}
        if len(kinds) != 1:
            raise ValueError("All inputs of step must be same type")
        self.input_type = kinds.pop()
        if config.output_action.lower() != "summary_only" and output is None:
            raise ValueError("Please specify output parameter.")
        self._tabular_inputs = [i.name for i in inputs if self.input_type == "tabular"]
        inputs = [self._mounted(i) for i in inputs] if self.input_type == "file" else inputs
        side = [self._mounted(i) if not isinstance(i, PipelineData) else i for i in side]
        size = config.mini_batch_size
        if size is None and not partitioned:
            size = DEFAULT_FILES_PER_BATCH if self.input_type == "file" else DEFAULT_TABULAR_BYTES
        self.mini_batch_size = size
        self.output = output
        self.side_inputs = side
        super().__init__(
            name,
            arguments=self._main_arguments(inputs, output, size),
            inputs=[*inputs, *side],
            outputs=[output] if output is not None else [],
            compute_target=config.compute_target,
            source_directory=config.source_directory,
            allow_reuse=allow_reuse,
        )
        self.script_name = config.entry_script
        from headwater.sdk.environment import RunConfiguration

        self.runconfig = RunConfiguration()
        self.runconfig.environment = config.environment
        self.runconfig.environment_variables.update(config.environment_variables)

    @property
    def running_on_windows(self) -> bool:
        """SDK v1: whether the step's compute is Windows. Steps run where Headwater runs: this machine
        (a Ray target's nodes share its platform)."""
        return sys.platform == "win32"

    @staticmethod
    def _mounted(item: Any) -> Any:
        if isinstance(item, DatasetConsumptionConfig | OutputInput) and item.mode != "mount":
            return item.as_mount()
        return item

    def _check_arguments(self) -> None:
        args = self._user_arguments
        if not args:
            return
        if not str(args[0]).startswith("-"):
            raise ValueError(
                f"Found invalid argument '{args[0]}'. As your arguments will be merged with reserved argument, "
                "you can only use keyword argument."
            )
        for item in args:
            if isinstance(item, str) and item.startswith("--"):
                key = item[2:].split("=")[0]
                if key in RESERVED_ARGUMENTS:
                    raise ValueError(
                        f"'{key}' is a reserved argument in ParallelRunStep, please use another argument name instead."
                    )
        parser = argparse.ArgumentParser(add_help=False)
        parser.add_argument("--rank_mini_batch_count", type=int, default=0)
        known, _ = parser.parse_known_args([str(a) for a in args])
        if known.rank_mini_batch_count > 0:
            raise ValueError("--rank_mini_batch_count is not supported by Headwater: give the step an input dataset.")

    def _main_arguments(self, inputs: list[Any], output: Any, size: Any) -> list[Any]:
        config = self.parallel_run_config
        args: list[Any] = [
            "--scoring_module_name",
            config.entry_script,
            "--mini_batch_size",
            "0" if size is None else size,
            "--error_threshold",
            config.error_threshold,
            "--output_action",
            config.output_action.lower(),
            "--logging_level",
            config.logging_level,
            "--run_invocation_timeout",
            config.run_invocation_timeout,
            "--run_max_try",
            config.run_max_try,
            "--node_count",
            config.node_count,
        ]
        if config.allowed_failed_count is not None:
            args += ["--allowed_failed_count", config.allowed_failed_count]
        if config.allowed_failed_percent is not None:
            args += ["--allowed_failed_percent", config.allowed_failed_percent]
        if config.output_action.lower() == "append_row" and config.append_row_file_name is not None:
            args += ["--append_row_file_name", config.append_row_file_name]
        if output is not None:
            args += ["--output", output]
        if config.process_count_per_node is not None:
            args += ["--process_count_per_node", config.process_count_per_node]
        keys = config.partition_keys
        if keys is not None:
            args += ["--partition_keys", keys if isinstance(keys, PipelineParameter) else json.dumps(keys)]
        args += self._user_arguments
        flag = "--input_ds_" if self.input_type == "tabular" else "--input_fds_"
        for index, item in enumerate(inputs):
            args += [f"{flag}{index}", item]
        return args

    def _lower(self, spec: StepSpec) -> StepSpec:
        """The graph spec: tabular inputs are mounted for the driver (it reads their files itself)."""
        from dataclasses import replace

        if not self._tabular_inputs:
            return spec
        names = set(self._tabular_inputs)
        inputs = tuple(replace(i, mode="mount") if i.name in names else i for i in spec.inputs)
        return replace(spec, inputs=inputs)

    def _kind(self) -> str:
        return "parallel"
