"""Warm step starts: a Python step forked from a warm step server instead of a fresh interpreter.

A step whose program is ``<python> script.py ...`` — the orchestrator's Python, or a built
environment's (whose steps find Headwater's runtime through the link folder on their
PYTHONPATH) — is started by :mod:`headwater.runtime.step_server`, a single-threaded interpreter
of that environment which has already imported what the step imported last time (its record):
it forks, and the child becomes the step (:mod:`headwater.runtime.step_child`). There is one
server per environment and *import set*: a step is forked from the server of exactly the set its
record names, so it never sees a module that only another step imported, and a tiny step is
forked from a small process (a fork of a large one costs tens of milliseconds more). When that
server is not running yet it is started in the background, and the step is forked from the
environment's *lean* server, which imports nothing for its steps; a step whose record changed
when it ended has its set's server started then, ready for its next run. At most
``HEADWATER_STEP_SERVERS`` (default 4) servers of import sets run per environment: a new one stops
the least recently used. The step cannot tell, except by
its speed: same ``__main__``, argv, environment, working folder, descriptors, signal handlers,
seeds, exit codes; it is the leader of its own process group, so cancel and timeouts stop it (and
what it started) as before.

:meth:`WarmStarter.start` returns None — and the executor starts the step as a fresh interpreter —
when warm starts are off (``HEADWATER_STEP_START=exec``), the step is not a plain Python script of
such an interpreter, no server answers (one is started, and the step waits for it to listen: a few
tens of milliseconds, once per server), or the server refuses (the step's previous warm start
crashed or failed on an import, an import left the server with a thread, the environment's
packages or a loaded source changed). A server lives while it is used and exits after
``HEADWATER_STEP_SERVER_IDLE`` seconds (default 60) without a step; one server answers every
orchestrator of this user and environment.
"""

from __future__ import annotations

import hashlib
import json
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

from headwater._paths import COMPAT_SHIM_DIR, PACKAGE_DIR
from headwater.engine.executors.log_capture import LogCapture
from headwater.layout import RUNTIME_LINK_DIR
from headwater.runtime.step_child import BLAS_THREADS_ENV, ENVIRON_ROOM, ENVIRON_ROOM_ENV, read_record
from headwater.runtime.step_server import LEAN, server_names

__all__ = ["IDLE_ENV", "MODE_ENV", "SERVERS_ENV", "ForkedStep", "WarmStarter", "record_path", "running_servers"]

#: ``exec``: every step starts as a fresh interpreter (``fork``, the default: warm where possible).
MODE_ENV = "HEADWATER_STEP_START"
#: Seconds a step server waits for its next step before it exits.
IDLE_ENV = "HEADWATER_STEP_SERVER_IDLE"
DEFAULT_IDLE_SECONDS = 60.0
#: How many servers of import sets (besides the lean one) may run per environment.
SERVERS_ENV = "HEADWATER_STEP_SERVERS"
DEFAULT_SERVERS = 4
#: How long the first step waits for a server just started to listen (then it starts fresh).
SERVER_START_SECONDS = 5.0
#: Where a workspace keeps what each step imported (``<key>.json``), for its next warm start.
RECORDS_DIR = "step-starts"

_ARROW_JEMALLOC_ENV = "JE_ARROW_MALLOC_CONF"
_NO_BACKGROUND = "background_thread:false"
_HEADER = struct.Struct("!I")
_CREDENTIALS = struct.Struct("3i")
_SERVER_CODE = "from headwater.runtime.step_server import serve; serve()"
_SERVER_FILES = (PACKAGE_DIR / "runtime" / "step_server.py", PACKAGE_DIR / "runtime" / "step_child.py")


def _shapes_interpreter(name: str) -> bool:
    """Variables read when an interpreter starts: a server's must equal the step's."""
    return (
        (name.startswith("PYTHON") and name != "PYTHONPATH") or name in ("LANG", "LANGUAGE") or name.startswith("LC_")
    )


def record_path(workspace_folder: str, python: str, experiment: str, script: str, step: str = "") -> Path:
    """The record of what the step ``step`` (its ``script``) of ``experiment`` imported on ``python``."""
    parts = (python, experiment, script, step) if step else (python, experiment, script)
    key = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]
    return Path(workspace_folder) / RECORDS_DIR / f"{key}.json"


