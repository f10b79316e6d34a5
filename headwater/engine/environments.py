"""The environment builder: a spec's isolated Python, built once with uv and reused by digest.

:func:`ensure_environment` is what a step calls before it starts:

1. If the Python running Headwater satisfies the spec
   (:func:`headwater.plan.environments.check_current_interpreter`), that interpreter is the
   answer: nothing is built (``path=None``, ``lock={}``, ``reused=True``).
2. Otherwise the environment lives at ``<environments_root>/<digest>/``, a venv whose
   ``headwater-env.json`` (spec, digest, lock, Python) marks it complete. A complete one is
   reused as it is.
3. Otherwise, holding the file lock ``<environments_root>/<digest>.lock`` (so processes needing
   the same environment build it once: the others wait, then reuse it), it is built in
   ``<environments_root>/.build-<digest>-<random>/env`` with ``uv venv --relocatable`` and
   ``uv pip install`` (:mod:`headwater.engine.env_requirements` says what is installed),
   locked with ``uv pip freeze``, marked, and renamed into place in one step. A failed build
   raises :class:`~headwater.errors.EnvironmentBuildError` with uv's message and leaves nothing
   at ``<digest>/``, so the next call tries again.

uv is the binary of the ``uv`` package installed with Headwater (never one found on ``PATH``);
its output is streamed, line by line, into ``log`` as it is written. The Python version is
chosen by :mod:`headwater.engine.interpreters` (closest one, with a warning, unless strict; never
one older than a step can run on: an environment built with one before is built again).

:func:`list_environments` lists the built environments; :func:`prune` removes those not kept,
never one being built (it takes each environment's lock without waiting). Lock files are left
in place: removing a lock file another process may have open would break the lock.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from headwater.engine.env_requirements import install_plan
from headwater.engine.interpreters import Interpreter, choose_interpreter
from headwater.errors import EnvironmentBuildError
from headwater.plan.environments import check_current_interpreter, environment_digest, normalize_spec
from headwater.runtime.pythons import OLDEST_STEP_PYTHON

__all__ = [
    "MARKER",
    "BuiltEnvironment",
    "ensure_environment",
    "find_built",
    "list_environments",
    "prune",
    "uv_binary",
]

#: The file that marks a complete environment folder.
MARKER = "headwater-env.json"
_DIGEST = re.compile(r"^[0-9a-f]{64}$")
_BUILD_PREFIX = ".build-"
_TAIL_LINES = 25


@dataclass(frozen=True)
class BuiltEnvironment:
    """An environment ready to run a step.

    ``interpreter`` is the absolute path of the Python to start. ``path`` is the environment's
    folder, or ``None`` when the running interpreter satisfies the spec (nothing was built).
    ``lock`` maps each installed distribution to its exact version (``{}`` when nothing was
    built). ``reused`` is False only for the call that built it. ``notices`` says what was
    deliberately not installed, or which Python was used instead of the one asked for.
    """

    digest: str
    interpreter: str
    path: Path | None
    lock: dict[str, str] = field(default_factory=dict)
    reused: bool = True
    notices: list[str] = field(default_factory=list)
    python_version: str | None = None  # the base interpreter's, as recorded in the marker


def uv_binary() -> str:
    """The uv executable installed alongside Headwater, by absolute path."""
    beside = Path(sysconfig.get_path("scripts")) / ("uv.exe" if os.name == "nt" else "uv")
    if beside.is_file():
        return str(beside)
    try:
        from uv import find_uv_bin

        return str(Path(find_uv_bin()).absolute())
    except (ImportError, FileNotFoundError) as err:
        raise EnvironmentBuildError(
            "uv, which builds step environments, is not installed beside Headwater.",
            hint=f"Install it into Headwater's environment: {sys.executable} -m pip install 'uv>=0.4'",
        ) from err


def find_built(
    spec: dict[str, Any], environments_root: Path, *, strict_python: bool = False
) -> BuiltEnvironment | None:
    """The complete environment already built for ``spec``, or None (nothing is built or locked)."""
    digest = environment_digest(normalize_spec(spec))
    existing = _load(Path(environments_root).absolute() / digest)
    return existing if existing is not None and _acceptable(existing, strict_python) else None


def ensure_environment(
    spec: dict[str, Any], environments_root: Path, *, log: TextIO | None = None, strict_python: bool = False
) -> BuiltEnvironment:
    """The Python that runs steps with environment ``spec``, building it if needed (see the module doc).

    ``strict_python=True``: a Python version matching no interpreter on this machine is an
    error listing the interpreters found, instead of a build with the closest one.
    """
    resolved = normalize_spec(spec)
    digest = environment_digest(resolved)
    root = Path(environments_root).absolute()
    # An environment built before is found by its marker alone: no requirement checks, no lock.
    existing = _load(root / digest)
    if existing is not None and _acceptable(existing, strict_python):
        _mark_used(existing)
        _say(log, f"Using environment {digest[:12]} at {existing.path}")
        return existing
    resolution = check_current_interpreter(resolved)
    if resolution.satisfied and resolution.interpreter is not None:
        for notice in resolution.notices:
            _say(log, f"notice: {notice}")
        return BuiltEnvironment(digest, resolution.interpreter, None, {}, True, list(resolution.notices))

    root.mkdir(parents=True, exist_ok=True)
    from filelock import FileLock, Timeout  # ~14 ms to import: only when a build may be needed

    lock = FileLock(str(root / f"{digest}.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        _say(log, f"Waiting for another process building environment {digest[:12]} ...")
        lock.acquire()
    try:
        existing = _load(root / digest)
        if existing is not None and _acceptable(existing, strict_python):
            _say(log, f"Using environment {digest[:12]} at {existing.path}")
            return existing
        _say(log, f"Building environment {digest[:12]}; the running Python lacks: {', '.join(resolution.missing)}")
        return _build(resolved, digest, root, log, strict_python)
    finally:
        lock.release()


def list_environments(environments_root: Path) -> list[BuiltEnvironment]:
    """The complete environments under ``environments_root``, by digest."""
    root = Path(environments_root)
    if not root.is_dir():
        return []
    found = (_load(entry) for entry in sorted(root.iterdir()) if _DIGEST.match(entry.name))
    return [env for env in found if env is not None]


#: ``prune`` leaves an environment alone when a step started with it this recently (seconds): the
#: step may still be running, and nothing else tells that a folder is in use.
RECENT_USE_SECONDS = 6 * 3600


def last_used(env_folder: Path) -> float:
    """When a step last started with the environment at ``env_folder`` (its marker's mtime)."""
    try:
        return (env_folder / MARKER).stat().st_mtime
    except OSError:
        return 0.0


def _mark_used(env: BuiltEnvironment) -> None:
    """Record that ``env`` is being used now (one ``utime``), so ``prune`` spares it."""
    if env.path is not None:
        with contextlib.suppress(OSError):
            os.utime(env.path / MARKER)


def prune(environments_root: Path, keep: set[str], *, unused_for: float = RECENT_USE_SECONDS) -> list[str]:
    """Remove the environments whose digest is not in ``keep``; returns the digests removed.

    Incomplete folders (a build that was killed) go too. A folder whose lock another process
    holds — it is being built — is left alone, and so is one a step started with in the last
    ``unused_for`` seconds (it may still be running; 0 removes those as well).
    """
    from filelock import FileLock, Timeout

    root = Path(environments_root)
    if not root.is_dir():
        return []
    removed = []
    for entry in sorted(root.iterdir()):
        if _DIGEST.match(entry.name) and entry.is_dir():
            digest = entry.name
        elif entry.name.startswith(".trash-") and entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)  # a removal that was interrupted
            continue
        elif entry.name.startswith(_BUILD_PREFIX) and entry.is_dir():
            digest = entry.name[len(_BUILD_PREFIX) :].split("-", 1)[0]
        else:
            continue
        if digest in keep and not entry.name.startswith(_BUILD_PREFIX):
            continue
        if not entry.name.startswith(_BUILD_PREFIX) and time.time() - last_used(entry) < unused_for:
            continue
        lock = FileLock(str(root / f"{digest}.lock"))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            continue
        try:
            if entry.exists():
                _remove(entry)
                if not entry.name.startswith(_BUILD_PREFIX):
                    removed.append(digest)
        finally:
            lock.release()
    return removed


