"""The forked side of a warm step start: make the process look like a fresh ``python script.py``.

:mod:`headwater.runtime.step_server` forks a step from a warm interpreter; :func:`become_step`
then gives the child what a fresh interpreter started by the executor would have: its own
session, the step's log on stdout/stderr and ``/dev/null`` on stdin, no other descriptor, the
default signal handlers, the step's environment (``os.environ`` replaced exactly), working
folder, ``sys.argv``, ``sys.path``, ``random`` (and ``numpy.random``) seeded from the OS, and a
new ``__main__``. :func:`run_main` runs the script and ends the process as the interpreter would
(atexit handlers, non-daemon threads joined, the exit code of ``SystemExit``, a traceback that
starts at the script), after recording the top-level modules the step imported
(:func:`record_modules`), which the server imports before the step's next start.

Stdlib only and Python 3.8 compatible: it runs inside the step's own interpreter.
"""

from __future__ import annotations

import json
import os
import signal
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

__all__ = ["SIGNAL_DEFAULTS", "become_step", "read_record", "record_modules", "run_main"]

#: The crash signals after which a step starts with a fresh interpreter next time.
CRASH_SIGNALS = frozenset(
    getattr(signal, n)
    for n in ("SIGSEGV", "SIGBUS", "SIGABRT", "SIGILL", "SIGFPE", "SIGSYS", "SIGTRAP")
    if hasattr(signal, n)
)

#: The handlers of a fresh interpreter, taken when the server starts (before it changes any).
SIGNAL_DEFAULTS: dict[int, Any] = {}


def snapshot_signals() -> None:
    """Remember every signal's handler as the interpreter set it at start-up."""
    for sig in signal.valid_signals():
        try:
            SIGNAL_DEFAULTS[sig] = signal.getsignal(sig)
        except (OSError, ValueError):
            continue


