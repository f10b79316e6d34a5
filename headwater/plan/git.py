"""Git properties of a step's source directory, as Azure ML SDK v1 records them on a run.

SDK v1's ``GitTrackingInfoProvider`` adds, when the folder is inside a git work tree (each value
can be overridden by an environment variable):

* ``azureml.git.repository_uri`` and ``mlflow.source.git.repoURL``: ``git ls-remote --get-url``
  (``AZUREML_GIT_REPOSITORY_URI``);
* ``azureml.git.branch`` and ``mlflow.source.git.branch``: ``git symbolic-ref --short HEAD``
  (``AZUREML_GIT_BRANCH``);
* ``azureml.git.commit`` and ``mlflow.source.git.commit``: ``git rev-parse HEAD``
  (``AZUREML_GIT_COMMIT``);
* ``azureml.git.dirty``, ``"True"`` or ``"False"``: whether ``git status --porcelain .`` lists
  anything, so only changes inside the source directory count (``AZUREML_GIT_DIRTY``);
* ``azureml.git.build_id`` and ``azureml.git.build_uri``: only from ``AZUREML_GIT_BUILD_ID`` and
  ``AZUREML_GIT_BUILD_URI``.

As in SDK v1, a non-empty environment variable wins over git and is recorded even outside a work
tree (a CI job building from a tarball can still say which commit it is); an empty one counts as
unset. ``AZUREML_GIT_DIRTY`` is true when it is ``1`` or ``true`` (any case). A detached HEAD has
no branch; a repository without commits has no commit. Without a ``git`` binary, outside a work
tree and without overrides, the result is ``{}``.

Differences from SDK v1, on purpose: git runs in the source directory (SDK v1 used the process's
current directory for pipeline runs); credentials are removed from the repository URL
(``https://user:token@host/x.git`` becomes ``https://host/x.git``, for an override too); branch,
commit and dirtiness come from one ``git status --porcelain=v2 --branch .`` (same answers, one
process instead of three), so at most two git processes run, and they run at the same time.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import logging

__all__ = ["GIT_TIMEOUT_S", "git_properties", "strip_credentials"]


def _log() -> logging.Logger:
    """This module's logger; ``logging`` is imported only when there is something to say (submit is hot)."""
    import logging

    return logging.getLogger(__name__)

#: How long one git command may take before it is killed and its answer treated as unknown.
GIT_TIMEOUT_S = 10.0

_ENV = {
    "repository_uri": "AZUREML_GIT_REPOSITORY_URI",
    "branch": "AZUREML_GIT_BRANCH",
    "commit": "AZUREML_GIT_COMMIT",
    "dirty": "AZUREML_GIT_DIRTY",
    "build_id": "AZUREML_GIT_BUILD_ID",
    "build_uri": "AZUREML_GIT_BUILD_URI",
}
_TRUE_VALUES = ("1", "true")

# Variables that would point git at another repository than the one around the source directory.
_REPO_ENV = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_COMMON_DIR",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
)


def strip_credentials(url: str) -> str:
    """``url`` without a password, and for http(s) without a user name (often a token).

    ``https://user:token@host/x.git`` → ``https://host/x.git``; ``ssh://git:pw@host/x`` →
    ``ssh://git@host/x``; scp-like ``git@host:x.git`` and local paths are returned unchanged.
    """
    scheme, sep, rest = url.partition("://")
    if not sep or not scheme or "/" in scheme:
        return url
    authority, slash, path = rest.partition("/")
    userinfo, at, host = authority.rpartition("@")
    if not at:
        return url
    if scheme.lower() in ("http", "https"):
        return f"{scheme}://{host}{slash}{path}"
    user = userinfo.partition(":")[0]
    return f"{scheme}://{user + '@' if user else ''}{host}{slash}{path}"


