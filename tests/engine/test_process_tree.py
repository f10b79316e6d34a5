"""process_tree: a subreaper adopts a step's orphans, reaps them — and nothing else.

Linux only (prctl, /proc), as CI is. The subreaper runs in a child interpreter (``SCRIPT``):
making the test process itself a subreaper would re-parent every orphan of the session
(orchestrators started through ``sh -c '... &'``) to it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest

from headwater.engine.executors import process_tree

SCRIPT = r"""
import json, os, signal, subprocess, sys, time
from headwater.engine.executors import process_tree as pt

run_id = sys.argv[1]
assert pt.become_subreaper() and pt.is_subreaper()
# a step: starts a daemon in a session of its own, prints its pid, exits
step = subprocess.Popen(
    [sys.executable, "-c",
     "import subprocess, sys; p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'],"
     " start_new_session=True); print(p.pid, flush=True)"],
    env={**os.environ, pt.MARKER: run_id}, stdout=subprocess.PIPE, text=True, start_new_session=True)
daemon = int(step.stdout.readline())
step.stdout.close()
assert step.wait() == 0
# another child of ours, not a step's: its exit status belongs to its Popen
other = subprocess.Popen([sys.executable, "-c", "import sys; sys.exit(7)"])
deadline = time.monotonic() + 30
while pt._stat(other.pid) is not None and not pt._stat(other.pid).zombie:
    assert time.monotonic() < deadline
    time.sleep(0.01)
adopted = daemon in pt.children_of_self()
reaper = pt.OrphanReaper(lambda: ({other.pid}, {run_id: step.pid}))
reaper.close()  # driven by hand below, not by its thread
reaper.reap()  # sees the daemon alive: adopted
found = sorted(pt.find_step_processes({run_id: step.pid}))
os.kill(daemon, signal.SIGKILL)
while pt._stat(daemon) is not None and not pt._stat(daemon).zombie:
    time.sleep(0.01)
reaped = reaper.reap()
print(json.dumps({"adopted": adopted, "found": found, "daemon": daemon, "reaped": reaped,
                  "daemon_left": pt._stat(daemon) is not None, "other": other.wait()}))
"""


def test_a_subreaper_adopts_finds_and_reaps_a_steps_orphan_and_leaves_other_children_alone() -> None:
    run_id = f"run-{uuid.uuid4().hex[:8]}"
    done = subprocess.run([sys.executable, "-c", SCRIPT, run_id], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout.splitlines()[-1])
    assert got["adopted"]  # re-parented to the subreaper, not to init
    assert got["found"] == [got["daemon"]]  # by its marker, though it left the step's session
    assert got["reaped"] == [got["daemon"]]
    assert not got["daemon_left"]  # no zombie left behind
    assert got["other"] == 7  # the exit status of a child we did not adopt was not stolen


def test_find_step_processes_never_includes_this_process_or_its_ancestors(monkeypatch: pytest.MonkeyPatch) -> None:
    run_id = f"run-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv(process_tree.MARKER, run_id)  # as in an orchestrator started inside a step
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], env=dict(os.environ))
    try:
        found = process_tree.find_step_processes({run_id: None})
        assert os.getpid() not in found and os.getppid() not in found
        assert child.pid in found  # (the environment of this process is read when it started)
    finally:
        child.kill()
        child.wait()


def test_a_group_is_only_trusted_when_it_holds_a_marked_process() -> None:
    """A step's recorded pid taken again by an unrelated process leader is never signalled."""
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    try:
        assert process_tree.find_step_processes({f"run-{uuid.uuid4().hex[:8]}": stranger.pid}) == set()
    finally:
        stranger.kill()
        stranger.wait()
