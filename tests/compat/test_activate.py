"""Turning the layer on: never by default, in a process, by PYTHONPATH, by a .pth file; never beside the real SDK."""

from __future__ import annotations

import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

import headwater
from headwater.compat import activate as act
from headwater.compat.activate import (
    LINK_DIR_NAME,
    PTH_NAME,
    activate,
    conflicting_distribution,
    install,
    is_installed,
    shim_path,
    uninstall,
)
from headwater.errors import ConfigurationError, NotFoundError
from tests.compat.conftest import fake_distribution


def _python(python: str | Path, code: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a child interpreter with only ``env`` (plus PATH) in its environment."""
    return subprocess.run(
        [str(python), "-c", code],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={"PATH": os.environ.get("PATH", ""), **env},
    )


def test_the_shim_folder_holds_an_azureml_package() -> None:
    assert (shim_path() / "azureml" / "__init__.py").is_file()
    assert shim_path().is_relative_to(Path(headwater.__file__).parent)


def test_azureml_does_not_import_when_the_layer_is_off(tmp_path: Path) -> None:
    result = _python(sys.executable, "import headwater, headwater.compat.activate\nimport azureml", tmp_path)
    assert result.returncode == 1
    assert "ModuleNotFoundError: No module named 'azureml'" in result.stderr


def test_pythonpath_turns_the_layer_on_in_a_child_process(tmp_path: Path) -> None:
    code = (
        "import headwater\n"
        "from azureml.core import Workspace, Run\n"
        "from azureml.pipeline.steps import PythonScriptStep\n"
        "assert Workspace is headwater.Workspace and Run is headwater.Run\n"
        "assert PythonScriptStep is headwater.PythonScriptStep\n"
        "print('ok')\n"
    )
    result = _python(sys.executable, code, tmp_path, PYTHONPATH=str(shim_path()))
    assert result.stdout == "ok\n", result.stderr


@pytest.mark.usefixtures("restore_sys_path")
def test_activate_puts_the_shim_first_once() -> None:
    assert activate() == shim_path()
    activate()
    assert sys.path[0] == str(shim_path())
    assert sys.path.count(str(shim_path())) == 1
    from azureml.core import Experiment

    assert Experiment is headwater.Experiment


# -- the real SDK in the same environment ------------------------------------------------------------


def test_conflicting_distribution_finds_the_real_sdk(tmp_path: Path) -> None:
    site = tmp_path / "site"
    fake_distribution(site, "azureml-pipeline-core", "1.62.0")
    assert conflicting_distribution([str(site)]) == "azureml-pipeline-core 1.62.0"
    (tmp_path / "empty").mkdir()
    assert conflicting_distribution([str(tmp_path / "empty")]) is None
    assert conflicting_distribution() is None  # this test environment has no azureml-core


@pytest.mark.usefixtures("restore_sys_path")
def test_activation_refuses_beside_the_real_sdk_naming_both(tmp_path: Path) -> None:
    site = tmp_path / "site"
    fake_distribution(site, "azureml-core", "1.61.0")
    sys.path.insert(0, str(site))
    with pytest.raises(ConfigurationError) as info:
        activate()
    message = str(info.value)
    assert "azureml-core 1.61.0" in message
    assert f"headwater {headwater.__version__}" in message
    assert "pip uninstall azureml-core" in message and "from headwater import" in message
    assert info.value.path == str(site)
    assert str(shim_path()) not in sys.path


@pytest.mark.usefixtures("restore_sys_path")
def test_activation_refuses_when_another_azureml_is_already_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    other = types.ModuleType("azureml")
    other.__path__ = ["/somewhere/site-packages/azureml"]
    monkeypatch.setitem(sys.modules, "azureml", other)
    with pytest.raises(ConfigurationError, match="already imported"):
        activate()


def test_a_hand_set_pythonpath_beside_the_real_sdk_fails_on_import(tmp_path: Path) -> None:
    real = tmp_path / "site" / "azureml" / "core"
    real.mkdir(parents=True)
    (real / "__init__.py").write_text("REAL = True\n", encoding="utf-8")
    pythonpath = os.pathsep.join([str(shim_path()), str(tmp_path / "site")])
    result = _python(sys.executable, "import azureml.core", tmp_path, PYTHONPATH=pythonpath)
    assert result.returncode == 1
    assert "the real Azure ML SDK is installed too" in result.stderr
    assert str(tmp_path / "site" / "azureml") in result.stderr


def test_other_azureml_distributions_still_import_beside_the_layer(tmp_path: Path) -> None:
    other = tmp_path / "site" / "azureml" / "fsspec"
    other.mkdir(parents=True)
    (other / "__init__.py").write_text("OTHER = True\n", encoding="utf-8")
    pythonpath = os.pathsep.join([str(shim_path()), str(tmp_path / "site")])
    code = "import azureml.fsspec, azureml.core\nprint(azureml.fsspec.OTHER, azureml.core.Run.__name__)"
    result = _python(sys.executable, code, tmp_path, PYTHONPATH=pythonpath)
    assert result.stdout == "True Run\n", result.stderr


# -- install() / uninstall() -----------------------------------------------------------------------


@pytest.fixture
def venv(tmp_path: Path) -> tuple[Path, Path]:
    """A throwaway virtual environment without Headwater: (its python, its site-packages)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "venv")], check=True)
    python = tmp_path / "venv" / "bin" / "python"
    purelib = _python(python, "import sysconfig; print(sysconfig.get_paths()['purelib'])", tmp_path).stdout.strip()
    return python, Path(purelib)


