"""A warm, single-threaded interpreter that starts steps by fork: the step server.

Started by the orchestrator (:mod:`headwater.engine.executors.warm_start`) for one environment —
one interpreter and the variables that shape an interpreter's start (``PYTHON*``, locale) — and
one *import set*: the modules some step imported on its last run (stdlib and site-packages
modules only), which the server imports once it listens, one at a time between requests; the
*lean* server of an environment imports none. So a step is forked from a server holding at most
what that step imported last time, never what another step needed. It listens on an abstract Unix
socket, answers only processes of its own user, and for each request (the step's argv, working
folder, environment, its log's descriptor and its record's path):

1. refuses when it cannot give the step what a fresh interpreter would — the environment's
   packages changed since the server started, or this process has more than one thread;
2. forks; the child becomes the step (:mod:`headwater.runtime.step_child`) and the server answers
   the step's pid, then its wait status when it ends.

It also answers ``status`` (when it last started a step) and ``stop``. A new server of an import
set stops the least recently used other servers of its environment while there are more than the
cap. A server exits when nothing has used it for its idle time, when told to stop (never while a
step it started runs), when an import left it with a thread (that module is then recorded as not
to be imported by a server), or when the environment's packages changed; it stops listening at
once. Stdlib only, Python 3.8 compatible (it runs on the step's interpreter); Linux only
(``/proc``, abstract sockets).
"""

from __future__ import annotations

import array
import json
import os
import select
import signal
import socket
import struct
import sys
import time

from headwater.runtime import step_child

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

__all__ = ["LEAN", "serve", "server_names", "thread_count"]

#: The last part of the name of an environment's server that imports nothing for its steps.
LEAN = "lean"
#: Standard extension modules whose shared library takes milliseconds to load (OpenSSL, libmpdec,
#: SQLite). Every server loads them and then forgets the modules: a step that imports one finds its
#: library loaded, but imports the module itself, as in a fresh interpreter.
PRELOAD = ("_hashlib", "_blake2", "_ssl", "_decimal", "_sqlite3")

_HEADER = struct.Struct("!I")
_MAX_REQUEST = 64 << 20
_CREDENTIALS = struct.Struct("3i")  # struct ucred: pid, uid, gid


def thread_count() -> int:
    """Threads of this process (``/proc/self/task``); a fork is only safe with one."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 2  # cannot tell: never fork


def _stamp(paths: list[str]) -> list[tuple[str, int]]:
    """The modification times of the folders packages are installed into."""
    out = []
    for path in paths:
        try:
            out.append((path, os.stat(path).st_mtime_ns))
        except OSError:
            out.append((path, -1))
    return out


def server_names(prefix: str) -> list[str]:
    """The names of the listening abstract sockets that start with ``prefix`` (``/proc/net/unix``)."""
    names = []
    try:
        with open("/proc/net/unix") as fh:
            next(fh, None)
            for line in fh:
                fields = line.split()
                # Num RefCount Protocol Flags Type St Inode Path; Flags 0x10000: listening
                if len(fields) >= 8 and int(fields[3], 16) & 0x10000 and fields[7].startswith("@" + prefix):
                    names.append(fields[7][1:])
    except (OSError, ValueError):
        return []
    return sorted(set(names))


def _ask(name: str, message: dict[str, Any], timeout: float) -> dict[str, Any]:
    """One request without descriptors to the server ``name``; its reply ({} when none came)."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect("\0" + name)
            if _peer_uid(sock) != os.getuid():
                return {}
            body = json.dumps(message).encode("utf-8")
            sock.sendall(_HEADER.pack(len(body)) + body)
            data = b""
            while not data.endswith(b"\n"):
                chunk = sock.recv(4096)
                if not chunk:
                    return {}
                data += chunk
        reply = json.loads(data.decode("utf-8"))
    except (OSError, ValueError):
        return {}
    return reply if isinstance(reply, dict) else {}


def _peer_uid(conn: socket.socket) -> int:
    data = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _CREDENTIALS.size)
    return int(_CREDENTIALS.unpack(data)[1])


def _receive(conn: socket.socket) -> tuple[dict[str, Any], list[int]]:
    """One request: a length, JSON, and the descriptors sent with it."""
    fds = array.array("i")
    data = b""
    while len(data) < _HEADER.size:
        chunk, ancdata, _flags, _addr = conn.recvmsg(_HEADER.size - len(data), socket.CMSG_LEN(4 * fds.itemsize))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
        for level, kind, payload in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(payload[: len(payload) - (len(payload) % fds.itemsize)])
    (size,) = _HEADER.unpack(data)
    if size > _MAX_REQUEST:
        raise ValueError("request too large")
    body = b""
    while len(body) < size:
        chunk = conn.recv(min(size - len(body), 1 << 20))
        if not chunk:
            raise ConnectionError("closed")
        body += chunk
    return json.loads(body.decode("utf-8")), list(fds)


def _send(conn: socket.socket, message: dict[str, Any]) -> None:
    try:
        conn.sendall((json.dumps(message) + "\n").encode("utf-8"))
    except OSError:
        pass


