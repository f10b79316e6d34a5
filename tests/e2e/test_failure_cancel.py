"""A failing step, continue-on-failure, cancel, and an orchestrator that dies: proven from the store
records, the ledger, the datastore and the processes themselves (never from wall time).
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from headwater import (
    ActivityFailedException,
    Datastore,
    Experiment,
    OutputFileDatasetConfig,
    Pipeline,
    PythonScriptStep,
    Workspace,
)
from tests.conftest import alive, gen
from tests.e2e.conftest import ran

pytestmark = pytest.mark.slow

# `python step.py <tag> <seconds> [--fail] [--out <dir>] [--pid <file>] [--child]`
STEP = """
import argparse, os, subprocess, sys, time
p = argparse.ArgumentParser()
p.add_argument("tag"); p.add_argument("seconds", type=float)
p.add_argument("--fail", action="store_true"); p.add_argument("--out"); p.add_argument("--pid")
p.add_argument("--child", action="store_true"); p.add_argument("--inp")
a = p.parse_args()
with open(os.environ["HW_TEST_LEDGER"], "a") as f:
    f.write(a.tag + "\\n")
if a.out:
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "partial.txt"), "w") as fh:
        fh.write("half")
pids = [os.getpid()]
if a.child:
    pids.append(subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]).pid)
if a.pid:
    with open(a.pid + ".tmp", "w") as fh:
        fh.write(" ".join(map(str, pids)))
    os.replace(a.pid + ".tmp", a.pid)
print("working on", a.tag, flush=True)
time.sleep(a.seconds)
if a.fail:
    print("something broke in", a.tag, flush=True)
    sys.exit(3)
"""


@pytest.fixture
def src(proj: Path) -> Path:
    gen(proj, {"src": {"step.py": STEP}})
    return proj


def step(tag: str, seconds: float = 0, *extra: Any, **kwargs: Any) -> PythonScriptStep:
    args = [tag, str(seconds), *extra]
    return PythonScriptStep("step.py", name=tag, source_directory="src", arguments=args, **kwargs)


def wait_for_file(path: Path, run: Any) -> list[int]:
    """The pids a step wrote to ``path`` once it exists (fails if the run ends first)."""
    deadline = time.monotonic() + 60
    while not path.exists():
        assert run.get_status() in ("NotStarted", "Running"), run.get_status()
        assert time.monotonic() < deadline, "the step never started"
        time.sleep(0.02)
    return [int(p) for p in path.read_text().split()]


def wait_until_dead(pids: list[int]) -> list[int]:
    """Pids still alive after giving them a moment to be reaped."""
    deadline = time.monotonic() + 30
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return [p for p in pids if alive(p)]


def statuses(run: Any) -> dict[str, str]:
    return {s.name: s.get_status() for s in run.get_children()}


def errors(run: Any) -> dict[str, str]:
    return {s.name: (s.get_details().get("error") or {}).get("message", "") for s in run.get_children()}


def failing_pipeline(ws: Workspace) -> Pipeline:
    """bad (fails) -> down; slow runs beside bad; later waits for a free slot (concurrency 2)."""
    bad_out = OutputFileDatasetConfig(name="bad_out")
    bad = step("bad", 0.2, "--fail", "--out", bad_out)
    down = step("down", 0, "--inp", bad_out.as_input("bad_in"))
    slow = step("slow", 1.0)
    later = step("later")
    return Pipeline(ws, steps=[bad, slow, later, down])


def test_a_failing_step_stops_its_downstream_and_what_has_not_started(
    src: Path, pws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEADWATER_MAX_CONCURRENCY", "2")
    run = Experiment(pws, "fail").submit(failing_pipeline(pws))
    with pytest.raises(ActivityFailedException) as err:
        run.wait_for_completion(show_output=False)
    text = str(err.value)
    assert "'bad' failed with exit code 3" in text
    assert "something broke in bad" in text  # the tail of its log
    assert run.get_status() == "Failed"
    assert sorted(ran(src)) == ["bad", "slow"]  # later and down never started
    assert statuses(run) == {"bad": "Failed", "slow": "Finished", "later": "Canceled", "down": "Canceled"}
    why = errors(run)
    assert why["down"] == "not started: upstream step 'bad' failed"
    assert "did not finish" in why["later"] or "failed" in why["later"]
    assert run.get_details()["error"]["message"] == "step(s) failed: 'bad'"
    # the failed step's half-written output never reached the datastore
    bad = run.find_step_run("bad")[0]
    store = Datastore(pws, "workspaceblobstore")
    assert not store._backend.exists(f"dataset/{bad.id}/bad_out")
    assert bad.get_outputs() == {}


def test_continue_on_step_failure_keeps_independent_branches_going(
    src: Path, pws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEADWATER_MAX_CONCURRENCY", "2")
    run = Experiment(pws, "fail").submit(failing_pipeline(pws), continue_on_step_failure=True)
    assert run.wait_for_completion(show_output=False, raise_on_error=False) == "Failed"
    assert sorted(ran(src)) == ["bad", "later", "slow"]
    assert statuses(run) == {"bad": "Failed", "slow": "Finished", "later": "Finished", "down": "Canceled"}
    assert errors(run)["down"] == "not started: upstream step 'bad' failed"


def test_cancel_stops_the_step_and_the_processes_it_started(src: Path, pws: Workspace, tmp_path: Path) -> None:
    pid_file = tmp_path / "long.pid"
    long = step("long", 60, "--pid", str(pid_file), "--child")
    after = step("after")
    after.run_after(long)
    run = Experiment(pws, "cancel").submit(Pipeline(pws, steps=[long, after]))
    pids = wait_for_file(pid_file, run)
    assert all(alive(p) for p in pids)
    run.cancel()
    assert run.wait_for_completion(show_output=False) == "Canceled"
    assert wait_until_dead(pids) == []  # the step and its child (same process group) are gone
    assert run.get_status() == "Canceled"
    assert statuses(run) == {"long": "Canceled", "after": "Canceled"}
    assert ran(src) == ["long"]


def test_a_dead_orchestrator_is_detected_and_nothing_is_half_committed(
    src: Path, pws: Workspace, tmp_path: Path
) -> None:
    pid_file = tmp_path / "busy.pid"
    out = OutputFileDatasetConfig(name="busy_out")
    busy = step("busy", 60, "--pid", str(pid_file), "--out", out)
    run = Experiment(pws, "dead").submit(Pipeline(pws, steps=[busy]))
    step_pids = wait_for_file(pid_file, run)
    orchestrator = pws.metadata_store.get_run(run.id).definition["orchestrator_pid"]
    os.kill(orchestrator, signal.SIGKILL)
    assert wait_until_dead([orchestrator]) == []

    assert run.get_status() == "Failed"
    assert "orchestrator" in run.get_details()["error"]["message"]
    busy_run = run.find_step_run("busy")[0]
    assert busy_run.get_status() == "Canceled"
    assert "orchestrator" in busy_run.get_details()["error"]["message"]
    # the step wrote into its output folder, which was never committed to the datastore
    assert not Datastore(pws, "workspaceblobstore")._backend.exists(f"dataset/{busy_run.id}/busy_out")
    assert busy_run.get_outputs() == {}
    # and the step process that outlived its orchestrator was stopped
    assert wait_until_dead(step_pids) == []


STUBBORN = """
import os, signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)  # ignores the polite request
with open(sys.argv[1] + ".tmp", "w") as fh:
    fh.write(str(os.getpid()))
