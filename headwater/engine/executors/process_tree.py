"""Every process a step started, found and stopped — also those that left its process group.

A step runs in a session (process group) of its own, so a signal to the group reaches what it
starts. A descendant that starts a session of its own (``subprocess.Popen(...,
start_new_session=True)``, a daemon) leaves the group; three things still tie it to its step:

* **The environment marker.** Every step process is started with ``AZUREML_RUN_ID=<step run id>``
  and its descendants inherit it (:data:`MARKER`).
* **The process tree.** A child of a step process, or of any process found, is the step's too.
* **The subreaper** (Linux). The orchestrator marks itself a child subreaper
  (``prctl(PR_SET_CHILD_SUBREAPER)``, :func:`become_subreaper`), so a descendant whose parent
  exits is re-parented to the orchestrator instead of to init; one that also shed the marker is
  still recognised by its session or group, which is its step's pid (a pid the kernel does not
  hand out again while a group or session of that number exists). The orchestrator reaps these
  adopted orphans (:class:`OrphanReaper`) — and only them: ``waitpid(-1)`` would steal the exit
  status of its own ``Popen`` children.

Where there is no ``/proc`` (macOS) only the process group is signalled, as before; a cgroup per
step would be the stronger tool where one can be created (not done: it needs a delegated cgroup).
Stdlib only: the Ray executor's worker side uses it too.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "MARKER",
    "OrphanReaper",
    "become_subreaper",
    "children_of_self",
    "find_step_processes",
    "is_subreaper",
    "leftovers_possible",
    "signal_pids",
    "stop_step_processes",
]

#: The variable every step process carries: ``AZUREML_RUN_ID=<its step run id>``.
MARKER = "AZUREML_RUN_ID"
_PR_SET_CHILD_SUBREAPER = 36
_PR_GET_CHILD_SUBREAPER = 37
_REAP_SECONDS = 0.5


@dataclass(frozen=True)
class _Proc:
    ppid: int
    pgid: int
    sid: int
    zombie: bool


def _stat(pid: int | str) -> _Proc | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return _Proc(int(fields[1]), int(fields[2]), int(fields[3]), fields[0] in (b"Z", b"X"))


def _table() -> dict[int, _Proc]:
    """Every process on this machine (an empty table without ``/proc``)."""
    table: dict[int, _Proc] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return table
    for name in entries:
        if name.isdigit():
            proc = _stat(name)
            if proc is not None:
                table[int(name)] = proc
    return table


def _marker(pid: int) -> str | None:
    """The step run id in ``pid``'s environment (None: none, gone, or not ours to read)."""
    prefix = f"{MARKER}=".encode()
    try:
        with open(f"/proc/{pid}/environ", "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    for item in data.split(b"\0"):
        if item.startswith(prefix):
            return item[len(prefix) :].decode(errors="replace")
    return None


def _protected(table: Mapping[int, _Proc]) -> set[int]:
    """This process and its ancestors: never signalled (an orchestrator may run inside a step)."""
    out, pid = set(), os.getpid()
    while pid > 1 and pid not in out:
        out.add(pid)
        proc = table.get(pid)
        if proc is None:
            break
        pid = proc.ppid
    return out


def find_step_processes(steps: Mapping[str, int | None]) -> set[int]:
    """Live processes of the given step runs (run id -> the pid its step process had, if known).

    A process belongs to a step when it carries the step's marker; when it is in the group or
    session of the step's pid and that group or session holds a marked process (so a pid taken
    again by an unrelated process is never mistaken for the step's); or when its parent belongs.
    """
    table = _table()
    if not table:
        return set()
    protected = _protected(table)
    run_ids = set(steps)
    leaders = {int(p) for p in steps.values() if p}
    found: set[int] = set()
    marked_groups: set[int] = set()
    for pid, proc in table.items():
        if pid in protected or proc.zombie:
            continue
        if _marker(pid) in run_ids:
            found.add(pid)
            marked_groups.update((proc.pgid, proc.sid))
    groups = leaders & marked_groups
    children: dict[int, list[int]] = {}
    for pid, proc in table.items():
        if pid in protected or proc.zombie:
            continue
        children.setdefault(proc.ppid, []).append(pid)
        if proc.pgid in groups or proc.sid in groups:
            found.add(pid)
    stack = list(found)
    while stack:
        for child in children.get(stack.pop(), ()):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def signal_pids(pids: Iterable[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def stop_step_processes(steps: Mapping[str, int | None], *, grace: float = 0.0) -> set[int]:
    """Stop every process of the given step runs: SIGTERM first when ``grace`` > 0, SIGKILL for
    what is left after it; repeated while new ones appear (a process may fork as it is stopped).
    Returns the pids signalled."""
    signalled: set[int] = set()
    if grace > 0:
        pids = find_step_processes(steps)
        signal_pids(pids, signal.SIGTERM)
        signalled |= pids
        deadline = time.monotonic() + grace
        while pids and time.monotonic() < deadline:
            time.sleep(0.05)
            pids = {p for p in pids if (s := _stat(p)) is not None and not s.zombie}
    for _ in range(5):
        pids = find_step_processes(steps)
        if not pids:
            break
        signal_pids(pids, signal.SIGKILL)
        signalled |= pids
    return signalled


def _prctl(option: int, arg: int) -> int | None:
    if sys.platform != "linux":
        return None
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if option == _PR_GET_CHILD_SUBREAPER:
            value = ctypes.c_int(0)
            if libc.prctl(option, ctypes.byref(value), 0, 0, 0) != 0:
                return None
            return value.value
        return int(libc.prctl(option, arg, 0, 0, 0))
    except (OSError, AttributeError):
        return None


def become_subreaper() -> bool:
    """Make this process a child subreaper (Linux); False where that is not possible."""
    return _prctl(_PR_SET_CHILD_SUBREAPER, 1) == 0


def is_subreaper() -> bool:
    return bool(_prctl(_PR_GET_CHILD_SUBREAPER, 0))


def children_of_self() -> set[int]:
    """This process's children (Linux; an empty set elsewhere)."""
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return set()
    if tasks and not Path(f"/proc/self/task/{tasks[0]}/children").exists():
        me = os.getpid()  # a kernel without CONFIG_PROC_CHILDREN: look at every process
        return {pid for pid, proc in _table().items() if proc.ppid == me}
    out: set[int] = set()
    for tid in tasks:
        try:
            with open(f"/proc/self/task/{tid}/children") as fh:
                out.update(int(p) for p in fh.read().split())
        except OSError:
            continue
    return out


def leftovers_possible(pid: int, known: Collection[int], *, adopting: bool) -> bool:
    """Whether a step whose process ``pid`` has exited may have left processes behind: its group
    still has members, or this process has children it did not start itself (orphans it adopted
    as a subreaper; a process that is not ``adopting`` cannot tell, so the answer is yes).
    Cheap; a full search (:func:`find_step_processes`) only follows when this says yes."""
    if not adopting:
        return sys.platform == "linux"  # elsewhere there is no /proc to search
    try:
        os.killpg(pid, 0)
        return True
    except (ProcessLookupError, PermissionError):
        pass
    except OSError:
        return True
    return bool(children_of_self() - set(known))


class OrphanReaper:
    """Reaps the orphans this (subreaper) process adopted from its steps, and only those.

    ``state()`` returns ``(known, launched)``: the pids of this process's own, not yet reaped step
    processes, and every step this executor launched (run id -> pid). A child that is not known is
    adopted when it carries a launched step's marker or is in a launched step's group or session;
    it is reaped once it exits. Other children (environment builds, git, mounts) are left to
    whoever started them. ``state`` must be read under the lock the executor holds while it
    starts a process, so a step process can never look like an orphan.
    """

    def __init__(self, state: Callable[[], tuple[set[int], Mapping[str, int]]]) -> None:
        self._state = state
        self._adopted: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="orphan-reaper", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(_REAP_SECONDS):
            try:
                self.reap()
            except Exception:  # never take the orchestrator down; the next round retries
                continue

    def reap(self) -> list[int]:
        """One round: note newly adopted children, reap those that exited. Returns the reaped pids."""
        children = children_of_self()
        if not children:
            return []
        known, launched = self._state()
        candidates = children - known
        if not candidates:
            return []
        step_ids, step_pids = set(launched), set(launched.values())
        reaped = []
        for pid in candidates:
            proc = _stat(pid)
            if proc is None:
                continue
            ours = pid in self._adopted or proc.pgid in step_pids or proc.sid in step_pids
            if not proc.zombie:
                if ours or _marker(pid) in step_ids:
                    self._adopted.add(pid)
                continue
            if ours:
                try:
                    if os.waitpid(pid, os.WNOHANG)[0] == pid:
                        reaped.append(pid)
                except ChildProcessError:
                    pass
                self._adopted.discard(pid)
        return reaped

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
