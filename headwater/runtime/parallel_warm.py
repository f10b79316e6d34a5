"""Warm ParallelRunStep workers: forked from a worker server that has already imported what the
entry script's workers imported last time (stdlib only, Python 3.8 compatible).

The server is a :mod:`headwater.runtime.step_server` of the driver's interpreter, started by the
first driver that needs it (detached: it outlives the step and serves the next run; it exits after
``HEADWATER_STEP_SERVER_IDLE`` seconds without a worker). For each worker the driver sends the
server a request — ``<python> parallel_worker.py <socket> <settings> <stderr>``, the worker's
environment and working folder, its stdout log — and the server forks; the child becomes a fresh
worker (:mod:`headwater.runtime.step_child`: own session, default signal handlers, environment,
``random``/``numpy.random`` reseeded, new ``__main__``) and connects back to the driver's socket,
over which it gets its mini-batches. When it ends it records the top-level modules it imported
(``<workspace>/parallel-starts/<key>.json``, one per interpreter, experiment and entry script);
the server imports them in the background, and before the next fork of a worker of that entry
script. The entry script itself (and whatever lies in the source folder) is loaded fresh in
every worker, so its module-level code and ``init()`` run once per worker as before.

A worker starts as a fresh interpreter instead (:func:`starter` returns None, or the server
refuses) when ``HEADWATER_STEP_START=exec``, off Linux, on a Ray target or node, when the step's
interpreter is a built environment's (not Headwater's own), or without a workspace to record in.
"""

from __future__ import annotations

import array
import hashlib
import json
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

__all__ = ["MODE_ENV", "RECORDS_DIR", "ForkedWorker", "Starter", "starter"]

#: ``exec``: every worker starts as a fresh interpreter (the switch of warm step starts too).
MODE_ENV = "HEADWATER_STEP_START"
IDLE_ENV = "HEADWATER_STEP_SERVER_IDLE"
SERVERS_ENV = "HEADWATER_STEP_SERVERS"  # the cap on import-set servers, as for steps
LEAN = "lean"  # step_server.LEAN: the name of a server without an import set (never capped)
#: Where a workspace keeps what each entry script's workers imported (``<key>.json``).
RECORDS_DIR = "parallel-starts"
#: How long a driver waits for a server it started to listen (then its workers start fresh).
SERVER_START_SECONDS = 5.0
#: How long a forked worker may take to connect back (the server may import first).
CONNECT_SECONDS = 120.0
_RUNTIME_LINK_DIR = ".headwater-runtime"  # headwater.layout.RUNTIME_LINK_DIR (runtime is stdlib-only)
_HEADER = struct.Struct("!I")
_CREDENTIALS = struct.Struct("3i")
_SERVER_CODE = "from headwater.runtime.step_server import serve; serve()"
_HERE = os.path.dirname(os.path.abspath(__file__))
_KEY_FILES = ("step_server.py", "step_child.py", "parallel_warm.py")


def _shapes_interpreter(name: str) -> bool:
    return (
        (name.startswith("PYTHON") and name != "PYTHONPATH") or name in ("LANG", "LANGUAGE") or name.startswith("LC_")
    )


def _eligible(env: dict[str, str]) -> bool:
    if sys.platform != "linux" or env.get(MODE_ENV, "fork").strip().lower() == "exec":
        return False
    if not os.path.isdir(env.get("AZUREML_WORKSPACE_ID") or ""):
        return False  # no workspace (here) to keep the record in
    if any(k.startswith(("HEADWATER_RAY_", "HEADWATER_PARALLEL_NODE")) for k in env):
        return False  # a Ray target or node: the cluster starts processes its own way
    # (not any RAY_* variable: a user's RAY_ADDRESS, or one `ray.init()` left in the submitter's
    # environment, says nothing about this step's target)
    # a built environment's interpreter finds Headwater through the runtime link on its PYTHONPATH
    return not any(os.path.basename(p) == _RUNTIME_LINK_DIR for p in env.get("PYTHONPATH", "").split(os.pathsep))


def _own_path(env: dict[str, str]) -> list[str]:
    """The PYTHONPATH entries Headwater gives every step (the compat shim, inside its package): the
    server's. The user's own entries come with each worker's request."""
    package = os.path.dirname(_HERE) + os.sep
    return [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and p.startswith(package)]


def _stamp(name: str) -> list[Any]:
    try:
        st = os.stat(os.path.join(_HERE, name))
        return [name, st.st_mtime_ns, st.st_size]
    except OSError:
        return [name, 0, 0]


