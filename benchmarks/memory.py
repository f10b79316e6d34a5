"""Peak resident memory (``VmHWM``) of a detached orchestrator, and of a bare interpreter.

The orchestrator is not our child (``submit`` starts it detached), so :class:`OrchestratorPeak`
polls ``/proc`` from a thread for a ``headwater.engine.orchestrator`` process whose command line
names a folder of ours (the plan file lives in the workspace) — or, for an orchestrator forked
from the submitting process (same command line as ``python pipeline.py``), a process of the
benchmark's interpreter holding the run's ``orchestrator.lock`` in that folder — and reads its
``VmHWM`` — the kernel's high-water mark of its resident set — until it exits. A forked
orchestrator's resident set counts the pages it still shares with the submitter. The floor is a
bare interpreter's.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from pathlib import Path
from types import TracebackType

__all__ = ["OrchestratorPeak", "bare_python_peak_mib", "kill_leftovers"]

_ORCHESTRATOR = b"headwater.engine.orchestrator"
_LOCK = "orchestrator.lock"


def _cmdline(pid: str) -> bytes:
    try:
        return Path("/proc", pid, "cmdline").read_bytes()
    except OSError:
        return b""


def _leads_a_session(pid: str) -> bool:
    try:
        fields = Path("/proc", pid, "stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return False
    return fields[3] == pid  # state, ppid, pgrp, session


def _hwm_kib(pid: str) -> int | None:
    try:
        text = Path("/proc", pid, "status").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return None  # a zombie has no memory lines


class OrchestratorPeak:
    """``with OrchestratorPeak(marker) as p: ...`` then ``p.peak_mib`` (max VmHWM over the orchestrators seen)."""

    def __init__(self, marker: str | os.PathLike[str], python: str, interval: float = 0.004) -> None:
        self.marker = os.fsencode(marker)
        self.python = os.fsencode(python) + b"\0"
        self.interval = interval
        self.peaks: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="orchestrator-peak", daemon=True)

    def __enter__(self) -> OrchestratorPeak:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()

    def _find(self) -> str | None:
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                cmd = _cmdline(pid)  # also matches the `sh -c` that starts it: its VmHWM is tiny
                if _ORCHESTRATOR in cmd and self.marker in cmd:
                    return pid
                if cmd.startswith(self.python) and _leads_a_session(pid) and self._holds_lock(pid):
                    return pid  # forked from the submitter (which may open the lock for a moment too)
        return None

    def _holds_lock(self, pid: str) -> bool:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            return False
        for fd in fds:
            try:
                target = os.fsencode(os.readlink(f"/proc/{pid}/fd/{fd}"))
            except OSError:
                continue
            if target.startswith(self.marker) and target.endswith(os.fsencode(_LOCK)):
                return True
        return False

    def _poll(self) -> None:
        watching: str | None = None
        while not self._stop.wait(self.interval):
            if watching is None:
                watching = self._find()
                if watching is None:
                    continue
            kib = _hwm_kib(watching)
            if kib is None:  # it ended: look for another
                watching = None
                continue
            self.peaks[watching] = max(kib, self.peaks.get(watching, 0))

    @property
    def peak_mib(self) -> float:
        if not self.peaks:
            raise RuntimeError("no orchestrator process was seen")
        return max(self.peaks.values()) / 1024


_SELF_HWM = "import sys; sys.stdout.write(open('/proc/self/status').read())"


def bare_python_peak_mib(python: str, env: dict[str, str]) -> float:
    """``VmHWM`` of a bare interpreter (``python -c`` printing its own status as its last act).

    Not ``wait4``'s ``ru_maxrss``: that includes the forked child's resident set before ``exec``,
    i.e. the parent's.
    """
    out = subprocess.run([python, "-c", _SELF_HWM], env=env, capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM line in /proc/self/status")


def kill_leftovers(folder: Path) -> list[int]:
    """SIGKILL processes (started by this benchmark) whose command line names ``folder``; their pids."""
    marker = os.fsencode(str(folder))
    killed = []
    for pid in os.listdir("/proc"):
        if pid.isdigit() and int(pid) != os.getpid() and marker in _cmdline(pid):
            try:
                os.kill(int(pid), signal.SIGKILL)
                killed.append(int(pid))
            except (ProcessLookupError, PermissionError):
                pass
    return killed
