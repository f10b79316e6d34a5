"""``wait_for_completion(show_output=True)`` and a ParallelRunStep: a live progress bar on a
terminal, plain progress lines with the rate and ETA otherwise (logs, CI)."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

import pytest

from headwater import Workspace
from tests.conftest import gen
from tests.e2e import conftest as e2e

proj, pws = e2e.proj, e2e.pws  # the e2e fixtures

pytestmark = pytest.mark.slow

ENTRY = """
import os, time

def init():
    pass

def run(mini_batch):
    time.sleep(0.2)
    return [os.path.basename(p) for p in mini_batch]
"""

SUBMIT = """
import sys
from headwater import (Dataset, Datastore, Environment, Experiment, OutputFileDatasetConfig, ParallelRunConfig,
                       ParallelRunStep, Pipeline, Workspace)
ws = Workspace.get("pipelines")
store = Datastore.register_local_folder(ws, "inputs", "data")
files = Dataset.File.from_files((store, "")).as_named_input("files")
env = Environment("parallel-test")
env.python.user_managed_dependencies = True
config = ParallelRunConfig(environment=env, entry_script="score.py", source_directory="src", error_threshold=-1,
                           output_action="append_row", compute_target="local", node_count=1,
                           process_count_per_node=2, mini_batch_size=1)
step = ParallelRunStep("score", config, [files], OutputFileDatasetConfig("scores"))
run = Experiment(ws, "progress").submit(Pipeline(ws, steps=[step]))
print("status:", run.wait_for_completion(show_output=True), flush=True)
"""


def _project(proj: Path) -> None:
    gen(proj, {"src": {"score.py": ENTRY}, "data": {f"f{i:02d}.txt": str(i) for i in range(8)}, "submit.py": SUBMIT})


def _read_all(fd: int, proc: subprocess.Popen[bytes]) -> bytes:
    chunks = []
    while True:
        ready, _, _ = select.select([fd], [], [], 300)
        assert ready, "no output from the submitting process for 300 s"
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO: the process ended and closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    return b"".join(chunks)


def test_on_a_terminal_a_progress_bar_shows_mini_batches_rate_and_eta(pws: Workspace, proj: Path) -> None:
    _project(proj)
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color"}  # whatever terminal the tests run under (CI: often none)
    proc = subprocess.Popen([sys.executable, "submit.py"], stdout=slave, stderr=slave, cwd=proj, env=env)
    os.close(slave)
    try:
        text = _read_all(master, proc).decode("utf-8", errors="replace")
    finally:
        os.close(master)
    assert proc.returncode == 0 and "status: Finished" in text, text
    assert "━" in text and "\x1b[" in text, text  # drawn by rich, with terminal codes
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)
    bars = [line for line in re.split(r"[\r\n]", plain) if line.startswith("StepRun(score) ━")]
    assert bars and "8/8 mini-batches, 0 failed" in bars[-1] and "/s, ETA 0 s" in bars[-1], bars
    after = plain[plain.rindex("8/8 mini-batches") :]
    assert "StepRun(score) Status: Finished" in after  # the bar's last figures come before the status


def test_elsewhere_plain_progress_lines_with_the_rate_and_eta(pws: Workspace, proj: Path) -> None:
    _project(proj)
    done = subprocess.run([sys.executable, "submit.py"], cwd=proj, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0 and "status: Finished" in done.stdout, done.stdout + done.stderr
    assert "[parallel] progress: 8 of 8 mini-batches finished, 0 failed, 0 failed item(s);" in done.stdout
    assert "mini-batches/s, ETA 0 s" in done.stdout, done.stdout
    assert "━" not in done.stdout and "\x1b[" not in done.stdout  # no bar, no terminal codes in a log