def import_set(record: dict[str, object]) -> list[str]:
    """The modules a step's record names, less those no server may import (``skip``), sorted."""
    skip = {n for n in record.get("skip") or () if isinstance(n, str)}  # type: ignore[attr-defined]
    names = [n for n in record.get("modules") or () if isinstance(n, str)]  # type: ignore[attr-defined]
    if skip:
        names = [n for n in names if not any(".".join(n.split(".")[:i]) in skip for i in range(1, n.count(".") + 2))]
    return sorted(names)


def _set_key(modules: list[str]) -> str:
    return hashlib.sha256(json.dumps(modules).encode()).hexdigest()[:16] if modules else LEAN


def running_servers(python: str, env: dict[str, str]) -> list[str]:
    """The names of the step servers of the environment a step of ``python`` with ``env`` (over
    this process's environment) runs in that are listening now."""
    group, _ = WarmStarter()._server(python, {**os.environ, **env})
    return server_names(group + "/")


class ForkedStep:
    """A step process forked by a step server: what the executor uses of ``subprocess.Popen``.

    Its exit status arrives from the server over ``sock``. Should the server die first, the step
    is waited for by its pid and reported as killed (its status is lost with the server).
    """

    def __init__(self, pid: int, sock: socket.socket, stdout: IO[bytes], args: list[str], buffer: bytes = b"") -> None:
        self.pid = pid
        self.stdout = stdout
        self.args = args
        self.returncode: int | None = None
        #: Whether the step left processes behind (its orphans went to the server): look for them.
        self.orphans = False
        #: Its record, and the server of its import set it was meant for (set by the starter).
        self.record = ""
        self.wanted = ""
        self._sock = sock
        self._buffer = buffer  # what the server sent after the pid (its status, if the step has ended)
        self._lock = threading.Lock()

    def poll(self) -> int | None:
        try:
            return self.wait(0)
        except subprocess.TimeoutExpired:
            return None

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is not None:
            return self.returncode
        if not self._lock.acquire(timeout=-1 if timeout is None else timeout):
            raise subprocess.TimeoutExpired(self.args, timeout or 0)
        try:
            if self.returncode is None:
                self._read(timeout)
            assert self.returncode is not None
            return self.returncode
        finally:
            self._lock.release()

    def _read(self, timeout: float | None) -> None:
        while b"\n" not in self._buffer:
            ready, _, _ = select.select([self._sock], [], [], timeout)
            if not ready:
                raise subprocess.TimeoutExpired(self.args, timeout or 0)
            try:
                chunk = self._sock.recv(4096)
            except OSError:
                chunk = b""
            if not chunk:
                self._server_gone()
                return
            self._buffer += chunk
        message = json.loads(self._buffer.partition(b"\n")[0])
        self.orphans = bool(message.get("orphans", True))
        self.returncode = os.waitstatus_to_exitcode(int(message["status"]))
        self._sock.close()

    def _server_gone(self) -> None:
        self._sock.close()
        try:
            fd = os.pidfd_open(self.pid)
        except OSError:
            fd = -1
        if fd >= 0:
            try:
                select.select([fd], [], [])
            finally:
                os.close(fd)
        self.orphans = True
        self.returncode = -signal.SIGKILL


