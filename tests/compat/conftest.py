"""Fixtures for the azureml compatibility layer: the layer switched on in this process, then off again."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from headwater.compat import auth
from headwater.compat.activate import shim_path
from tests.e2e.conftest import proj, pws  # noqa: F401  (fixtures shared with e2e)


def _forget_azureml() -> None:
    for name in list(sys.modules):
        if name == "azureml" or name.startswith("azureml."):
            del sys.modules[name]


@pytest.fixture
def azureml_on(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The shim at ``sys.path[0]``; afterwards ``sys.path`` is restored and every ``azureml`` module forgotten."""
    _forget_azureml()
    monkeypatch.setattr(sys, "path", [str(shim_path()), *sys.path])
    monkeypatch.setattr(auth, "_noticed", False)
    yield shim_path()
    _forget_azureml()


@pytest.fixture
def restore_sys_path(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """For tests that call activate() themselves: ``sys.path`` and the ``azureml`` modules are put back."""
    _forget_azureml()
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setattr(auth, "_noticed", False)
    yield
    _forget_azureml()


def fake_distribution(site: Path, name: str = "azureml-core", version: str = "1.61.0") -> Path:
    """A minimal installed distribution: ``<site>/<name>-<version>.dist-info/METADATA``."""
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", encoding="utf-8")
    return info
