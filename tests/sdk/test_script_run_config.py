"""ScriptRunConfig's SDK v1 signature, and the configurations refused before anything is recorded."""

from __future__ import annotations

from pathlib import Path

import pytest

from headwater import (
    ConfigurationError,
    Environment,
    Experiment,
    GraphValidationError,
    NotSupportedError,
    PipelineParameter,
    RunConfiguration,
    ScriptRunConfig,
    Workspace,
)
from tests.conftest import gen


def test_the_settings_go_to_its_run_config_as_in_sdk_v1() -> None:
    env = Environment("train-env")
    config = ScriptRunConfig(
        "src", script="train.py", arguments=["--lr", 0.1], compute_target="cpu-cluster", environment=env
    )
    rc = config.run_config
    assert (config.source_directory, config.script, config.arguments) == ("src", "train.py", ["--lr", 0.1])
    assert (rc.script, rc.arguments, rc.target, rc.environment) == ("train.py", ["--lr", 0.1], "cpu-cluster", env)
    assert rc.max_run_duration_seconds == ScriptRunConfig.MAX_DURATION_SECONDS_DEFAULT == 2592000

    given = RunConfiguration()
    given.target = "gpu-cluster"
    given.max_run_duration_seconds = 60
    config = ScriptRunConfig("src", script="train.py", run_config=given)
    assert config.run_config is given and given.target == "gpu-cluster" and given.max_run_duration_seconds == 60
    assert given.script == "train.py"


def test_unsupported_and_contradictory_settings_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="a script or a command, not both"):
        ScriptRunConfig("src", script="train.py", command="python train.py")
    with pytest.raises(NotSupportedError, match="distributed_job_config"):
        ScriptRunConfig("src", script="train.py", distributed_job_config=object())
    with pytest.raises(NotSupportedError, match="resume_from"):
        ScriptRunConfig("src", script="train.py", resume_from="checkpoints/")
    with pytest.raises(ConfigurationError, match="must be a RunConfiguration"):
        ScriptRunConfig("src", script="train.py", run_config="local")  # type: ignore[arg-type]


def test_a_config_that_cannot_run_records_nothing(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(gen(tmp_path / "proj", {"src": {"train.py": "print(1)\n"}}))
    experiment = Experiment(ws, "single")
    with pytest.raises(GraphValidationError, match=r"(?s)The script run is not valid .*script not found") as err:
        experiment.submit(ScriptRunConfig("src", script="missing.py"))
    assert "missing.py" in str(err.value)
    with pytest.raises(ConfigurationError, match="needs a script"):
        experiment.submit(ScriptRunConfig("src"))
    with pytest.raises(GraphValidationError, match="cannot use pipeline parameters"):
        experiment.submit(ScriptRunConfig("src", "train.py", arguments=[PipelineParameter("lr", 0.1)]))
    with pytest.raises(TypeError, match="pipeline_parameters"):
        experiment.submit(ScriptRunConfig("src", "train.py"), pipeline_parameters={"lr": 1})
    with pytest.raises(NotSupportedError, match="Submit a Pipeline of steps, a ScriptRunConfig"):
        experiment.submit(object())  # type: ignore[call-overload]  # the wrong type is the point
    assert ws.metadata_store.list_runs() == []
    assert ws.metadata_store.list_experiments() == []


def test_a_command_step_takes_its_command_folder_and_environment_from_a_script_run_config(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from headwater import CommandStep, Pipeline

    monkeypatch.chdir(gen(tmp_path / "proj", {"src": {"train.py": ""}}))
    env = Environment("train-env")
    env.environment_variables = {"MODE": "fast"}
    src = ScriptRunConfig("src", command="python train.py --epochs 3", environment=env)
    (spec,) = Pipeline(ws, steps=[CommandStep(runconfig=src)]).graph.steps
    assert spec.arguments == ({"literal": "python train.py --epochs 3"},)
    assert spec.source_directory == str(tmp_path / "proj" / "src")
    assert spec.environment["name"] == "train-env" and spec.environment_variables == {"MODE": "fast"}


def test_an_offline_run_cannot_register_a_model_and_says_what_to_do(ws: Workspace) -> None:
    from headwater import Run

    with pytest.raises(NotSupportedError, match="offline run") as err:
        Run.get_context().register_model(model_name="best", model_path="outputs/model.pkl")
    assert "Model.register(ws, model_path, model_name)" in str(err.value)
