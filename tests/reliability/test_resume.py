"""``headwater run resume RUN_ID`` (issue #12, item 9): a run whose orchestrator died goes on under the
same id; finished steps are kept (their processes never start again), the others run again.

Real processes and signals: the orchestrator is killed with SIGKILL while step 2 of a 3-step chain
waits for a gate file the test creates. Which step processes started is read from the ledger.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from headwater import (
    Experiment,
    OutputFileDatasetConfig,
    Pipeline,
    PythonScriptStep,
    ScriptRunConfig,
    Workspace,
)
from headwater.cli.main import cli
from tests.conftest import alive, gen
from tests.e2e.conftest import ran

pytestmark = pytest.mark.slow

# python step.py TAG [--inp DIR] --out DIR [--pid FILE] [--gate FILE] [--need FILE]
STEP = """
import argparse, os, sys, time
p = argparse.ArgumentParser()
p.add_argument("tag"); p.add_argument("--inp"); p.add_argument("--out")
p.add_argument("--pid"); p.add_argument("--gate"); p.add_argument("--need"); p.add_argument("--piddir")
a = p.parse_args()
if a.piddir:  # the same arguments in two runs: the pid goes to <piddir>/<step run id>
    a.pid = os.path.join(a.piddir, os.environ["AZUREML_RUN_ID"])
with open(os.environ["HW_TEST_LEDGER"], "a") as f:
    f.write(a.tag + "\\n")
print("attempt of", a.tag, "in process", os.getpid(), flush=True)
if a.out:
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "partial.txt"), "w") as fh:
        fh.write("half-written by " + str(os.getpid()))
if a.pid:
    with open(a.pid + ".tmp", "w") as fh:
        fh.write(str(os.getpid()))
    os.replace(a.pid + ".tmp", a.pid)
if a.gate:
    deadline = time.monotonic() + 120
    while not os.path.exists(a.gate):
        if time.monotonic() > deadline:
            sys.exit(4)
        time.sleep(0.02)
if a.need and not os.path.exists(a.need):
    print("missing", a.need, flush=True)
    sys.exit(3)
text = a.tag
if a.inp:
    with open(os.path.join(a.inp, "data.txt")) as fh:
        text = fh.read() + ">" + a.tag
if a.out:
    os.remove(os.path.join(a.out, "partial.txt"))
    with open(os.path.join(a.out, "data.txt"), "w") as fh:
        fh.write(text)
