"""Which ParallelRunStep workers are forked from the worker server, and the server's environment
(runtime/parallel_warm.py; the forked workers themselves: tests/e2e/test_parallel_run_step_warm.py)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from headwater import layout
from headwater._paths import COMPAT_SHIM_DIR
from headwater.runtime import parallel_warm
from headwater.runtime.parallel_warm import MODE_ENV, Starter, record_path, starter


def _env(tmp_path: Path, **more: str) -> dict[str, str]:
    return {"AZUREML_WORKSPACE_ID": str(tmp_path), "AZUREML_RUN_ID": "run-1", "PATH": os.environ["PATH"], **more}


def test_the_runtime_link_name_agrees_with_the_layout() -> None:
    assert parallel_warm._RUNTIME_LINK_DIR == layout.RUNTIME_LINK_DIR


def test_the_names_shared_with_the_step_servers_agree() -> None:
    from headwater.engine.executors import warm_start
    from headwater.runtime import step_server

    assert parallel_warm.LEAN == step_server.LEAN
    assert parallel_warm.SERVERS_ENV == warm_start.SERVERS_ENV
    assert parallel_warm.IDLE_ENV == warm_start.IDLE_ENV


def test_the_import_set_is_the_one_a_step_server_would_take(tmp_path: Path) -> None:
    from headwater.engine.executors.warm_start import import_set

    record: dict[str, object] = {
        "modules": ["pandas", "sklearn.linear_model", "numpy", "colorsys"],
        "skip": ["sklearn"],
    }
    path = tmp_path / "r.json"
    path.write_text(json.dumps(record))
    assert parallel_warm._import_set(str(path)) == import_set(record) == ["colorsys", "numpy", "pandas"]


@pytest.mark.parametrize(
    ("more", "forked"),
    [
        ({}, sys.platform == "linux"),
        ({MODE_ENV: "exec"}, False),
        ({MODE_ENV: " EXEC "}, False),
        ({"RAY_ADDRESS": "127.0.0.1:6379"}, sys.platform == "linux"),  # a user's Ray address, a local step: still warm
        ({"HEADWATER_RAY_TASK_MARKER": "m"}, False),  # any step on a Ray target
        ({"HEADWATER_PARALLEL_NODE_ROLE": "node"}, False),  # a node driver
        ({"HEADWATER_PARALLEL_NODE_LAUNCHER": "[]"}, False),  # the coordinator of node drivers
        ({"PYTHONPATH": f"/envs/{layout.RUNTIME_LINK_DIR}"}, False),  # a built environment's interpreter
    ],
)
def test_workers_are_forked_only_on_headwaters_own_interpreter_on_this_machine(
    tmp_path: Path, more: dict[str, str], forked: bool
) -> None:
    made = starter(_env(tmp_path, **more), "score.py")
    assert (made is not None) == forked
    if made is not None:
        made.close()


def test_without_a_workspace_here_workers_start_fresh(tmp_path: Path) -> None:
    env = _env(tmp_path)
    del env["AZUREML_WORKSPACE_ID"]
    assert starter(env, "score.py") is None
    assert starter(_env(tmp_path / "elsewhere"), "score.py") is None  # shipped to another machine


def test_the_record_is_per_experiment_and_entry_script_not_per_run(tmp_path: Path) -> None:
    env = _env(tmp_path, AZUREML_ARM_PROJECT_NAME="score")
    path = record_path(env, "batch/score.py")
    assert path == record_path({**env, "AZUREML_RUN_ID": "run-2"}, "batch/score.py")
    assert path != record_path({**env, "AZUREML_ARM_PROJECT_NAME": "other"}, "batch/score.py")
    assert Path(path).parent == tmp_path / parallel_warm.RECORDS_DIR


def test_the_server_environment_names_no_step_and_keeps_imports_thread_free(tmp_path: Path) -> None:
    env = _env(
        tmp_path, PYTHONPATH=os.pathsep.join([str(COMPAT_SHIM_DIR), "/user/lib"]), HEADWATER_PARALLEL_PROCESS="x"
    )
    server = Starter._server_env(env)
    assert not [k for k in server if k.startswith(("AZUREML_", "HEADWATER_PARALLEL"))]  # not one of the step's
    assert server["PYTHONPATH"] == str(COMPAT_SHIM_DIR)  # the user's entries come with each worker
    assert server["OPENBLAS_NUM_THREADS"] == "1" and "background_thread:false" in server["JE_ARROW_MALLOC_CONF"]
