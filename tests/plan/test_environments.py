"""Environment specs: the digest, and whether the running Python satisfies a spec."""

from __future__ import annotations

import importlib.metadata
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from headwater.errors import EnvironmentBuildError
from headwater.plan.environments import (
    check_current_interpreter,
    clear_cache,
    environment_digest,
    is_provided,
    normalize_spec,
)

RUNNING = f"{sys.version_info.major}.{sys.version_info.minor}"
PACKAGING_MAJOR = importlib.metadata.version("packaging").split(".")[0]


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    clear_cache()
    yield
    clear_cache()


def fake_distribution(root: Path, name: str, version: str, requires: tuple[str, ...] = ()) -> Path:
    """A minimal installed distribution (``<name>-<version>.dist-info/METADATA``) under ``root``."""
    info = root / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    lines += [f"Requires-Dist: {r}" for r in requires]
    (info / "METADATA").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


# -- digest ------------------------------------------------------------------------------------


def test_digest_ignores_package_order_name_and_version() -> None:
    a = {"name": "a", "version": "1", "pip_packages": ["pandas>=2", "numpy"], "conda_packages": ["x", "y"]}
    b = {"name": "b", "version": "7", "pip_packages": ["numpy", "pandas>=2"], "conda_packages": ["y", "x"]}
    assert environment_digest(a) == environment_digest(b)


def test_digest_changes_when_a_package_changes() -> None:
    base = {"pip_packages": ["pandas>=2", "numpy"]}
    assert environment_digest(base) != environment_digest({"pip_packages": ["pandas>=2.1", "numpy"]})
    assert environment_digest(base) != environment_digest({"pip_packages": ["pandas>=2"]})
    assert environment_digest(base) != environment_digest({**base, "python_version": "3.11"})
    assert environment_digest(base) != environment_digest({**base, "environment_variables": {"A": "1"}})


def test_digest_ignores_unused_docker_settings() -> None:
    base = {"pip_packages": ["numpy"]}
    docker = {**base, "docker": {"enabled": True, "base_image": "my/image:1", "shm_size": "8g"}}
    assert environment_digest(base) == environment_digest(docker)
    assert environment_digest(base) != environment_digest({**base, "user_managed_dependencies": True})
    assert environment_digest(base) != environment_digest({**base, "interpreter_path": "/opt/py/bin/python"})


def test_digest_keeps_channel_order() -> None:
    one = {"channels": ["conda-forge", "defaults"]}
    two = {"channels": ["defaults", "conda-forge"]}
    assert environment_digest(one) != environment_digest(two)


def test_missing_keys_take_defaults() -> None:
    assert environment_digest({}) == environment_digest(normalize_spec({}))
    assert normalize_spec({"pip_packages": ["  numpy ", ""]})["pip_packages"] == ["numpy"]


# -- satisfaction ------------------------------------------------------------------------------


def test_an_installed_package_with_a_satisfied_specifier_is_satisfied() -> None:
    result = check_current_interpreter({"pip_packages": [f"packaging>={PACKAGING_MAJOR}", "numpy"]})
    assert result.satisfied
    assert result.interpreter == os.path.abspath(sys.executable)
    assert result.missing == []


def test_unsatisfiable_and_absent_packages_are_both_listed() -> None:
    result = check_current_interpreter({"pip_packages": ["pandas<0.1", "no-such-package-xyz"]})
    assert not result.satisfied
    assert result.interpreter is None
    installed = importlib.metadata.version("pandas")
    assert result.missing == [f"pandas<0.1 (installed: {installed})", "no-such-package-xyz (not installed)"]


def test_azureml_packages_are_provided_with_notices() -> None:
    spec = {
        "pip_packages": ["azureml-sdk", "azureml-dataprep[fuse,pandas]", "azureml-pipeline-steps==1.62.0"],
        "conda_packages": ["azureml-core"],
    }
    result = check_current_interpreter(spec)
    assert result.satisfied
    assert "azureml-sdk is provided by Headwater; not installed" in result.notices
    assert "azureml-dataprep[fuse,pandas] is provided by Headwater; not installed" in result.notices
    assert len(result.notices) == 4
    assert all(is_provided(n) for n in ("azureml-core", "AzureML_Defaults", "azureml-train-automl-client"))
    assert not is_provided("azure-ai-ml")


