"""CondaDependencies members SDK v1 code calls, and create()'s python_version default."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from headwater.errors import ConfigurationError

pytestmark = pytest.mark.usefixtures("azureml_on")


def test_create_shows_sdk_v1_default_python_but_leaves_python_unpinned() -> None:
    from azureml.core import Environment
    from azureml.core.conda_dependencies import CondaDependencies

    default = inspect.signature(CondaDependencies.create).parameters["python_version"].default
    assert default == "3.10.18"
    created = CondaDependencies.create(pip_packages=["pandas"])
    assert created.get_python_version() is None  # as before: runs on Headwater's Python
    env = Environment("e")
    env.python.conda_dependencies = created
    assert env.to_spec()["python_version"] is None  # same spec, same digest: existing runs are reused
    assert CondaDependencies.create(python_version="3.10.18").get_python_version() == "3.10.18"
    assert CondaDependencies.create(python_version=default).get_python_version() is None


def test_default_number_of_packages() -> None:
    from azureml.core.conda_dependencies import CondaDependencies

    assert (CondaDependencies.DEFAULT_NUMBER_OF_CONDA_PACKAGES, CondaDependencies.DEFAULT_NUMBER_OF_PIP_PACKAGES) == (
        0,
        0,
    )
    cd = CondaDependencies()
    assert cd.get_default_number_of_packages() == (0, 1)
    assert (cd.DEFAULT_NUMBER_OF_CONDA_PACKAGES, cd.DEFAULT_NUMBER_OF_PIP_PACKAGES) == (0, 1)


def test_framework_helpers_pin_sdk_v1_versions() -> None:
    from azureml.core.conda_dependencies import CondaDependencies

    cd = CondaDependencies()
    cd.add_tensorflow_pip_package()
    cd.add_tensorflow_pip_package(core_type="gpu", version="2.4.0")
    cd.add_tensorflow_conda_package(version="2.3.0")
    cd.add_cntk_package()
    assert cd.pip_packages == ["azureml-defaults", "tensorflow-gpu==2.4.0", "cntk==2.7"]
    assert cd.conda_packages == ["tensorflow=2.3.0"]
    with pytest.raises(ConfigurationError, match="core_type"):
        cd.add_cntk_package("tpu")


def test_set_pip_requirements_replaces_the_pip_section() -> None:
    from azureml.core.conda_dependencies import CondaDependencies

    cd = CondaDependencies.create(pip_packages=["numpy"])
    cd.set_pip_requirements(["--extra-index-url https://example.invalid/simple", "scipy==1.11"])
    assert cd.pip_packages == ["scipy==1.11"]
    assert cd.pip_options == ["--extra-index-url https://example.invalid/simple"]


def test_merge_requirements_and_as_dict() -> None:
    from azureml.core.conda_dependencies import CondaDependencies

    assert CondaDependencies.merge_requirements(["a>1", "b", "a<3", "c[x]==2"]) == ["a>1,<3", "b", "c[x]==2"]
    cd = CondaDependencies.create(conda_packages=["numpy"], python_version="3.11")
    data = cd.as_dict()
    assert data["dependencies"][:2] == ["python=3.11", "numpy"]
    assert data["dependencies"][2] == {"pip": ["azureml-defaults"]}
    assert isinstance(CondaDependencies.sdk_origin_url(), str)


def test_save_to_file_writes_under_the_base_directory(tmp_path: Path) -> None:
    from azureml.core.conda_dependencies import CondaDependencies

    cd = CondaDependencies.create(pip_packages=["pandas"])
    relative = cd.save_to_file(str(tmp_path))
    assert relative == ".azureml/conda_dependencies.yml"
    assert CondaDependencies(tmp_path / relative).pip_packages == cd.pip_packages
    assert cd.save_to_file(str(tmp_path), conda_file_path="env.yml") == "env.yml"
    assert (tmp_path / "env.yml").is_file()
