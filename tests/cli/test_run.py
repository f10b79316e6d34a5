"""``headwater run list|show|logs|cancel`` on real pipeline runs of a tiny two-step pipeline."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from headwater import Experiment, OutputFileDatasetConfig, Pipeline, PipelineRun, PythonScriptStep, Workspace
from headwater.store.records import RunRecord
from tests.cli.conftest import Cli, fields, one_error_line, section, table
from tests.conftest import gen

PREP = """
import os, sys
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "data.txt"), "w") as f:
    f.write("1 2 3")
print("prepared 3 values")
"""

TRAIN = """
import os, sys
with open(os.path.join(sys.argv[1], "data.txt")) as f:
    values = [int(v) for v in f.read().split()]
print("trained on", sum(values))
"""


class Project:
    """Source folders of a prep -> train pipeline, and a way to submit it."""

    def __init__(self, root: Path, ws: Workspace) -> None:
        self.root = root
        self.ws = ws
        gen(root, {"prep_src": {"prep.py": PREP}, "train_src": {"train.py": TRAIN}})

    def set_train(self, source: str) -> None:
        (self.root / "train_src" / "train.py").write_text(source)

    def submit(self) -> PipelineRun:
        prepped = OutputFileDatasetConfig(name="prepped")
        prep = PythonScriptStep(
            script_name="prep.py", source_directory=str(self.root / "prep_src"), arguments=[prepped]
        )
        train = PythonScriptStep(
            script_name="train.py", source_directory=str(self.root / "train_src"), arguments=[prepped.as_input()]
        )
        return Experiment(self.ws, "cli").submit(Pipeline(self.ws, steps=[prep, train]))


@pytest.fixture
def project(tmp_path: Path, cli_ws: Workspace) -> Project:
    return Project(tmp_path / "project", cli_ws)


def wait_for_file(path: Path) -> None:
    """Wait until a step process created ``path`` (a safety limit, not a timing assertion)."""
    for _ in range(1200):
        if path.exists():
            return
        time.sleep(0.05)
    pytest.fail(f"{path} never appeared")


def steps_of(text: str) -> dict[str, dict[str, str]]:
    """The step table of `run show` (the second block of its output), by step name."""
    return {row["step"]: row for row in table(section(text, 1))}


@pytest.mark.slow
def test_list_show_logs_across_ran_reused_and_changed_runs(hw: Cli, project: Project) -> None:
    first = project.submit()
    assert first.wait_for_completion(show_output=False) == "Finished"
    second = project.submit()
    assert second.wait_for_completion(show_output=False) == "Finished"
    project.set_train(TRAIN + "print('now with a change')\n")
    third = project.submit()
    assert third.wait_for_completion(show_output=False) == "Finished"
    first_steps = {s.name: s.id for s in first.get_children()}

    # run list: newest first
    rows = table(hw("run", "list", "-w", "test-ws").stdout)
    assert [r["id"] for r in rows] == [third.id, second.id, first.id]
    assert {(r["experiment"], r["status"]) for r in rows} == {("cli", "Finished")}
    assert all(r["duration"].endswith(("s", "m")) for r in rows)
    assert [r["id"] for r in table(hw("run", "list", "-w", "test-ws", "--limit", "1").stdout)] == [third.id]
    assert len(table(hw("run", "list", "-w", "test-ws", "--limit", "1", "--all").stdout)) == 3
    assert len(table(hw("run", "list", "-w", "test-ws", "--experiment", "cli").stdout)) == 3
    listed = json.loads(hw("run", "list", "-w", "test-ws", "--json").stdout)
    assert [r["id"] for r in listed] == [third.id, second.id, first.id]
    line = one_error_line(hw("run", "list", "-w", "test-ws", "--experiment", "clj", code=1))
    assert "Experiment 'clj' does not exist" in line and "Did you mean 'cli'?" in line

    # run show: the first run ran everything
    out = hw("run", "show", first.id, "-w", "test-ws").stdout
    head = fields(out)
    assert (head["run"], head["kind"], head["experiment"], head["status"]) == (first.id, "pipeline", "cli", "Finished")
    steps = steps_of(out)
    assert list(steps) == ["prep.py", "train.py"]
    for row in steps.values():
        assert (row["status"], row["reuse"], row["reason"]) == ("Finished", "ran", "never ran before")

    # the second was reused entirely, and says from which run; a prefix of its id is enough
    out = hw("run", "show", second.id[:8], "-w", "test-ws").stdout
    assert fields(out)["run"] == second.id
    steps = steps_of(out)
    for name, row in steps.items():
        assert (row["status"], row["reuse"], row["duration"]) == ("Finished", "reused", "-")
        assert row["reason"] == f"reused run {first_steps[name]}: unchanged"

    # the third reran train.py because it changed, and reused prep.py
    steps = steps_of(hw("run", "show", third.id, "-w", "test-ws").stdout)
    assert (steps["prep.py"]["reuse"], steps["train.py"]["reuse"]) == ("reused", "ran")
    assert steps["train.py"]["reason"] == "train.py changed"

    shown = json.loads(hw("run", "show", third.id, "-w", "test-ws", "--json").stdout)
    assert shown["status"] == "Finished"
    assert [(s["name"], s["reused"], s["reason"]) for s in shown["steps"]] == [
        ("prep.py", True, f"reused run {first_steps['prep.py']}: unchanged"),
        ("train.py", False, "train.py changed"),
    ]

    # a step run by id (prefix)
    train_id = first_steps["train.py"]
    step_fields = fields(hw("run", "show", train_id[:10], "-w", "test-ws").stdout)
    assert (step_fields["kind"], step_fields["pipeline run"], step_fields["step"]) == ("step", first.id, "train.py")
    assert step_fields["reason"] == "never ran before"

    # run logs: each step under a header; one step without; a reused step shows the log that made its outputs
    logs = hw("run", "logs", first.id, "-w", "test-ws").stdout
    assert logs == "==> prep.py <==\nprepared 3 values\n\n==> train.py <==\ntrained on 6\n"
    assert hw("run", "logs", first.id, "--step", "train.py", "-w", "test-ws").stdout == "trained on 6\n"
    assert hw("run", "logs", train_id, "-w", "test-ws").stdout == "trained on 6\n"
    logs = hw("run", "logs", second.id, "-w", "test-ws").stdout
    assert f"==> train.py (reused: the log of run {train_id}) <==\ntrained on 6\n" in logs
    assert hw("run", "logs", third.id, "--step", "train.py", "-w", "test-ws").stdout == (
        "trained on 6\nnow with a change\n"
    )
    line = one_error_line(hw("run", "logs", first.id, "--step", "trian.py", "-w", "test-ws", code=1))
    assert "Step 'trian.py' does not exist" in line and "Did you mean 'train.py'?" in line

    # cancelling a run that ended does nothing
    out = hw("run", "cancel", first.id, "-w", "test-ws").stdout
    assert out.strip() == f"Run {first.id} has already ended (Finished); nothing to cancel."


@pytest.mark.slow
def test_show_a_failed_step(hw: Cli, project: Project) -> None:
    project.set_train("import sys\nprint('about to fail')\nsys.exit(3)\n")
    run = project.submit()
    assert run.wait_for_completion(show_output=False, raise_on_error=False) == "Failed"
    out = hw("run", "show", run.id, "-w", "test-ws").stdout
    assert fields(out)["status"] == "Failed"
    assert steps_of(out)["train.py"]["status"] == "Failed"
    assert steps_of(out)["prep.py"]["status"] == "Finished"
    notes = section(out, 2).splitlines()
    assert notes[0] == "train.py failed: Step 'train.py' failed with exit code 3"
    assert notes[1] == f"See a step's log: headwater run logs {run.id[:8]} --step NAME"
    shown = json.loads(hw("run", "show", run.id, "-w", "test-ws", "--json").stdout)
    assert shown["steps"][1]["error"] == "Step 'train.py' failed with exit code 3"
    assert hw("run", "logs", run.id, "--step", "train.py", "-w", "test-ws").stdout == "about to fail\n"


WAIT_FOR_SIGNAL = """
import os, sys, time
print("waiting", flush=True)
open(os.environ["HW_TEST_STARTED"], "w").close()
for _ in range(2400):
    if os.path.exists(os.environ["HW_TEST_SIGNAL"]):
        break
    time.sleep(0.05)
