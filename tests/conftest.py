"""Shared fixtures: every test gets its own HEADWATER_HOME, so nothing touches ~/.headwater."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from headwater import Workspace
from headwater.plan import digests

pytest_plugins = [
    "tests.fixtures.postgres",
    "tests.fixtures.ray_cluster",
    "tests.fixtures.azurite",
    "tests.fixtures.s3_server",
    "tests.fixtures.popen_guard",
]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In parallel runs (pytest-xdist, ``make test``) the slow tests go first, in their usual order.

    The scheduler hands tests out in collection order: a long test collected last would end the run
    on one worker while the others idle; run first, the short tests fill the gaps around it. Every
    worker collects, and sorts, the same way. A serial run keeps the plain order.
    """
    if hasattr(config, "workerinput"):  # an xdist worker (the controller does not collect)
        items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(autouse=True)
def _settled_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests hash files they have just written: treat those as settled, not "racy".

    (``digests.RACY_WINDOW_NS`` keeps a just-modified file out of the digest cache; its own test
    sets the real window back.)
    """
    monkeypatch.setattr(digests, "RACY_WINDOW_NS", 0)


def alive(pid: int) -> bool:
    """Whether ``pid`` is a live process: a zombie waiting to be reaped counts as dead."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:  # no /proc (macOS): os.kill found it; on Linux it has just gone
        return sys.platform != "linux"


def _processes_under(folder: Path) -> list[int]:
    """Pids of processes whose command line or working directory is inside ``folder``, and forks of
    this process (orchestrators forked by an in-process submit) holding a file there open."""
    prefix = str(folder) + os.sep
    own = Path("/proc/self/cmdline").read_bytes()
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            raw = Path(entry.path, "cmdline").read_bytes()
            cwd = os.readlink(os.path.join(entry.path, "cwd"))
            cmdline = raw.replace(b"\0", b" ").decode(errors="replace")
            if prefix in cmdline or cwd.startswith(prefix) or (raw == own and _holds_a_file_under(entry.path, prefix)):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _holds_a_file_under(proc: str, prefix: str) -> bool:
    for fd in os.listdir(os.path.join(proc, "fd")):
        try:
            if os.readlink(os.path.join(proc, "fd", fd)).startswith(prefix):
                return True
        except OSError:
            continue
    return False


@pytest.fixture(autouse=True)
def headwater_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh ``$HEADWATER_HOME`` for each test; orchestrators and steps left running are stopped after it."""
    home = tmp_path / "hw-home"
    monkeypatch.setenv("HEADWATER_HOME", str(home))
    yield home
    for pid in _processes_under(tmp_path):
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


@pytest.fixture
def ws(headwater_home: Path) -> Iterator[Workspace]:
    """A new workspace on the embedded SQLite store."""
    workspace = Workspace.create("test-ws")
    yield workspace
    workspace.close()


def gen(root: Path, tree: dict[str, object]) -> Path:
    """Create files from a nested dict: ``{"a.csv": "x,y\\n1,2\\n", "sub": {"b.bin": b"..."}}``."""
    root.mkdir(parents=True, exist_ok=True)
    for name, content in tree.items():
        path = root / name
        if isinstance(content, dict):
            gen(path, content)
        elif isinstance(content, bytes):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(str(content), encoding="utf-8")
    return root
