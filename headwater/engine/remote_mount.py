"""``as_mount()`` on a remote datastore: a read-only FUSE view that reads the files lazily.

The orchestrator starts one helper process per mounted input (``python -m
headwater.engine.remote_mount``, its spec on stdin). The helper serves a FUSE file system at the
input's mount point in the run folder: the folder tree of exactly the files the input selects,
listed when the step started; a file's bytes are read from the store only when the script reads
them, in 4 MiB blocks with read-ahead (fsspec's buffered file of the backend's filesystem), so a
script that reads a few files of a big folder, or the head of a big file, transfers only those.
A file's size is asked from the store the first time it is looked up (one metadata request
each). The view is read-only (writes fail with EROFS).
It is unmounted when the step ends; the helper also unmounts itself if the orchestrator dies.

FUSE needs the ``fusepy`` package, libfuse 2 (``libfuse.so.2``), a usable ``/dev/fuse`` and either
root or ``fusermount``. :func:`fuse_unavailable_reason` says what is missing; the caller then
downloads the files instead and writes a notice to the step's log. ``HEADWATER_REMOTE_MOUNT=download``
turns the FUSE view off (always download).
"""

from __future__ import annotations

import ctypes.util
import errno
import importlib.util
import json
import os
import shutil
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from headwater.engine.liveness import process_alive

__all__ = ["MOUNT_SETTING", "MountUnavailable", "RemoteMount", "fuse_unavailable_reason", "mount_remote"]

#: Environment variable: ``auto`` (default: FUSE where it works, else download) or ``download``.
MOUNT_SETTING = "HEADWATER_REMOTE_MOUNT"

_READY_TIMEOUT_S = 15.0
_STOP_TIMEOUT_S = 10.0
_WATCH_INTERVAL_S = 1.0
_BLOCK_SIZE = 4 << 20


class MountUnavailable(Exception):
    """The FUSE view could not be set up; ``str()`` says why (the caller downloads instead)."""


def fuse_unavailable_reason() -> str | None:
    """Why a FUSE view cannot be mounted on this machine, or None when it can be tried."""
    setting = os.environ.get(MOUNT_SETTING, "auto").strip().lower() or "auto"
    if setting == "download":
        return f"{MOUNT_SETTING}=download is set"
    if setting != "auto":
        return f"{MOUNT_SETTING}={setting!r} is not 'auto' or 'download'"
    if importlib.util.find_spec("fuse") is None:
        return "the Python package fusepy is not installed (pip install fusepy)"
    if ctypes.util.find_library("fuse") is None and not os.environ.get("FUSE_LIBRARY_PATH"):
        return "libfuse 2 is not installed (Debian/Ubuntu: apt-get install libfuse2)"
    if not Path("/dev/fuse").exists():
        return "/dev/fuse does not exist (a container needs --device /dev/fuse)"
    if not os.access("/dev/fuse", os.R_OK | os.W_OK):
        return "/dev/fuse is not readable and writable by this user"
    if os.geteuid() != 0 and shutil.which("fusermount") is None:
        return "fusermount is not installed (Debian/Ubuntu: apt-get install fuse) and this process is not root"
    return None


@dataclass
class RemoteMount:
    """A FUSE view served by a helper process; :meth:`stop` unmounts it and ends the helper."""

    mount_point: Path
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        """Unmount (lazily if still busy) and wait for the helper to end."""
        if self.process.poll() is None:
            _unmount(self.mount_point)
            try:
                self.process.wait(timeout=_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                _unmount(self.mount_point, lazy=True)
                self.process.kill()
                self.process.wait()
        elif os.path.ismount(self.mount_point):
            _unmount(self.mount_point, lazy=True)


def mount_remote(
    datastore: Mapping[str, Any],
    workspace_folder: Path,
    files: Mapping[str, str],
    mount_point: Path,
    log_path: Path,
) -> RemoteMount:
    """Mount a read-only view of ``files`` (``{path in the view: datastore-relative path}``) of
    datastore ``datastore`` (a record as ``{"name", "kind", "config"}``) at ``mount_point``.

    Raises MountUnavailable (with the reason) when FUSE is not available or the mount does not
    come up; nothing is left mounted then.
    """
    reason = fuse_unavailable_reason()
    if reason is not None:
        raise MountUnavailable(reason)
    mount_point.mkdir(parents=True, exist_ok=True)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    spec = {
        "datastore": dict(datastore),
        "workspace_folder": str(workspace_folder),
        "files": dict(files),
        "mount_point": str(mount_point),
        "watch_pid": os.getpid(),
    }
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "headwater.engine.remote_mount"],
            stdin=subprocess.PIPE,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd="/",
            close_fds=True,
            start_new_session=True,
        )
    assert process.stdin is not None
    process.stdin.write(json.dumps(spec).encode("utf-8"))
    process.stdin.close()
    deadline = time.monotonic() + _READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if os.path.ismount(mount_point):
            return RemoteMount(mount_point, process)
        if process.poll() is not None:
            break
        time.sleep(0.05)
    mount = RemoteMount(mount_point, process)
    mount.stop()
    tail = _tail(log_path)
    what = "the FUSE helper ended" if process.returncode is not None else "the mount did not appear"
    raise MountUnavailable(f"{what} ({tail or 'no output'}; see {log_path})")


def _tail(path: Path, lines: int = 3) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return " | ".join(line.strip() for line in text.splitlines()[-lines:] if line.strip())


def _unmount(mount_point: Path, *, lazy: bool = False) -> None:
    if shutil.which("fusermount"):
        command = ["fusermount", "-u", *(["-z"] if lazy else []), str(mount_point)]
    else:  # root without fusermount: the kernel's umount works
        command = ["umount", *(["-l"] if lazy else []), str(mount_point)]
    subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, check=False)


