"""Issue #12, items 6 and 8: an orchestrator's liveness, and every process a step started.

* A stalled orchestrator (SIGSTOP: a laptop suspend, a paused VM) is alive: reading its run while
  it is stopped leaves the run Running and its step alive, whatever the heartbeat's age; after
  SIGCONT the run ends Finished.
* A dead orchestrator (SIGKILL) is known for sure on the next read: the run becomes Failed, every
  process of its steps (also one that started its own session) is stopped, their staging folders
  are removed, and that final status never changes afterwards.
* Cancel stops a step's descendants that left its process group.

All with real processes and signals; waits are bounded polls on conditions, never timings.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from headwater import Experiment, OutputFileDatasetConfig, Pipeline, PythonScriptStep, ScriptRunConfig, Workspace
from headwater.cli.main import cli
from headwater.engine.orchestrator import HEARTBEAT_SECONDS
from tests.conftest import alive, gen

pytestmark = pytest.mark.slow

# `python work.py <pid file> <gate file> [--daemon] [--out DIR]`: writes its pid (and its daemon's)
# to the pid file, then waits until the gate file exists (at most two minutes).
WORK = """
import argparse, os, subprocess, sys, time
p = argparse.ArgumentParser()
p.add_argument("pid_file"); p.add_argument("gate")
p.add_argument("--daemon", action="store_true"); p.add_argument("--out")
a = p.parse_args()
pids = [os.getpid()]
if a.daemon:  # a daemon-like worker in a session of its own: a signal to the step's group misses it
    pids.append(subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"],
                                 start_new_session=True).pid)
if a.out:
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "partial.txt"), "w") as fh:
        fh.write("half")
with open(a.pid_file + ".tmp", "w") as fh:
    fh.write(" ".join(map(str, pids)))
os.replace(a.pid_file + ".tmp", a.pid_file)
deadline = time.monotonic() + 120
while not os.path.exists(a.gate) and time.monotonic() < deadline:
    time.sleep(0.05)