def record_path(env: dict[str, str], entry_script: str) -> str:
    """The record of what the workers of ``entry_script`` (of this step's experiment) imported."""
    parts = (sys.executable, env.get("AZUREML_ARM_PROJECT_NAME", ""), entry_script)
    key = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]
    return os.path.join(env["AZUREML_WORKSPACE_ID"], RECORDS_DIR, f"{key}.json")


class ForkedWorker:
    """A worker process forked by the server: what the driver uses of ``subprocess.Popen``. Its
    exit status arrives over ``conn``; should the server die first, it counts as killed."""

    def __init__(self, pid: int, conn: socket.socket) -> None:
        self.pid = pid
        self.conn = conn
        self.returncode: int | None = None
        self.lost = False  # the server died first: the worker may still run
        self._buffer = b""

    def _read(self, timeout: float | None) -> None:
        while self.returncode is None:
            ready, _, _ = select.select([self.conn], [], [], timeout)
            if not ready:
                return
            try:
                chunk = self.conn.recv(4096)
            except OSError:
                chunk = b""
            if not chunk:
                self.returncode = -signal.SIGKILL  # the server is gone: so is the status
                self.lost = True
                return
            self._buffer += chunk
            if b"\n" in self._buffer:
                status = int(json.loads(self._buffer.split(b"\n", 1)[0]).get("status", 9))
                self.returncode = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
                self.conn.close()
                return
            timeout = None

    def poll(self) -> int | None:
        self._read(0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        self._read(timeout)
        if self.returncode is None:
            raise subprocess.TimeoutExpired(["parallel_worker"], timeout or 0)
        return self.returncode

    def kill(self) -> None:
        if self.poll() is None or self.lost:
            try:
                os.killpg(self.pid, signal.SIGKILL)  # the worker leads its own session
            except OSError:
                pass


class Starter:
    """Starts the workers of one driver by fork from the server (see the module)."""

    def __init__(self, env: dict[str, str], record: str) -> None:
        self.record = record
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.address = f"headwater-parallel-worker/{os.getuid()}/{os.getpid()}/{os.urandom(8).hex()}"
        self.listener.bind("\0" + self.address)
        self.listener.listen(16)
        own = _own_path(env)
        shaping = sorted((k, v) for k, v in env.items() if _shapes_interpreter(k))
        key = json.dumps([sys.executable, own, shaping, [_stamp(n) for n in _KEY_FILES]])
        #: what the workers of this entry script imported last time: the server's import set
        self.modules = _import_set(self.record)
        digest = hashlib.sha256(json.dumps(self.modules).encode()).hexdigest()[:16] if self.modules else LEAN
        self.set_key = digest
        group = hashlib.sha256(key.encode()).hexdigest()[:32]
        self.name = f"headwater-parallel-server/{os.getuid()}/{group}/{digest}"
        self.server_env = self._server_env(env)
        self.broken = False

    @staticmethod
    def _server_env(env: dict[str, str]) -> dict[str, str]:
        """The server's: the step's without what names the step or its run (the server outlives it
        and must not look like one of its processes), and with what keeps imports thread-free."""
        from headwater.runtime.step_child import BLAS_THREADS_ENV, ENVIRON_ROOM, ENVIRON_ROOM_ENV

        out = {k: v for k, v in env.items() if not k.startswith(("AZUREML_", "HEADWATER_PARALLEL", "AML_"))}
        out.pop("PYTHONPATH", None)
        if _own_path(env):
            out["PYTHONPATH"] = os.pathsep.join(_own_path(env))
        out[BLAS_THREADS_ENV] = "1"  # each worker gets its pool back (step_child.restore_blas_threads)
        out[ENVIRON_ROOM_ENV] = "x" * ENVIRON_ROOM  # room for each worker's /proc/<pid>/environ
        conf = out.get("JE_ARROW_MALLOC_CONF")  # pyarrow's jemalloc: no background thread
        out["JE_ARROW_MALLOC_CONF"] = f"{conf},background_thread:false" if conf else "background_thread:false"
        return out

    def _connect(self) -> socket.socket | None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect("\0" + self.name)
            if (
                _CREDENTIALS.unpack(sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _CREDENTIALS.size))[1]
                != os.getuid()
            ):
                raise PermissionError("a server of another user")
            return sock
        except OSError:
            sock.close()
            return None

    def _spawn(self) -> socket.socket | None:
        """Start the server, detached (a grandchild: it is nobody's step process), and connect."""
        idle = self.server_env.get(IDLE_ENV, "") or "60"
        cap = self.server_env.get(SERVERS_ENV, "") or "4"
        set_file = ""
        if self.modules:  # the server imports its set (steps' servers keep theirs next to the records)
            set_file = os.path.join(os.path.dirname(self.record), "sets", f"{self.set_key}.json")
            if not os.path.isfile(set_file):
                from headwater.runtime import step_child

                step_child.write_record(set_file, self.modules)  # type: ignore[arg-type]
        code = (
            "import os, sys\n"
            "if os.fork() == 0:\n"
            "    os.setsid()\n"
            "    os.execv(sys.executable, [sys.executable, '-c'] + sys.argv[1:])\n"
        )
        try:
            subprocess.run(
                [sys.executable, "-c", code, _SERVER_CODE, self.name, idle, cap, set_file, self.record],
                cwd="/", env=self.server_env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, close_fds=True, check=False, timeout=SERVER_START_SECONDS,
            )  # fmt: skip
        except (OSError, subprocess.SubprocessError):
            return None
        deadline = time.monotonic() + SERVER_START_SECONDS
        while time.monotonic() < deadline:
            sock = self._connect()
            if sock is not None:
                return sock
            time.sleep(0.005)
        return None

    def start(
        self, env: dict[str, str], settings: str, stdout: str, stderr: str
    ) -> tuple[ForkedWorker, socket.socket] | None:
        """Fork a worker; the process and its connection, or None (start it fresh instead)."""
        if self.broken:
            return None
        sock = self._connect() or self._spawn()
        if sock is None:
            self.broken = True
            return None
        script = os.path.join(_HERE, "parallel_worker.py")
        # settle: the server imports the rest of its set before this fork (a worker's imports are
        # most of its start; two workers importing at once are no faster on two cores); modules: the
        # worker's own though the server had imported them, so its record stays whole (the same set
        # next time, not one without them: that would alternate between a warm and a cold server)
        request = {"argv": [sys.executable, script, "@" + self.address, settings, stderr], "cwd": os.getcwd(),
                   "env": env, "record": self.record, "settle": True, "modules": self.modules}  # fmt: skip
        payload = json.dumps(request).encode("utf-8")
        reply: dict[str, Any] = {}
        fd = os.open(stdout, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            sock.sendmsg([_HEADER.pack(len(payload))], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))])
            sock.sendall(payload)
            reply = _read_line(sock)
        except (OSError, ValueError):
            reply = {}
        finally:
            os.close(fd)
        if "pid" not in reply:
            sock.close()
            if "refused" in reply:
                self.broken = True  # the server said why (its record, its threads): fresh starts from now
            return None
        proc = ForkedWorker(int(reply["pid"]), sock)
        conn = self._accept(proc)
        if conn is None:
            proc.kill()
            proc.wait()
            return None
        return proc, conn

    def _accept(self, proc: ForkedWorker) -> socket.socket | None:
        """The worker's connection back, or None should it end first."""
        deadline = time.monotonic() + CONNECT_SECONDS
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.listener, proc.conn], [], [], max(0.0, deadline - time.monotonic()))
            if self.listener in ready:
                conn, _ = self.listener.accept()
                creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _CREDENTIALS.size)
                if _CREDENTIALS.unpack(creds)[0] == proc.pid:
                    return conn
                conn.close()
            elif proc.conn in ready and proc.poll() is not None:
                return None
        return None

    def close(self) -> None:
        self.listener.close()


def _read_line(sock: socket.socket) -> dict[str, Any]:
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(1)
        if not chunk:
            break
        data += chunk
    return json.loads(data.decode("utf-8")) if data.strip() else {}


def _import_set(record_file: str) -> list[str]:
    """The modules a record names, less those no server may import (``skip``), sorted (as the
    steps' servers take them: :func:`headwater.engine.executors.warm_start.import_set`)."""
    from headwater.runtime import step_child

    record = step_child.read_record(record_file)
    skip = {n for n in record.get("skip") or () if isinstance(n, str)}
    names = [n for n in record.get("modules") or () if isinstance(n, str)]
    parts = [n.split(".") for n in names]
    return sorted(n for n, p in zip(names, parts) if not any(".".join(p[:i]) in skip for i in range(1, len(p) + 1)))


def starter(env: dict[str, str], entry_script: str) -> Starter | None:
    """The warm starter of a driver's workers, or None where they start as fresh interpreters."""
    if not _eligible(env):
        return None
    try:
        return Starter(env, record_path(env, entry_script))
    except OSError:
        return None


def connect_back(address: str) -> socket.socket:
    """In a forked worker: the connection to its driver (``@<address>`` in its argv)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect("\0" + address)
    return sock
