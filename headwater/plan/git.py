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

__all__ = ["GIT_TIMEOUT_S", "git_properties", "git_properties_many", "strip_credentials"]


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
            [git, *args],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
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
    status = _run_git(git, ["--no-optional-locks", "status", "--porcelain=v2", "--branch", "."], source_dir, env)
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


def _overrides() -> dict[str, str | None]:
    values: dict[str, str | None] = {key: _clean(os.environ.get(var)) for key, var in _ENV.items()}
    if values["dirty"] is not None:
        values["dirty"] = str(values["dirty"].lower() in _TRUE_VALUES)
    return values


def _props(values: Mapping[str, str | None]) -> dict[str, str]:
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


def git_properties(source_dir: str | os.PathLike[str]) -> dict[str, str]:
    """SDK v1's git run properties for ``source_dir`` (see the module docstring); ``{}`` when none apply."""
    values = _overrides()
    if any(values[key] is None for key in ("repository_uri", "branch", "commit", "dirty")):
        found = _from_git(os.fspath(source_dir), wanted_uri=values["repository_uri"] is None)
        for key, value in (found or {}).items():
            if values[key] is None:
                values[key] = _clean(value)
    return _props(values)


def _worktree_root(folder: str) -> str | None:
    """The nearest folder at or above ``folder`` that holds a ``.git`` (directory or file)."""
    path = os.path.realpath(folder)
    while True:
        if os.path.lexists(os.path.join(path, ".git")):
            return path
        parent = os.path.dirname(path)
        if parent == path:
            return None
        path = parent


def _status_many(
    git: str, root: str, rels: list[str], env: Mapping[str, str]
) -> tuple[dict[str, str | None], list[str]] | None:
    """Branch/commit of the work tree at ``root`` and the changed paths under ``rels`` (one git process)."""
    out = _run_git(
        git,
        ["--no-optional-locks", "status", "--porcelain=v2", "--branch", "-z", "--", *(r or "." for r in rels)],
        root,
        env,
    )
    if out is None:
        return None
    head: dict[str, str | None] = {"branch": None, "commit": None}
    changed: list[str] = []
    fields = out.split("\0")
    i = 0
    while i < len(fields):
        entry = fields[i]
        i += 1
        if not entry:
            continue
        if entry.startswith("# branch.oid "):
            oid = entry.removeprefix("# branch.oid ").strip()
            head["commit"] = None if oid == "(initial)" else oid
        elif entry.startswith("# branch.head "):
            name = entry.removeprefix("# branch.head ").strip()
            head["branch"] = None if name == "(detached)" else name
        elif entry.startswith("#"):
            continue
        elif entry[0] == "1":
            changed.append(entry.split(" ", 8)[8])
        elif entry[0] == "2":
            changed.append(entry.split(" ", 9)[9])
            i += 1  # the original path of a rename/copy is the next field
        elif entry[0] == "u":
            changed.append(entry.split(" ", 10)[10])
        elif entry[0] in "?!":
            changed.append(entry[2:])
    return head, changed


def git_properties_many(folders: list[str]) -> dict[str, dict[str, str]]:
    """:func:`git_properties` of several folders with one ``git status`` (and one ``ls-remote``) per
    repository instead of two processes per folder: what ``submit`` uses for a pipeline's steps."""
    values = _overrides()
    result: dict[str, dict[str, str]] = {}
    need_git = any(values[key] is None for key in ("repository_uri", "branch", "commit", "dirty"))
    git = shutil.which("git") if need_git else None
    by_root: dict[str, list[str]] = {}
    for folder in dict.fromkeys(folders):
        root = _worktree_root(folder) if git is not None else None
        if root is None:
            result[folder] = _props(values)
        else:
            by_root.setdefault(root, []).append(folder)
    if git is None or not by_root:
        return result
    env = {k: v for k, v in os.environ.items() if k not in _REPO_ENV}
    env["GIT_TERMINAL_PROMPT"] = "0"
    for root, members in by_root.items():
        rels = [os.path.relpath(os.path.realpath(f), root).replace(os.sep, "/") for f in members]
        rels = ["" if r == "." else r for r in rels]
        uri_proc = _start_git(git, ["ls-remote", "--get-url"], root, env) if values["repository_uri"] is None else None
        status = _status_many(git, root, rels, env)
        uri = _finish_git(uri_proc, root, kill=status is None)
        for folder, rel in zip(members, rels, strict=True):
            found: dict[str, str | None] = {}
            if status is not None:
                head, changed = status
                prefix = rel + "/" if rel else ""
                dirty = any(c == rel or c.startswith(prefix) for c in changed) if rel else bool(changed)
                found = {**head, "dirty": str(dirty), "repository_uri": uri}
            merged = dict(values)
            for key, value in found.items():
                if merged[key] is None:
                    merged[key] = _clean(value)
            result[folder] = _props(merged)
    return result
