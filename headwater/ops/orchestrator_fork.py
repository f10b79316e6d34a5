"""Starting a run's orchestrator by forking the submitting process, where that is safe.

A spawned orchestrator pays a second interpreter's start and its imports (~55 ms on the critical
path of a cold run). A fork of the submitting process has most of those imports already and
starts at once. It is used only where forking is safe (:func:`fork_refusal`): on Linux, in a
process with one thread (a fork copies only the calling thread, so a lock another thread held
stays held for ever) and no open SQLite database (SQLite's per-process lock bookkeeping must not
be shared by two processes: the child's own connection would believe it holds locks it does not).
Headwater's own idle connections (a workspace's metadata store, the digest cache: most SDK v1
scripts open the store before they submit) are closed right before the fork and reopen on their
next use; one inside a transaction, or any other SQLite database open, still means a spawn.
``HEADWATER_ORCHESTRATOR_START=spawn`` turns it off. Anywhere else the caller spawns.

The orchestrator is forked twice (the middle process exits at once, so the orchestrator is no
process's child and never a zombie of the submitter) and then made what a spawned one is: leader
of a session of its own (a Ctrl-C or SIGKILL of the submitter's group does not reach it), stdin
from ``/dev/null``, stdout and stderr appended to its log, no other descriptor of the submitter
(a pipe the submitter's caller reads to its end is not held open), default signal handlers and
mask, no ``AZUREML_RUN_ID``. It runs :func:`headwater.engine.orchestrator.main` and leaves with
``os._exit``: none of the submitter's ``atexit`` handlers, buffers or finalizers run twice. Stdlib
only, as :mod:`headwater.ops.spawn`.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any

__all__ = ["START_ENV", "fork_orchestrator", "fork_refusal"]

#: ``spawn`` starts every orchestrator as a new interpreter; ``fork`` (the default) forks when safe.
START_ENV = "HEADWATER_ORCHESTRATOR_START"
#: Open files whose name ends so are (probably) SQLite databases or their journals.
_SQLITE_SUFFIXES = ("-wal", "-shm", "-journal", ".db", ".sqlite", ".sqlite3")
_SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")
#: Classes whose instances keep a SQLite connection open between calls and can release it (close
#: it until their next use): ``holding_sqlite()``, ``sqlite_file``, ``release()``.
_HOLDERS = (("headwater.store.metadata", "MetadataStore"), ("headwater.plan.digest_cache", "DigestCache"))


def fork_refusal() -> str | None:
    """Why this process must not fork an orchestrator (a few words), or None when it may (having
    closed its Headwater stores' idle SQLite connections, which reopen on their next use)."""
    if os.environ.get(START_ENV, "fork").strip().lower() == "spawn":
        return f"{START_ENV}=spawn"
    if sys.platform != "linux" or not hasattr(os, "fork"):
        return "not Linux"
    try:
        threads = len(os.listdir("/proc/self/task"))  # threads started by C libraries too
    except OSError:
        return "cannot count this process's threads"
    threading = sys.modules.get("threading")
    if threads != 1 or (threading is not None and threading.active_count() != 1):
        return f"{threads} threads"
    databases = _open_sqlite_files()
    if isinstance(databases, str):
        return databases
    if databases:
        refusal = _release_ours(databases)  # Headwater's own idle connections: closed, reopened on use
        if refusal is not None:
            return refusal
        databases = _open_sqlite_files()  # another connection to one of those files, say
        if isinstance(databases, str):
            return databases
        if databases:
            return f"an open SQLite database ({next(iter(databases.values()))})"
    return None


def _open_sqlite_files() -> dict[str, str] | str:
    """This process's open SQLite files: {the database's path: the open file}; or why unknown."""
    try:
        fds = os.listdir("/proc/self/fd")
    except OSError:
        return "cannot list this process's open files"
    out: dict[str, str] = {}
    for fd in fds:
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue  # the listing's own descriptor, closed since
        if target.endswith(_SQLITE_SUFFIXES):
            database = target
            for suffix in _SQLITE_SIDE_FILES:
                database = database.removesuffix(suffix)
            out.setdefault(database, target)
    return out


def _release_ours(databases: dict[str, str]) -> str | None:
    """Close the idle SQLite connections of this process's Headwater stores and digest caches
    (each reopens on its next use), when every open database is one of theirs; else (a database
    of the user's own, a transaction open) why not, and nothing is closed for a foreign one."""
    holders: list[Any] = []
    for module, name in _HOLDERS:  # only modules already imported can have instances
        cls = getattr(sys.modules.get(module), name, None)
        if cls is not None:
            holders.extend(cls.holding_sqlite())
    ours = {os.path.realpath(holder.sqlite_file) for holder in holders}
    for database, target in databases.items():
        if database not in ours:
            return f"an open SQLite database ({target})"
    for holder in holders:
        if not holder.release():
            return f"a transaction open on the SQLite database {holder.sqlite_file}"
    return None


def fork_orchestrator(plan_path: Path, log_path: Path, *, resume: bool = False) -> int:
    """Fork the orchestrator of the plan at ``plan_path``; its pid, or 0 when the fork failed (the
    caller spawns instead). The caller has checked :func:`fork_refusal`."""
    for stream in (sys.stdout, sys.stderr):  # else the child would inherit, and repeat, their buffers
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass
    read_end, write_end = os.pipe()
    try:
        middle = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        return 0
    if middle == 0:  # the middle process: fork the orchestrator, say its pid, leave
        status = 1
        try:
            os.close(read_end)
            pid = os.fork()
            if pid == 0:
                os.close(write_end)
                _become_orchestrator(plan_path, log_path, resume)  # never returns
            os.write(write_end, str(pid).encode())
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as reader:
        said = reader.read()
    os.waitpid(middle, 0)
    return int(said) if said.isdigit() else 0


def _become_orchestrator(plan_path: Path, log_path: Path, resume: bool) -> None:
    """In the forked orchestrator: detach, take the log as stdout and stderr, run, ``os._exit``."""
    code = 1
    try:
        import gc

        gc.freeze()  # the submitter's objects are never collected (nor closed) here
        os.setsid()
        _standard_streams(log_path)
        _default_signals()
        os.environ.pop("AZUREML_RUN_ID", None)  # as spawn: a run submitted from a step is its own
        sys.argv = [sys.argv[0] if sys.argv else "", str(plan_path), *(["--resume"] if resume else [])]
        from headwater.engine.orchestrator import main

        code = main(sys.argv[1:])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        try:
            import traceback

            traceback.print_exc()
        except BaseException:
            pass
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:
                pass
        os._exit(code)


def _standard_streams(log_path: Path) -> None:
    """stdin from /dev/null, stdout and stderr appended to the log, every other descriptor closed."""
    null = os.open(os.devnull, os.O_RDONLY)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.closerange(3, _max_fd())
    sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115 - lives as long as the process
    sys.stdout = open(1, "w", encoding="utf-8", errors="backslashreplace", buffering=1, closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", buffering=1, closefd=False)  # noqa: SIM115
    faulthandler = sys.modules.get("faulthandler")
    if faulthandler is not None and faulthandler.is_enabled():
        faulthandler.enable(sys.stderr)  # it held a descriptor of the submitter's, closed above
    logging = sys.modules.get("logging")
    if logging is not None:  # the submitter's handlers write to descriptors closed above
        logging.root.handlers.clear()


def _max_fd() -> int:
    try:
        return int(os.sysconf("SC_OPEN_MAX"))
    except (OSError, ValueError):
        return 65536


def _default_signals() -> None:
    """Handlers and mask as in a new interpreter: the submitter's handlers are not the orchestrator's."""
    signal.set_wakeup_fd(-1)
    signal.pthread_sigmask(signal.SIG_SETMASK, set())
    for signum in signal.valid_signals():
        if signum in (signal.SIGKILL, signal.SIGSTOP):
            continue
        handler: Any
        if signum == signal.SIGINT:
            handler = signal.default_int_handler
        elif signum in (signal.SIGPIPE, signal.SIGXFSZ):
            handler = signal.SIG_IGN  # as Python sets them at start-up
        else:
            handler = signal.SIG_DFL
        try:
            if signal.getsignal(signum) is not handler:
                signal.signal(signum, handler)
        except (OSError, ValueError):
            pass  # a signal Python may not handle
