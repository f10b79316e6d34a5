"""A run's orchestrator is forked from a single-threaded submitter, and keeps every promise of a
spawned one: it survives the submitter's SIGKILL (a session of its own), runs, logs and cancels;
it holds none of the submitter's descriptors. With a thread, an open SQLite database or
``HEADWATER_ORCHESTRATOR_START=spawn`` it is spawned as before."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from headwater import Workspace
from headwater.ops.orchestrator_fork import START_ENV
from tests.conftest import alive

GATE_STEP = """\
import os, sys, time
from pathlib import Path
Path(os.environ["GATE_DIR"], "started").write_text(str(os.getpid()))
for _ in range(1200):
    if Path(os.environ["GATE_DIR"], "open").exists():
        break
    time.sleep(0.05)
print("through the gate")
"""

SUBMITTER = """\
import json, sys, time
from headwater import Experiment, Pipeline, PythonScriptStep, Workspace
ws = Workspace.get("fork-ws", folder=sys.argv[1])
step = PythonScriptStep(script_name="gate.py", name="gate", source_directory=sys.argv[2], allow_reuse=False)
run = Experiment(ws, "fork").submit(Pipeline(ws, steps=[step]))
print(json.dumps({"run": run.id}), flush=True)
time.sleep(600)
"""

PENDING = """\
import sys, threading
if sys.argv[2] == "thread":
    threading.Thread(target=threading.Event().wait, daemon=True).start()
from headwater.ops.spawn import start_pending_run
print(start_pending_run(sys.argv[1]).pid, flush=True)
"""


def wait_for(condition: Callable[[], object], what: str, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def cmdline(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")[:-1]


def kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@pytest.fixture
def submitted(tmp_path: Path) -> Iterator[Callable[[], tuple[subprocess.Popen[str], str, Path]]]:
    """Starts ``python submitter.py`` (a one-step pipeline whose step waits at a gate); yields
    (the submitter, the run id, the gate folder)."""
    folder = tmp_path / "ws"
    Workspace.create("fork-ws", folder=folder).close()
    src = tmp_path / "src"
    src.mkdir()
    (src / "gate.py").write_text(GATE_STEP)
    (tmp_path / "submitter.py").write_text(SUBMITTER)
    gate = tmp_path / "gate"
    gate.mkdir()
    procs: list[subprocess.Popen[str]] = []

    def start() -> tuple[subprocess.Popen[str], str, Path]:
        env = {**os.environ, "GATE_DIR": str(gate)}
        env.pop(START_ENV, None)
        proc = subprocess.Popen(
            [sys.executable, str(tmp_path / "submitter.py"), str(folder), str(src)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=tmp_path,
        )
        procs.append(proc)
        assert proc.stdout is not None
        line = proc.stdout.readline()
        while line and not line.startswith("{"):  # submit's own "Submitted PipelineRun ..." comes first
            line = proc.stdout.readline()
        return proc, json.loads(line)["run"], gate

    yield start
    (gate / "open").write_text("")
    for proc in procs:
        kill(proc.pid)
        proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()


def orchestrator_of(ws: Workspace, run_id: str) -> int:
    record = ws.metadata_store.get_run(run_id)
    assert record is not None
    return int(record.definition["orchestrator_pid"])


@pytest.mark.slow
def test_a_forked_orchestrator_survives_the_submitter_s_sigkill_runs_and_logs(
    submitted: Callable[[], tuple[subprocess.Popen[str], str, Path]], tmp_path: Path
) -> None:
    submitter, run_id, gate = submitted()
    ws = Workspace.get("fork-ws", folder=tmp_path / "ws")
    try:
        orchestrator = orchestrator_of(ws, run_id)
        # Forked: the submitter's command line, no second interpreter; a session of its own.
        assert cmdline(orchestrator) == cmdline(submitter.pid)
        assert os.getsid(orchestrator) == orchestrator != os.getsid(submitter.pid)  # before its first step
        wait_for(lambda: (gate / "started").exists(), "the step to start")

        submitter.send_signal(signal.SIGKILL)
        submitter.wait()
        assert alive(orchestrator)
        (gate / "open").write_text("")
        run = ws.get_run(run_id)
        wait_for(lambda: run.get_status() == "Finished", "the run to finish")
        step_run = run.find_step_run("gate")[0]
        assert "through the gate" in Path(step_run.get_details()["logFiles"]["user_logs/std_log.txt"]).read_text()
        wait_for(lambda: not alive(orchestrator), "the orchestrator to end")
    finally:
        ws.close()


@pytest.mark.slow
def test_a_forked_orchestrator_cancels_its_run(
    submitted: Callable[[], tuple[subprocess.Popen[str], str, Path]], tmp_path: Path
) -> None:
    submitter, run_id, gate = submitted()
    ws = Workspace.get("fork-ws", folder=tmp_path / "ws")
    try:
        orchestrator = orchestrator_of(ws, run_id)
        assert cmdline(orchestrator) == cmdline(submitter.pid)
        wait_for(lambda: (gate / "started").exists(), "the step to start")
        run = ws.get_run(run_id)
        run.cancel()
        wait_for(lambda: run.get_status() == "Canceled", "the run to be canceled")
        assert not alive(int((gate / "started").read_text()))
        wait_for(lambda: not alive(orchestrator), "the orchestrator to end")
    finally:
        ws.close()


def _pending(tmp_path: Path, mode: str, **env: str) -> int:
    """Run a process that starts a waiting orchestrator (``mode`` "thread": with a second thread),
    its output captured to its end; the orchestrator's pid."""
    folder = tmp_path / "pending-ws"
    folder.mkdir(exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-c", PENDING, str(folder), mode],
        capture_output=True,
        text=True,
        env={k: v for k, v in {**os.environ, **env}.items() if k != START_ENV or k in env},
        timeout=60,  # a forked orchestrator holding the captured pipes would keep run() waiting 120 s
        check=True,
    )
    return int(done.stdout)