"""


@pytest.fixture
def src(proj: Path) -> Path:
    gen(proj, {"src": {"step.py": STEP}})
    return proj


def chain(ws: Workspace, **s2_args: Path) -> Pipeline:
    """s1 -> s2 -> s3, each passing a folder on; ``s2_args``: --pid/--gate/--need files for s2."""
    o1, o2, o3 = (OutputFileDatasetConfig(name=f"o{i}") for i in (1, 2, 3))
    extra: list[Any] = [x for k, v in sorted(s2_args.items()) for x in (f"--{k}", str(v))]
    steps = [
        PythonScriptStep("step.py", name="s1", source_directory="src", arguments=["s1", "--out", o1]),
        PythonScriptStep(
            "step.py",
            name="s2",
            source_directory="src",
            arguments=["s2", "--inp", o1.as_input("i1"), "--out", o2, *extra],
        ),
        PythonScriptStep(
            "step.py", name="s3", source_directory="src", arguments=["s3", "--inp", o2.as_input("i2"), "--out", o3]
        ),
    ]
    return Pipeline(ws, steps=steps)


def wait_until(condition: Any, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.02)


def wait_for_pid(path: Path) -> int:
    wait_until(path.exists, f"{path} exists")
    return int(path.read_text())


def kill_orchestrator(ws: Workspace, run_id: str) -> int:
    pid = int(ws.metadata_store.get_run(run_id).definition["orchestrator_pid"])
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not alive(pid), "the orchestrator is gone")
    return pid


def hw(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def one_error_line(result: Result) -> str:
    assert result.exit_code == 1, (result.exit_code, result.stdout, result.stderr, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def output_text(ws: Workspace, run: Any, step: str, name: str) -> str:
    ref = run.find_step_run(step)[0].get_output_data(name)
    return Path(ws.datastores[ref.datastore_name]._backend.root, ref.path_on_datastore, "data.txt").read_text()


def test_resume_keeps_finished_steps_and_runs_the_rest_under_the_same_id(
    src: Path, pws: Workspace, tmp_path: Path
) -> None:
    pid_file, gate = tmp_path / "s2.pid", tmp_path / "gate"
    run = Experiment(pws, "resume").submit(chain(pws, pid=pid_file, gate=gate))
    old_s2 = wait_for_pid(pid_file)
    kill_orchestrator(pws, run.id)
    assert ran(src) == ["s1", "s2"]
    s1_before = run.find_step_run("s1")[0].get_details()
    pid_file.unlink()

    result = hw("run", "resume", run.id[:8], "-w", "pipelines")
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    assert f"Resumed run {run.id}" in result.stdout
    assert not alive(old_s2)  # the dead attempt's step process was stopped before anything started
    new_s2 = wait_for_pid(pid_file)
    assert new_s2 != old_s2
    gate.write_text("go")

    assert run.wait_for_completion(show_output=False) == "Finished"
    assert ran(src) == ["s2", "s3"]  # s1's process never started again
    record = pws.metadata_store.get_run(run.id)
    assert record.error is None and record.status == "Finished"
    assert run.get_tags().get("headwater.attempt") == "2"
    s1, s2, s3 = (run.find_step_run(n)[0] for n in ("s1", "s2", "s3"))
    assert s1.get_details() == s1_before  # untouched
    assert {s.get_status() for s in (s1, s2, s3)} == {"Finished"}
    assert s2.get_tags().get("headwater.attempt") == "2"
    assert output_text(pws, run, "s3", "o3") == "s1>s2>s3"
    # the crashed attempt's log is kept beside the new one
    folder = pws_folder(pws) / "runs" / s2.id / "user_logs"
    assert f"in process {old_s2}" in (folder / "std_log.attempt1.txt").read_text()
    assert f"in process {old_s2}" not in (folder / "std_log.txt").read_text()
    assert f"in process {new_s2}" in s2.get_stdout_log()


def pws_folder(ws: Workspace) -> Path:
    return Path(ws.folder)


def test_resume_refuses_a_live_run_a_finished_run_and_an_unknown_id(src: Path, pws: Workspace, tmp_path: Path) -> None:
    pid_file, gate = tmp_path / "s2.pid", tmp_path / "gate"
    run = Experiment(pws, "resume").submit(chain(pws, pid=pid_file, gate=gate))
    wait_for_pid(pid_file)
    orchestrator = pws.metadata_store.get_run(run.id).definition["orchestrator_pid"]
    line = one_error_line(hw("run", "resume", run.id, "-w", "pipelines"))
    assert f"Run {run.id} is still running (orchestrator pid {orchestrator})" in line
    assert alive(orchestrator)

    gate.write_text("go")
    assert run.wait_for_completion(show_output=False) == "Finished"
    line = one_error_line(hw("run", "resume", run.id, "-w", "pipelines"))
    assert f"Run {run.id} has already finished" in line

    line = one_error_line(hw("run", "resume", "no-such-run", "-w", "pipelines"))
    assert "Run 'no-such-run' does not exist" in line
    step_id = run.find_step_run("s2")[0].id
    line = one_error_line(hw("run", "resume", step_id, "-w", "pipelines"))
    assert "is a step run" in line and f"headwater run resume {run.id}" in line


def test_two_concurrent_resumes_one_wins(src: Path, pws: Workspace, tmp_path: Path) -> None:
    pid_file, gate = tmp_path / "s2.pid", tmp_path / "gate"
    run = Experiment(pws, "resume").submit(chain(pws, pid=pid_file, gate=gate))
    wait_for_pid(pid_file)
    kill_orchestrator(pws, run.id)
    pid_file.unlink()
    ran(src)

    # while another process holds the run's resume lock, resume is refused and changes nothing
    with open(pws_folder(pws) / "runs" / run.id / "resume.lock", "a+b") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        line = one_error_line(hw("run", "resume", run.id, "-w", "pipelines"))
        assert f"Run {run.id} is being resumed by another process" in line
    assert run.get_status() == "Failed"

    argv = [sys.executable, "-m", "headwater", "run", "resume", run.id, "-w", "pipelines"]
    procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outcomes = sorted((p.wait(timeout=120), *p.communicate()) for p in procs)
    assert [rc for rc, _, _ in outcomes] == [0, 1], outcomes
    loser = outcomes[1][2].strip().splitlines()
    assert len(loser) == 1 and loser[0].startswith("error: Run "), loser
    assert "is being resumed by another process" in loser[0] or "is still running" in loser[0]

    wait_for_pid(pid_file)
    gate.write_text("go")
    assert run.wait_for_completion(show_output=False) == "Finished"
    assert ran(src) == ["s2", "s3"]  # one attempt only
    assert output_text(pws, run, "s3", "o3") == "s1>s2>s3"


def test_a_failed_step_is_continued_from_by_resume(src: Path, pws: Workspace, tmp_path: Path) -> None:
    """A run that Failed because a step failed (its orchestrator ended normally) may be resumed:
    the failed step and what it blocked run again, the finished steps are kept."""
    flag = tmp_path / "ready"
    run = Experiment(pws, "resume").submit(chain(pws, need=flag))
    assert run.wait_for_completion(show_output=False, raise_on_error=False) == "Failed"
    assert {s.name: s.get_status() for s in run.get_children()} == {"s1": "Finished", "s2": "Failed", "s3": "Canceled"}
    assert ran(src) == ["s1", "s2"]
    flag.write_text("now")
    shown = hw("run", "show", run.id, "-w", "pipelines").stdout
    assert f"Continue it (finished steps are kept): headwater run resume {run.id[:8]}" in shown

    resumed = run.resume()
    assert resumed.id == run.id
    assert run.wait_for_completion(show_output=False) == "Finished"
    assert ran(src) == ["s2", "s3"]
    assert output_text(pws, run, "s3", "o3") == "s1>s2>s3"
    s2 = run.find_step_run("s2")[0]
    assert s2.get_details().get("error") is None
    assert "missing" in (pws_folder(pws) / "runs" / s2.id / "user_logs" / "std_log.attempt1.txt").read_text()


def test_a_script_run_is_resumed_by_running_its_script_again(src: Path, pws: Workspace, tmp_path: Path) -> None:
    pid_file, gate, out = tmp_path / "s.pid", tmp_path / "gate", tmp_path / "out"
    config = ScriptRunConfig(
        "src", "step.py", arguments=["solo", "--pid", str(pid_file), "--gate", str(gate), "--out", str(out)]
    )
    run = Experiment(pws, "single").submit(config)
    old = wait_for_pid(pid_file)
    kill_orchestrator(pws, run.id)
    pid_file.unlink()
    assert ran(src) == ["solo"]

    result = hw("run", "resume", run.id, "-w", "pipelines")
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    assert not alive(old)
    wait_for_pid(pid_file)
    gate.write_text("go")
    assert run.wait_for_completion()["status"] == "Completed"
    assert ran(src) == ["solo"]
    assert (out / "data.txt").read_text() == "solo"


def test_a_canceled_run_is_resumed(src: Path, pws: Workspace, tmp_path: Path) -> None:
    pid_file, gate = tmp_path / "s2.pid", tmp_path / "gate"
    run = Experiment(pws, "resume").submit(chain(pws, pid=pid_file, gate=gate))
    wait_for_pid(pid_file)
    run.cancel()
    assert run.wait_for_completion(show_output=False, raise_on_error=False) == "Canceled"
    pid_file.unlink()
    assert ran(src) == ["s1", "s2"]

    run.resume()  # the cancel request of the last attempt does not cancel this one
    wait_for_pid(pid_file)
    gate.write_text("go")
    assert run.wait_for_completion(show_output=False) == "Finished"
    assert ran(src) == ["s2", "s3"]


def test_a_step_killed_with_its_orchestrator_is_reused_on_resume_when_an_identical_run_finished(
    src: Path, pws: Workspace, tmp_path: Path
) -> None:
    """Reuse is decided again on resume: B's s2 died with B's orchestrator while A's identical s2 ran
    on; once A finished, resuming B reuses A's s2 and s3 and starts no process at all."""
    piddir, gate = tmp_path / "pids", tmp_path / "gate"
    piddir.mkdir()
    exp = Experiment(pws, "resume")
    a = exp.submit(chain(pws, piddir=piddir, gate=gate))
    wait_for_pid(piddir / a.find_step_run("s2")[0].id)
    b = exp.submit(chain(pws, piddir=piddir, gate=gate))
    b_s2 = b.find_step_run("s2")[0]
    b_pid = wait_for_pid(piddir / b_s2.id)
    assert b.find_step_run("s1")[0].get_details()["properties"]["azureml.reusedrunid"]  # from A
    kill_orchestrator(pws, b.id)
    assert b.get_status() == "Failed"
    wait_until(lambda: not alive(b_pid), "B's s2 process was stopped")
    gate.write_text("go")
    assert a.wait_for_completion(show_output=False) == "Finished"
    ran(src)

    b.resume()
    assert b.wait_for_completion(show_output=False) == "Finished"
    assert ran(src) == []
    props = b.find_step_run("s2")[0].get_details()["properties"]
    assert props["azureml.reusedrunid"] == a.find_step_run("s2")[0].id
    assert props["azureml.runsource"] == "azureml.ReusedStepRun"
    assert output_text(pws, b, "s3", "o3") == "s1>s2>s3"
