"""``wait_for_completion``: how the waiting process learns that a run ended, and what a poll costs.

Real runs (a detached orchestrator, real step processes); no timing is asserted: the polls are
made an hour long, so a wait that returns learned the end another way.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from headwater import Experiment, Pipeline, PythonScriptStep, ScriptRunConfig, Workspace
from headwater.sdk import log_files, run_wait
from tests.conftest import gen
from tests.e2e.conftest import ran, script

HOUR = 3600.0


def _waited(run: object, seconds: float = 120.0) -> list[Any]:
    """What ``run.wait_for_completion()`` returned, if it returned within ``seconds`` (a bound, not a figure)."""
    done: list[Any] = []
    thread = threading.Thread(target=lambda: done.append(run.wait_for_completion()), daemon=True)  # type: ignore[attr-defined]
    thread.start()
    thread.join(seconds)
    return done


@pytest.fixture
def hour_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run_wait, "POLL_MIN_SECONDS", HOUR)
    monkeypatch.setattr(run_wait, "POLL_MAX_SECONDS", HOUR)


@pytest.mark.slow
@pytest.mark.usefixtures("hour_polls")
def test_a_pipeline_wait_wakes_when_the_orchestrator_lets_go_of_the_run(proj: Path, pws: Workspace) -> None:
    gen(proj, {"src": {"s.py": script("s", "import time\ntime.sleep(1)\n")}})
    step = PythonScriptStep(script_name="s.py", name="s", source_directory="src", allow_reuse=False)
    run = Experiment(pws, "wait").submit(Pipeline(pws, steps=[step]))
    assert _waited(run) == ["Finished"]
    assert ran(proj) == ["s"]


@pytest.mark.slow
@pytest.mark.usefixtures("hour_polls")
def test_a_script_run_wait_wakes_when_the_orchestrator_lets_go_of_the_run(proj: Path, pws: Workspace) -> None:
    gen(proj, {"src": {"s.py": script("s", "import time\ntime.sleep(1)\n")}})
    run = Experiment(pws, "wait").submit(ScriptRunConfig(source_directory="src", script="s.py"))
    assert [details["status"] for details in _waited(run)] == ["Completed"]  # SDK v1 returns the details
    assert ran(proj) == ["s"]


@pytest.mark.slow
def test_a_poll_does_not_open_every_steps_log_again(
    proj: Path, pws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each step's log is followed by one reader for the whole wait, not a new one per poll."""
    made: list[Path] = []

    class Counted(log_files.LogFollower):
        def __init__(self, path: Path) -> None:
            made.append(path)
            super().__init__(path)

    monkeypatch.setattr(log_files, "LogFollower", Counted)
    monkeypatch.setattr(run_wait, "POLL_MAX_SECONDS", run_wait.POLL_MIN_SECONDS)  # many polls
    gen(proj, {"src": {"a.py": script("a", "import time\ntime.sleep(1)\n"), "b.py": script("b")}})
    steps = [PythonScriptStep(script_name=f"{n}.py", name=n, source_directory="src", allow_reuse=False) for n in "ab"]
    run = Experiment(pws, "wait").submit(Pipeline(pws, steps=steps))
    assert run.wait_for_completion(show_output=True) == "Finished"
    assert len(made) <= 2 * len(steps), len(made)  # its log and its environment build log, once each
