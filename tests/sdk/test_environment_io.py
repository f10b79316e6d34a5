"""Environment as files and in the workspace: save/load folders, list, clone, interpreter, variables, docker."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from headwater import CondaDependencies, Environment, NotFoundError, Workspace
from headwater.errors import AlreadyExistsError, ConfigurationError, EnvironmentBuildError
from headwater.plan.environments import check_current_interpreter, environment_digest
from tests.conftest import gen


def _full_env() -> Environment:
    env = Environment("train-env")
    cd = CondaDependencies.create(
        pip_indexurl="https://pypi.example/simple",
        pip_packages=["pandas>=2", "six==1.16.0"],
        conda_packages=["numpy=1.26"],
        python_version="3.11",
    )
    cd.set_pip_option("--extra-index-url https://extra.example/simple")
    env.python.conda_dependencies = cd
    env.environment_variables = {"MODE": "train", "N": "3"}
    env.docker.enabled = True
    env.docker.base_image = "example.azurecr.io/base:1"
    env.docker.shm_size = "4g"
    env.inferencing_stack_version = "latest"
    return env


# -- save_to_directory / load_from_directory -----------------------------------------------------


def test_save_writes_sdk_v1_files_and_loads_back_the_same_spec(tmp_path: Path) -> None:
    env = _full_env()
    folder = tmp_path / "env"
    env.save_to_directory(folder)
    assert sorted(p.name for p in folder.iterdir()) == ["azureml_environment.json", "conda_dependencies.yml"]
    definition = json.loads((folder / "azureml_environment.json").read_text())
    assert definition["name"] == "train-env"
    assert definition["python"]["condaDependencies"] is None  # it is in conda_dependencies.yml
    assert definition["environmentVariables"] == {"MODE": "train", "N": "3"}
    assert definition["docker"]["baseImage"] == "example.azurecr.io/base:1"
    assert "six==1.16.0" in (folder / "conda_dependencies.yml").read_text()

    loaded = Environment.load_from_directory(folder)
    assert loaded.to_spec() == env.to_spec()
    assert environment_digest(loaded.to_spec()) == environment_digest(env.to_spec())
    assert loaded.docker.enabled is True and loaded.docker.shm_size == "4g"


def test_save_refuses_an_existing_folder_unless_overwrite(tmp_path: Path) -> None:
    folder = tmp_path / "env"
    Environment("a").save_to_directory(folder)
    with pytest.raises(AlreadyExistsError, match="overwrite=True"):
        Environment("b").save_to_directory(folder)
    assert Environment.load_from_directory(folder).name == "a"

    without_packages = Environment("b")
    without_packages.python.conda_dependencies = None
    without_packages.docker.base_dockerfile = "FROM python:3.11\n"
    without_packages.save_to_directory(folder, overwrite=True)
    assert not (folder / "conda_dependencies.yml").exists()  # the stale one is not read back
    loaded = Environment.load_from_directory(folder)
    assert loaded.name == "b" and loaded.python.conda_dependencies is None
    assert (folder / "BaseDockerfile").read_text() == "FROM python:3.11\n"
    assert loaded.docker.base_dockerfile == "FROM python:3.11\n"


def test_save_to_a_file_path_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigurationError, match="needs a folder"):
        Environment("a").save_to_directory(tmp_path / "file", overwrite=True)


def test_load_reads_a_folder_written_by_sdk_v1(tmp_path: Path) -> None:
    definition = {
        "databricks": {"eggLibraries": [], "jarLibraries": [], "mavenLibraries": [], "pypiLibraries": []},
        "docker": {
            "arguments": [],
            "baseDockerfile": None,
            "baseImage": "mcr.microsoft.com/azureml/openmpi3.1.2-ubuntu18.04:20210615.v1",
            "baseImageRegistry": {"address": None, "password": None, "registryIdentity": None, "username": None},
            "enabled": False,
            "platform": {"architecture": "amd64", "os": "Linux"},
            "sharedVolumes": True,
            "shmSize": None,
        },
        "environmentVariables": {"EXAMPLE_ENV_VAR": "EXAMPLE_VALUE"},
        "inferencingStackVersion": None,
        "name": "sklearn-env",
        "python": {
            "baseCondaEnvironment": None,
            "condaDependencies": None,
            "interpreterPath": "python",
            "userManagedDependencies": False,
        },
        "r": None,
        "spark": {"packages": [], "precachePackages": True, "repositories": []},
        "version": "4",
    }
    gen(
        tmp_path / "saved",
        {
            "azureml_environment.json": json.dumps(definition, indent=4),
            "conda_dependencies.yml": "name: project_environment\ndependencies:\n- python=3.8.10\n- pip:\n"
            "  - azureml-defaults\n  - scikit-learn==0.24.2\nchannels:\n- anaconda\n- conda-forge\n",
        },
    )
    env = Environment.load_from_directory(tmp_path / "saved")
    spec = env.to_spec()
    assert (env.name, env.version) == ("sklearn-env", "4")
    assert spec["python_version"] == "3.8.10"
    assert spec["pip_packages"] == ["azureml-defaults", "scikit-learn==0.24.2"]
    assert spec["channels"] == ["anaconda", "conda-forge"]
    assert spec["environment_variables"] == {"EXAMPLE_ENV_VAR": "EXAMPLE_VALUE"}


def test_load_from_a_folder_without_a_definition_says_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match=r"azureml_environment\.json"):
        Environment.load_from_directory(tmp_path)
    (tmp_path / "azureml_environment.json").write_text("[1, 2]")
    with pytest.raises(ConfigurationError, match="must be a JSON object"):
        Environment.load_from_directory(tmp_path)


# -- the file constructors round-trip --------------------------------------------------------------


def test_from_pip_requirements_round_trips_through_a_folder(tmp_path: Path) -> None:
    gen(tmp_path, {"requirements.txt": "--index-url https://pypi.example/simple\npandas>=2\nsix==1.16.0\n"})
    env = Environment.from_pip_requirements("reqs", tmp_path / "requirements.txt")
    env.save_to_directory(tmp_path / "saved")
    assert Environment.load_from_directory(tmp_path / "saved").to_spec() == env.to_spec()


def test_from_conda_specification_round_trips_through_its_own_yaml(tmp_path: Path) -> None:
    gen(
        tmp_path,
        {
            "env.yml": "name: my-env\nchannels:\n  - conda-forge\ndependencies:\n  - python=3.11\n  - numpy=1.26\n"
            "  - pip:\n    - --extra-index-url https://extra.example/simple\n    - pandas>=2\n"
        },
    )
    env = Environment.from_conda_specification("my-env", tmp_path / "env.yml")
    assert env.python.conda_dependencies is not None
    env.python.conda_dependencies.save(tmp_path / "again.yml")
    again = Environment.from_conda_specification("my-env", tmp_path / "again.yml")
    assert again.to_spec() == env.to_spec()
    env.save_to_directory(tmp_path / "saved")
    assert Environment.load_from_directory(tmp_path / "saved").to_spec() == env.to_spec()


# -- the workspace: list, clone ----------------------------------------------------------------------


def test_list_gives_the_latest_registered_versions_and_the_curated_ones(ws: Workspace) -> None:
    env = Environment("mine")
    env.register(ws)
    assert env.python.conda_dependencies is not None
    env.python.conda_dependencies.add_pip_package("six==1.16.0")
    env.register(ws)
    listed = Environment.list(ws)
    assert listed["mine"].version == "2"
    assert listed["mine"].python.conda_dependencies is not None
    assert "six==1.16.0" in listed["mine"].python.conda_dependencies.pip_packages
    assert {"AzureML-Minimal", "AzureML-Tutorial"} <= set(listed)
    assert list(listed) == sorted(listed)


def test_clone_of_a_registered_environment_registers_separately(ws: Workspace) -> None:
    original = _full_env().register(ws)
    twin = original.clone("train-env-copy")
    assert (twin.name, twin.version) == ("train-env-copy", None)
    assert twin.environment_variables == original.environment_variables
    twin.environment_variables["MODE"] = "score"
    assert original.environment_variables["MODE"] == "train"
    assert twin.register(ws).version == "1"
    assert Environment.get(ws, "train-env").version == "1"  # the original is untouched
    curated = Environment.get(ws, "AzureML-Minimal").clone("my-minimal")
    assert curated.register(ws).name == "my-minimal"


# -- user-managed interpreter, environment variables, docker --------------------------------------


def test_user_managed_python_means_headwaters_interpreter_not_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    decoy = gen(tmp_path / "bin", {"python": "#!/bin/sh\nexit 1\n"}) / "python"
    decoy.chmod(0o755)
    monkeypatch.setenv("PATH", f"{decoy.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    env = Environment("mine")
    env.python.user_managed_dependencies = True
    assert env.python.interpreter_path == "python"
    resolution = check_current_interpreter(env.to_spec())
    assert resolution.interpreter == os.path.abspath(sys.executable) != str(decoy)
    env.python.interpreter_path = str(tmp_path / "no-such-python")
    with pytest.raises(EnvironmentBuildError, match="does not exist"):
        check_current_interpreter(env.to_spec())
    env.python.interpreter_path = str(decoy)
    assert check_current_interpreter(env.to_spec()).interpreter == str(decoy)


def test_environment_variables_are_recorded_and_part_of_the_digest(ws: Workspace, tmp_path: Path) -> None:
    env = Environment("vars")
    env.environment_variables = {"A": "1"}
    first = environment_digest(env.to_spec())
    assert Environment.get(ws, env.register(ws).name or "").environment_variables == {"A": "1"}
    env.environment_variables["A"] = "2"
    assert environment_digest(env.to_spec()) != first
    assert env.register(ws).version == "2"
    env.save_to_directory(tmp_path / "saved")
    assert Environment.load_from_directory(tmp_path / "saved").environment_variables == {"A": "2"}


def test_docker_settings_are_recorded_but_not_digested(ws: Workspace) -> None:
    env = Environment("boxed")
    before = environment_digest(env.to_spec())
    env.docker.enabled = True
    env.docker.base_image = "example.azurecr.io/base:1"
    env.docker.base_dockerfile = "FROM ubuntu:22.04\n"
    env.docker.shm_size = "8g"
    assert environment_digest(env.to_spec()) == before  # no containers run yet: same environment
    got = Environment.get(ws, env.register(ws).name or "")
    assert (got.docker.enabled, got.docker.base_image, got.docker.base_dockerfile, got.docker.shm_size) == (
        True,
        "example.azurecr.io/base:1",
        "FROM ubuntu:22.04\n",
        "8g",
    )
