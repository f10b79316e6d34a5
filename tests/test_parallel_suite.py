"""`make test` runs the suite in pytest-xdist workers, slow tests first; `-p no:xdist` stays a serial run."""

from __future__ import annotations

import shutil
import subprocess
import tomllib
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]


def _make(*args: str) -> str:
    """The commands ``make`` would run (``-n``: printed, not run; the installs count as done)."""
    make = shutil.which("make")
    assert make is not None, "make is missing"
    done = subprocess.run(
        [make, "-n", "-o", ".venv/.installed-dev", "-o", "services", "-o", "lint", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def test_the_dev_extra_has_pytest_xdist_with_a_lower_bound() -> None:
    dev = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["dev"]
    xdist = [Requirement(r) for r in dev if Requirement(r).name == "pytest-xdist"]
    assert len(xdist) == 1 and any(spec.operator == ">=" for spec in xdist[0].specifier), dev


@pytest.mark.parametrize(("target", "tail"), [("test", ""), ("test-fast", ' -m "not slow"')])
def test_make_runs_the_suite_in_two_workers_or_serially_when_told(target: str, tail: str) -> None:
    assert ".venv/bin/python -m pytest -n 2 --dist load" + tail in _make(target)
    assert ".venv/bin/python -m pytest -n 3 --dist load" + tail in _make(target, "TEST_WORKERS=3")
    assert ".venv/bin/python -m pytest -p no:xdist" + tail in _make(target, "TEST_WORKERS=0")


class _Item:
    def __init__(self, name: str, slow: bool) -> None:
        self.name = name
        self.marks = [pytest.mark.slow.mark] if slow else []

    def get_closest_marker(self, name: str) -> object:
        return next((mark for mark in self.marks if mark.name == name), None)


def _collected(config: object) -> list[_Item]:
    from tests.conftest import pytest_collection_modifyitems

    items = [_Item("a", False), _Item("b", True), _Item("c", False), _Item("d", True)]
    pytest_collection_modifyitems(cast(Any, config), cast(Any, items))
    return items


def test_an_xdist_worker_runs_the_slow_tests_first_and_a_serial_run_keeps_the_order() -> None:
    assert [i.name for i in _collected(SimpleNamespace(workerinput={"workerid": "gw0"}))] == ["b", "d", "a", "c"]
    assert [i.name for i in _collected(SimpleNamespace())] == ["a", "b", "c", "d"]


def test_make_installs_with_uv_and_pip_when_told() -> None:
    make = shutil.which("make")
    assert make is not None, "make is missing"

    def install(*args: str) -> str:
        return subprocess.run(
            [make, "-n", "-W", "pyproject.toml", ".venv/.installed-dev", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    assert ".venv/bin/uv pip install --python .venv/bin/python --quiet -e '.[dev]'" in install()
    pip = install("INSTALL=.venv/bin/python -m pip install")
    assert ".venv/bin/python -m pip install --quiet -e '.[dev]'" in pip and "uv pip" not in pip
