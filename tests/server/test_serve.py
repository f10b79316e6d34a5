"""``headwater serve`` as a real process: its record, health, a second serve, status and stop."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from headwater.layout import WorkspaceLayout
from headwater.ops.server_process import pid_alive, read_record, running_server
from headwater.ops.workspace_folder import folder_id
from tests.server.conftest import LiveServer, start_serve, stop_process, wait_until

pytestmark = pytest.mark.slow


def headwater(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The real ``headwater`` command line (``python -m headwater``)."""
    return subprocess.run(
        [sys.executable, "-m", "headwater", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def test_health_names_the_workspace_without_secrets_and_the_record_points_at_the_server(
    live_server: LiveServer,
) -> None:
    answer = requests.get(f"{live_server.url}/api/health", timeout=10)
    assert answer.status_code == 200
    body = answer.json()
    assert body["workspace"] == {"name": "test-ws", "folder_id": folder_id(live_server.ws_folder)}
    assert body["version"]
    assert str(live_server.ws_folder) not in answer.text
    record = json.loads(WorkspaceLayout(live_server.ws_folder).server_file.read_text())
    assert set(record) == {"url", "host", "port", "pid", "started_at", "autostarted", "log_path"}
    assert record["host"] == "127.0.0.1" and record["url"] == f"http://127.0.0.1:{record['port']}"
    assert record["pid"] == live_server.proc.pid and record["autostarted"] is False and record["port"] > 0


def test_a_second_serve_reports_the_first_and_exits_0(live_server: LiveServer) -> None:
    second = headwater("serve", "--folder", str(live_server.ws_folder), "--port", "0")
    assert second.returncode == 0, second.stderr
    assert live_server.url in second.stdout
    assert running_server(live_server.ws_folder) == live_server.info


def test_status_prints_the_server_and_stop_stops_it(live_server: LiveServer) -> None:
    status = headwater("serve", "status", "--folder", str(live_server.ws_folder))
    assert status.returncode == 0, status.stderr
    lines = dict(line.split(": ", 1) for line in status.stdout.splitlines())
    assert lines["url"] == live_server.url and lines["pid"] == str(live_server.proc.pid)
    assert lines["autostarted"] == "no" and "uptime" in lines

    stop = headwater("serve", "stop", "--folder", str(live_server.ws_folder))
    assert stop.returncode == 0, stop.stderr
    assert live_server.proc.wait(timeout=30) == 0  # a graceful shutdown on SIGTERM
    assert read_record(live_server.ws_folder) is None
    again = headwater("serve", "status", "--folder", str(live_server.ws_folder))
    assert again.returncode == 1 and "not running" in again.stdout


def test_a_stale_record_is_ignored_and_replaced(ws_folder_stale: Path, tmp_path: Path) -> None:
    assert running_server(ws_folder_stale) is None
    status = headwater("serve", "status", "--folder", str(ws_folder_stale))
    assert status.returncode == 1
    proc, out = start_serve(ws_folder_stale, log=tmp_path / "serve.log")
    try:
        info = wait_until(lambda: running_server(ws_folder_stale), what="the new server")
        assert info.pid == proc.pid
    finally:
        assert stop_process(proc, out) == 0
    assert read_record(ws_folder_stale) is None


@pytest.fixture
def ws_folder_stale(headwater_home: Path) -> Path:
    """A workspace whose server.json names a dead process."""
    from headwater import Workspace

    with Workspace.create("stale-ws") as ws:
        folder = ws.folder
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    assert not pid_alive(dead.pid)
    record = {
        "url": "http://127.0.0.1:9",
        "host": "127.0.0.1",
        "port": 9,
        "pid": dead.pid,
        "started_at": "2026-01-01T00:00:00.000000+00:00",
        "autostarted": False,
        "log_path": None,
    }
    WorkspaceLayout(folder).server_file.write_text(json.dumps(record))
    return folder


def test_another_address_is_refused_without_allow_remote(headwater_home: Path) -> None:
    from headwater import Workspace

    with Workspace.create("remote-ws") as ws:
        folder = ws.folder
    refused = headwater("serve", "--folder", str(folder), "--host", "0.0.0.0")
    assert refused.returncode != 0
    assert "--allow-remote" in refused.stderr and "0.0.0.0" in refused.stderr
    assert read_record(folder) is None


def test_allow_remote_binds_another_address_with_a_warning(headwater_home: Path, tmp_path: Path) -> None:
    from headwater import Workspace

    with Workspace.create("remote-ws") as ws:
        folder = ws.folder
    log = tmp_path / "serve.log"
    proc, out = start_serve(folder, "--host", "0.0.0.0", "--allow-remote", log=log)
    try:
        info = wait_until(lambda: running_server(folder), what="the server on 0.0.0.0")
        assert info.host == "0.0.0.0"
        assert requests.get(f"http://127.0.0.1:{info.port}/api/health", timeout=10).status_code == 200
        assert "warning" in log.read_text() and "not loopback" in log.read_text()
    finally:
        assert stop_process(proc, out) == 0


def test_sigint_shuts_down_gracefully_and_removes_the_record(live_server: LiveServer) -> None:
    import signal

    os.kill(live_server.proc.pid, signal.SIGINT)
    assert live_server.proc.wait(timeout=30) == 0
    assert read_record(live_server.ws_folder) is None