def _start_git(git: str, args: list[str], cwd: str, env: Mapping[str, str]) -> subprocess.Popen[bytes] | None:
    """Start ``git args`` in ``cwd`` (stdout captured); None when it cannot start."""
    try:
        return subprocess.Popen(
            [git, *args], cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
    except OSError as exc:  # cwd missing, git not executable
        _log().debug("git %s in %s could not run: %s", " ".join(args), cwd, exc)
        return None


def _finish_git(proc: subprocess.Popen[bytes] | None, cwd: str, *, kill: bool = False) -> str | None:
    """stdout of a started git command, or None when it failed, timed out or ``kill`` (not wanted)."""
    if proc is None:
        return None
    if kill:
        proc.kill()
    try:
        out, _ = proc.communicate(timeout=GIT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        args = " ".join(map(str, proc.args[1:]))  # type: ignore[index]
        _log().warning("git %s in %s took longer than %.0f s; left out", args, cwd, GIT_TIMEOUT_S)
        return None
    if kill or proc.returncode != 0:
        return None
    return out.decode("utf-8", errors="replace")


def _run_git(git: str, args: list[str], cwd: str, env: Mapping[str, str]) -> str | None:
    """stdout of ``git args`` run in ``cwd``, or None when it fails or times out."""
    return _finish_git(_start_git(git, args, cwd, env), cwd)


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    return value.strip() or None


def _from_git(source_dir: str, wanted_uri: bool) -> dict[str, str | None] | None:
    """Branch, commit, dirtiness (and the remote URL when ``wanted_uri``); None outside a work tree."""
    git = shutil.which("git")
    if git is None:
        return None
    env = {k: v for k, v in os.environ.items() if k not in _REPO_ENV}
    env["GIT_TERMINAL_PROMPT"] = "0"
    # Both commands run at once: each costs a process start, which is most of their time.
    uri = _start_git(git, ["ls-remote", "--get-url"], source_dir, env) if wanted_uri else None
    status = _run_git(
        git, ["--no-optional-locks", "status", "--porcelain=v2", "--branch", "."], source_dir, env
    )
    if status is None:  # not a work tree (or inside .git, or git refused the repository)
        _finish_git(uri, source_dir, kill=True)
        return None
    found: dict[str, str | None] = {"branch": None, "commit": None, "dirty": "False"}
    for line in status.splitlines():
        if line.startswith("# branch.oid "):
            oid = line.removeprefix("# branch.oid ").strip()
            found["commit"] = None if oid == "(initial)" else oid
        elif line.startswith("# branch.head "):
            head = line.removeprefix("# branch.head ").strip()
            found["branch"] = None if head == "(detached)" else head
        elif line and not line.startswith("#"):
            found["dirty"] = "True"
    if wanted_uri:
        found["repository_uri"] = _finish_git(uri, source_dir)
    return found


def git_properties(source_dir: str | os.PathLike[str]) -> dict[str, str]:
    """SDK v1's git run properties for ``source_dir`` (see the module docstring); ``{}`` when none apply."""
    values: dict[str, str | None] = {key: _clean(os.environ.get(var)) for key, var in _ENV.items()}
    if values["dirty"] is not None:
        values["dirty"] = str(values["dirty"].lower() in _TRUE_VALUES)
    if any(values[key] is None for key in ("repository_uri", "branch", "commit", "dirty")):
        found = _from_git(os.fspath(source_dir), wanted_uri=values["repository_uri"] is None)
        for key, value in (found or {}).items():
            if values[key] is None:
                values[key] = _clean(value)
    props: dict[str, str] = {}
    uri = values["repository_uri"]
    if uri is not None:
        props["azureml.git.repository_uri"] = props["mlflow.source.git.repoURL"] = strip_credentials(uri)
    if values["branch"] is not None:
        props["azureml.git.branch"] = props["mlflow.source.git.branch"] = values["branch"]
    if values["commit"] is not None:
        props["azureml.git.commit"] = props["mlflow.source.git.commit"] = values["commit"]
    if values["dirty"] is not None:
        props["azureml.git.dirty"] = values["dirty"]
    if values["build_id"] is not None:
        props["azureml.git.build_id"] = values["build_id"]
    if values["build_uri"] is not None:
        props["azureml.git.build_uri"] = values["build_uri"]
    return props