# -- building ----------------------------------------------------------------------------------


def _build(spec: dict[str, Any], digest: str, root: Path, log: TextIO | None, strict: bool) -> BuiltEnvironment:
    plan = install_plan(spec)
    interpreter, python_notices = choose_interpreter(plan.python_version, strict=strict)
    notices = [*plan.notices, *python_notices]
    for notice in plan.notices:
        _say(log, f"notice: {notice}")
    for notice in python_notices:  # another Python than the one asked for: a warning
        _say(log, f"warning: {notice}")
    uv = uv_binary()
    work = Path(tempfile.mkdtemp(prefix=f"{_BUILD_PREFIX}{digest}-", dir=root))
    try:
        venv = work / "env"
        _run_uv([uv, "venv", "--relocatable", "--no-project", "--python", interpreter.path, str(venv)], work, log)
        python = _venv_python(venv)
        if plan.requirements:
            requirements = work / "requirements.txt"
            requirements.write_text("".join(f"{line}\n" for line in plan.requirements), encoding="utf-8")
            _run_uv(
                [uv, "pip", "install", "--python", str(python), *plan.uv_options, "-r", str(requirements)],
                work,
                log,
                what="install the environment's packages",
                requirements=plan.requirements,
            )
        lock = _freeze(uv, python, work)
        record = {
            "digest": digest,
            "spec": spec,
            "python": {
                "requested": plan.python_version,
                "version": interpreter.version,
                "base": interpreter.path,
                "matched": not python_notices,
            },
            "requirements": plan.requirements,
            "uv_options": plan.uv_options,
            "lock": lock,
            "notices": notices,
        }
        (venv / MARKER).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        target = root / digest
        if target.exists():  # an incomplete folder (no marker): never reused, replaced
            _remove(target)
        os.replace(venv, target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    _say(log, f"Built environment {digest[:12]} at {target} ({len(lock)} packages)")
    return BuiltEnvironment(digest, str(_venv_python(target)), target, lock, False, notices, interpreter.version)


def _run_uv(
    command: list[str],
    cwd: Path,
    log: TextIO | None,
    *,
    stream: bool = True,
    what: str = "create the environment",
    requirements: list[str] | None = None,
) -> list[str]:
    """Run uv, its output (stdout and stderr, in order) streamed to ``log``; returns the lines.

    A non-zero exit raises EnvironmentBuildError quoting the output's tail (uv's resolver message).
    """
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "CONDA_PREFIX", "UV_PYTHON")}
    env.update({"NO_COLOR": "1", "UV_NO_PROGRESS": "1", "UV_PYTHON_DOWNLOADS": "never"})
    if not stream:
        done = subprocess.run(
            command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, errors="replace"
        )
        tail = (done.stdout + done.stderr).splitlines()[-_TAIL_LINES:]
        code, lines = done.returncode, done.stdout.splitlines()
    else:
        _say(log, "$ uv " + " ".join(command[1:]))
        lines, code = _stream(command, cwd, env, log)
        tail = lines[-_TAIL_LINES:]
    if code != 0:
        message = "\n".join(tail).strip()
        asked = f" (requirements: {', '.join(requirements)})" if requirements else ""
        raise EnvironmentBuildError(
            f"uv could not {what}{asked}; uv said:\n{message}",
            hint="Fix the environment's packages (names, versions, Python version) and run again; "
            "nothing was kept from this build.",
        )
    return lines


