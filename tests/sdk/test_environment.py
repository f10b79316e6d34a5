"""Environment, CondaDependencies, RunConfiguration: SDK v1 behaviour on workspace metadata."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from headwater import (
    AmlCompute,
    ComputeTarget,
    CondaDependencies,
    ConfigurationError,
    DockerConfiguration,
    Environment,
    NotFoundError,
    NotSupportedError,
    RunConfiguration,
    Workspace,
)
from headwater.plan.environments import check_current_interpreter, environment_digest
from headwater.sdk.curated_environments import CURATED_ENVIRONMENTS
from tests.conftest import gen

# -- the seed page's environment block, as written ---------------------------------------------


def test_seed_environment_block_runs_as_written(ws: Workspace) -> None:
    compute_target = ComputeTarget.create(ws, "aml-compute", AmlCompute.provisioning_configuration(max_nodes=4))

    aml_run_config = RunConfiguration()
    # `compute_target` as defined in "Azure Machine Learning compute" section above
    aml_run_config.target = compute_target

    USE_CURATED_ENV = True
    if USE_CURATED_ENV:
        curated_environment = Environment.get(workspace=ws, name="AzureML-Tutorial")
        aml_run_config.environment = curated_environment
    aml_run_config.environment.python.user_managed_dependencies = False
    # Add some packages relied on by data prep step
    aml_run_config.environment.python.conda_dependencies = CondaDependencies.create(
        pip_packages=["azureml-sdk", "azureml-dataprep[fuse,pandas]"], pin_sdk_version=False
    )

    assert aml_run_config.target == "aml-compute"
    assert isinstance(aml_run_config.environment, Environment)
    spec = aml_run_config.environment.to_spec()
    assert spec["pip_packages"] == ["azureml-defaults", "azureml-sdk", "azureml-dataprep[fuse,pandas]"]
    result = check_current_interpreter(spec)
    assert result.satisfied and result.interpreter == os.path.abspath(sys.executable)
    assert len(result.notices) == 3


def test_seed_named_environment_reference_runs() -> None:
    aml_run_config = RunConfiguration()
    aml_run_config.environment.name = "MyEnvironment"
    aml_run_config.environment.version = "1.0"
    assert aml_run_config.environment.to_spec()["name"] == "MyEnvironment"


# -- Environment -------------------------------------------------------------------------------


def test_environment_defaults_follow_sdk_v1() -> None:
    env = Environment("train-env")
    assert env.name == "train-env" and env.version is None
    assert env.python.user_managed_dependencies is False
    assert env.python.interpreter_path == "python"
    assert isinstance(env.python.conda_dependencies, CondaDependencies)
    assert env.python.conda_dependencies.pip_packages == ["azureml-defaults"]
    assert env.environment_variables == {}
    assert env.docker.enabled is False
    assert env.docker.base_image is not None and env.docker.base_image.startswith("mcr.microsoft.com/azureml/openmpi")
    assert env.docker.base_dockerfile is None and env.docker.shm_size is None
    assert env.inferencing_stack_version is None


def test_spec_round_trip() -> None:
    env = Environment("e")
    cd = CondaDependencies.create(
        pip_indexurl="https://pypi.example/simple",
        pip_packages=["pandas>=2"],
        conda_packages=["numpy=1.26"],
        python_version="3.11",
    )
    cd.set_pip_option("--extra-index-url https://extra.example/simple")
    env.python.conda_dependencies = cd
    env.environment_variables = {"A": "1"}
    env.docker.shm_size = "4g"
    spec = env.to_spec()
    assert spec["pip_index_url"] == "https://pypi.example/simple"
    assert spec["pip_options"] == ["--extra-index-url https://extra.example/simple"]
    assert spec["python_version"] == "3.11"
    assert spec["conda_packages"] == ["numpy=1.26"]
    assert json.loads(json.dumps(spec)) == spec
    again = Environment.from_spec(spec)
    assert again.to_spec() == spec
    assert again.python.conda_dependencies is not None
    assert again.python.conda_dependencies.get_python_version() == "3.11"


def test_register_versions_and_get(ws: Workspace) -> None:
    env = Environment("train-env")
    first = env.register(ws)
    assert first.version == "1" and env.version is None
    assert env.register(ws).version == "1"  # unchanged definition: same version
    assert env.python.conda_dependencies is not None
    env.python.conda_dependencies.add_pip_package("scikit-learn")
    assert env.register(ws).version == "2"
    assert Environment.get(ws, "train-env").version == "2"
    old = Environment.get(ws, "train-env", version="1")
    assert old.python.conda_dependencies is not None
    assert old.python.conda_dependencies.pip_packages == ["azureml-defaults"]
    with pytest.raises(NotFoundError, match="latest version is '2'"):
        Environment.get(ws, "train-env", version="7")
    assert list(ws.environments) == ["train-env"]
    assert isinstance(ws.environments["train-env"], Environment)
    assert ws.environments["train-env"].version == "2"


def test_registered_digest_ignores_name_and_version(ws: Workspace) -> None:
    a = Environment("a").register(ws)
    b = Environment("b").register(ws)
    assert environment_digest(a.to_spec()) == environment_digest(b.to_spec())
    record = ws.metadata_store.get_environment("a")
    assert record is not None and record.digest == environment_digest(a.to_spec())


@pytest.mark.parametrize("name", ["AzureML-Mine", "Microsoft.Custom", "MicrosoftThing"])
def test_reserved_names_cannot_be_registered(ws: Workspace, name: str) -> None:
    with pytest.raises(ConfigurationError, match="reserved"):
        Environment(name).register(ws)
    assert ws.environments == {}


def test_curated_environments(ws: Workspace) -> None:
    env = Environment.get(workspace=ws, name="AzureML-Tutorial")
    assert env.name == "AzureML-Tutorial" and env.version == "1"
    assert env.python.conda_dependencies is not None
    assert "pandas" in env.python.conda_dependencies.pip_packages
    env.python.conda_dependencies.add_pip_package("scikit-learn")
    fresh = Environment.get(ws, "AzureML-Tutorial")  # a new object each time
    assert fresh.python.conda_dependencies is not None
    assert "scikit-learn" not in fresh.python.conda_dependencies.pip_packages
    assert check_current_interpreter(Environment.get(ws, "AzureML-Minimal").to_spec()).satisfied
    assert all(name.startswith("AzureML-") for name in CURATED_ENVIRONMENTS)


def test_list_has_curated_and_registered(ws: Workspace) -> None:
    Environment("mine").register(ws)
    listed = Environment.list(ws)
    assert "mine" in listed and "AzureML-Minimal" in listed
    assert set(ws.environments) == {"mine"}


def test_unknown_environment_suggests_close_names(ws: Workspace) -> None:
    Environment("forecasting").register(ws)
    with pytest.raises(NotFoundError, match="Did you mean 'forecasting'"):
        Environment.get(ws, "forecastin")
    with pytest.raises(NotFoundError, match="Did you mean 'AzureML-Tutorial'"):
        Environment.get(ws, "AzureML-Tutorail")
    with pytest.raises(NotSupportedError, match="label"):
        Environment.get(ws, "forecasting", label="prod")


def test_clone() -> None:
    env = Environment("a")
    env.version = "3"
    twin = env.clone("b")
    assert (twin.name, twin.version) == ("b", None)
    assert twin.python.conda_dependencies is not None
    twin.python.conda_dependencies.add_pip_package("numpy")
    assert env.python.conda_dependencies is not None
    assert "numpy" not in env.python.conda_dependencies.pip_packages


def test_from_pip_requirements(tmp_path: Path) -> None:
    gen(
        tmp_path,
        {
            "requirements.txt": "# training\n--index-url https://pypi.example/simple\npandas>=2  # frames\n"
            "scikit-learn==1.4.* \\\n\n-r more.txt\n",
            "more.txt": "numpy\n--extra-index-url https://extra.example/simple\n",
        },
    )
    env = Environment.from_pip_requirements("reqs", tmp_path / "requirements.txt", pip_version="23.0")
    spec = env.to_spec()
    assert spec["pip_packages"] == ["pandas>=2", "scikit-learn==1.4.*", "numpy"]
    assert spec["pip_index_url"] == "https://pypi.example/simple"
    assert spec["pip_options"] == ["--extra-index-url https://extra.example/simple"]
    assert spec["conda_packages"] == ["pip=23.0"]


def test_from_conda_specification(tmp_path: Path) -> None:
    gen(
        tmp_path,
        {
            "env.yml": "name: my-env\nchannels:\n  - conda-forge\n  - defaults\ndependencies:\n  - python=3.11\n"
            "  - numpy=1.26\n  - pip\n  - pip:\n    - --index-url https://pypi.example/simple\n    - pandas>=2\n"
        },
    )
    env = Environment.from_conda_specification("my-env", tmp_path / "env.yml")
    spec = env.to_spec()
    assert spec["python_version"] == "3.11"
    assert spec["conda_packages"] == ["numpy=1.26", "pip"]
    assert spec["channels"] == ["conda-forge", "defaults"]
    assert spec["pip_packages"] == ["pandas>=2"]
    assert spec["pip_index_url"] == "https://pypi.example/simple"


def test_bad_conda_specification_says_where(tmp_path: Path) -> None:
    gen(tmp_path, {"bad.yml": "dependencies: [unclosed\n", "list.yml": "- numpy\n"})
    with pytest.raises(ConfigurationError, match="not valid YAML") as err:
        Environment.from_conda_specification("x", tmp_path / "bad.yml")
    assert err.value.path == str(tmp_path / "bad.yml")
    with pytest.raises(ConfigurationError, match="mapping"):
        Environment.from_conda_specification("x", tmp_path / "list.yml")


# -- CondaDependencies -------------------------------------------------------------------------


def test_conda_dependencies_editing() -> None:
    cd = CondaDependencies()
    assert cd.pip_packages == ["azureml-defaults"]
    assert cd.conda_channels == ["conda-forge"]
    cd.add_pip_package("pandas")
    cd.add_pip_package("Pandas>=2")  # same distribution: replaced in place
    cd.add_pip_package("scikit_learn")
    assert cd.pip_packages == ["azureml-defaults", "Pandas>=2", "scikit_learn"]
    cd.remove_pip_package("scikit-learn")
    assert cd.pip_packages == ["azureml-defaults", "Pandas>=2"]
    cd.add_conda_package("numpy")
    cd.add_conda_package("numpy=1.26")
    cd.add_channel("defaults")
    cd.add_channel("defaults")
    assert cd.conda_packages == ["numpy=1.26"] and cd.conda_channels == ["conda-forge", "defaults"]
    cd.remove_conda_package("numpy")
    cd.remove_channel("defaults")
    assert cd.conda_packages == [] and cd.conda_channels == ["conda-forge"]
    assert cd.get_python_version() is None
    cd.set_python_version("3.11")
    cd.set_python_version("3.12")
    assert cd.conda_packages == ["python=3.12"] and cd.get_python_version() == "3.12"
    cd.set_pip_option("--index-url https://a.example/simple")
    cd.set_pip_option("--index-url https://b.example/simple")
    cd.set_pip_option(None)
    assert cd.pip_options == ["--index-url https://b.example/simple"]


def test_create_follows_sdk_v1() -> None:
    cd = CondaDependencies.create(pip_packages=["azureml-sdk"], conda_packages=["numpy"], pin_sdk_version=True)
    assert cd.pip_packages == ["azureml-defaults", "azureml-sdk"]
    assert cd.conda_packages == ["numpy"]
    assert cd.get_python_version() is None


def test_serialize_save_and_read_back(tmp_path: Path) -> None:
    cd = CondaDependencies.create(pip_packages=["pandas>=2"], conda_packages=["numpy=1.26"], python_version="3.11")
    text = cd.serialize_to_string()
    assert "- pandas>=2" in text and "- python=3.11" in text
    path = cd.save(tmp_path / "sub" / "conda.yml")
    again = CondaDependencies(path)
    assert again == cd
    again.add_pip_package("numpy")
    assert again.save() == path  # default: the file it came from
    assert CondaDependencies(path).pip_packages == ["azureml-defaults", "pandas>=2", "numpy"]
    with pytest.raises(ConfigurationError, match="needs a path"):
        CondaDependencies().save()


# -- RunConfiguration --------------------------------------------------------------------------


def test_run_configuration_defaults() -> None:
    rc = RunConfiguration()
    assert rc.target == "local"
    assert isinstance(rc.environment, Environment)
    assert isinstance(rc.docker, DockerConfiguration)
    assert (rc.docker.use_docker, rc.docker.shared_volumes, rc.docker.arguments, rc.docker.shm_size) == (
        False,
        True,
        [],
        "2g",
    )
    assert rc.node_count == 1 and rc.max_run_duration_seconds is None
    assert rc.environment_variables == {}
    cd = CondaDependencies.create(pip_packages=["numpy"])
    assert RunConfiguration(conda_dependencies=cd).environment.python.conda_dependencies is cd


def test_run_configuration_environment_must_be_an_environment() -> None:
    rc = RunConfiguration()
    with pytest.raises(ConfigurationError, match="must be an Environment"):
        rc.environment = "AzureML-Tutorial"  # type: ignore[assignment]
    rc.target = ("gpu-cluster", "AmlCompute")
    assert rc.target == "gpu-cluster"


def test_run_configuration_save_load_round_trip(tmp_path: Path) -> None:
    rc = RunConfiguration(script="train.py", arguments=["--lr", 0.1])
    rc.target = "aml-compute"
    rc.environment = Environment("train-env")
    rc.environment.environment_variables = {"MODE": "fast"}
    rc.environment.python.conda_dependencies = CondaDependencies.create(pip_packages=["pandas>=2"])
    rc.environment_variables = {"EXTRA": "1"}
    rc.max_run_duration_seconds = 600
    rc.docker = DockerConfiguration(use_docker=True, shm_size="4g")
    rc.save(tmp_path, name="train")
    assert (tmp_path / ".azureml" / "train.runconfig").is_file()

    loaded = RunConfiguration.load(tmp_path, name="train")
    assert (loaded.script, loaded.arguments, loaded.target) == ("train.py", ["--lr", 0.1], "aml-compute")
    assert loaded.environment.to_spec() == rc.environment.to_spec()
    assert loaded.environment_variables == {"EXTRA": "1"}
    assert loaded.max_run_duration_seconds == 600
    assert (loaded.docker.use_docker, loaded.docker.shm_size) == (True, "4g")
    same_file = RunConfiguration.load(tmp_path / ".azureml" / "train.runconfig")
    assert same_file.environment.to_spec() == rc.environment.to_spec()


def test_run_configuration_separate_environment_yaml(tmp_path: Path) -> None:
    rc = RunConfiguration(conda_dependencies=CondaDependencies.create(pip_packages=["numpy"]), _name="prep")
    rc.save(tmp_path, separate_environment_yaml=True)
    conda_file = tmp_path / ".azureml" / "prep_conda_dependencies.yml"
    assert conda_file.is_file()
    loaded = RunConfiguration.load(tmp_path, "prep")
    assert loaded.environment.to_spec() == rc.environment.to_spec()


def test_run_configuration_reads_sdk_v1_style_files(tmp_path: Path) -> None:
    gen(
        tmp_path,
        {
            "aml_config": {
                "old.runconfig": "script: score.py\ntarget: cpu\nframework: Python\nspark: {configuration: {}}\n"
                "environment:\n  python:\n    userManagedDependencies: true\n"
                "    condaDependenciesFile: aml_config/conda_dependencies.yml\n",
                "conda_dependencies.yml": "dependencies:\n  - pip:\n    - numpy\n",
            }
        },
    )
    rc = RunConfiguration.load(tmp_path, "old")
    assert (rc.script, rc.target) == ("score.py", "cpu")
    assert rc.environment.python.user_managed_dependencies is True
    assert rc.environment.to_spec()["pip_packages"] == ["numpy"]


def test_run_configuration_load_errors(tmp_path: Path) -> None:
    RunConfiguration().save(tmp_path, name="train")
    with pytest.raises(NotFoundError, match="Did you mean 'train'"):
        RunConfiguration.load(tmp_path, "trian")
    with pytest.raises(ConfigurationError, match="needs a name"):
        RunConfiguration.load(tmp_path)
    with pytest.raises(ConfigurationError, match="needs a name"):
        RunConfiguration().save(tmp_path)


def test_importing_the_modules_stays_light() -> None:
    heavy = ("pandas", "pyarrow", "sqlalchemy", "fsspec", "yaml")
    code = (
        "import sys, json\n"
        "import headwater.sdk.environment, headwater.sdk.compute, headwater.sdk.conda_dependencies\n"
        "import headwater.sdk.runconfig, headwater.plan.environments\n"
        f"print(json.dumps([m for m in {heavy!r} if m in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
