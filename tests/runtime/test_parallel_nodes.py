"""A ParallelRunStep's driver over several nodes, with node drivers started as plain processes.

The launcher here (what a Ray target's executor gives the driver, see
headwater.engine.executors.ray_nodes) starts the node drivers as local processes named node0,
node1, ...: the claiming, the reports and the join are the driver's, whatever starts the nodes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import gen

pytestmark = pytest.mark.slow

LAUNCHER = """
import os, subprocess, sys
count, log_dir = int(sys.argv[1]), sys.argv[2]
argv = sys.argv[sys.argv.index("--") + 1:]
procs = [subprocess.Popen(argv, env={**os.environ, "HEADWATER_PARALLEL_NODE_NAME": "node%d" % i})
         for i in range(count)]
sys.exit(max(p.wait() for p in procs))
"""

# The first run() on each node waits (bounded) until every node is in run(): each node holds one
# mini-batch until the others claimed one, so every node scores some, whoever starts first.
SCORE = """
import os, time

def init():
    pass

def _all_running():
    os.makedirs(os.environ["HW_STARTED"], exist_ok=True)
    open(os.path.join(os.environ["HW_STARTED"], os.environ["HEADWATER_PARALLEL_NODE"]), "w").close()
    deadline = time.monotonic() + 120
    while len(os.listdir(os.environ["HW_STARTED"])) < int(os.environ["HW_NODES"]) and time.monotonic() < deadline:
        time.sleep(0.05)

def run(mini_batch):
    node = os.environ["HEADWATER_PARALLEL_NODE"]
    _all_running()
    out = []
    for p in mini_batch:
        if os.path.basename(p) == os.environ.get("HW_FAIL"):
            raise ValueError("bad file " + p)
        with open(os.environ["HW_EVENTS"], "a") as f:
            f.write("%s %s\\n" % (os.path.basename(p), node))
        out.append("%s %s" % (os.path.basename(p), node))
    time.sleep(0.05)
    return out
"""


def _drive(
    tmp_path: Path, nodes: int, *extra: str, fail: str = "", score: str = SCORE, files: int = 12
) -> tuple[subprocess.CompletedProcess[str], Path]:
    gen(tmp_path, {"src": {"score.py": score}, "data": {f"f{i:02d}.txt": str(i) for i in range(files)},
                   "launcher.py": LAUNCHER})  # fmt: skip
    env = {
        **os.environ,
        "HEADWATER_PARALLEL_NODE_LAUNCHER": json.dumps([sys.executable, str(tmp_path / "launcher.py")]),
        "HEADWATER_PARALLEL_PROGRESS": str(tmp_path / "progress"),
        "HW_STARTED": str(tmp_path / "started"),
        "HW_EVENTS": str(tmp_path / "events.txt"),
        "HW_NODES": str(nodes),
        "HW_FAIL": fail,
    }
    argv = [sys.executable, "-m", "headwater.runtime.parallel_driver", "--scoring_module_name", "score.py",
            "--mini_batch_size", "1", "--node_count", str(nodes), "--process_count_per_node", "1",
            "--output", str(tmp_path / "out"), "--run_max_try", "1", *extra,
            "--input_fds_0", str(tmp_path / "data")]  # fmt: skip
    done = subprocess.run(argv, cwd=tmp_path / "src", env=env, capture_output=True, text=True, timeout=300)
    return done, tmp_path / "src" / "logs"


def test_node_drivers_share_the_mini_batches_each_scored_once_and_one_output(tmp_path: Path) -> None:
    done, logs = _drive(tmp_path, 2)
    assert done.returncode == 0, done.stdout + done.stderr
    events = (tmp_path / "events.txt").read_text().split("\n")[:-1]
    files = sorted(line.split()[0] for line in events)
    assert files == [f"f{i:02d}.txt" for i in range(12)]  # each scored exactly once
    assert {line.split()[1] for line in events} == {"node0", "node1"}  # by both nodes
    output = (tmp_path / "out" / "parallel_run_step.txt").read_text().splitlines()
    assert sorted(output) == sorted(events)  # joined into the one output
    assert "12 succeeded" in (logs / "job_result.txt").read_text()
    for node in ("node0", "node1"):  # SDK v1's per-node log folders
        assert any((logs / "sys" / "node" / node).iterdir())
        assert (logs / "user" / "stdout" / node).is_dir()
    assert not (tmp_path / "progress").exists()  # removed on success, as for one node


def test_a_failure_on_one_node_fails_the_step_with_one_message(tmp_path: Path) -> None:
    done, logs = _drive(tmp_path, 2, "--allowed_failed_count", "0", fail="f05.txt")
    assert done.returncode == 1
    assert "Failed mini-batches: 5." in done.stderr and "bad file" in done.stderr, done.stderr
    assert "ValueError: bad file" in (logs / "user" / "error.txt").read_text()
    assert (logs / "job_result.txt").read_text().startswith("Failed")


# Each node's worker fails its first two mini-batches, then scores slowly: no node alone exceeds
# allowed_failed_count=3, the job does (4 > 3) as soon as both nodes failed twice.
FAIL_TWICE_PER_NODE = SCORE.replace(
    "def run(mini_batch):\n",
    "FAILED = []\n\ndef run(mini_batch):\n"
    "    if len(FAILED) < 2:\n"
    "        _all_running()\n"
    "        FAILED.append(1)\n"
    "        raise ValueError('failing on purpose')\n"
    "    time.sleep(0.2)\n",
)


def test_the_thresholds_count_the_failures_of_all_nodes_while_they_run(tmp_path: Path) -> None:
    done, logs = _drive(tmp_path, 2, "--allowed_failed_count", "3", score=FAIL_TWICE_PER_NODE, files=60)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "4 failed mini-batch(es) across all nodes exceed allowed_failed_count=3" in done.stderr, done.stderr
    scored = (tmp_path / "events.txt").read_text().splitlines() if (tmp_path / "events.txt").exists() else []
    assert len(scored) < 60 - 4 - 10, len(scored)  # stopped soon, not after scoring all the others
    assert (logs / "job_result.txt").read_text().startswith("Failed")


# The last file's run() waits (bounded) until the coordinator's progress file, which
# wait_for_completion's bar reads, counts the other nodes' finished mini-batches.
WAIT_FOR_PROGRESS = SCORE.replace(
    "def run(mini_batch):\n",
    "def _progress_seen():\n"
    "    import json\n"
    "    path = os.path.join(os.getcwd(), 'logs', 'sys', 'job_progress.json')\n"
    "    deadline = time.monotonic() + 30\n"
    "    while time.monotonic() < deadline:\n"
    "        try:\n"
    "            done = json.load(open(path))['done']\n"
    "        except (OSError, ValueError, KeyError):\n"
    "            done = 0\n"
    "        if done >= 6:\n"
    "            return done\n"
    "        time.sleep(0.05)\n"
    "    return 0\n\n"
    "def run(mini_batch):\n"
    "    if any(os.path.basename(p) == 'f11.txt' for p in mini_batch):\n"
    "        with open(os.environ['HW_EVENTS'] + '.seen', 'w') as f:\n"
    "            f.write(str(_progress_seen()))\n",
)


def test_the_coordinator_keeps_the_progress_of_all_nodes_while_they_run(tmp_path: Path) -> None:
    done, _logs = _drive(tmp_path, 2, score=WAIT_FOR_PROGRESS)
    assert done.returncode == 0, done.stdout + done.stderr
    assert int((tmp_path / "events.txt.seen").read_text()) >= 6  # seen while f11 was still being scored