def _children() -> set[int]:
    """This process's children (``/proc/self/task/<tid>/children``; one thread)."""
    try:
        with open(f"/proc/self/task/{os.getpid()}/children") as fh:
            return {int(p) for p in fh.read().split()}
    except (OSError, ValueError):
        return {-1}  # cannot tell: say there may be some


def _become_subreaper() -> None:
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass


def _skipped(name: str, skip: set[str]) -> bool:
    """Whether ``name`` or a package it is in is not to be imported."""
    parts = name.split(".")
    return any(".".join(parts[:i]) in skip for i in range(1, len(parts) + 1))


class _Server:
    def __init__(self, name: str, idle: float, modules: list[str], record: str) -> None:
        self.name = name
        self.idle = idle
        self.listener: socket.socket | None = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind("\0" + name)
        self.listener.listen(64)
        self.used = time.time()  # when it last started a step (or started itself)
        #: what a step whose start made this server imported last time (its ``record``)
        self.record = record
        own = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
        #: what a fresh interpreter of this environment has after its PYTHONPATH entries
        self.tail = sys.path[len(own) :] if sys.path[: len(own)] == own else [p for p in sys.path if p not in own]
        self.path = list(sys.path)
        self.site = [p for p in sys.path if os.path.basename(p) in ("site-packages", "dist-packages")]
        self.stamp = _stamp(self.site)
        self.fixed = tuple(self.site) + tuple({sys.base_prefix, sys.prefix})  # paths that change only on installs
        self.sources: dict[str, int] = {}  # loaded modules outside them (editable installs): file -> mtime
        self.sources_changed()
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_w, False)
        os.set_blocking(self.wake_r, False)
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        self.children: dict[int, tuple[socket.socket, str]] = {}
        self.failed: set[str] = set()
        self.pending: list[str] = list(modules)
        self.preload: list[str] = list(PRELOAD)  # after the import set
        self.stop = False

    def halt(self) -> None:
        """Stop: no new step (the name is free at once), exit once the running ones ended."""
        self.stop = True
        self.pending = []
        self.preload = []
        if self.listener is not None:
            self.listener.close()
            self.listener = None

    def enforce_cap(self, cap: int) -> None:
        """Stop the least recently used other servers of this environment (not its lean one)
        while there are more than ``cap`` (this one counted)."""
        group = self.name.rsplit("/", 1)[0] + "/"
        others = [n for n in server_names(group) if n != self.name and not n.endswith("/" + LEAN)]
        excess = len(others) + 1 - max(cap, 1)
        if excess <= 0:
            return
        used = []
        for other in others:
            reply = _ask(other, {"op": "status"}, 1.0)
            if "used" in reply:
                used.append((float(reply["used"]), other))
        for _when, other in sorted(used)[:excess]:
            _ask(other, {"op": "stop"}, 1.0)

    def run(self) -> None:
        last = time.monotonic()
        while not (self.stop and not self.children):
            wait = None if self.children else max(0.0, last + self.idle - time.monotonic())
            if wait == 0.0:
                break
            if self.pending or self.preload:
                wait = 0.0  # a look for requests, then the next module of its import set
            watched = [self.wake_r] if self.listener is None else [self.listener.fileno(), self.wake_r]
            try:
                ready, _, _ = select.select(watched, [], [], wait)
            except InterruptedError:
                ready = []
            if self.wake_r in ready:
                try:
                    while os.read(self.wake_r, 512):
                        pass
                except (BlockingIOError, InterruptedError):
                    pass
            self.reap()
            if self.listener is not None and self.listener.fileno() in ready and not self.stop:
                self.accept()
            elif self.pending and not self.stop:
                self.warm_one()
            elif self.preload and not self.stop:
                self.preload_one()
            elif not ready:
                continue  # nothing happened: the idle time runs on
            last = time.monotonic()

    def warm_one(self) -> None:
        """Import the next module of this server's import set."""
        name = self.pending.pop(0)
        threaded = self.preimport({"modules": [name]})
        if threaded:
            if self.record:  # the step's next start asks for a set without it
                record = step_child.read_record(self.record)
                record.setdefault("skip", []).append(threaded)
                step_child.write_record(self.record, record)
            self.halt()

    def preload_one(self) -> None:
        """Load the next of :data:`PRELOAD`'s libraries, and forget the modules that brought it."""
        import importlib

        name = self.preload.pop(0)
        if name in sys.modules:
            return
        before = set(sys.modules)
        try:
            importlib.import_module(name)
        except BaseException:
            pass
        for added in set(sys.modules) - before:
            del sys.modules[added]
        if thread_count() != 1:
            self.halt()

    def reap(self) -> None:
        """Reap the steps that ended (and the orphans of steps this subreaper adopted)."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            except InterruptedError:
                continue
            if pid == 0:
                return
            conn, record = self.children.pop(pid, (None, ""))
            if record and os.WIFSIGNALED(status) and os.WTERMSIG(status) in step_child.CRASH_SIGNALS:
                step_child.record_modules(record, [], [], f"killed by signal {os.WTERMSIG(status)}")
            if conn is not None:
                # The step's orphans were handed to this subreaper when it exited: the executor then
                # looks for what the step left running, as it does for its own adopted orphans.
                _send(conn, {"status": status, "orphans": bool(_children() - set(self.children))})
                conn.close()

    def accept(self) -> None:
        assert self.listener is not None
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        fds: list[int] = []
        try:
            if _peer_uid(conn) != os.getuid():
                conn.close()
                return
            conn.settimeout(10)
            request, fds = _receive(conn)
            conn.settimeout(None)
            op = request.get("op")
            if op == "status":
                _send(conn, {"used": self.used, "running": len(self.children)})
                conn.close()
            elif op == "stop":
                self.halt()
                _send(conn, {"stopping": True})
                conn.close()
            else:
                self.handle(conn, request, fds)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            _send(conn, {"refused": f"bad request: {exc}"})
            conn.close()
        finally:
            for fd in fds:
                try:
                    os.close(fd)
                except OSError:
                    pass

    def refuse(self, conn: socket.socket, why: str, *, stop: bool = False) -> None:
        _send(conn, {"refused": why})
        conn.close()
        if stop:
            self.halt()

    def handle(self, conn: socket.socket, request: dict[str, Any], fds: list[int]) -> None:
        if len(fds) != 1:
            return self.refuse(conn, "expected one descriptor for the log")
        if _stamp(self.site) != self.stamp or self.sources_changed():
            return self.refuse(conn, "the environment's packages changed", stop=True)
        record_path = request.get("record") or ""
        while request.get("settle") and self.pending and not self.stop:  # its import set first (workers)
            self.warm_one()
        # what the step does not record as its own: what this server had imported, but for the step
        request["server_modules"] = set(sys.modules) - set(request.get("modules") or ())
        if thread_count() != 1:
            return self.refuse(conn, "the server has more than one thread", stop=True)
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
        pid = os.fork()
        if pid == 0:  # the step
            code = 127
            try:
                if self.listener is not None:
                    self.listener.close()
                conn.close()
                for other, _ in self.children.values():
                    other.close()
                os.close(self.wake_r)
                os.close(self.wake_w)
                step_child.become_step(request, fds[0], self.tail)
                step_child.run_main(request, self.path)
            except BaseException:
                try:
                    import traceback

                    traceback.print_exc()
                except BaseException:
                    pass
            finally:
                os._exit(code)
        self.used = time.time()
        self.children[pid] = (conn, record_path)
        _send(conn, {"pid": pid})
        return None

    def sources_changed(self) -> bool:
        """Whether a loaded module's source outside the installed packages (an editable install,
        Headwater's own in a checkout) changed since it was loaded; new ones are noted."""
        changed = False
        for module in list(sys.modules.values()):
            path = getattr(module, "__file__", None)
            if not isinstance(path, str) or path.startswith(self.fixed):
                continue
            try:
                mtime = os.stat(path).st_mtime_ns
            except OSError:
                mtime = -1
            if self.sources.setdefault(path, mtime) != mtime:
                changed = True
        return changed

    def preimport(self, record: dict[str, Any]) -> str | None:
        """Import the step's modules of last time; the first that started a thread, if any."""
        import importlib

        skip = set(record.get("skip") or ()) | self.failed
        for name in record.get("modules") or ():
            if not isinstance(name, str) or name in sys.modules or _skipped(name, skip):
                continue
            try:
                importlib.import_module(name)
            except BaseException:
                self.failed.add(name)
                continue
            if thread_count() != 1:
                return name
            self.sources_changed()  # notes the sources just loaded, as they are now
        return None


def serve() -> None:
    """Entry point: ``python -c '...serve()' <socket name> <idle seconds> [<cap> <import set file>
    <record>]``, from the root folder: the import set file holds a JSON list of module names."""
    step_child.snapshot_signals()
    os.environ.pop(step_child.ENVIRON_ROOM_ENV, None)  # its room stays in the block /proc shows
    import ctypes  # noqa: F401  (every step's rewrite_proc_environ uses it)

    _become_subreaper()  # a step's orphans come here, not to whoever started the server

    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]  # ``-c`` put the working folder first; a step gets its script's instead
    extra = sys.argv[3:6] + [""] * (6 - len(sys.argv))
    cap, set_file, record = int(extra[0] or 0), extra[1], extra[2]
    modules: list[str] = []
    if set_file:
        try:
            with open(set_file, encoding="utf-8") as fh:
                modules = [n for n in json.load(fh) if isinstance(n, str)]
        except (OSError, ValueError, TypeError):
            modules = []
    try:
        server = _Server(sys.argv[1], float(sys.argv[2]), modules, record)
    except OSError:
        return  # another server answers on that name
    if cap and not server.name.endswith("/" + LEAN):
        server.enforce_cap(cap)
    server.run()
