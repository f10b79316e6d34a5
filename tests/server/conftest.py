"""The ``live_server`` fixture: a real ``headwater serve`` subprocess on 127.0.0.1 for one test.

``live_server.url``, ``.ws_folder``, ``.ws`` (the SDK ``Workspace``), ``.info`` (the
``ServerInfo`` it recorded), ``.proc`` (the ``subprocess.Popen``), ``.token(scope)`` (a token of
that scope, made once per scope) and ``.headers(scope)`` (``{"Authorization": "Bearer ..."}``).
The server is stopped with SIGTERM and waited for at teardown (SIGKILL if it hangs).

:func:`start_serve` starts another ``headwater serve`` process (the caller stops it, e.g. with
:func:`stop_process`); :func:`wait_until` polls a condition, bounded.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from headwater import Workspace
from headwater.ops.server_process import ServerInfo, running_server, stop_server

__all__ = ["LiveServer", "start_serve", "stop_process", "wait_until"]

START_TIMEOUT = 60.0


def wait_until(condition: Callable[[], Any], timeout: float = START_TIMEOUT, what: str = "the condition") -> Any:
    """Poll ``condition`` until it returns something truthy (returned); fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.05)


def start_serve(ws_folder: Path, *args: str, log: Path) -> tuple[subprocess.Popen[bytes], IO[bytes]]:
    """Start ``python -m headwater serve --folder WS ARGS`` with output to ``log``."""
    out = open(log, "ab")  # noqa: SIM115 (closed by stop_process)
    proc = subprocess.Popen(
        [sys.executable, "-m", "headwater", "serve", "--folder", str(ws_folder), *args],
        stdout=out,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    return proc, out


def stop_process(proc: subprocess.Popen[bytes], out: IO[bytes] | None = None, timeout: float = 20.0) -> int:
    """SIGTERM ``proc`` and wait for it (SIGKILL after ``timeout`` s); returns its exit code."""
    try:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                return proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                return proc.wait(timeout=timeout)
        return int(proc.returncode)
    finally:
        if out is not None:
            out.close()


class LiveServer:
    """A running ``headwater serve`` for a test's workspace."""

    def __init__(self, ws: Workspace, proc: subprocess.Popen[bytes], info: ServerInfo, log: Path) -> None:
        self.ws = ws
        self.ws_folder = ws.folder
        self.proc = proc
        self.info = info
        self.url = info.url
        self.log = log
        self._tokens: dict[str, str] = {}

    def token(self, scope: str = "admin") -> str:
        """A token of ``scope`` (``read``, ``submit`` or ``admin``), made on first use."""
        if scope not in self._tokens:
            from headwater.ops.tokens import create_token

            self._tokens[scope] = create_token(self.ws.metadata_store, f"test-{scope}", scope)
        return self._tokens[scope]

    def headers(self, scope: str = "admin") -> dict[str, str]:
        """``{"Authorization": "Bearer <token of scope>"}``."""
        return {"Authorization": f"Bearer {self.token(scope)}"}


@pytest.fixture
def live_server(headwater_home: Path, tmp_path: Path) -> Iterator[LiveServer]:
    """A real ``headwater serve`` on 127.0.0.1 (port 0) for a new workspace ``test-ws``."""
    yield from _serve(tmp_path)


@pytest.fixture(scope="module")
def module_live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One ``headwater serve`` like :func:`live_server`, shared by a module's tests (its own HEADWATER_HOME).

    Only for tests that leave the workspace as they found it (they record nothing, revoke nothing):
    a server start costs more than most of them.
    """
    folder = tmp_path_factory.mktemp("module-live-server")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HEADWATER_HOME", str(folder / "hw-home"))
        yield from _serve(folder)


def _serve(tmp_path: Path) -> Iterator[LiveServer]:
    ws = Workspace.create("test-ws")
    log = tmp_path / "live_server.log"
    proc, out = start_serve(ws.folder, "--port", "0", log=log)

    def started() -> ServerInfo | None:
        if proc.poll() is not None:
            pytest.fail(f"headwater serve exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
        info = running_server(ws.folder)
        return info if info is not None and info.pid == proc.pid else None

    try:
        info = wait_until(started, what="headwater serve to answer")
        yield LiveServer(ws, proc, info, log)
    finally:
        stop_process(proc, out)
        stop_server(ws.folder)  # anything a test started on this workspace (autostart) goes too
        ws.close()


@pytest.fixture
def no_server_left(headwater_home: Path) -> Iterator[None]:
    """Stops the server of any workspace under the test's HEADWATER_HOME after the test."""
    yield
    root = headwater_home / "workspaces"
    if root.is_dir():
        for folder in root.iterdir():
            stop_server(folder)