# -- the helper process --------------------------------------------------------------------------


class _View:
    """FUSE operations over a fixed set of remote files: a read-only tree, bytes read on demand."""

    def __init__(self, backend: Any, files: Mapping[str, str]) -> None:
        self.backend = backend
        self.files = {"/" + view.strip("/"): rel for view, rel in files.items()}
        self.dirs: dict[str, set[str]] = {"/": set()}
        for view in self.files:
            parent, _, name = view.rpartition("/")
            child = name
            while True:
                parent = parent or "/"
                self.dirs.setdefault(parent, set()).add(child)
                if parent == "/":
                    break
                parent, _, child = parent.rpartition("/")
        self.sizes: dict[str, int] = {}
        self.handles: dict[int, tuple[Any, threading.Lock]] = {}
        self._guard = threading.Lock()  # not "lock": fusepy registers every attribute named like an operation
        self.next_handle = 1
        self.started = time.time()

    def _error(self, exc: BaseException) -> Exception:
        from fuse import FuseOSError

        if isinstance(exc, FuseOSError):
            return exc
        if isinstance(exc, FileNotFoundError):
            return FuseOSError(errno.ENOENT)
        from headwater.store.secrets import redact

        # The log is in the run folder: a library's message can carry a SAS URL or a key.
        text = redact(f"{type(exc).__name__}: {exc}", getattr(self.backend, "_secrets", ()))
        print(f"headwater mount: {text}", file=sys.stderr, flush=True)
        return FuseOSError(errno.EIO)

    def _size(self, view: str) -> int:
        size = self.sizes.get(view)
        if size is None:
            size = int(self.backend.info(self.files[view])["size"])
            self.sizes[view] = size
        return size

    def __call__(self, op: str, *args: Any) -> Any:
        """fusepy's dispatch; registers only the operations defined here (no write operation)."""
        try:
            return getattr(self, op)(*args)
        except Exception as exc:
            raise self._error(exc) from exc

    def getattr(self, path: str, fh: int | None = None) -> dict[str, Any]:
        from fuse import FuseOSError

        times = {"st_atime": self.started, "st_mtime": self.started, "st_ctime": self.started}
        ids = {"st_uid": os.getuid(), "st_gid": os.getgid()}
        if path in self.dirs:
            return {"st_mode": stat.S_IFDIR | 0o555, "st_nlink": 2, "st_size": 0, **times, **ids}
        if path not in self.files:
            raise FuseOSError(errno.ENOENT)
        return {"st_mode": stat.S_IFREG | 0o444, "st_nlink": 1, "st_size": self._size(path), **times, **ids}

    def readdir(self, path: str, fh: int) -> list[str]:
        return [".", "..", *sorted(self.dirs.get(path, ()))]

    def open(self, path: str, flags: int) -> int:
        from fuse import FuseOSError

        if flags & (os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_TRUNC | os.O_CREAT):
            raise FuseOSError(errno.EROFS)
        if path not in self.files:
            raise FuseOSError(errno.ENOENT)
        # Blocks of _BLOCK_SIZE with read-ahead: a script that reads 1 KiB fetches one block, not
        # the file (s3fs' default block is 50 MiB).
        stream = self.backend.fs.open(self.backend.full_path(self.files[path]), "rb", block_size=_BLOCK_SIZE)
        with self._guard:
            handle = self.next_handle
            self.next_handle += 1
            self.handles[handle] = (stream, threading.Lock())
        return handle

    def read(self, path: str, size: int, offset: int, fh: int) -> bytes:
        stream, lock = self.handles[fh]
        with lock:
            stream.seek(offset)
            return bytes(stream.read(size))

    def release(self, path: str, fh: int) -> int:
        with self._guard:
            entry = self.handles.pop(fh, None)
        if entry is not None:
            entry[0].close()
        return 0

    def opendir(self, path: str) -> int:
        return 0

    def releasedir(self, path: str, fh: int) -> int:
        return 0

    def access(self, path: str, amode: int) -> int:
        from fuse import FuseOSError

        if path not in self.dirs and path not in self.files:
            raise FuseOSError(errno.ENOENT)
        if amode & os.W_OK:
            raise FuseOSError(errno.EROFS)
        return 0

    def statfs(self, path: str) -> dict[str, int]:
        return {"f_bsize": 4096, "f_frsize": 4096, "f_blocks": 0, "f_bfree": 0, "f_bavail": 0, "f_namemax": 1024}


def _watch(pid: int, mount_point: Path) -> None:
    """Unmount when the orchestrator that asked for the mount is gone (it cannot any more)."""
    while process_alive(pid):
        time.sleep(_WATCH_INTERVAL_S)
    _unmount(mount_point, lazy=True)


def main() -> int:
    """Serve one FUSE view (spec as JSON on stdin) until it is unmounted."""
    from fuse import FUSE

    from headwater.store.datastores import backend_for
    from headwater.store.records import DatastoreRecord

    spec = json.loads(sys.stdin.read())
    record = DatastoreRecord(**spec["datastore"])
    backend = backend_for(record, Path(spec["workspace_folder"]))
    mount_point = Path(spec["mount_point"])
    threading.Thread(target=_watch, args=(int(spec["watch_pid"]), mount_point), daemon=True).start()
    try:
        FUSE(
            _View(backend, spec["files"]),
            str(mount_point),
            foreground=True,
            nothreads=False,
            ro=True,
            fsname=f"headwater:{record.name}",
            raw_fi=False,
        )
    finally:
        close = getattr(backend, "close", None)
        if close is not None:
            close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
