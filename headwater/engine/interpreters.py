"""The Python interpreters on this machine, and which one an environment is built with.

Interpreters can't be downloaded here, so an environment's ``python_version`` is matched against
what is installed: ``sys.executable`` (the Python running Headwater), every ``pythonX.Y`` in the
``PATH`` folders (pyenv's ``shims`` folders skipped: a shim runs whatever pyenv selects), and
pyenv's ``$PYENV_ROOT/versions/*/bin/pythonX.Y`` (``~/.pyenv`` by default).

:func:`choose_interpreter` prefers the running Python whenever it matches; otherwise the newest
match; when nothing matches, the closest version (newer on a tie) with a notice saying so, or —
``strict=True`` — an :class:`~headwater.errors.EnvironmentBuildError` listing what was found.
It never picks a Python older than :data:`~headwater.runtime.pythons.OLDEST_STEP_PYTHON` (3.8,
what the step runtime needs): SDK v1's ``python=3.6`` gets the nearest supported one, with a
warning naming both (strict: an error).
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from headwater.errors import EnvironmentBuildError
from headwater.plan.environments import conda_to_pep440
from headwater.runtime.pythons import OLDEST_STEP_PYTHON

__all__ = ["Interpreter", "choose_interpreter", "find_interpreters"]

_EXECUTABLE = re.compile(r"^python(\d+)\.(\d+)$")
_PLAIN_VERSION = re.compile(r"^(?:==?)?\s*(\d+)\.(\d+)(?:\.[\d*]+)*\s*$")
_FIRST_VERSION = re.compile(r"(\d+)\.(\d+)")


@dataclass(frozen=True, order=True)
class Interpreter:
    """A Python found on this machine: its version (``'3.11.7'``, or ``'3.8'`` when only the
    executable's name tells) and its absolute path."""

    version: str
    path: str

    @property
    def minor(self) -> tuple[int, int]:
        """``(major, minor)``."""
        major, minor = self.version.split(".")[:2]
        return int(major), int(minor)


def find_interpreters() -> list[Interpreter]:
    """Every Python found, the running one first, then by version (one per resolved path)."""
    found = [Interpreter("{}.{}.{}".format(*sys.version_info[:3]), os.path.abspath(sys.executable))]
    seen = {os.path.realpath(sys.executable)}

    def add(version: str, path: Path) -> None:
        if not version.startswith("3."):
            return  # uv builds Python 3 environments only (a 2.7 would fail in uv, not fall back)
        real = os.path.realpath(path)
        if real not in seen and os.access(path, os.X_OK) and Path(path).is_file():
            seen.add(real)
            found.append(Interpreter(version, str(path.absolute())))

    pyenv_root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    versions = pyenv_root / "versions"
    if versions.is_dir():
        for folder in sorted(versions.iterdir()):
            if not re.match(r"^\d+\.\d+(\.\d+)?$", folder.name):
                continue  # virtualenvs, pypy, conda ... : not a plain CPython version
            major, minor = folder.name.split(".")[:2]
            add(folder.name, folder / "bin" / f"python{major}.{minor}")
    for entry_dir in os.environ.get("PATH", "").split(os.pathsep):
        if not entry_dir or "shims" in Path(entry_dir).parts:
            continue
        try:
            entries = sorted(Path(entry_dir).iterdir())
        except OSError:  # missing or unreadable PATH entries are common and harmless
            continue
        for entry in entries:
            match = _EXECUTABLE.match(entry.name)
            if match is not None:
                add(f"{match.group(1)}.{match.group(2)}", entry)
    return [found[0], *sorted(found[1:], key=lambda i: (i.minor, i.version), reverse=True)]


def choose_interpreter(
    python_version: str | None, *, strict: bool = False, candidates: list[Interpreter] | None = None
) -> tuple[Interpreter, list[str]]:
    """The interpreter to build an environment for ``python_version`` with, and notices.

    ``python_version`` is written as in a conda file: ``'3.8'``, ``'=3.8'``, ``'3.8.10'`` (each
    meaning that minor version), or a specifier such as ``'>=3.9,<3.12'``. ``None`` or ``''``
    means the running Python. ``candidates`` defaults to :func:`find_interpreters`.
    """
    every = find_interpreters() if candidates is None else candidates
    found = [i for i in every if i.minor >= OLDEST_STEP_PYTHON] or every[:1]
    if not python_version or not str(python_version).strip():
        return found[0], []
    wanted = str(python_version).strip()
    matches = [i for i in found if _matches(wanted, i)]
    if matches:
        return (found[0] if found[0] in matches else max(matches, key=lambda i: i.minor)), []
    listing = ", ".join(f"{i.version} ({i.path})" for i in every)
    target = _FIRST_VERSION.search(wanted)
    goal = None if target is None else (int(target.group(1)), int(target.group(2)))
    too_old = any(_matches(wanted, i) for i in every) or (goal is not None and goal < OLDEST_STEP_PYTHON)
    oldest = "{}.{}".format(*OLDEST_STEP_PYTHON)
    if strict:
        if too_old:
            raise EnvironmentBuildError(
                f"The environment asks for Python {wanted}, older than {oldest}, the oldest Python a step can run "
                f"on (Headwater's step runtime needs it; found: {listing}).",
                hint=f"Change the environment's python_version to {oldest} or later, or turn strict Python "
                "matching off to build with the closest supported one.",
            )
        raise EnvironmentBuildError(
            f"The environment asks for Python {wanted}, and no such interpreter is on this machine (found: {listing}).",
            hint="Install that Python (e.g. with pyenv), change the environment's python_version, "
            "or turn strict Python matching off to build with the closest one.",
        )
    if goal is None:
        chosen = found[0]
    else:
        chosen = min(found, key=lambda i: (abs(_distance(i.minor, goal)), -i.minor[0], -i.minor[1]))
    if too_old:
        notice = (
            f"Python {wanted} was asked for, but a step runs on Python {oldest} or later (Headwater's step runtime "
            f"needs it); building with the closest supported one, Python {chosen.version} ({chosen.path})."
        )
    else:
        notice = (
            f"Python {wanted} was asked for, but no such interpreter is on this machine (found: {listing}); "
            f"building with the closest, Python {chosen.version} ({chosen.path})."
        )
    return chosen, [notice]


def _distance(have: tuple[int, int], goal: tuple[int, int]) -> int:
    return (have[0] - goal[0]) * 100 + (have[1] - goal[1])


def _matches(wanted: str, interpreter: Interpreter) -> bool:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import InvalidVersion

    plain = _PLAIN_VERSION.match(wanted)
    if plain is not None:
        return interpreter.minor == (int(plain.group(1)), int(plain.group(2)))
    try:
        return any(
            SpecifierSet(conda_to_pep440(alt)).contains(interpreter.version, prereleases=True)
            for alt in wanted.split("|")
        )
    except (InvalidSpecifier, InvalidVersion):
        return False
