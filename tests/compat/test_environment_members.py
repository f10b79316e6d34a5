"""Environment, DockerSection, PythonSection, RunConfiguration and ScriptRunConfig members SDK v1 code uses."""

from __future__ import annotations

import base64
import hashlib
import inspect
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from headwater import Workspace
from headwater.errors import AlreadyExistsError, NotFoundError, NotSupportedError
from headwater.plan.environments import environment_digest
from tests.conftest import gen

pytestmark = pytest.mark.usefixtures("azureml_on")


def make_wheel(folder: Path, value: str, name: str = "hwprivate", version: str = "1.0") -> Path:
    """A minimal pure-Python wheel whose module ``name`` has ``VALUE = value``."""
    info = f"{name}-{version}.dist-info"
    files = {
        f"{name}.py": f"VALUE = {value!r}\n",
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    files[f"{info}/RECORD"] = "\n".join([*record, f"{info}/RECORD,,"]) + "\n"
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return wheel


def test_add_private_pip_wheel_keeps_the_wheel_content_addressed(ws: Workspace, tmp_path: Path) -> None:
    from azureml.core import Environment

    first = make_wheel(tmp_path / "a", "one")
    stored = Environment.add_private_pip_wheel(ws, str(first))
    assert Path(stored).is_file() and Path(stored).name == first.name
    assert Path(stored).read_bytes() == first.read_bytes()
    assert Environment.add_private_pip_wheel(ws, str(first)) == stored  # the same wheel again: same path
    changed = make_wheel(tmp_path / "b", "two")
    with pytest.raises(AlreadyExistsError, match=first.name):
        Environment.add_private_pip_wheel(ws, str(changed))
    assert Environment.add_private_pip_wheel(ws, str(changed), exist_ok=True) == stored
    (tmp_path / "c").mkdir()
    renamed = make_wheel(tmp_path / "c", "two", version="2.0")
    assert Environment.add_private_pip_wheel(ws, str(renamed)) != stored


@pytest.mark.slow
def test_build_local_installs_a_private_wheel_and_waits_like_sdk_v1(
    ws: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from azureml.core import Environment
    from azureml.core.conda_dependencies import CondaDependencies

    whl_url = Environment.add_private_pip_wheel(workspace=ws, file_path=str(make_wheel(tmp_path, "private-1")))
    env = Environment("with-private-wheel")
    env.python.conda_dependencies = CondaDependencies.create(pip_packages=[whl_url])
    build = env.build_local(ws)
    details = build.wait_for_completion(show_output=True)
    assert details["status"] == "Succeeded"
    assert "hwprivate" in capsys.readouterr().out
    assert details["digest"] == environment_digest(env.to_spec())
    done = subprocess.run(
        [details["interpreter"], "-c", "import hwprivate; print(hwprivate.VALUE)"], capture_output=True, text=True
    )
    assert done.stdout.strip() == "private-1", done.stderr
    again = env.build(ws).wait_for_completion()  # built before: found by its digest
    assert again["interpreter"] == details["interpreter"]


def test_docker_sources_are_recorded_and_keep_the_digest_of_the_packages(tmp_path: Path) -> None:
    from azureml.core import Environment
    from azureml.core.container_registry import ContainerRegistry

    plain = Environment.from_pip_requirements("p", str(gen(tmp_path, {"req.txt": "six\n"}) / "req.txt"))
    registry = ContainerRegistry()
    registry.address = "myacr.azurecr.io"
    registry.password = "hunter2"
    image = Environment.from_docker_image(
        "img", "myacr.azurecr.io/base:1", container_registry=registry, pip_requirements=str(tmp_path / "req.txt")
    )
    assert image.docker.base_image == "myacr.azurecr.io/base:1"
    assert image.docker.base_image_registry is registry
    assert environment_digest(image.to_spec()) == environment_digest(plain.to_spec())
    assert "hunter2" not in repr(image.to_spec())
    assert image.to_spec()["docker"]["base_image_registry"] == "myacr.azurecr.io"

    dockerfile = Environment.from_dockerfile("df", "FROM python:3.11\nRUN pip install six\n")
    assert (dockerfile.docker.base_image, dockerfile.docker.base_dockerfile) == (
        None,
        "FROM python:3.11\nRUN pip install six\n",
    )
    assert dockerfile.python.user_managed_dependencies is True  # SDK v1: the image brings the packages
    context = Environment.from_docker_build_context("ctx", "./docker")
    assert context.docker.build_context == "./docker"
    assert context.to_spec()["docker"]["build_context"] == "./docker"
    with pytest.raises(Exception, match="not both"):
        Environment.from_dockerfile("x", "FROM a", conda_specification="c.yml", pip_requirements="r.txt")


def test_docker_and_python_section_attributes() -> None:
    from azureml.core import Environment

    env = Environment("e")
    before = env.to_spec()
    assert (env.docker.arguments, env.docker.shared_volumes, env.docker.gpu_support, env.docker.build_context) == (
        [],
        True,
        False,
        None,
    )
    assert env.python.conda_dependencies_file is None
    assert env.to_spec() == before  # the defaults add nothing to the spec
    env.docker.arguments = ["--ipc=host"]
    env.docker.gpu_support = True
    assert env.to_spec()["docker"]["arguments"] == ["--ipc=host"]
    assert Environment.from_spec(env.to_spec()).docker.arguments == ["--ipc=host"]


def test_from_existing_conda_environment_exports_it_with_conda(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from azureml.core import Environment

    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert Environment.from_existing_conda_environment("e", "myenv") is None  # SDK v1: None without conda
    assert "conda" in capsys.readouterr().out.lower()
    bin_dir = gen(
        tmp_path / "bin",
        {
            "conda": f"#!{sys.executable}\nimport sys\n"
            "assert sys.argv[1:] == ['env', 'export', '--no-builds', '--name', 'myenv'], sys.argv\n"
            "print('name: myenv\\nchannels:\\n- conda-forge\\ndependencies:\\n- python=3.11\\n- numpy=1.26\\n"
            "- pip:\\n  - six==1.16.0\\nprefix: /opt/conda/envs/myenv')\n"
        },
    )
    os.chmod(bin_dir / "conda", 0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    env = Environment.from_existing_conda_environment("copy", "myenv")
    assert env is not None and env.name == "copy"
    cd = env.python.conda_dependencies
    assert (cd.get_python_version(), cd.conda_packages[1:], cd.pip_packages) == (
        "3.11",
        ["numpy=1.26"],
        ["six==1.16.0"],
    )
    assert "prefix" not in cd.serialize_to_string()


def test_image_details_and_labels_are_not_supported(ws: Workspace) -> None:
    from azureml.core import Environment

    with pytest.raises(NotSupportedError, match="version="):
        Environment.label(ws, "e", "1", ["prod"])
    with pytest.raises(NotSupportedError, match="build_local"):
        Environment("e").get_image_details(ws)


def test_run_configuration_delete_and_auto_prepare(tmp_path: Path) -> None:
    from azureml.core.runconfig import RunConfiguration

    rc = RunConfiguration()
    assert rc.auto_prepare_environment is True
    rc.save(str(tmp_path), name="train")
    assert RunConfiguration.load(str(tmp_path), "train").target == "local"
    RunConfiguration.delete(str(tmp_path), "train")
    with pytest.raises(NotFoundError, match="train"):
        RunConfiguration.load(str(tmp_path), "train")


def test_script_run_config_and_script_run_constants(tmp_path: Path) -> None:
    from azureml.core import ScriptRun, ScriptRunConfig

    src = ScriptRunConfig(source_directory=str(tmp_path), script="train.py")
    assert (ScriptRunConfig.DELIM, src.identity, ScriptRun.RUN_TYPE) == ("#", "ScriptRunConfig", "azureml.scriptrun")


def test_runconfig_data_holders_and_docker_configuration_defaults() -> None:
    from azureml.core.runconfig import DataPath, Dataset, DockerConfiguration

    path = DataPath(datastore_name="workspaceblobstore", relative_path="data/x.csv")
    dataset = Dataset(dataset_name="iris", dataset_version="2")
    assert (path.datastore_name, path.relative_path, dataset.dataset_name, dataset.dataset_id) == (
        "workspaceblobstore",
        "data/x.csv",
        "iris",
        None,
    )
    assert inspect.signature(DockerConfiguration).parameters["arguments"].default == []
    first, second = DockerConfiguration(), DockerConfiguration()
    first.arguments.append("--ipc=host")
    assert second.arguments == []  # the default list is never shared