class WarmStarter:
    """Starts eligible steps by fork from their environment's step server (see the module)."""

    def __init__(self) -> None:
        # Servers outlive an executor: the process keeps their handles (unreaped, unwarned).
        self._spawned = _SPAWNED
        self._lock = _SPAWN_LOCK
        self._key_files = tuple(_file_stamp(p) for p in _SERVER_FILES)
        self._python: dict[str, tuple[str, dict[str, str]]] = {}  # server name -> its Python, environment
        self._servers: dict[tuple[str, str, tuple[tuple[str, str], ...]], tuple[str, dict[str, str]]] = {}

    def server_pids(self) -> set[int]:
        """The servers this process started that have not exited (children that are not steps)."""
        with self._lock:
            return {p.pid for p in self._spawned.values() if p.poll() is None}

    def start(
        self,
        argv: tuple[str, ...],
        *,
        cwd: str,
        env: dict[str, str],
        log_path: str,
        log_cap: int,
        log_note: str,
        step: str | None = None,
    ) -> tuple[ForkedStep, LogCapture] | None:
        """Fork the step (``step``: its name) from its server; None: start it as a fresh interpreter."""
        full = {**os.environ, **env}
        if not self._eligible(argv, full):
            return None
        workspace = full.get("AZUREML_WORKSPACE_ID", "")
        record = (
            str(record_path(workspace, argv[0], full.get("AZUREML_ARM_PROJECT_NAME", ""), argv[1], step or ""))
            if workspace
            else ""
        )
        data = read_record(record) if record else {}
        if data.get("fallback"):
            return None  # its previous warm start failed in a way a server could have caused
        modules = import_set(data)
        group, server_env = self._server(argv[0], full)
        wanted = f"{group}/{_set_key(modules)}"
        sock = self._connect(wanted) if modules else None
        if sock is None:
            if modules:  # in the background; this step is forked from the lean server meanwhile
                self._spawn(wanted, argv[0], server_env, modules=modules, record=record)
            lean = f"{group}/{LEAN}"
            sock = self._connect(lean)
            if sock is None:
                self._spawn(lean, argv[0], server_env)
                sock = self._connect(lean, wait=True)
                if sock is None:
                    return None
        request = {"argv": list(argv), "cwd": cwd, "env": full, "record": record, "modules": modules}
        payload = json.dumps(request).encode()
        read_end, write_end = os.pipe()
        try:
            socket.send_fds(sock, [_HEADER.pack(len(payload))], [write_end])
            sock.sendall(payload)
            os.close(write_end)
            write_end = -1
            reply, rest = _read_line(sock)
        except (OSError, ValueError):  # the server went away, or answered nonsense: a fresh interpreter
            reply, rest = {}, b""
        finally:
            if write_end >= 0:
                os.close(write_end)
        if "pid" not in reply:
            sock.close()
            os.close(read_end)
            return None
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        proc = ForkedStep(int(str(reply["pid"])), sock, os.fdopen(read_end, "rb"), list(argv), rest)
        proc.record, proc.wanted = record, wanted
        self._python[wanted] = (argv[0], server_env)
        try:
            capture = LogCapture(proc.stdout, log_path, log_cap, note=log_note).start()
        except BaseException:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            proc.stdout.close()
            raise
        return proc, capture

    def ended(self, proc: ForkedStep) -> None:
        """A forked step ended: when its record now names another import set, start that set's
        server, so the step's next run finds it warm (off the critical path: after its result)."""
        if not proc.record or proc.wanted not in self._python:
            return
        data = read_record(proc.record)
        modules = import_set(data)
        if not modules or data.get("fallback"):
            return
        group = proc.wanted.rsplit("/", 1)[0]
        name = f"{group}/{_set_key(modules)}"
        with self._lock:
            running = self._spawned.get(name)
        if (running is not None and running.poll() is None) or name in server_names(name):
            return  # started by this process, or by another orchestrator
        python, server_env = self._python[proc.wanted]
        self._spawn(name, python, server_env, modules=modules, record=proc.record)

    def _connect(self, name: str, *, wait: bool = False) -> socket.socket | None:
        """A connection to the server ``name``; ``wait``: for the one just started to listen."""
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect("\0" + name)
                creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _CREDENTIALS.size)
                if _CREDENTIALS.unpack(creds)[1] != os.getuid():
                    raise PermissionError("a step server of another user")
                return sock
            except PermissionError:
                sock.close()
                return None
            except OSError:
                sock.close()
            with self._lock:
                spawned = self._spawned.get(name)
            if not wait or time.monotonic() > deadline or spawned is None or spawned.poll() is not None:
                return None
            time.sleep(0.002)

    def _eligible(self, argv: tuple[str, ...], env: dict[str, str]) -> bool:
        if sys.platform != "linux" or env.get(MODE_ENV, "fork").strip().lower() == "exec":
            return False
        # a plain ``python script.py ...`` (no options, no -m, no -c) of this interpreter or of a
        # built environment's, which finds Headwater's runtime on the PYTHONPATH the step is given
        if len(argv) < 2 or argv[1].startswith("-") or not os.path.isabs(argv[0]):
            return False
        return argv[0] == sys.executable or (
            Path(argv[0]).name.startswith("python")
            and any(Path(p).name == RUNTIME_LINK_DIR for p in env.get("PYTHONPATH", "").split(os.pathsep))
        )

    def _server(self, python: str, env: dict[str, str]) -> tuple[str, dict[str, str]]:
        """The name of this environment's servers (without the import set's part), and the
        environment to start them with."""
        shaping = tuple(sorted((k, v) for k, v in env.items() if _shapes_interpreter(k)))
        cache_key = (python, env.get("PYTHONPATH", ""), shaping)
        known = self._servers.get(cache_key)
        if known is not None:
            return known
        ours = {str(COMPAT_SHIM_DIR)}
        path = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p in ours or Path(p).name == RUNTIME_LINK_DIR]
        key = json.dumps([python, path, list(shaping), self._key_files])
        name = f"headwater-step-server/{os.getuid()}/{hashlib.sha256(key.encode()).hexdigest()[:24]}"
        server_env = {k: v for k, v in os.environ.items() if not _shapes_interpreter(k) and k != "PYTHONPATH"}
        server_env.update(shaping)
        # Libraries that start a thread when imported, told not to in the server: OpenBLAS (each
        # step gets the pool it would have, step_child.restore_blas_threads), pyarrow's jemalloc.
        server_env[BLAS_THREADS_ENV] = "1"
        server_env[ENVIRON_ROOM_ENV] = "x" * ENVIRON_ROOM  # room for each step's /proc/<pid>/environ
        conf = server_env.get(_ARROW_JEMALLOC_ENV)
        server_env[_ARROW_JEMALLOC_ENV] = f"{conf},{_NO_BACKGROUND}" if conf else _NO_BACKGROUND
        if path:
            server_env["PYTHONPATH"] = os.pathsep.join(path)
        self._servers[cache_key] = (name, server_env)
        return name, server_env

    def _spawn(
        self, name: str, python: str, env: dict[str, str], *, modules: list[str] | None = None, record: str = ""
    ) -> None:
        """Start the server ``name`` in the background (once per name while it runs); ``modules``:
        its import set (written next to ``record``, the step's record, for it to read)."""
        with self._lock:
            running = self._spawned.get(name)
            if running is not None and running.poll() is None:
                return
            set_file = ""
            if modules:
                if not record:
                    return
                set_path = Path(record).parent / "sets" / f"{name.rsplit('/', 1)[1]}.json"
                if not set_path.exists():
                    _write_json(str(set_path), modules)
                set_file = str(set_path)
            idle = os.environ.get(IDLE_ENV, "")
            try:
                idle_seconds = max(0.0, float(idle)) if idle else DEFAULT_IDLE_SECONDS
            except ValueError:
                idle_seconds = DEFAULT_IDLE_SECONDS
            cap = os.environ.get(SERVERS_ENV, "")
            try:
                servers = max(1, int(cap)) if cap else DEFAULT_SERVERS
            except ValueError:
                servers = DEFAULT_SERVERS
            code = "import os; os.chdir('/')\n" + _SERVER_CODE  # holds no folder of the step's
            argv = [python, "-c", code, name, str(idle_seconds), str(servers), set_file, record]
            try:
                # posix_spawn, not Popen: a server outlives this process's executors, and a Popen
                # object of a child still running warns (ResourceWarning) when it is collected
                pid = os.posix_spawn(
                    python,
                    argv,
                    env,
                    file_actions=[(os.POSIX_SPAWN_OPEN, fd, os.devnull, os.O_RDWR, 0) for fd in (0, 1, 2)],
                    setsid=True,
                )
            except OSError:
                return
            self._spawned[name] = _Spawned(pid)


class _Spawned:
    """A server this process started: its pid, and whether it still runs (reaped once it ended)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                done, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped elsewhere
                self.returncode = -1
            else:
                if done == self.pid:
                    self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode


#: The servers this process started, by name (one process may hold several executors).
_SPAWNED: dict[str, _Spawned] = {}
_SPAWN_LOCK = threading.Lock()


def _file_stamp(path: Path) -> tuple[str, int, int]:
    try:
        st = path.stat()
    except OSError:
        return (str(path), 0, 0)
    return (str(path), st.st_mtime_ns, st.st_size)


def _write_json(path: str, value: object) -> None:
    """Write ``value`` to ``path`` atomically; a file that cannot be written only costs speed."""
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(value, fh)
        os.replace(tmp, path)
    except OSError:
        pass


def _read_line(sock: socket.socket) -> tuple[dict[str, object], bytes]:
    """The server's first reply, and what came after it in the same reads (a step that has already
    ended: its wait status)."""
    data = b""
    while b"\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            return {}, b""
        data += chunk
    line, _, rest = data.partition(b"\n")
    message = json.loads(line)
    return (message if isinstance(message, dict) else {}), rest
