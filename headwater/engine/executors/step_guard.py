"""The step guard: the steps of a process that dies (SIGKILL, the OOM killer) stop on their own.

An orchestrator commits a step's outputs only when the step succeeded; once the orchestrator is
dead nothing of what its steps still do will be committed, so they must not keep burning CPU or
writing into their working folders until somebody reads the run (and a resume runs them again
cleanly). Their parent is not always the orchestrator (a warm start's parent is its step server,
a ParallelRunStep's workers are the step's children), so the kernel's parent-death signal is not
enough; instead:

* The first :class:`~headwater.engine.executors.local.LocalExecutor` of a process starts one guard
  process (:func:`step_guard`): a small interpreter (``-I -S``, the standard library only) in a
  session of its own, reading a pipe whose only write end this process holds (close-on-exec, closed
  in a forked child). The executor tells it each step it starts (run id, pid, grace period) and
  each step that ended — one short write each, nothing else on a step's path.
* The kernel closes the write end when this process dies, however it dies. The guard then reads
  the end of the pipe and stops every step still listed, with everything it started (found as
  :mod:`~headwater.engine.executors.process_tree` finds them: the step's marker, group, session and
  descendants): SIGTERM, SIGKILL after the grace period — as a cancel does. Then it exits. A process
  that ends normally has stopped its steps itself, so its guard finds none left and just exits.
* Only processes that started before the pipe ended are stopped (or that are in a listed step's
  group or session): a resume may already run the same step run ids again in a new attempt,
  whose processes carry the same marker.

The process that submitted a run is not the orchestrator (which runs in a session of its own), so
its death stops nothing; neither does anything else that leaves the orchestrator alive (a refused
``headwater run resume`` of a live run). Linux only (``/proc``); elsewhere there is no guard.

Stdlib only. The guard side (:func:`watch`) imports nothing but ``os`` and ``sys`` until it has to
stop something, so it starts in a few milliseconds.
"""

from __future__ import annotations

import _thread
import os
import sys

__all__ = ["StepGuard", "guard_pids", "step_guard", "watch"]

# First, close every descriptor inherited (posix_spawn closes only the close-on-exec ones): a
# copy of, say, a Ray worker's socket to its raylet would hide the worker's death from the raylet.
# A detached guard (argv[2] == "detach") forks once more and lets its first process exit, so it is
# nobody's child: a Ray worker's direct children are killed with it, which would take the guard too.
_CODE = (
    "import os, sys; os.closerange(3, os.sysconf('SC_OPEN_MAX')); sys.path.insert(0, sys.argv[1]); "
    "sys.argv[2:] == ['detach'] and os.fork() and os._exit(0); "
    "from headwater.engine.executors.step_guard import watch; watch()"
)
_MARKER = "AZUREML_RUN_ID"  # process_tree.MARKER (not imported: the guard side stays light)


class StepGuard:
    """This process's end of the guard's pipe: which steps run (see the module)."""

    def __init__(self, pid: int, fd: int, *, detached: bool = False) -> None:
        self.pid = pid  # a detached guard: its first process, which exits at once
        self._fd = fd
        self._ended = False
        self._detached = detached
        self._broken = False

    def running(self) -> bool:
        """Whether the guard process still runs (it is reaped once it is seen to have ended). A
        detached guard is not our child: it is taken to run until a write finds its pipe closed."""
        if self._detached:
            self._reap()
            return not self._broken
        if not self._ended:
            self._reap()
        return not self._ended

    def _reap(self) -> None:
        if self._ended:
            return
        try:
            self._ended = os.waitpid(self.pid, os.WNOHANG)[0] == self.pid
        except ChildProcessError:  # not ours to wait for (reaped elsewhere)
            self._ended = True

    def started(self, run_id: str, pid: int | None, grace: float) -> None:
        """Step run ``run_id`` runs as process ``pid`` (None: being started); stop it with ``grace``."""
        self._send(f"+ {run_id} {pid or 0} {grace:g}\n")

    def ended(self, run_id: str) -> None:
        """Step run ``run_id`` has ended (what it left running is stopped): no longer to guard."""
        self._send(f"- {run_id}\n")

    def _send(self, line: str) -> None:
        try:
            os.write(self._fd, line.encode())  # shorter than PIPE_BUF: written whole, or not at all
        except BrokenPipeError:
            self._broken = True  # the guard is gone: the next step_guard() starts another
        except OSError:
            pass  # the guard is gone, or (for ever behind) its pipe is full: the step runs unguarded

    def close(self) -> None:
        """Forget the pipe in a forked child: the child must not keep the parent's guard waiting."""
        try:
            os.close(self._fd)
        except OSError:
            pass


_GUARD: StepGuard | None = None
_LOCK = _thread.allocate_lock()