def test_a_single_threaded_submitter_forks_an_orchestrator_that_holds_none_of_its_descriptors(
    tmp_path: Path,
) -> None:
    pid = _pending(tmp_path, "plain")
    try:
        assert alive(pid)  # waiting for its plan
        assert "headwater.engine.orchestrator" not in cmdline(pid)  # forked, not a new interpreter
        wait_for(lambda: os.getsid(pid) == pid, "the orchestrator to lead a session of its own")
        held = {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
        assert not any(target.startswith("pipe:") for target in held)
    finally:
        kill(pid)


@pytest.mark.parametrize(("mode", "env"), [("thread", {}), ("plain", {START_ENV: "spawn"})])
def test_with_a_thread_or_when_asked_the_orchestrator_is_spawned(
    tmp_path: Path, mode: str, env: dict[str, str]
) -> None:
    pid = _pending(tmp_path, mode, **env)
    try:
        assert alive(pid)
        assert "headwater.engine.orchestrator" in cmdline(pid)
        wait_for(lambda: os.getsid(pid) == pid, "the orchestrator to lead a session of its own")
    finally:
        kill(pid)


_REFUSALS = """
import json, os, sqlite3, sys, threading
from contextlib import closing
from headwater.ops.orchestrator_fork import START_ENV, fork_refusal

seen = {"alone": fork_refusal()}
stop = threading.Event()
thread = threading.Thread(target=stop.wait)
thread.start()
seen["thread"] = fork_refusal()
stop.set()
thread.join()
with closing(sqlite3.connect(sys.argv[1])) as conn:
    conn.execute("CREATE TABLE t (x)")
    seen["sqlite"] = fork_refusal()
os.environ[START_ENV] = "spawn"
seen["setting"] = fork_refusal()
print(json.dumps(seen))
"""


def test_fork_refusal_names_threads_open_sqlite_databases_and_the_setting(tmp_path: Path) -> None:
    # In a fresh interpreter: this test process has threads of its own (libraries imported by
    # other tests start them), which would be refused first.
    env = {k: v for k, v in os.environ.items() if k != START_ENV}
    done = subprocess.run(
        [sys.executable, "-c", _REFUSALS, str(tmp_path / "metadata.db")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    seen = json.loads(done.stdout)
    assert seen["alone"] is None
    assert "threads" in seen["thread"]
    assert "SQLite" in seen["sqlite"]
    assert seen["setting"] == f"{START_ENV}=spawn"