os.replace(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(60)
"""


def test_a_step_that_ignores_sigterm_is_killed_after_the_grace_period(
    src: Path, pws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEADWATER_TERMINATE_GRACE_SECONDS", "0.5")
    gen(src, {"src": {"stubborn.py": STUBBORN}})
    pid_file = tmp_path / "stubborn.pid"
    stubborn = PythonScriptStep("stubborn.py", name="stubborn", source_directory="src", arguments=[str(pid_file)])
    run = Experiment(pws, "cancel").submit(Pipeline(pws, steps=[stubborn]))
    pids = wait_for_file(pid_file, run)
    run.cancel()
    assert run.wait_for_completion(show_output=False) == "Canceled"
    assert wait_until_dead(pids) == []
    assert statuses(run) == {"stubborn": "Canceled"}


def test_cancel_right_after_submit_starts_nothing(src: Path, pws: Workspace) -> None:
    first, second = step("first", 5), step("second")
    second.run_after(first)
    run = Experiment(pws, "cancel").submit(Pipeline(pws, steps=[first, second]))
    run.cancel()  # before the orchestrator process has even started its loop
    assert run.wait_for_completion(show_output=False) == "Canceled"
    assert ran(src) == []
    assert statuses(run) == {"first": "Canceled", "second": "Canceled"}
    assert set(errors(run).values()) == {"the pipeline run was canceled"}


def test_an_input_that_cannot_be_resolved_fails_the_step_with_the_reason(src: Path, pws: Workspace) -> None:
    from headwater import DataPath, DataPathComputeBinding

    store = Datastore(pws, "workspaceblobstore")
    missing = (DataPath(datastore=store, path_on_datastore="nowhere", name="missing"), DataPathComputeBinding())
    reader = step("reader", 0, "--inp", missing, inputs=[missing])
    run = Experiment(pws, "fail").submit(Pipeline(pws, steps=[reader]))
    with pytest.raises(ActivityFailedException, match=r"'reader' could not start: .*'nowhere' does not exist"):
        run.wait_for_completion(show_output=False)
    assert ran(src) == []


def test_a_submit_that_fails_after_recording_leaves_a_failed_run_not_a_pending_one(
    src: Path, pws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plan file can't be written (a full disk): the recorded run says Failed, its steps Canceled."""
    from headwater.plan.run_plan import RunPlan

    def full_disk(self: Any, path: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(RunPlan, "save", full_disk)
    with pytest.raises(OSError, match="No space left"):
        Experiment(pws, "full").submit(Pipeline(pws, steps=[step("only")]))
    (run,) = pws.metadata_store.list_runs(top_level=True)
    assert run.status == "Failed" and run.ended_at is not None
    assert "The submit failed before the run could start: OSError" in run.error["message"]
    assert [s.status for s in pws.metadata_store.list_runs(parent_id=run.id)] == ["Canceled"]
    assert ran(src) == []  # nothing started
    assert not (pws.folder / "runs" / run.id).exists()  # its folder and waiting orchestrator are gone
