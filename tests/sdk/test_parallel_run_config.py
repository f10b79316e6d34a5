"""ParallelRunConfig / ParallelRunStep: SDK v1's signatures, checks and YAML round trip."""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

import pytest

from headwater import Environment, OutputFileDatasetConfig, PipelineParameter
from headwater.sdk.parallel_run_config import ParallelRunConfig, mini_batch_bytes
from headwater.sdk.parallel_run_step import ParallelRunStep
from tests.conftest import gen


def _config(**over: object) -> ParallelRunConfig:
    kwargs: dict[str, object] = {
        "environment": Environment("score-env"),
        "entry_script": "score.py",
        "error_threshold": 5,
        "output_action": "append_row",
        "compute_target": "local",
        "node_count": 1,
    }
    kwargs.update(over)
    return ParallelRunConfig(**kwargs)  # type: ignore[arg-type]


def test_signatures_are_sdk_v1s() -> None:
    params = list(inspect.signature(ParallelRunConfig).parameters)
    assert params == [
        "environment", "entry_script", "error_threshold", "output_action", "compute_target", "node_count",
        "process_count_per_node", "mini_batch_size", "source_directory", "description", "logging_level",
        "run_invocation_timeout", "run_max_try", "append_row_file_name", "allowed_failed_count",
        "allowed_failed_percent", "partition_keys", "environment_variables",
    ]  # fmt: skip
    step = inspect.signature(ParallelRunStep).parameters
    assert list(step) == ["name", "parallel_run_config", "inputs", "output", "side_inputs", "arguments", "allow_reuse"]
    assert step["allow_reuse"].default is True


@pytest.mark.parametrize(
    ("value", "expected"), [("1024", 1024), ("10KB", 10240), ("10mb", 10 * 1024**2), ("1GB", 1024**3)]
)
def test_mini_batch_size_text_becomes_a_number(value: str, expected: int) -> None:
    assert mini_batch_bytes(value) == expected
    assert _config(mini_batch_size=value).mini_batch_size == expected


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"environment": None}, "environment is required"),
        ({"environment": "env"}, "instance of azureml.core.Environment"),
        ({"output_action": "upload"}, "summary_only or append_row"),
        ({"error_threshold": -2}, "error_threshold '-2'"),
        ({"error_threshold": "10"}, "error_threshold '10'"),
        ({"allowed_failed_count": -5}, "allowed_failed_count"),
        ({"allowed_failed_percent": 101}, "between 0 and 100"),
        ({"mini_batch_size": "10 MB"}, "regex rule"),
        ({"mini_batch_size": 1.5}, "int or str"),
        ({"mini_batch_size": 10, "partition_keys": ["a"]}, "mutually exclusive"),
        ({"partition_keys": "a"}, "must be of type list"),
        ({"partition_keys": ["a", 1]}, "is not a str"),
        ({"partition_keys": PipelineParameter("keys", default_value="a")}, "json dump"),
        ({"process_count_per_node": 0}, "process_count_per_node"),
        ({"run_invocation_timeout": 0}, "run_invocation_timeout"),
        ({"run_max_try": 0}, "run_max_try"),
        ({"append_row_file_name": "out/x.txt"}, "valid UNIX file name"),
    ],
)
def test_config_checks_as_sdk_v1(over: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _config(**over)


def test_pipeline_parameters_are_accepted_where_sdk_v1_accepts_them() -> None:
    config = _config(
        mini_batch_size=PipelineParameter("batch", default_value="2"),
        process_count_per_node=PipelineParameter("procs", default_value=2),
        node_count=PipelineParameter("nodes", default_value=1),
        run_invocation_timeout=PipelineParameter("timeout", default_value=30),
        run_max_try=PipelineParameter("tries", default_value=2),
        logging_level=PipelineParameter("level", default_value="DEBUG"),
    )
    assert isinstance(config.mini_batch_size, PipelineParameter)
    keyed = _config(partition_keys=PipelineParameter("keys", default_value=json.dumps(["day"])))
    assert isinstance(keyed.partition_keys, PipelineParameter)


def test_yaml_round_trip(tmp_path: Path) -> None:
    env = Environment("score-env")
    env.environment_variables = {"A": "1"}
    config = _config(
        environment=env,
        mini_batch_size="1KB",
        allowed_failed_percent=10,
        append_row_file_name="scores.txt",
        environment_variables={"B": "2"},
    )
    path = tmp_path / "prc.yml"
    config.save_to_yaml(path)
    assert "parallel_run_config:" in path.read_text()
    back = ParallelRunConfig.load_yaml(None, path)
    assert back.mini_batch_size == 1024
    assert back.entry_script == "score.py" and back.error_threshold == 5
    assert back.append_row_file_name == "scores.txt" and back.allowed_failed_percent == 10
    assert back.environment.name == "score-env" and back.environment.environment_variables == {"A": "1"}
    assert back.environment_variables == {"B": "2"} and back.compute_target == "local"


def test_step_checks_as_sdk_v1(tmp_path: Path, ws: Any) -> None:
    from headwater import Dataset, Datastore

    gen(tmp_path / "files", {"a.txt": "1"})
    store = Datastore.register_local_folder(ws, "files", tmp_path / "files")
    files = Dataset.File.from_files((store, "")).as_named_input("files")
    table = Dataset.Tabular.from_delimited_files((store, "a.txt"), validate=False).as_named_input("table")
    out = OutputFileDatasetConfig("scores")
    config = _config()
    with pytest.raises(ValueError, match="3-32 characters"):
        ParallelRunStep("Score", config, [files], out)
    with pytest.raises(ValueError, match="specify output"):
        ParallelRunStep("score", config, [files])
    with pytest.raises(ValueError, match="same type"):
        ParallelRunStep("score", config, [files, table], out)
    with pytest.raises(ValueError, match="keyword argument"):
        ParallelRunStep("score", config, [files], out, arguments=["positional"])
    with pytest.raises(ValueError, match="'mini_batch_size' is a reserved argument"):
        ParallelRunStep("score", config, [files], out, arguments=["--mini_batch_size", "3"])
    with pytest.raises(ValueError, match="at least one element"):
        ParallelRunStep("score", config, [], out)
    step = ParallelRunStep("score", _config(output_action="summary_only"), [files])
    assert step.mini_batch_size == 10 and step.input_type == "file"
    assert ParallelRunStep("score-t", config, [table], out).mini_batch_size == 1024 * 1024
    assert step.running_on_windows is False  # steps run on this (Linux) machine, or Ray nodes like it
