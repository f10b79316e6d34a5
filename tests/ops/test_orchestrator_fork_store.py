"""A submitter that has opened its workspace's store (a ComputeTarget, a Datastore ...) still forks
its orchestrators: Headwater's own idle SQLite connections are closed right before the fork and
reopen on next use. A database of the user's own, or a store inside a transaction, still makes it
spawn. Each scenario runs in a fresh interpreter: the pytest process has library threads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from headwater import Workspace
from headwater.ops.orchestrator_fork import START_ENV

GATE_STEP = """\
import os, time
from pathlib import Path
for _ in range(1200):
    if Path(os.environ["GATE_DIR"], "open").exists():
        break
    time.sleep(0.05)
print("through the gate")
"""

# argv: workspace folder, source folder, gate folder, "store" or "own-db"
SUBMITTER = """\
import json, os, sqlite3, sys
from pathlib import Path
from headwater import AmlCompute, ComputeTarget, Datastore, Experiment, Pipeline, PythonScriptStep, Workspace

folder, src, gate, mode = sys.argv[1:5]
ws = Workspace.get("fork-ws", folder=folder)
target = ComputeTarget.create(ws, "cpu", AmlCompute.provisioning_configuration(max_nodes=2))  # opens the store
own = sqlite3.connect(os.path.join(gate, "own.db")) if mode == "own-db" else None
if own is not None:
    own.execute("CREATE TABLE IF NOT EXISTS t (x)")


def forked(run):
    pid = int(ws.metadata_store.get_run(run.id).definition["orchestrator_pid"])  # the store, after the fork
    return Path(f"/proc/{pid}/cmdline").read_bytes() == Path("/proc/self/cmdline").read_bytes()


step = PythonScriptStep(script_name="gate.py", name="gate", source_directory=src, compute_target=target,
                        allow_reuse=False)
exp = Experiment(ws, "fork")
first = exp.submit(Pipeline(ws, steps=[step]))
seen = {"forked": [forked(first)]}
Datastore.register_local_folder(ws, "later", os.path.join(gate, "later"))  # a write after the fork
second = exp.submit(Pipeline(ws, steps=[step]))
seen["forked"].append(forked(second))
seen["datastore"] = Datastore.get(ws, "later").name
if own is not None:
    seen["own"] = own.execute("SELECT COUNT(*) FROM t").fetchone()[0]  # still open, untouched
    own.close()
Path(gate, "open").write_text("")
seen["status"] = [first.wait_for_completion(), second.wait_for_completion()]
ws.close()
print(json.dumps(seen), flush=True)
"""


def _submit(tmp_path: Path, mode: str) -> dict[str, object]:
    folder = tmp_path / "ws"
    Workspace.create("fork-ws", folder=folder).close()
    src = tmp_path / "src"
    src.mkdir()
    (src / "gate.py").write_text(GATE_STEP)
    gate = tmp_path / "gate"
    gate.mkdir()
    env = {k: v for k, v in os.environ.items() if k != START_ENV}
    env["GATE_DIR"] = str(gate)
    done = subprocess.run(
        [sys.executable, "-c", SUBMITTER, str(folder), str(src), str(gate), mode],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.slow
def test_a_submitter_with_its_store_open_forks_and_keeps_using_the_store(tmp_path: Path) -> None:
    seen = _submit(tmp_path, "store")
    assert seen["forked"] == [True, True]
    assert seen["datastore"] == "later"
    assert seen["status"] == ["Finished", "Finished"]


@pytest.mark.slow
def test_a_database_of_the_user_s_own_still_makes_it_spawn(tmp_path: Path) -> None:
    seen = _submit(tmp_path, "own-db")
    assert seen["forked"] == [False, False]
    assert seen["own"] == 0
    assert seen["status"] == ["Finished", "Finished"]


_REFUSALS = """
import json, os, sqlite3, sys
from pathlib import Path
from headwater import Workspace
from headwater.ops.orchestrator_fork import fork_refusal
from headwater.plan.digest_cache import open_digest_cache


def sqlite_fds():
    return sorted(t for t in (os.readlink(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd")
                              if os.path.exists(f"/proc/self/fd/{fd}")) if ".db" in t)


ws = Workspace.get("fork-ws", folder=sys.argv[1])
store = ws.metadata_store
store.get_meta("x")
cache = open_digest_cache(os.path.join(sys.argv[1], "cache", "digests.db"))
seen = {"before": len(sqlite_fds())}
seen["open"] = fork_refusal()
seen["after"] = sqlite_fds()
with store.transaction():
    store.set_meta("x", "1")
    seen["transaction"] = fork_refusal()
seen["meta"] = store.get_meta("x")
mine = sqlite3.connect(store.sqlite_file)  # the user's own connection to the store's file
mine.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
seen["mine"] = fork_refusal()
mine.close()
seen["rows"] = len(store.list_datastores())
seen["cache"] = len(cache)
cache.close()
ws.close()
print(json.dumps(seen))
"""


def test_idle_store_connections_are_released_but_not_one_in_a_transaction_nor_beside_the_user_s_own(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "ws"
    Workspace.create("fork-ws", folder=folder).close()
    env = {k: v for k, v in os.environ.items() if k != START_ENV}
    done = subprocess.run(
        [sys.executable, "-c", _REFUSALS, str(folder)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["before"] >= 2  # metadata.db and digests.db (and their -wal, -shm)
    assert seen["open"] is None
    assert seen["after"] == []  # released: nothing of SQLite's left for a fork to share
    assert "transaction" in seen["transaction"]
    assert seen["meta"] == "1"  # reopened on use
    assert "SQLite" in seen["mine"]
    assert seen["rows"] > 0
    assert seen["cache"] == 0
