"""``headwater serve`` edge cases: a hung server is killed, a reused pid is left alone, a port in
use and a server that cannot start are reported clearly."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from headwater import Workspace
from headwater.layout import WorkspaceLayout
from headwater.ops.server_process import (
    ServerStartError,
    ensure_server,
    pid_alive,
    read_record,
    running_server,
    stop_server,
)
from tests.server.conftest import LiveServer

pytestmark = pytest.mark.slow


def test_a_server_that_ignores_sigterm_is_killed_after_the_timeout(live_server: LiveServer) -> None:
    live_server.proc.send_signal(signal.SIGSTOP)  # a stopped process handles no SIGTERM
    try:
        assert stop_server(live_server.ws_folder, timeout=0.5) is True
        assert live_server.proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if live_server.proc.poll() is None:
            live_server.proc.send_signal(signal.SIGCONT)
    assert read_record(live_server.ws_folder) is None


@pytest.fixture
def stranger() -> Iterator[subprocess.Popen[bytes]]:
    """A live process that is not a Headwater server."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    yield proc
    proc.kill()
    proc.wait()


def test_a_record_whose_pid_now_belongs_to_another_process_is_stale(
    ws: Workspace, stranger: subprocess.Popen[bytes]
) -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    record = {
        "url": f"http://127.0.0.1:{port}",
        "host": "127.0.0.1",
        "port": port,
        "pid": stranger.pid,
        "started_at": "2026-01-01T00:00:00.000000+00:00",
        "autostarted": True,
        "log_path": None,
    }
    WorkspaceLayout(ws.folder).server_file.write_text(json.dumps(record))
    assert running_server(ws.folder) is None
    assert stop_server(ws.folder) is False  # the stranger is not signalled ...
    assert pid_alive(stranger.pid) and stranger.poll() is None
    assert read_record(ws.folder) is None  # ... and the stale record is gone


def test_a_port_in_use_is_a_clear_error(ws: Workspace) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "headwater", "serve", "--folder", str(ws.folder), "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert result.returncode == 1
    assert f"Cannot listen on 127.0.0.1:{port}" in result.stderr and "--port" in result.stderr
    assert read_record(ws.folder) is None


@pytest.fixture
def broken(headwater_home: Path) -> Iterator[Path]:
    """A workspace whose metadata database is not a database."""
    with Workspace.create("broken-ws") as ws:
        folder = ws.folder
    WorkspaceLayout(folder).metadata_db.write_bytes(b"this is not a database" * 100)
    yield folder
    stop_server(folder)


def test_a_server_that_cannot_start_is_reported_with_its_log(broken: Path) -> None:
    with pytest.raises(ServerStartError) as caught:
        ensure_server(broken, timeout=60)
    message = str(caught.value)
    assert str(WorkspaceLayout(broken).server_log) in message
    assert "exited while starting" in message and "headwater serve" in message
    assert read_record(broken) is None