def _forget_in_child() -> None:
    global _GUARD
    if _GUARD is not None:
        _GUARD.close()
        _GUARD = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)


def step_guard(*, detach: bool = False) -> StepGuard | None:
    """This process's guard, started on first use (again if it died); None where none can run.

    ``detach``: the guard is nobody's child (for a Ray worker, whose direct children Ray kills with it)."""
    global _GUARD
    with _LOCK:
        if _GUARD is not None and _GUARD.running():
            return _GUARD
        if sys.platform != "linux":
            return None
        if _GUARD is not None:
            _GUARD.close()
            _GUARD = None
        _GUARD = _start(detach)
        return _GUARD


def _start(detach: bool = False) -> StepGuard | None:
    package_parent = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    read_end, write_end = os.pipe()  # not inheritable: only this process holds the write end
    try:
        # posix_spawn, not Popen: a child that outlives its Popen object (this one outlives the
        # process) would be warned about when the object is collected.
        pid = os.posix_spawn(
            sys.executable,
            [sys.executable, "-I", "-S", "-c", _CODE, package_parent, *(["detach"] if detach else [])],
            {k: v for k, v in os.environ.items() if k != _MARKER},  # not a process of any step
            file_actions=[
                (os.POSIX_SPAWN_DUP2, read_end, 0),
                (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),  # stderr: ours (an orchestrator's log)
            ],
            setsid=True,  # a signal to this process's group does not reach it
        )
    except OSError:
        os.close(write_end)
        return None
    finally:
        os.close(read_end)
    os.set_blocking(write_end, False)  # never hold a step's start up: a full pipe drops the line
    return StepGuard(pid, write_end, detached=detach)


def guard_pids() -> set[int]:
    """The pid of this process's guard, if it runs (a child that is no step's)."""
    guard = _GUARD
    return {guard.pid} if guard is not None and not guard._ended and not guard._detached else set()


# --- the guard process ---------------------------------------------------------------------------


def watch() -> None:
    """The guard's body: follow the steps named on stdin until it ends, then stop those still listed."""
    steps: dict[str, tuple[int | None, float]] = {}
    buffer = b""
    while True:
        try:
            chunk = os.read(0, 65536)
        except InterruptedError:
            continue
        except OSError:
            chunk = b""
        if not chunk:
            break
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            parts = line.decode(errors="replace").split()
            if len(parts) == 4 and parts[0] == "+":
                try:
                    steps[parts[1]] = (int(parts[2]) or None, float(parts[3]))
                except ValueError:
                    continue
            elif len(parts) == 2 and parts[0] == "-":
                steps.pop(parts[1], None)
    if steps:
        stop_orphaned(steps)


def _boot_ticks() -> int:
    """Now, in the clock ticks since boot that ``/proc/<pid>/stat`` gives a process's start in."""
    import time

    return int(time.clock_gettime(time.CLOCK_BOOTTIME) * os.sysconf("SC_CLK_TCK"))


def _older(pid: int, before: int, leaders: set[int]) -> bool:
    """Whether ``pid`` started by ``before`` (boot ticks) or is in the group or session of a leader."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
        return int(fields[2]) in leaders or int(fields[3]) in leaders or int(fields[19]) <= before
    except (OSError, IndexError, ValueError):
        return False


def stop_orphaned(steps: dict[str, tuple[int | None, float]]) -> set[int]:
    """Stop the processes of ``steps`` (run id -> (pid, grace)) that started by now: SIGTERM, and
    SIGKILL what is left after the longest grace period. Returns the pids signalled."""
    import signal
    import time

    from headwater.engine.executors import process_tree

    before = _boot_ticks()
    pids_of = {run_id: pid for run_id, (pid, _) in steps.items()}
    leaders = {pid for pid in pids_of.values() if pid}

    def victims() -> set[int]:
        return {p for p in process_tree.find_step_processes(pids_of) if _older(p, before, leaders)}

    pids = victims()
    signalled = set(pids)
    process_tree.signal_pids(pids, signal.SIGTERM)
    deadline = time.monotonic() + max(grace for _, grace in steps.values())
    while pids and time.monotonic() < deadline:
        time.sleep(0.05)
        pids = {p for p in pids if _older(p, before, leaders) and not _zombie(p)}
    for _ in range(5):
        pids = victims()
        if not pids:
            break
        process_tree.signal_pids(pids, signal.SIGKILL)
        signalled |= pids
    if signalled:
        names = ", ".join(sorted(steps))
        print(f"[headwater] step guard: the orchestrator is gone; stopped step run(s) {names}", file=sys.stderr)
    return signalled


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0] in (b"Z", b"X")
    except (OSError, IndexError):
        return True