print("done")
"""


@pytest.fixture
def src(proj: Path) -> Path:
    gen(proj, {"src": {"work.py": WORK}})
    return proj


def poll(condition: Any, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting: {what}"
        time.sleep(0.05)


def wait_for_pids(path: Path) -> list[int]:
    poll(path.exists, f"{path} written by the step")
    return [int(p) for p in path.read_text().split()]


def processes_of(run_ids: set[str]) -> list[int]:
    """Live processes whose environment names one of ``run_ids`` (every step process inherits it)."""
    needles = {f"AZUREML_RUN_ID={r}".encode() for r in run_ids}
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(os.path.join(entry.path, "environ"), "rb") as fh:
                env = set(fh.read().split(b"\0"))
        except OSError:
            continue
        if env & needles and alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def orchestrator_of(ws: Workspace, run_id: str) -> int:
    return int(ws.metadata_store.get_run(run_id).definition["orchestrator_pid"])


def heartbeat_age(ws: Workspace, run_id: str) -> float:
    beat = ws.metadata_store.get_run(run_id).heartbeat_at
    return float("inf") if beat is None else (datetime.now(UTC) - datetime.fromisoformat(beat)).total_seconds()


@contextmanager
def stopped(pid: int) -> Iterator[None]:
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def show(run_id: str) -> dict[str, Any]:
    """``headwater run show RUN_ID --json`` (in-process), parsed."""
    result = CliRunner().invoke(cli, ["run", "show", run_id, "-w", "pipelines", "--json"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


@pytest.fixture
def short_stale_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    """The old rule called an orchestrator dead when its heartbeat was older than 30 s; a short
    threshold shows, without waiting 30 s, that no heartbeat age is taken for death any more."""
    import headwater.ops.runs

    monkeypatch.setattr(headwater.ops.runs, "ORCHESTRATOR_STALE_SECONDS", 1.0)


def work_step(tmp_path: Path, *extra: Any) -> PythonScriptStep:
    return PythonScriptStep(
        "work.py",
        name="work",
        source_directory="src",
        arguments=[str(tmp_path / "work.pid"), str(tmp_path / "gate"), *extra],
    )


@pytest.mark.usefixtures("short_stale_threshold")
def test_a_stopped_orchestrator_is_alive_and_its_run_finishes_after_sigcont(
    src: Path, pws: Workspace, tmp_path: Path
) -> None:
    run = Experiment(pws, "live").submit(Pipeline(pws, steps=[work_step(tmp_path)]))
    (step_pid,) = wait_for_pids(tmp_path / "work.pid")
    orchestrator = orchestrator_of(pws, run.id)
    with stopped(orchestrator):
        poll(lambda: heartbeat_age(pws, run.id) > 4 * HEARTBEAT_SECONDS, "several missed heartbeats")
        shown = show(run.id)
        assert shown["status"] == "Running"
        assert [s["status"] for s in shown["steps"]] == ["Running"]
        assert run.get_status() == "Running"
        assert alive(step_pid) and alive(orchestrator)
    (tmp_path / "gate").write_text("go")
    assert run.wait_for_completion(show_output=False) == "Finished"
    assert run.find_step_run("work")[0].get_status() == "Finished"


@pytest.mark.usefixtures("short_stale_threshold")
def test_a_stopped_script_run_orchestrator_is_alive_too(src: Path, pws: Workspace, tmp_path: Path) -> None:
    config = ScriptRunConfig("src", "work.py", arguments=[str(tmp_path / "work.pid"), str(tmp_path / "gate")])
    run = Experiment(pws, "live").submit(config)
    (step_pid,) = wait_for_pids(tmp_path / "work.pid")
    orchestrator = orchestrator_of(pws, run.id)
    with stopped(orchestrator):
        poll(lambda: heartbeat_age(pws, run.id) > 4 * HEARTBEAT_SECONDS, "several missed heartbeats")
        assert show(run.id)["status"] == "Running"
        assert run.get_status() == "Running"
        assert alive(step_pid)
    (tmp_path / "gate").write_text("go")
    assert run.wait_for_completion()["status"] == "Completed"


def test_a_killed_orchestrator_fails_its_run_on_the_next_read_and_leaves_nothing_behind(
    src: Path, pws: Workspace, tmp_path: Path
) -> None:
    out = OutputFileDatasetConfig(name="work_out")
    run = Experiment(pws, "dead").submit(Pipeline(pws, steps=[work_step(tmp_path, "--daemon", "--out", out)]))
    pids = wait_for_pids(tmp_path / "work.pid")
    step_run = run.find_step_run("work")[0]
    staging = Path(pws.folder) / "runs" / step_run.id / "staging"
    assert (staging / "work_out" / "partial.txt").exists()
    orchestrator = orchestrator_of(pws, run.id)
    os.kill(orchestrator, signal.SIGKILL)
    poll(lambda: not alive(orchestrator), "the orchestrator to be gone")

    shown = show(run.id)  # the read that learns, for sure, that the orchestrator is dead
    assert shown["status"] == "Failed"
    assert [s["status"] for s in shown["steps"]] == ["Canceled"]
    poll(lambda: not any(alive(p) for p in pids), "the step and its own-session daemon to be stopped", 30)
    assert processes_of({run.id, step_run.id}) == []
    assert not staging.exists()
    # a final status stays final: later reads (and writes without reopen) change nothing
    pws.metadata_store.update_run(run.id, status="Running")
    assert run.get_status() == "Failed"
    assert show(run.id)["status"] == "Failed"


def test_a_killed_script_run_orchestrator_fails_the_run_and_stops_its_processes(
    src: Path, pws: Workspace, tmp_path: Path
) -> None:
    arguments = [str(tmp_path / "work.pid"), str(tmp_path / "gate"), "--daemon"]
    config = ScriptRunConfig("src", "work.py", arguments=arguments)
    run = Experiment(pws, "dead").submit(config)
    pids = wait_for_pids(tmp_path / "work.pid")
    orchestrator = orchestrator_of(pws, run.id)
    os.kill(orchestrator, signal.SIGKILL)
    poll(lambda: not alive(orchestrator), "the orchestrator to be gone")
    assert run.get_status() == "Failed"
    poll(lambda: not any(alive(p) for p in pids), "the script and its own-session daemon to be stopped", 30)
    assert not (Path(pws.folder) / "runs" / run.id / "staging").exists()


def test_cancel_stops_a_descendant_that_started_its_own_session(src: Path, pws: Workspace, tmp_path: Path) -> None:
    run = Experiment(pws, "cancel").submit(Pipeline(pws, steps=[work_step(tmp_path, "--daemon")]))
    step_pid, daemon = wait_for_pids(tmp_path / "work.pid")
    assert alive(daemon)
    run.cancel()
    assert run.wait_for_completion(show_output=False) == "Canceled"
    poll(lambda: not alive(step_pid) and not alive(daemon), "the step and its daemon to be stopped", 30)


def test_a_daemon_left_by_a_finished_step_is_stopped_before_its_outputs_are_committed(
    src: Path, pws: Workspace, tmp_path: Path
) -> None:
    (tmp_path / "gate").write_text("open from the start")
    out = OutputFileDatasetConfig(name="work_out")
    run = Experiment(pws, "leftover").submit(Pipeline(pws, steps=[work_step(tmp_path, "--daemon", "--out", out)]))
    assert run.wait_for_completion(show_output=False) == "Finished"
    _step_pid, daemon = wait_for_pids(tmp_path / "work.pid")
    assert not alive(daemon)  # stopped when its step ended, before the commit: nothing writes there any more


def test_a_stale_heartbeat_of_a_live_orchestrator_is_not_death_but_a_gone_process_is(pws: Workspace) -> None:
    """Records without a lock file (an older Headwater's, or an orchestrator still starting):
    the orchestrator's pid and start time decide, never the heartbeat's age."""
    from headwater.ops.runs import refresh_status
    from headwater.store.records import RunRecord

    store = pws.metadata_store
    experiment = store.get_or_create_experiment("live")
    old = "2000-01-01T00:00:00+00:00"
    store.create_run(
        RunRecord(
            id="alive",
            experiment_id=experiment.id,
            kind="pipeline",
            status="Running",
            heartbeat_at=old,
            definition={"orchestrator_pid": os.getpid()},
        )
    )
    assert refresh_status(store, "alive").status == "Running"

    gone = _a_pid_that_is_gone()
    store.create_run(
        RunRecord(
            id="gone",
            experiment_id=experiment.id,
            kind="pipeline",
            status="Running",
            heartbeat_at=old,
            definition={"orchestrator_pid": gone},
        )
    )
    store.create_run(
        RunRecord(
            id="gone-step", experiment_id=experiment.id, kind="step", status="Running", parent_id="gone", name="s"
        )
    )
    assert refresh_status(store, "gone").status == "Failed"
    assert store.get_run("gone-step").status == "Canceled"

    # the pid is taken again by another process (its start time differs): that is death too
    store.create_run(
        RunRecord(
            id="reused",
            experiment_id=experiment.id,
            kind="pipeline",
            status="Running",
            definition={"orchestrator_pid": os.getpid(), "orchestrator_start": "1"},
        )
    )
    assert refresh_status(store, "reused").status == "Failed"


def _a_pid_that_is_gone() -> int:
    import subprocess

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.mark.postgres
@pytest.mark.usefixtures("short_stale_threshold")
def test_on_postgresql_a_reader_on_another_machine_asks_the_orchestrators_session_lock(
    src: Path, headwater_home: Path, postgres_url: str, tmp_path: Path
) -> None:
    """Neither the orchestrator's process nor its run folder's flock can be seen from another
    machine; its session advisory lock in PostgreSQL can. (The record is made to name another
    host, which is what such a reader sees.)"""
    with Workspace.create("pg", metadata_url=postgres_url) as ws:
        run = Experiment(ws, "live").submit(Pipeline(ws, steps=[work_step(tmp_path)]))
        (step_pid,) = wait_for_pids(tmp_path / "work.pid")
        poll(lambda: "orchestrator_pg_lock" in ws.metadata_store.get_run(run.id).definition, "the session lock taken")
        ws.metadata_store.merge_run_definition(run.id, {"orchestrator_host": "another-machine"})
        orchestrator = orchestrator_of(ws, run.id)
        with stopped(orchestrator):
            poll(lambda: heartbeat_age(ws, run.id) > 4 * HEARTBEAT_SECONDS, "several missed heartbeats")
            assert run.get_status() == "Running"
        os.kill(orchestrator, signal.SIGKILL)
        poll(lambda: not alive(orchestrator), "the orchestrator to be gone")
        poll(lambda: run.get_status() != "Running", "the server to end the orchestrator's session", 30)
        assert run.get_status() == "Failed"
        assert run.find_step_run("work")[0].get_status() == "Canceled"
        poll(lambda: not alive(step_pid), "the step to be stopped", 30)
