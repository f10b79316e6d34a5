"""SDK v1's ``logs/perf/<node>/``: the driver samples the node and its workers' resource usage."""

from __future__ import annotations

import csv
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import gen

pytestmark = pytest.mark.slow

SCORE = """
import time

def init():
    pass

def run(mini_batch):
    time.sleep(0.3)
    return mini_batch
"""


def _drive(tmp_path: Path, interval: str) -> Path:
    gen(tmp_path, {"src": {"score.py": SCORE}, "data": {f"f{i}.txt": str(i) for i in range(4)}})
    env = {**os.environ, "HEADWATER_PARALLEL_PROGRESS": str(tmp_path / "progress")}
    env.pop("HEADWATER_CONTEXT", None)
    argv = [sys.executable, "-m", "headwater.runtime.parallel_driver", "--scoring_module_name", "score.py",
            "--mini_batch_size", "1", "--process_count_per_node", "1", "--output", str(tmp_path / "out"),
            "--resource_monitor_interval", interval, "--input_fds_0", str(tmp_path / "data")]  # fmt: skip
    done = subprocess.run(argv, cwd=tmp_path / "src", env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return tmp_path / "src" / "logs"


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_the_driver_writes_node_and_process_usage_under_logs_perf(tmp_path: Path) -> None:
    logs = _drive(tmp_path, "0.1")
    folder = logs / "perf" / (socket.gethostname() or "localhost")
    node = _rows(folder / "node_resource_usage.csv")
    assert len(node) >= 2  # at the start, every interval, at the end
    assert all(float(r["load_1m"]) >= 0 and float(r["disk_total_gb"]) > 0 for r in node)
    assert float(node[-1]["memory_total_mb"]) > 0 and node[-1]["cpu_percent"] != ""
    processes = _rows(folder / "processes_resource_usage.csv")
    names = {r["process"] for r in processes}
    assert names == {"driver", "process000"}
    assert all(float(r["rss_mb"]) > 0 for r in processes if r["rss_mb"])


def test_interval_zero_turns_the_monitor_off(tmp_path: Path) -> None:
    logs = _drive(tmp_path, "0")
    assert not (logs / "perf").exists()
