"""The top level: help, version, and the one place that maps failures to exit codes and stderr."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import headwater
from headwater.errors import NotFoundError
from tests.cli.conftest import Cli, one_error_line


def test_help_lists_the_command_groups(hw: Cli) -> None:
    out = hw("--help").stdout
    for group in ("workspace", "datastore", "dataset", "run", "env"):
        assert group in out
    assert "--verbose" in out and "--version" in out


def test_run_group_lists_its_subcommands(hw: Cli) -> None:
    out = hw("run", "--help").stdout
    for sub in ("list", "show", "logs", "cancel"):
        assert sub in out


def test_version(hw: Cli) -> None:
    assert hw("--version").stdout.strip() == f"headwater {headwater.__version__}"


def test_usage_errors_exit_2(hw: Cli) -> None:
    result = hw("no-such-command", code=2)
    assert "No such command" in result.stderr
    result = hw("run", "list", "--limit", "zero", code=2)
    assert "--limit" in result.stderr


def test_headwater_error_is_one_line_without_traceback(hw: Cli, cli_ws: object) -> None:
    line = one_error_line(hw("datastore", "upload", ".", "-w", "test-ws", "--datastore", "nope", code=1))
    assert line.startswith("error: Datastore 'nope' does not exist")


def test_verbose_adds_the_traceback(hw: Cli, cli_ws: object) -> None:
    result = hw("--verbose", "datastore", "upload", ".", "-w", "test-ws", "--datastore", "nope", code=1)
    assert "Traceback (most recent call last)" in result.stderr
    assert "NotFoundError" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: Datastore 'nope' does not exist")


def _explode(*args: object, **kwargs: object) -> None:
    raise RuntimeError("disk on fire")


def test_unexpected_error_is_one_line_pointing_to_verbose(
    hw: Cli, cli_ws: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("headwater.sdk.workspace.Workspace.get_default_datastore", _explode)
    line = one_error_line(hw("datastore", "list", "-w", "test-ws", code=1))
    assert line == "error: unexpected RuntimeError: disk on fire (run with --verbose for the traceback)"

    result = hw("--verbose", "datastore", "list", "-w", "test-ws", code=1)
    assert "Traceback (most recent call last)" in result.stderr
    assert 'raise RuntimeError("disk on fire")' in result.stderr
    assert result.stderr.strip().splitlines()[-1] == "error: unexpected RuntimeError: disk on fire"


def test_ctrl_c_exits_130(hw: Cli, cli_ws: object, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupt(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("headwater.sdk.workspace.Workspace.get_default_datastore", interrupt)
    result = hw("datastore", "list", "-w", "test-ws", code=130)
    assert "Traceback" not in result.stderr and "error:" not in result.stderr


def test_main_returns_the_exit_code(cli_ws: object, capsys: pytest.CaptureFixture[str]) -> None:
    from headwater.cli.main import main

    assert main(["workspace", "show", "-w", "test-ws"]) == 0
    assert main(["workspace", "show", "-w", "no-such"]) == 1
    assert main(["workspace", "bogus"]) == 2
    err = capsys.readouterr().err
    assert "error: Workspace 'no-such' does not exist" in err


def test_not_found_errors_come_from_the_sdk_tree() -> None:
    # The CLI adds one error of its own, and it is a HeadwaterError like the rest.
    from headwater.cli.errors import AmbiguousRunIdError

    assert issubclass(AmbiguousRunIdError, headwater.HeadwaterError)
    assert not issubclass(AmbiguousRunIdError, NotFoundError)


def test_installed_entry_point(headwater_home: Path) -> None:
    """The real ``headwater`` script: --help loads neither the SDK nor rich; errors exit 1 on one line."""
    exe = Path(sys.executable).parent / "headwater"
    assert exe.is_file(), f"the console script is not installed next to {sys.executable}"
    env = {**os.environ, "HEADWATER_HOME": str(headwater_home), "PYTHONPROFILEIMPORTTIME": "1"}
    env.pop("HEADWATER_WORKSPACE", None)
    helped = subprocess.run([str(exe), "--help"], capture_output=True, text=True, env=env, timeout=60)
    assert helped.returncode == 0, helped.stderr
    assert "workspace" in helped.stdout and "run" in helped.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in helped.stderr.splitlines() if "|" in line}
    assert "headwater.cli.main" in imported
    heavy = {"headwater.sdk", "headwater.store", "rich", "sqlite3", "pandas", "fsspec"}
    assert not heavy & imported

    env.pop("PYTHONPROFILEIMPORTTIME")
    failed = subprocess.run(
        [str(exe), "workspace", "show", "-w", "nope"], capture_output=True, text=True, env=env, timeout=60
    )
    assert failed.returncode == 1
    assert failed.stdout == ""
    assert failed.stderr.startswith("error: Workspace 'nope' does not exist")
    assert len(failed.stderr.strip().splitlines()) == 1
