"""Warm step starts on every Python a step may run on (3.8 on): a built environment's step is
forked by a step server running on that environment's interpreter, which finds Headwater's
runtime through the link folder the executor puts on the step's PYTHONPATH, and the script sees
what it sees when that interpreter starts it fresh."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from headwater._paths import COMPAT_SHIM_DIR
from headwater.engine.executors.base import TaskSpec
from headwater.engine.executors.warm_start import MODE_ENV
from headwater.engine.launch import runtime_link_dir
from tests.engine.test_warm_start import Steps, steps  # noqa: F401  (the fixture)
from tests.runtime.test_old_pythons import STEP_PYTHONS, interpreter

pytestmark = [pytest.mark.slow, pytest.mark.skipif(sys.platform != "linux", reason="warm starts are Linux-only")]


class EnvSteps(Steps):
    """:class:`Steps` whose tasks run on another interpreter, as a built environment's do."""

    python: str = sys.executable

    def spec(
        self, *args: str, env: dict[str, str] | None = None, timeout: float | None = None, step: str = "probe"
    ) -> TaskSpec:
        task = super().spec(*args, env=env, timeout=timeout, step=step)
        return dataclasses.replace(task, argv=(self.python, *task.argv[1:]))


@pytest.fixture
def env_steps(steps: Steps, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[EnvSteps]:  # noqa: F811
    link = runtime_link_dir(tmp_path / "linkws")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(COMPAT_SHIM_DIR), str(link)]))
    out = EnvSteps.__new__(EnvSteps)
    out.__dict__.update(steps.__dict__)
    yield out


@pytest.mark.parametrize("version", STEP_PYTHONS, ids=lambda v: f"{v[0]}.{v[1]}")
def test_a_built_environments_step_is_forked_on_its_own_python(env_steps: EnvSteps, version: tuple[int, int]) -> None:
    env_steps.python = interpreter(version).path
    env_steps.warm_up()
    warm = json.loads(env_steps.run("probe", "a b")[1])
    fresh = json.loads(env_steps.run("probe", "a b", env={MODE_ENV: "exec"})[1])
    assert warm["ppid"] != os.getpid() and fresh["ppid"] == os.getpid()
    fresh["info"]["env"].pop(MODE_ENV)
    for probe in (warm, fresh):
        probe["info"]["env"].pop("AZUREML_RUN_ID")
    for key, value in fresh["info"].items():
        assert warm["info"][key] == value, key
