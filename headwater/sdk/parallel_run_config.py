"""``ParallelRunConfig`` (SDK v1: ``azureml.pipeline.steps.ParallelRunConfig``): how a
:class:`~headwater.sdk.parallel_run_step.ParallelRunStep` splits its input and runs its entry script.

The SDK v1 signature and checks (ValueError, as SDK v1 raises): ``output_action`` is
``append_row`` or ``summary_only``; ``error_threshold`` and ``allowed_failed_count`` are ints ≥ -1;
``allowed_failed_percent`` is in [0, 100]; ``mini_batch_size`` (an int, or text such as ``"1024"``,
``"10KB"``, ``"10MB"``, ``"1GB"``, turned into bytes) and ``partition_keys`` (a list of str, or a
PipelineParameter whose default is a JSON list) exclude each other; ``process_count_per_node``,
``run_invocation_timeout`` and ``run_max_try`` are > 0; ``append_row_file_name`` is a plain file name.
``mini_batch_size``, ``node_count``, ``process_count_per_node``, ``logging_level``,
``run_invocation_timeout``, ``run_max_try`` and ``partition_keys`` may be PipelineParameters.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

from headwater.sdk.parameters import PipelineParameter

__all__ = ["ParallelRunConfig", "mini_batch_bytes"]

_SIZE = re.compile(r"^\d+([kKmMgG][bB])*$")
_UNITS = {"kb": 1024, "mb": 1024**2, "gb": 1024**3}
_BAD_FILE_NAME = re.compile(r'[~"#%&*:<>?/\\{|}]+')
OUTPUT_ACTIONS = ("summary_only", "append_row")


def mini_batch_bytes(value: str) -> int:
    """``"1024"``, ``"10KB"``, ``"10MB"``, ``"1GB"`` as a number (bytes, or files for a FileDataset)."""
    if not _SIZE.match(value):
        raise ValueError(r"Parameter mini_batch_size must follow regex rule ^\d+([kKmMgG][bB])*$.")
    try:
        return int(value)
    except ValueError:
        return int(value[:-2]) * _UNITS[value[-2:].lower()]


def _default(value: Any) -> Any:
    return value.default_value if isinstance(value, PipelineParameter) else value


class ParallelRunConfig:
    """What a ParallelRunStep runs and how (SDK v1's parameters; see the module docstring)."""

    def __init__(
        self,
        environment: Any,
        entry_script: str,
        error_threshold: int,
        output_action: str,
        compute_target: Any,
        node_count: Any,
        process_count_per_node: Any = None,
        mini_batch_size: Any = None,
        source_directory: str | None = None,
        description: str | None = None,
        logging_level: Any = "INFO",
        run_invocation_timeout: Any = 60,
        run_max_try: Any = 3,
        append_row_file_name: str | None = None,
        allowed_failed_count: int | None = None,
        allowed_failed_percent: float | None = None,
        partition_keys: Any = None,
        environment_variables: dict[str, str] | None = None,
    ) -> None:
        from headwater.sdk.environment import Environment

        self.mini_batch_size = mini_batch_size
        self.error_threshold = error_threshold
        self.allowed_failed_count = allowed_failed_count
        self.allowed_failed_percent = allowed_failed_percent
        self.output_action = output_action
        self.logging_level = "INFO" if logging_level is None else logging_level
        self.compute_target = compute_target
        self.node_count = node_count
        self.process_count_per_node = process_count_per_node
        self.entry_script = entry_script if entry_script is None else entry_script.strip()
        self.source_directory = source_directory if source_directory is None else os.fspath(source_directory).strip()
        self.description = description
        self.environment = environment
        self.run_invocation_timeout = 60 if run_invocation_timeout is None else run_invocation_timeout
        self.run_max_try = 3 if run_max_try is None else run_max_try
        self.append_row_file_name = append_row_file_name
        self.partition_keys = partition_keys
        self.environment_variables: dict[str, str] = dict(environment_variables or {})
        if environment is None:
            raise ValueError("Parameter environment is required. It should be instance of azureml.core.Environment.")
        if not isinstance(environment, Environment):
            raise ValueError(
                f"Parameter environment must be an instance of azureml.core.Environment. The actual value is "
                f"{environment}."
            )
        if not isinstance(output_action, str) or output_action.lower() not in OUTPUT_ACTIONS:
            raise ValueError("Parameter output_action must be summary_only or append_row.")
        self._check_counts()
        self._check_partitioning()
        self._check_positive()
        if output_action.lower() == "append_row" and _BAD_FILE_NAME.search(append_row_file_name or ""):
            raise ValueError("Parameter append_row_file_name must be a valid UNIX file name.")

    def _check_counts(self) -> None:
        threshold = self.error_threshold
        if not isinstance(threshold, int) or isinstance(threshold, bool) or threshold < -1:
            raise ValueError(f"error_threshold '{threshold}' is not an int value greater than or equal to -1.")
        count = self.allowed_failed_count
        if count is not None and (not isinstance(count, int) or count < -1):
            raise ValueError(f"allowed_failed_count '{count}' is not an int value greater than or equal to -1.")
        percent = self.allowed_failed_percent
        if percent is not None:
            if not isinstance(percent, int | float):
                raise ValueError(f"allowed_failed_percent '{percent}' is not an int or float.")
            if percent < 0 or percent > 100:
                raise ValueError(f"allowed_failed_percent '{percent}' is not between 0 and 100.")

    def _check_partitioning(self) -> None:
        if self.mini_batch_size is not None and self.partition_keys is not None:
            raise ValueError(
                "Parameters mini_batch_size and partition_keys are mutually exclusive, because they specify "
                "different ways to partition the input datasets into mini-batches."
            )
        size = self.mini_batch_size
        if size is not None and not isinstance(size, PipelineParameter):
            if not isinstance(size, int | str):
                raise ValueError("Parameter mini_batch_size must be of type int or str.")
            if isinstance(size, str):
                self.mini_batch_size = mini_batch_bytes(size)
        keys = self.partition_keys
        if keys is None:
            return
        if isinstance(keys, PipelineParameter):
            try:
                keys = json.loads(keys.default_value)
            except (TypeError, ValueError):
                raise ValueError(
                    "default_value of PipelineParameter partition_keys must be json dump result of a list of str, "
                    "try json.loads the value to validate."
                ) from None
            if not isinstance(keys, list):
                raise ValueError(
                    "default_value of PipelineParameter partition_keys must be json dump result of a list of str."
                )
        elif not isinstance(keys, list):
            raise ValueError("Parameter partition_keys must be of type list.")
        for key in keys:
            if not isinstance(key, str):
                raise ValueError(f"Element {key} in partition_keys is not a str.")

    def _check_positive(self) -> None:
        count = self.process_count_per_node
        if count is not None and not isinstance(count, PipelineParameter) and count < 1:
            raise ValueError("Parameter process_count_per_node must be an integer greater than 0.")
        maximum = getattr(getattr(self.compute_target, "scale_settings", None), "maximum_node_count", None)
        nodes = self.node_count
        if isinstance(maximum, int) and not isinstance(nodes, PipelineParameter) and not 0 < nodes <= maximum:
            raise ValueError(f"node_count '{nodes}' is not between 1 and max_nodes {maximum}.")
        if not isinstance(self.run_invocation_timeout, PipelineParameter) and self.run_invocation_timeout <= 0:
            raise ValueError("Parameter run_invocation_timeout must be an integer greater than 0.")
        if not isinstance(self.run_max_try, PipelineParameter) and self.run_max_try <= 0:
            raise ValueError("Parameter run_max_try must be an integer greater than 0.")

    def save_to_yaml(self, path: str | os.PathLike[str]) -> None:
        """Write the configuration as SDK v1 does (``parallel_run_config:`` with the environment inline)."""
        import yaml

        partition_keys = self.partition_keys
        if isinstance(partition_keys, PipelineParameter):
            partition_keys = json.loads(partition_keys.default_value)
        target = self.compute_target
        config = {
            "mini_batch_size": _default(self.mini_batch_size),
            "partition_keys": partition_keys,
            "error_threshold": self.error_threshold,
            "output_action": self.output_action,
            "logging_level": _default(self.logging_level),
            "compute_target_name": target if isinstance(target, str) or target is None else target.name,
            "node_count": _default(self.node_count),
            "process_count_per_node": _default(self.process_count_per_node),
            "entry_script": self.entry_script,
            "source_directory": self.source_directory,
            "description": self.description,
            "run_invocation_timeout": _default(self.run_invocation_timeout),
            "run_max_try": _default(self.run_max_try),
            "append_row_file_name": self.append_row_file_name,
            "allowed_failed_count": self.allowed_failed_count,
            "allowed_failed_percent": self.allowed_failed_percent,
            "environment": self.environment.to_spec(),
            "environment_variables": dict(self.environment_variables),
        }
        with open(path, "w", encoding="utf-8") as fh:
            yaml.safe_dump({"parallel_run_config": config}, fh, sort_keys=False)

    @staticmethod
    def load_yaml(workspace: Any, path: str | os.PathLike[str]) -> ParallelRunConfig:
        """Read a file :meth:`save_to_yaml` wrote. The environment is inline, or named
        (``environment_name``, got from ``workspace``) or a folder (``environment_dir_path``)."""
        import yaml

        from headwater.sdk.environment import Environment

        with open(path, encoding="utf-8") as fh:
            config = (yaml.safe_load(fh) or {})["parallel_run_config"]
        env_spec = config.get("environment")
        if isinstance(env_spec, dict):
            environment = Environment.from_spec(env_spec)
        elif "environment_dir_path" in config:
            environment = Environment.load_from_directory(config["environment_dir_path"])
        elif "environment_name" in config:
            environment = Environment.get(workspace, name=config["environment_name"])
        else:
            raise ValueError("Parameter error: an environment must be provided")
        size = config.get("mini_batch_size")
        return ParallelRunConfig(
            environment=environment,
            entry_script=config.get("entry_script"),
            error_threshold=config.get("error_threshold"),
            output_action=config.get("output_action"),
            compute_target=config.get("compute_target_name"),
            node_count=config.get("node_count"),
            process_count_per_node=config.get("process_count_per_node"),
            mini_batch_size=None if size is None else str(size),
            source_directory=config.get("source_directory"),
            description=config.get("description"),
            logging_level=config.get("logging_level"),
            run_invocation_timeout=config.get("run_invocation_timeout"),
            run_max_try=config.get("run_max_try"),
            append_row_file_name=config.get("append_row_file_name"),
            allowed_failed_count=config.get("allowed_failed_count"),
            allowed_failed_percent=config.get("allowed_failed_percent"),
            partition_keys=config.get("partition_keys"),
            environment_variables=config.get("environment_variables"),
        )