def test_python_version_mismatch_is_missing() -> None:
    result = check_current_interpreter({"python_version": "2.7"})
    assert not result.satisfied
    assert result.missing == [f"python=2.7 (running: {RUNNING}.{sys.version_info.micro})"]
    assert check_current_interpreter({"python_version": RUNNING}).satisfied
    assert check_current_interpreter({"conda_packages": [f"python={RUNNING}"]}).satisfied
    assert check_current_interpreter({"conda_packages": ["python>=3.8,<4"]}).satisfied
    assert not check_current_interpreter({"conda_packages": ["python=3.1"]}).satisfied


def test_conda_packages_are_checked_by_their_pip_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(fake_distribution(tmp_path, "torch", "1.10.2")))
    ok = check_current_interpreter(
        {"conda_packages": ["pip", "pip=23", "numpy>=1", "conda-forge::pytorch=1.10=py38_0", "pytorch 1.10.*"]}
    )
    assert ok.satisfied, ok.missing
    bad = check_current_interpreter({"conda_packages": ["numpy=0.1", "cudatoolkit=11.3"]})
    numpy = importlib.metadata.version("numpy")
    assert bad.missing == [
        f"numpy=0.1 (installed: {numpy})",
        "cudatoolkit=11.3 (conda package; not installed as 'cudatoolkit')",
    ]


def test_markers_are_evaluated() -> None:
    spec = {"pip_packages": ["no-such-package-xyz; python_version < '3'", "numpy; python_version >= '3'"]}
    assert check_current_interpreter(spec).satisfied


def test_extras_requirements_are_checked_one_level_deep(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    requires = ("numpy", "no-such-package-xyz>=1; extra == 'fast'", "packaging; extra == 'slim'")
    monkeypatch.syspath_prepend(str(fake_distribution(tmp_path, "fakepkg", "1.0", requires)))
    assert check_current_interpreter({"pip_packages": ["fakepkg[slim]==1.0"]}).satisfied
    result = check_current_interpreter({"pip_packages": ["fakepkg[fast]"]})
    assert result.missing == ["no-such-package-xyz>=1 (not installed)"]


def test_unparseable_requirements_are_missing() -> None:
    result = check_current_interpreter({"pip_packages": ["git+https://example.invalid/repo.git"]})
    assert not result.satisfied
    assert "cannot be checked" in result.missing[0]


def test_results_are_cached_per_digest_until_cleared(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = {"pip_packages": ["latepkg"]}
    assert not check_current_interpreter(spec).satisfied
    monkeypatch.syspath_prepend(str(fake_distribution(tmp_path, "latepkg", "2.0")))
    assert not check_current_interpreter(spec).satisfied  # cached for this process
    clear_cache()
    assert check_current_interpreter(spec).satisfied


def test_cached_results_are_not_shared_mutable_lists() -> None:
    first = check_current_interpreter({"pip_packages": ["no-such-package-xyz"]})
    first.missing.append("tampered")
    assert check_current_interpreter({"pip_packages": ["no-such-package-xyz"]}).missing == [
        "no-such-package-xyz (not installed)"
    ]


# -- user-managed ------------------------------------------------------------------------------


def test_user_managed_python_means_this_interpreter_by_absolute_path() -> None:
    result = check_current_interpreter(
        {"user_managed_dependencies": True, "interpreter_path": "python", "pip_packages": ["no-such-package-xyz"]}
    )
    assert result.satisfied
    assert result.interpreter == os.path.abspath(sys.executable)
    assert os.path.isabs(result.interpreter)
    assert result.missing == []
    assert "neither checked nor installed" in result.notices[0]


def test_user_managed_absolute_path_is_used_as_is() -> None:
    spec = {"user_managed_dependencies": True, "interpreter_path": sys.executable}
    assert check_current_interpreter(spec).interpreter == sys.executable


def test_user_managed_missing_interpreter_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(EnvironmentBuildError, match="does not exist"):
        check_current_interpreter({"user_managed_dependencies": True, "interpreter_path": str(tmp_path / "py")})
    with pytest.raises(EnvironmentBuildError, match="not found on PATH"):
        check_current_interpreter({"user_managed_dependencies": True, "interpreter_path": "no-such-python-xyz"})


def test_user_managed_name_is_found_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    exe = tmp_path / "bin" / "mypython"
    exe.parent.mkdir()
    exe.write_text("#!/bin/sh\n", encoding="utf-8")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", str(exe.parent) + os.pathsep + os.environ.get("PATH", ""))
    result = check_current_interpreter({"user_managed_dependencies": True, "interpreter_path": "mypython"})
    assert result.interpreter == str(exe)
