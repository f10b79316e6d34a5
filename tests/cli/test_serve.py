"""``headwater serve status|stop`` without a server, and the loopback rule (no process is started)."""

from __future__ import annotations

import json

from headwater import Workspace
from tests.cli.conftest import Cli, one_error_line


def test_status_says_not_running_with_exit_1_and_stop_is_a_no_op(hw: Cli, cli_ws: Workspace) -> None:
    assert hw("serve", "status", "-w", "test-ws", code=1).stdout.strip() == "not running"
    assert hw("serve", "-w", "test-ws", "status", code=1).stdout.strip() == "not running"  # options before it too
    assert json.loads(hw("serve", "status", "-w", "test-ws", "--json", code=1).stdout) == {"running": False}
    assert hw("serve", "stop", "-w", "test-ws").stdout.strip() == "No server was running."


def test_a_non_loopback_host_needs_allow_remote(hw: Cli, cli_ws: Workspace) -> None:
    for host in ("0.0.0.0", "192.0.2.1", "example.org"):
        refused = hw("serve", "-w", "test-ws", "--host", host, code=1)
        line = one_error_line(refused)
        assert f"Refusing to listen on {host!r}" in line and "--allow-remote" in line


def test_serve_help_lists_its_options(hw: Cli) -> None:
    text = hw("serve", "--help").stdout
    for option in ("--host", "--port", "--allow-remote", "status", "stop"):
        assert option in text
    assert "--autostarted" not in text
