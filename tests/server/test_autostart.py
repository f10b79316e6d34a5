"""``ensure_server``: a server started in the background when none answers, one for concurrent callers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from headwater import Workspace
from headwater.layout import WorkspaceLayout
from headwater.ops.server_process import ensure_server, pid_alive, read_record, running_server, stop_server
from tests.server.conftest import wait_until

pytestmark = pytest.mark.slow


@pytest.fixture
def folder(headwater_home: Path) -> Iterator[Path]:
    """A workspace folder; whatever server a test starts on it is stopped (and gone) after the test."""
    with Workspace.create("auto-ws") as ws:
        folder = ws.folder
    yield folder
    record = read_record(folder)
    stop_server(folder)
    if record is not None:
        wait_until(lambda: not pid_alive(record.pid), timeout=30, what="the server to exit")


def _serve_processes(folder: Path) -> list[int]:
    """Pids of ``headwater serve`` processes for ``folder``."""
    pids = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            cmdline = Path(entry.path, "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"serve" in cmdline and str(folder).encode() in cmdline and pid_alive(int(entry.name)):
            pids.append(int(entry.name))
    return pids


def test_ensure_server_starts_one_detached_with_its_log_in_the_workspace(folder: Path) -> None:
    assert running_server(folder) is None
    info = ensure_server(folder)
    assert info.autostarted and info.host == "127.0.0.1"
    assert info.log_path == str(WorkspaceLayout(folder).server_log)
    assert os.getsid(info.pid) != os.getsid(0)  # a session of its own: a terminal's Ctrl-C leaves it alone
    assert requests.get(f"{info.url}/api/health", timeout=10).json()["workspace"]["name"] == "auto-ws"
    assert "Serving workspace folder" in Path(info.log_path).read_text()
    assert ensure_server(folder) == info  # the running one is reused
    assert _serve_processes(folder) == [info.pid]
    status = subprocess.run(
        [sys.executable, "-m", "headwater", "serve", "status", "--folder", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert status.returncode == 0 and "autostarted: yes" in status.stdout


def test_concurrent_callers_start_one_server(folder: Path) -> None:
    code = "import sys; from headwater.ops.server_process import ensure_server; print(ensure_server(sys.argv[1]).pid)"
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(folder)], stdout=subprocess.PIPE, text=True) for _ in range(3)
    ]
    pids = {int(p.communicate(timeout=120)[0].strip()) for p in procs}
    assert all(p.returncode == 0 for p in procs)
    assert len(pids) == 1
    assert _serve_processes(folder) == list(pids)


def test_a_killed_server_is_replaced(folder: Path) -> None:
    first = ensure_server(folder)
    os.kill(first.pid, signal.SIGKILL)
    wait_until(lambda: not pid_alive(first.pid), timeout=30, what="the killed server to go")
    assert running_server(folder) is None  # its record is stale now
    second = ensure_server(folder)
    assert second.pid != first.pid and read_record(folder) == second
