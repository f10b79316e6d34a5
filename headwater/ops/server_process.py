"""Finding, starting and stopping a workspace's ``headwater serve`` process.

The running server records where it answers in ``<workspace>/server.json`` (url, host, port, pid,
started_at, autostarted, log_path — never a token) and holds ``locks/server.owner.lock`` for its
whole life, so a second ``serve`` on the same workspace finds the first instead of starting.
A record counts only when its process is alive and ``GET {url}/api/health`` answers with this
workspace's name and folder id: a stale record (dead pid, a port now used by something else) is
ignored, and the next server replaces it.

:func:`ensure_server` starts one in the background when none answers: detached (its own session,
through ``sh -c '... &'`` so it is nobody's zombie), output appended to ``logs/server.log``, on
127.0.0.1 with a free port; concurrent callers are serialised by ``locks/server.start.lock``, so
they start one server between them. Stdlib only (plus filelock), so the SDK can call it cheaply.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from headwater.errors import HeadwaterError
from headwater.layout import WorkspaceLayout

__all__ = [
    "HEALTH_PATH",
    "ServerInfo",
    "ServerStartError",
    "ensure_server",
    "health",
    "pid_alive",
    "read_record",
    "remove_record",
    "running_server",
    "stop_server",
    "write_record",
]

HEALTH_PATH = "/api/health"
#: How long :func:`ensure_server` waits for a server it started to answer (seconds).
START_TIMEOUT = float(os.environ.get("HEADWATER_SERVER_START_TIMEOUT", "60"))


class ServerStartError(HeadwaterError):
    """A server could not be started (or did not answer in time)."""


@dataclass(frozen=True)
class ServerInfo:
    """A running server, as ``server.json`` records it."""

    url: str
    host: str
    port: int
    pid: int
    started_at: str
    autostarted: bool = False
    log_path: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ServerInfo:
        return cls(
            url=str(data["url"]),
            host=str(data["host"]),
            port=int(data["port"]),
            pid=int(data["pid"]),
            started_at=str(data["started_at"]),
            autostarted=bool(data.get("autostarted", False)),
            log_path=data.get("log_path"),
        )


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie counts as dead)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return sys.platform != "linux"


# -- the record ----------------------------------------------------------------------------------


def read_record(ws_folder: str | os.PathLike[str]) -> ServerInfo | None:
    """What ``server.json`` says, unchecked (None: no record, or an unreadable one)."""
    try:
        return ServerInfo.from_dict(json.loads(WorkspaceLayout(ws_folder).server_file.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_record(ws_folder: str | os.PathLike[str], info: ServerInfo) -> None:
    """Write ``server.json`` atomically."""
    path = WorkspaceLayout(ws_folder).server_file
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    tmp.write_text(json.dumps(info.to_dict(), indent=2, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def remove_record(ws_folder: str | os.PathLike[str], pid: int | None = None) -> None:
    """Remove ``server.json`` (only when it is ``pid``'s, if given)."""
    path = WorkspaceLayout(ws_folder).server_file
    if pid is not None:
        current = read_record(ws_folder)
        if current is not None and current.pid != pid:
            return
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


# -- finding it ----------------------------------------------------------------------------------


def health(url: str, timeout: float = 2.0) -> dict[str, Any] | None:
    """What ``GET {url}/api/health`` answers, or None when nothing (sensible) answers."""
    try:
        with urllib.request.urlopen(url.rstrip("/") + HEALTH_PATH, timeout=timeout) as resp:
            data = json.loads(resp.read().decode("utf-8"))
    except (OSError, ValueError, urllib.error.URLError):
        return None
    return data if isinstance(data, dict) else None


def _answers_for(info: ServerInfo, ws_folder: str | os.PathLike[str], timeout: float = 2.0) -> bool:
    from headwater.ops.workspace_folder import folder_id, workspace_info

    answer = health(info.url, timeout)
    if answer is None:
        return False
    ws = answer.get("workspace") or {}
    return ws.get("name") == workspace_info(ws_folder)["name"] and ws.get("folder_id") == folder_id(ws_folder)


def running_server(ws_folder: str | os.PathLike[str]) -> ServerInfo | None:
    """The workspace's running server: its record, when its process is alive and it answers."""
    info = read_record(ws_folder)
    if info is None or not pid_alive(info.pid):
        return None
    return info if _answers_for(info, ws_folder) else None


# -- starting it ---------------------------------------------------------------------------------


def _start_detached(ws_folder: Path, log_path: Path) -> int:
    """Start ``headwater serve`` for the workspace in the background; returns its pid."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    line = 'log="$1"; shift; "$0" -m headwater serve "$@" </dev/null >>"$log" 2>&1 & echo $!'
    args = ["--folder", str(ws_folder), "--host", "127.0.0.1", "--port", "0", "--autostarted"]
    # Started from inside a step, the server is no process of that step: stopping the step leaves it alone.
    env = {k: v for k, v in os.environ.items() if k != "AZUREML_RUN_ID"}
    out = subprocess.run(
        ["/bin/sh", "-c", line, sys.executable, str(log_path), *args],
        check=True,
        capture_output=True,
        text=True,
        close_fds=True,
        env=env,
        start_new_session=True,
    )
    return int(out.stdout.strip())


def _log_tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def ensure_server(ws_folder: str | os.PathLike[str], *, timeout: float | None = None) -> ServerInfo:
    """The workspace's running server; started in the background (on 127.0.0.1) when none answers.

    Waits at most ``timeout`` seconds (default ``$HEADWATER_SERVER_START_TIMEOUT``, 60) for it to
    answer. Concurrent calls, from any processes, start one server between them.
    """
    from filelock import FileLock

    folder = Path(ws_folder).resolve()
    info = running_server(folder)
    if info is not None:
        return info
    limit = START_TIMEOUT if timeout is None else timeout
    layout = WorkspaceLayout(folder)
    layout.server_start_lock.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(layout.server_start_lock), timeout=limit + 10):
        info = running_server(folder)  # started by whoever held the lock before us
        if info is not None:
            return info
        log_path = layout.server_log
        pid = _start_detached(folder, log_path)
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            info = running_server(folder)
            if info is not None:
                return info
            if not pid_alive(pid):
                # It may have found a server someone started by hand meanwhile, and left.
                info = running_server(folder)
                if info is not None:
                    return info
                raise ServerStartError(
                    f"The workspace's server exited while starting (log: {log_path}):\n{_log_tail(log_path)}",
                    hint="Run `headwater serve` in a terminal to see why.",
                )
            time.sleep(0.05)
        _terminate(pid, 5.0)
        raise ServerStartError(
            f"The workspace's server did not answer within {limit:g} s (log: {log_path}):\n{_log_tail(log_path)}",
            hint="Set HEADWATER_SERVER_START_TIMEOUT to wait longer, or run `headwater serve` in a terminal.",
        )


# -- stopping it ---------------------------------------------------------------------------------


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while pid_alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def _is_headwater_serve(pid: int) -> bool:
    """Whether ``pid`` still runs ``headwater serve`` (not a process that reused the pid)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return sys.platform != "linux"
    return b"serve" in cmdline and any(b"headwater" in part for part in cmdline)


def _terminate(pid: int, timeout: float) -> None:
    """SIGTERM, wait up to ``timeout`` seconds, then SIGKILL (and wait a little more)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGTERM)
    if _wait_gone(pid, timeout):
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGKILL)
    _wait_gone(pid, 5.0)


def stop_server(ws_folder: str | os.PathLike[str], *, timeout: float = 10.0) -> bool:
    """Stop the workspace's server (SIGTERM, then SIGKILL after ``timeout`` s) and remove its record.

    True when a server process was stopped; False when none ran (a stale record is removed).
    """
    info = read_record(ws_folder)
    if info is None:
        return False
    stopped = False
    if pid_alive(info.pid) and _is_headwater_serve(info.pid):
        _terminate(info.pid, timeout)
        stopped = True
    remove_record(ws_folder, info.pid)
    return stopped