print("done")
"""


@pytest.mark.slow
def test_cancel_a_running_run(hw: Cli, project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HW_TEST_STARTED", str(tmp_path / "started"))
    monkeypatch.setenv("HW_TEST_SIGNAL", str(tmp_path / "never"))
    project.set_train(WAIT_FOR_SIGNAL)
    run = project.submit()
    wait_for_file(tmp_path / "started")
    out = hw("run", "cancel", run.id, "-w", "test-ws").stdout
    assert out.strip() == f"Cancel requested for run {run.id} (it was Running)."
    assert run.wait_for_completion(show_output=False, raise_on_error=False) == "Canceled"
    out = hw("run", "show", run.id, "-w", "test-ws").stdout
    assert fields(out)["status"] == "Canceled"
    assert steps_of(out)["train.py"]["status"] == "Canceled"
    line = one_error_line(hw("run", "cancel", run.find_step_run("train.py")[0].id, "-w", "test-ws", code=1))
    assert (
        "is a step run, not a pipeline, script or interactive run" in line and f"headwater run cancel {run.id}" in line
    )


@pytest.mark.slow
def test_logs_follow_until_the_run_ends(
    hw: Cli, project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    signal = tmp_path / "go"
    monkeypatch.setenv("HW_TEST_STARTED", str(tmp_path / "started"))
    monkeypatch.setenv("HW_TEST_SIGNAL", str(signal))
    project.set_train(WAIT_FOR_SIGNAL)
    run = project.submit()
    polls: list[bool] = []

    def between_polls(seconds: float) -> None:
        # The run cannot end before this: its step waits for the signal file.
        polls.append(signal.exists())
        if (tmp_path / "started").exists():
            signal.touch()
        time.sleep(0.02)

    monkeypatch.setattr("headwater.cli.run._sleep", between_polls)
    out = hw("run", "logs", run.id, "--follow", "-w", "test-ws").stdout
    assert polls and polls[0] is False  # it was following a live run
    assert out == "==> prep.py <==\nprepared 3 values\n\n==> train.py <==\nwaiting\ndone\n"
    assert run.get_status() == "Finished"


@pytest.mark.slow
def test_script_runs_are_listed_shown_logged_and_canceled(
    hw: Cli, project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from headwater import ScriptRunConfig

    monkeypatch.setenv("HW_TEST_STARTED", str(tmp_path / "started"))
    monkeypatch.setenv("HW_TEST_SIGNAL", str(tmp_path / "never"))
    src = str(project.root / "prep_src")
    done = Experiment(project.ws, "cli").submit(ScriptRunConfig(src, "prep.py", arguments=[str(tmp_path / "o")]))
    assert done.wait_for_completion()["status"] == "Completed"
    listed = json.loads(hw("run", "list", "-w", "test-ws", "--json").stdout)
    assert [(r["id"], r["kind"], r["status"]) for r in listed] == [(done.id, "script", "Completed")]
    shown = fields(hw("run", "show", done.id, "-w", "test-ws").stdout)
    assert (shown["kind"], shown["status"]) == ("script", "Completed")
    assert hw("run", "logs", done.id, "-w", "test-ws").stdout == "prepared 3 values\n"

    project.set_train(WAIT_FOR_SIGNAL)
    waiting = Experiment(project.ws, "cli").submit(ScriptRunConfig(str(project.root / "train_src"), "train.py"))
    wait_for_file(tmp_path / "started")
    out = hw("run", "cancel", waiting.id[:8], "-w", "test-ws").stdout
    assert out.strip() == f"Cancel requested for run {waiting.id} (it was Running)."
    assert waiting.wait_for_completion()["status"] == "Canceled"


def test_run_id_prefixes(hw: Cli, cli_ws: Workspace) -> None:
    store = cli_ws.metadata_store
    experiment = store.get_or_create_experiment("manual")
    for run_id in ("abc12345-0000", "abc19999-0000", "def00000-0000"):
        store.create_run(RunRecord(id=run_id, experiment_id=experiment.id, kind="pipeline", status="Finished"))

    line = one_error_line(hw("run", "show", "abc1", "-w", "test-ws", code=1))
    assert line == (
        "error: Run id prefix 'abc1' is ambiguous: it matches 2 runs (abc12345-0000, abc19999-0000). "
        "Give more characters of the id."
    )
    assert fields(hw("run", "show", "abc12", "-w", "test-ws").stdout)["run"] == "abc12345-0000"
    assert fields(hw("run", "show", "d", "-w", "test-ws").stdout)["run"] == "def00000-0000"
    line = one_error_line(hw("run", "show", "fff", "-w", "test-ws", code=1))
    assert line.startswith("error: Run 'fff' does not exist in workspace 'test-ws'.")
    assert "headwater run list" in line
    one_error_line(hw("run", "logs", "abc", "-w", "test-ws", code=1))
    one_error_line(hw("run", "cancel", "abc", "-w", "test-ws", code=1))
    hw("run", "show", "", "-w", "test-ws", code=2)


def test_empty_run_list(hw: Cli, cli_ws: Workspace) -> None:
    assert hw("run", "list", "-w", "test-ws").stdout.strip() == "id\texperiment\tstatus\tstarted\tduration"
    assert json.loads(hw("run", "list", "-w", "test-ws", "--json").stdout) == []


def test_interactive_runs_are_listed_shown_and_canceled(hw: Cli, cli_ws: Workspace) -> None:
    run = Experiment(cli_ws, "notebook").start_logging(display_name="explore")
    run.log("acc", 0.9)
    listed = json.loads(hw("run", "list", "-w", "test-ws", "--json").stdout)
    assert [(r["id"], r["kind"], r["status"]) for r in listed] == [(run.id, "interactive", "Running")]
    shown = fields(hw("run", "show", run.id, "-w", "test-ws").stdout)
    assert (shown["kind"], shown["status"]) == ("interactive", "Running")
    hw("run", "cancel", run.id, "-w", "test-ws")
    assert run.get_status() == "Canceled"
    run.complete()
    assert json.loads(hw("run", "list", "-w", "test-ws", "--json").stdout)[0]["status"] == "Canceled"