def test_install_into_another_environment_and_uninstall(venv: tuple[Path, Path], tmp_path: Path) -> None:
    python, site = venv
    assert _python(python, "import azureml", tmp_path).returncode == 1
    assert not is_installed(site)

    pth = install(site_packages=site)
    assert pth == site / PTH_NAME and is_installed(site)
    lines = [line for line in pth.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    assert lines == [str(shim_path()), str(site / LINK_DIR_NAME)]  # Headwater is not installed there
    assert (site / LINK_DIR_NAME / "headwater").resolve() == Path(headwater.__file__).resolve().parent
    assert os.listdir(site / LINK_DIR_NAME) == ["headwater"]  # nothing else of Headwater's environment

    code = (
        "import azureml.core, headwater\n"
        "from azureml.core import Run\n"
        "from azureml.pipeline.steps import HyperDriveStep\n"
        "assert Run is headwater.Run\n"
        "Run.get_context().log('accuracy', 0.9)\n"
    )
    result = _python(python, code, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Attempted to log scalar metric accuracy" in result.stdout

    install(site_packages=site)  # again: rewritten, not duplicated
    assert pth.read_text(encoding="utf-8").count(str(shim_path())) == 1

    assert uninstall(site_packages=site) is True
    assert not pth.exists() and not (site / LINK_DIR_NAME).exists()
    assert not is_installed(site)
    assert _python(python, "import azureml", tmp_path).returncode == 1
    assert uninstall(site_packages=site) is False


def test_install_where_headwater_is_installed_adds_only_the_shim(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    install(site_packages=site)
    assert (site / LINK_DIR_NAME).is_dir()
    fake_distribution(site, "headwater", "0.1.0")  # Headwater installed there later: the link goes
    pth = install(site_packages=site)
    assert [line for line in pth.read_text(encoding="utf-8").splitlines() if not line.startswith("#")] == [
        str(shim_path())
    ]
    assert not (site / LINK_DIR_NAME).exists()


def test_install_defaults_to_this_environments_site_packages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "this-env-site"
    site.mkdir()
    monkeypatch.setattr(act, "site_packages_dir", lambda: site)
    assert install() == site / PTH_NAME
    assert is_installed()
    assert uninstall() is True
    assert not is_installed()


def test_install_refuses_beside_the_real_sdk_and_writes_nothing(tmp_path: Path) -> None:
    site = tmp_path / "site"
    fake_distribution(site, "azureml-core", "1.61.0")
    with pytest.raises(ConfigurationError, match=r"azureml-core 1\.61\.0"):
        install(site_packages=site)
    assert sorted(p.name for p in site.iterdir()) == ["azureml_core-1.61.0.dist-info"]


def test_install_into_a_missing_folder_says_so(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="site-packages"):
        install(site_packages=tmp_path / "nope")