def read_record(path: str) -> dict[str, Any]:
    """The record of a step's previous warm start: ``modules`` (top-level names it imported),
    ``skip`` (names not to import in the server), ``fallback`` (why it must start fresh)."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_record(path: str, record: dict[str, Any]) -> None:
    """Replace the record atomically (several starts of one step may end at once)."""
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(record, fh, sort_keys=True)
        os.replace(tmp, path)
    except OSError:
        pass  # a record that cannot be written only costs speed next time


def _entry_of(module: Any, name: str) -> str | None:
    """The ``sys.path`` folder a top-level module was found in (None: built in, or unknown)."""
    spec = getattr(module, "__spec__", None)
    origin = getattr(spec, "origin", None) if spec is not None else None
    locations = list(getattr(spec, "submodule_search_locations", None) or []) if spec is not None else []
    if origin and origin not in ("built-in", "frozen") and os.path.isabs(origin):
        folder = os.path.dirname(origin)
        return os.path.dirname(folder) if locations or os.path.basename(origin).startswith("__init__.") else folder
    if locations:  # a namespace package
        return os.path.dirname(locations[0])
    return None


def importable_names(base_path: list[str], own: list[str], exclude: Any = ()) -> list[str]:
    """Modules now imported that the server may import too: of a top-level package that is built
    in or found in one of the server's own ``base_path`` folders (standard library, site-packages)
    and not in one of the step's ``own`` folders (its source folder, its PYTHONPATH), whose files
    may change; the package and its public submodules (lazy packages import those on demand).
    ``exclude``: what the server had imported for other steps (its own modules among them)."""
    base = {os.path.realpath(p) for p in base_path if p}
    mine = {os.path.realpath(p) for p in own if p}
    modules = list(sys.modules.items())
    reals: dict[str, str] = {}  # a few folders hold every module
    tops = set()
    for full, module in modules:
        if "." in full or full == "__main__" or module is None:
            continue
        entry = _entry_of(module, full)
        if entry is None:
            if full in sys.builtin_module_names:
                tops.add(full)
            continue
        real = reals.get(entry)
        if real is None:
            real = reals[entry] = os.path.realpath(entry)
        if real in base and real not in mine:
            tops.add(full)
    names = set()
    for full, module in modules:
        parts = full.split(".")
        if module is None or full in exclude or parts[0] not in tops:
            continue
        if any(part.startswith("_") for part in parts[1:]):
            continue  # private: imported by the public module that needs it
        names.add(full)
    return sorted(names)


def record_modules(
    path: str, base_path: list[str], own: list[str], fallback: str | None = None, exclude: Any = ()
) -> None:
    """Write what the step imported (or why it must start fresh next time) to its record."""
    record = read_record(path)
    if fallback:
        record["fallback"] = fallback
    else:
        names = importable_names(base_path, own, exclude)
        if names == record.get("modules") and not record.get("fallback"):
            return
        record["modules"] = names
    write_record(path, record)


def become_step(request: dict[str, Any], log_fd: int, base_path: list[str]) -> None:
    """In the forked child: turn this process into the step described by ``request``."""
    os.setsid()
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.closerange(3, _max_fd())
    signal.set_wakeup_fd(-1)
    for sig, handler in SIGNAL_DEFAULTS.items():
        try:
            if signal.getsignal(sig) is not handler:
                signal.signal(sig, handler)
        except (OSError, ValueError, TypeError):
            continue
    env = request["env"]
    os.environ.clear()  # and refilled in the step's order, as a fresh interpreter has it
    os.environ.update(env)
    rewrite_proc_environ(env)
    import time

    time.tzset()
    os.chdir(request["cwd"])
    argv = request["argv"]
    script = argv[1]
    sys.argv = list(argv[1:])
    if hasattr(sys, "orig_argv"):
        sys.orig_argv = list(argv)
    user_path = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    sys.path[:] = [os.path.dirname(os.path.realpath(script)), *user_path, *list(base_path)]
    import importlib

    importlib.invalidate_caches()
    restore_blas_threads(env)
    random = sys.modules.get("random")  # imported by the server: reseeded (else the step seeds it)
    if random is not None:
        random.seed()
    numpy_random = sys.modules.get("numpy.random")
    if numpy_random is not None:
        try:
            numpy_random.seed()
        except Exception:
            pass


#: Set in the server's environment: OpenBLAS (numpy's, scipy's) then starts no thread pool when
#: it is imported there, and :func:`restore_blas_threads` gives each step the pool it would have.
BLAS_THREADS_ENV = "OPENBLAS_NUM_THREADS"
_BLAS_VARIABLES = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")


def restore_blas_threads(env: dict[str, str]) -> None:
    """Give every OpenBLAS loaded in the server the threads it would have chosen in the step's
    environment: the first of its variables set to a positive number, else the CPUs it may use."""
    try:
        with open("/proc/self/maps") as fh:
            libs = {
                line.split(None, 5)[5].strip() for line in fh if "openblas" in line.lower() and line.count(" ") >= 5
            }
    except (OSError, IndexError):
        return
    if not libs:
        return
    wanted = 0
    for name in _BLAS_VARIABLES:
        try:
            wanted = int(env.get(name, "") or 0)
        except ValueError:
            wanted = 0
        if wanted > 0:
            break
    import ctypes

    for path in sorted(libs):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix in (("", ""), ("scipy_", "64_"), ("", "64_"), ("scipy_", "")):
            setter = getattr(lib, f"{prefix}openblas_set_num_threads{suffix}", None)
            procs = getattr(lib, f"{prefix}openblas_get_num_procs{suffix}", None)
            if setter is not None:
                setter(ctypes.c_int(wanted if wanted > 0 else int(procs()) if procs is not None else 1))
                break


#: A variable of the server's own environment that only reserves room in its environment block.
ENVIRON_ROOM_ENV = "HEADWATER_STEP_SERVER_ROOM"
ENVIRON_ROOM = 60000
_MARKER = "AZUREML_RUN_ID"


def rewrite_proc_environ(env: dict[str, str]) -> None:
    """Write the step's environment over the block the kernel shows as ``/proc/<pid>/environ``
    (the server's, inherited by the fork; the server reserved room in it). What reads another
    process's environment — the executor looking for a step's processes by their marker, ``ps e``
    — then sees the step's; should it not fit, at least the marker (``AZUREML_RUN_ID``)."""
    try:
        with open("/proc/self/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
        start, end = int(fields[47]), int(fields[48])  # env_start, env_end (fields 50, 51)
    except (OSError, ValueError, IndexError):
        return
    size = end - start
    payload = b"".join(os.fsencode(k) + b"=" + os.fsencode(v) + b"\0" for k, v in env.items())
    if len(payload) >= size:
        payload = os.fsencode("{}={}".format(_MARKER, env.get(_MARKER, ""))) + b"\0"
        if len(payload) >= size:
            return
    import ctypes

    ctypes.memmove(start, payload + b"\0" * (size - len(payload)), size)


def _max_fd() -> int:
    try:
        return int(os.sysconf("SC_OPEN_MAX"))
    except (ValueError, OSError):
        return 1024


def _new_main(script: str) -> Any:
    import builtins
    import importlib.machinery
    import types

    main = types.ModuleType("__main__")
    path = os.path.abspath(script) if sys.version_info >= (3, 9) else script
    main.__dict__.update(
        __file__=path,
        __cached__=None,
        __loader__=importlib.machinery.SourceFileLoader("__main__", path),
        __builtins__=builtins,
        __annotations__={},
        __package__=None,
        __spec__=None,
    )
    sys.modules["__main__"] = main
    return main


def _print_exception(exc: BaseException, filename: str) -> None:
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != filename:
        tb = tb.tb_next  # the traceback starts at the script, as in a fresh interpreter
    sys.excepthook(type(exc), exc.with_traceback(tb), tb)


def _exit_code(exc: SystemExit) -> int:
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    try:
        sys.stderr.write(str(code) + "\n")
    except Exception:
        pass
    return 1


def run_main(request: dict[str, Any], base_path: list[str]) -> None:
    """Run the step's script as ``__main__`` and end the process as a fresh interpreter would."""
    script = sys.argv[0]
    known = set(base_path)
    own = [p for p in sys.path if p not in known] + [os.getcwd()]  # the script's folder, its PYTHONPATH
    main = _new_main(script)
    filename = main.__file__
    code = 0
    fallback = None
    interrupted = False
    try:
        with open(script, "rb") as fh:
            source = fh.read()
        exec(compile(source, filename, "exec", dont_inherit=True), main.__dict__)
    except SystemExit as exc:
        code = _exit_code(exc)
    except KeyboardInterrupt as exc:
        _print_exception(exc, filename)
        interrupted = True
    except BaseException as exc:
        if isinstance(exc, OSError) and getattr(exc, "filename", None) == script and exc.__traceback__ is not None:
            sys.stderr.write(f"{sys.executable}: can't open file {script!r}: [Errno {exc.errno}] {exc.strerror}\n")
            code = 2
        else:
            _print_exception(exc, filename)
            code = 1
        if isinstance(exc, ImportError):
            fallback = f"ImportError: {exc}"
    code = _finalize(code)
    record = request.get("record")
    if record:
        record_modules(record, base_path, own, fallback, request.get("server_modules") or ())
    if interrupted:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
        code = 130
    os._exit(code)


def _finalize(code: int) -> int:
    """What the interpreter does at exit: join non-daemon threads, run atexit, flush the streams."""
    threading = sys.modules.get("threading")
    if threading is not None:
        try:
            threading._shutdown()
        except BaseException:
            pass
    import atexit

    try:
        atexit._run_exitfuncs()
    except SystemExit as exc:
        code = _exit_code(exc)
    except BaseException:
        pass
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except Exception:
            if stream is sys.stdout and code == 0:
                code = 120  # as the interpreter does when stdout cannot be flushed
    return code
