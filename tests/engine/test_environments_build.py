"""The environment builder: reuse of the running Python, uv builds keyed by digest, locking, pruning.

Tests marked ``slow`` build real environments with uv, installing tiny pinned packages
(``six``, ``tomli-w``) that Headwater's own environment does not have.
"""

from __future__ import annotations

import io
import json
import multiprocessing
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import headwater.engine.environments as envs
from headwater.engine.env_requirements import DATA_PACKAGES, install_plan
from headwater.engine.environments import MARKER, ensure_environment, list_environments, prune
from headwater.engine.interpreters import Interpreter, choose_interpreter, find_interpreters
from headwater.errors import EnvironmentBuildError
from headwater.plan.environments import environment_digest
from tests.engine import _env_workers

SIX = {"pip_packages": ["six==1.16.0"]}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "environments"


@pytest.fixture
def uv_calls(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every uv command line the builder runs (a spy around ``_run_uv``)."""
    calls: list[list[str]] = []
    real = envs._run_uv

    def spy(command: list[str], *args: Any, **kwargs: Any) -> list[str]:
        calls.append(command)
        return real(command, *args, **kwargs)

    monkeypatch.setattr(envs, "_run_uv", spy)
    return calls


def _run(python: str, code: str) -> str:
    return subprocess.run([python, "-c", code], check=True, capture_output=True, text=True).stdout.strip()


def test_the_running_python_does_not_satisfy_the_specs_these_tests_build() -> None:
    """The slow tests rely on this: otherwise the running Python would satisfy their specs.
    (``six`` may be installed as a dependency of another package, but not at 1.16.0.)"""
    from headwater.plan.environments import check_current_interpreter

    assert not check_current_interpreter(SIX).satisfied
    assert not check_current_interpreter({"pip_packages": ["tomli-w==1.0.0"]}).satisfied


def test_a_satisfied_spec_uses_the_running_interpreter_without_building(root: Path, uv_calls: list[list[str]]) -> None:
    spec = {"pip_packages": ["packaging>=20", "azureml-defaults"]}
    built = ensure_environment(spec, root)
    assert built.interpreter == str(Path(sys.executable).absolute())
    assert built.path is None and built.reused and built.lock == {}
    assert built.digest == environment_digest(spec)
    assert any("azureml-defaults" in n for n in built.notices)
    assert uv_calls == [] and not root.exists()


def test_install_plan_translates_conda_azureml_extras_and_options() -> None:
    plan = install_plan(
        {
            "python_version": None,
            "pip_packages": ["six==1.16.0", "azureml-dataset-runtime[pandas,fuse]", "azureml-core", "--pre"],
            "pip_options": ["--extra-index-url https://example.invalid/simple", "--trusted-host example.invalid"],
            "pip_index_url": "https://index.invalid/simple",
            "conda_packages": ["python=3.8", "pip=23", "pytorch=2.1", "scikit-learn", "conda-forge::numpy=1.26"],
        }
    )
    assert plan.requirements == ["six==1.16.0", *DATA_PACKAGES, "torch==2.1.*", "scikit-learn", "numpy==1.26.*"]
    assert plan.python_version == "3.8"
    assert plan.uv_options == [
        "--index-url",
        "https://index.invalid/simple",
        "--extra-index-url",
        "https://example.invalid/simple",
        "--prerelease",
        "allow",
    ]
    text = "\n".join(plan.notices)
    assert "azureml-core is provided by Headwater" in text
    assert "--trusted-host" in text and "'torch'" in text


def test_interpreter_choice_prefers_the_running_python_and_falls_back_to_the_closest() -> None:
    running = Interpreter("3.11.7", "/py/3.11")
    found = [running, Interpreter("3.12.1", "/py/3.12"), Interpreter("3.8", "/py/3.8")]
    assert choose_interpreter(None, candidates=found) == (running, [])
    assert choose_interpreter("3.8.10", candidates=found) == (found[2], [])
    assert choose_interpreter(">=3.9", candidates=found) == (running, [])
    chosen, notices = choose_interpreter("3.7", candidates=found)
    assert chosen == found[2] and "Python 3.7" in notices[0] and "/py/3.8" in notices[0]
    chosen, _ = choose_interpreter("3.13", candidates=found)
    assert chosen == found[1]
    with pytest.raises(EnvironmentBuildError, match=r"Python 3\.7.*/py/3\.12"):
        choose_interpreter("3.7", strict=True, candidates=found)


def test_a_python_older_than_a_step_can_run_on_gets_the_nearest_supported_one_with_a_warning() -> None:
    running = Interpreter("3.11.7", "/py/3.11")
    found = [running, Interpreter("3.9.18", "/py/3.9"), Interpreter("3.8.18", "/py/3.8")]
    found += [Interpreter("3.7.16", "/py/3.7"), Interpreter("3.6.15", "/py/3.6")]
    for asked in ("3.6", "=3.6.2", "3.7", ">=3.6,<3.8"):  # SDK v1 conda specs; 3.6 and 3.7 are installed
        chosen, notices = choose_interpreter(asked, candidates=found)
        assert chosen == found[2], asked
        assert f"Python {asked} was asked for" in notices[0] and "Python 3.8.18 (/py/3.8)" in notices[0]
        assert "a step runs on Python 3.8 or later" in notices[0]
    assert choose_interpreter("3.8", candidates=found) == (found[2], [])
    assert choose_interpreter(">=3.6", candidates=found) == (running, [])
    assert choose_interpreter("3.6", candidates=[running, found[1]])[0] == found[1]  # no 3.8: the nearest
    with pytest.raises(EnvironmentBuildError, match=r"Python 3\.6, older than 3\.8, the oldest Python a step"):
        choose_interpreter("3.6", strict=True, candidates=found)


def test_an_environment_built_with_a_too_old_python_is_not_reused(root: Path) -> None:
    spec = {"python_version": "3.6", "pip_packages": ["six==1.16.0"]}
    digest = environment_digest(spec)
    for version, reused in (("3.6.15", False), ("3.8.18", True)):
        folder = root / digest
        (folder / "bin").mkdir(parents=True, exist_ok=True)
        record = {"digest": digest, "spec": spec, "python": {"requested": "3.6", "version": version}, "lock": {}}
        (folder / MARKER).write_text(json.dumps(record))
        assert (envs.find_built(spec, root) is not None) is reused, version


def test_find_interpreters_lists_the_running_python_first() -> None:
    found = find_interpreters()
    assert found[0].path == str(Path(sys.executable).absolute())
    assert found[0].minor == sys.version_info[:2]


@pytest.mark.slow
def test_a_missing_package_is_built_once_then_reused(root: Path, uv_calls: list[list[str]]) -> None:
    log = io.StringIO()
    built = ensure_environment(SIX, root, log=log)
    assert not built.reused and built.path == root / built.digest
    assert built.lock["six"] == "1.16.0"
    assert _run(built.interpreter, "import six, sys; print(six.__version__, sys.prefix)") == f"1.16.0 {built.path}"
    record = json.loads((root / built.digest / MARKER).read_text())
    assert record["digest"] == built.digest and record["lock"] == built.lock
    assert "Installed 1 package" in log.getvalue() and "+ six==1.16.0" in log.getvalue()
    assert [c[1] for c in uv_calls] == ["venv", "pip", "pip"]  # venv, install, freeze
    assert [p.name for p in root.iterdir() if p.is_dir()] == [built.digest]  # no build folder left

    uv_calls.clear()
    again = ensure_environment(SIX, root, log=io.StringIO())
    assert again.reused and again.interpreter == built.interpreter and again.lock == built.lock
    assert uv_calls == []
    assert [e.digest for e in list_environments(root)] == [built.digest]


@pytest.mark.slow
def test_an_incomplete_folder_is_replaced_not_reused(root: Path) -> None:
    partial = root / environment_digest(SIX)
    (partial / "bin").mkdir(parents=True)
    built = ensure_environment(SIX, root)
    assert not built.reused and (partial / MARKER).is_file()
    assert _run(built.interpreter, "import six; print(six.__version__)") == "1.16.0"


@pytest.mark.slow
def test_a_bad_requirement_fails_with_uvs_message_and_leaves_nothing(root: Path) -> None:
    spec = {"pip_packages": ["no-such-package-xyz-123==1.0"]}
    log = io.StringIO()
    with pytest.raises(EnvironmentBuildError) as caught:
        ensure_environment(spec, root, log=log)
    assert "no-such-package-xyz-123" in str(caught.value)
    assert "No solution found" in str(caught.value)
    assert "No solution found" in log.getvalue()  # streamed as well
    assert [p.name for p in root.iterdir()] == [f"{environment_digest(spec)}.lock"]
    assert list_environments(root) == []


@pytest.mark.slow
def test_azureml_data_extras_bring_pandas_pyarrow_and_fsspec(root: Path) -> None:
    spec = {"pip_packages": ["azureml-dataprep[pandas]", "azureml-core", "six==1.16.0"]}
    built = ensure_environment(spec, root)
    assert set(DATA_PACKAGES) <= set(built.lock)
    assert not any(name.startswith("azureml") for name in built.lock)
    assert _run(built.interpreter, "import pandas, pyarrow, fsspec; print('ok')") == "ok"
    assert any("data-access extras" in n for n in built.notices)


@pytest.mark.slow
def test_a_python_version_with_no_interpreter_builds_with_the_closest(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    running = Interpreter("{}.{}.{}".format(*sys.version_info[:3]), str(Path(sys.executable).absolute()))
    monkeypatch.setattr("headwater.engine.interpreters.find_interpreters", lambda: [running])
    spec = {"python_version": "3.7", "pip_packages": ["six==1.16.0"]}
    with pytest.raises(EnvironmentBuildError, match=r"Python 3\.7.*found"):
        ensure_environment(spec, root, strict_python=True)
    assert list_environments(root) == []

    log = io.StringIO()
    built = ensure_environment(spec, root, log=log)
    assert "Python 3.7 was asked for" in built.notices[0] and "Python 3.7 was asked for" in log.getvalue()
    assert _run(built.interpreter, "import sys; print(sys.version_info[:2])") == str(sys.version_info[:2])
    with pytest.raises(EnvironmentBuildError, match=r"Python 3\.7"):  # strict never takes the stand-in
        ensure_environment(spec, root, strict_python=True)


@pytest.mark.slow
def test_two_processes_build_one_environment_once(root: Path, tmp_path: Path) -> None:
    spec = {"pip_packages": ["tomli-w==1.0.0"]}
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    outs = [tmp_path / f"worker{i}.json" for i in range(2)]
    workers = [ctx.Process(target=_env_workers.ensure, args=(spec, str(root), barrier, str(o))) for o in outs]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert [w.exitcode for w in workers] == [0, 0]
    results = [json.loads(o.read_text()) for o in outs]
    assert sorted(r["reused"] for r in results) == [False, True]
    assert results[0]["interpreter"] == results[1]["interpreter"]
    assert results[0]["lock"] == results[1]["lock"] == {"tomli-w": "1.0.0"}
    logs = [o.with_suffix(".log").read_text() for o in outs]
    assert sum("$ uv venv" in text for text in logs) == 1


@pytest.mark.slow
def test_prune_removes_unkept_environments_but_not_one_being_built(root: Path) -> None:
    from filelock import FileLock

    kept = ensure_environment(SIX, root)
    dropped = ensure_environment({"pip_packages": ["tomli-w==1.0.0"]}, root)
    stale_build = root / f".build-{kept.digest}-x1"
    (stale_build / "env").mkdir(parents=True)
    busy_digest = "f" * 64
    (root / busy_digest).mkdir()  # an incomplete folder whose lock is held: being built
    with FileLock(str(root / f"{busy_digest}.lock")):
        assert prune(root, keep={kept.digest}) == []  # both just built (used): spared by default
        removed = prune(root, keep={kept.digest}, unused_for=0)
    assert removed == [dropped.digest]
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) == sorted([kept.digest, busy_digest])
    assert [e.digest for e in list_environments(root)] == [kept.digest]
    ensure_environment(SIX, root)  # used again: its marker says so
    assert prune(root, keep=set(), unused_for=3600) == [busy_digest]
    assert prune(root, keep=set(), unused_for=0) == [kept.digest]
    assert list_environments(root) == []