def _stream(command: list[str], cwd: Path, env: dict[str, str], log: TextIO | None) -> tuple[list[str], int]:
    """Run ``command`` with stderr merged into stdout, each line written to ``log`` as it comes."""
    lines: list[str] = []
    with subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        bufsize=1,
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if log is not None:
                log.write(line)
                log.flush()
        return lines, process.wait()


def _freeze(uv: str, python: Path, cwd: Path) -> dict[str, str]:
    """``{distribution: version}`` of everything installed (``name @ url`` lines keep the url)."""
    lock = {}
    command = [uv, "pip", "freeze", "--python", str(python)]
    for line in _run_uv(command, cwd, None, stream=False, what="list the installed packages"):
        name, sep, version = line.partition("==")
        if not sep:
            name, sep, version = line.partition(" @ ")
        if sep and name.strip():
            lock[name.strip()] = version.strip()
    return dict(sorted(lock.items()))


# -- reading and removing ----------------------------------------------------------------------


def _load(folder: Path) -> BuiltEnvironment | None:
    """The environment at ``folder`` if it is complete (has its marker), else None."""
    try:
        record = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return BuiltEnvironment(
        digest=str(record.get("digest") or folder.name),
        interpreter=str(_venv_python(folder)),
        path=folder,
        lock=dict(record.get("lock") or {}),
        reused=True,
        notices=list(record.get("notices") or []),
        python_version=(record.get("python") or {}).get("version"),
    )


def _acceptable(env: BuiltEnvironment, strict: bool) -> bool:
    """False when ``env`` was built with a Python older than a step can run on (it is built again, with a
    supported one), or when ``strict`` and it was built with a stand-in Python (raises if still none)."""
    if env.path is not None and _too_old(env.python_version):
        return False
    if not strict or env.path is None:
        return True
    python = json.loads((env.path / MARKER).read_text(encoding="utf-8")).get("python") or {}
    if python.get("matched", True):
        return True
    chosen: Interpreter = choose_interpreter(python.get("requested"), strict=True)[0]
    return chosen.path == python.get("base")


def _too_old(version: str | None) -> bool:
    """Whether a recorded interpreter version (``'3.6.15'``) is older than a step can run on."""
    parts = (version or "").split(".")
    if len(parts) < 2 or not (parts[0].isdigit() and parts[1].isdigit()):
        return False
    return (int(parts[0]), int(parts[1])) < OLDEST_STEP_PYTHON


def _remove(folder: Path) -> None:
    """Remove ``folder``: renamed aside first, so no one sees it half-deleted under its name."""
    aside = folder.with_name(f".trash-{folder.name}-{os.getpid()}")
    os.replace(folder, aside)
    shutil.rmtree(aside, ignore_errors=True)


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _say(log: TextIO | None, text: str) -> None:
    if log is not None:
        log.write(text + "\n")
        log.flush()
