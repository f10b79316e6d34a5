"""A run's files as a step sees them, and a step's request to end its run as Failed or Canceled.

Stdlib only (no :mod:`pathlib`), like all of :mod:`headwater.runtime`.

Files: ``get_file_names`` lists what the run keeps — files uploaded with ``upload_file``
(``artifacts/<name>``, listed as ``<name>``), the ``outputs/`` and ``logs/`` folders of its
working directory (``outputs/...``, ``logs/...``, as in SDK v1) and its logs (``user_logs/...``,
``system_logs/...``). The same names as the client-side runs (``headwater.sdk.runs``) give.

Ending: ``run.fail()`` / ``run.cancel()`` inside a step write :data:`END_REQUEST_FILE` in the run
folder; when the script exits the step runner ends the step Failed (or Canceled) instead of
Finished, and commits none of its outputs.
"""

from __future__ import annotations

import os
import shutil

from headwater.errors import NotFoundError
from headwater.runtime import statuses
from headwater.runtime.events import ARTIFACTS_DIR

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "END_REQUEST_FILE",
    "download_file",
    "download_files",
    "file_names",
    "file_path",
    "read_end_request",
    "request_end",
]

#: In a step's run folder: the script asked to end its run as Failed or Canceled (JSON).
END_REQUEST_FILE = "end.requested"
_WORKDIR = "wd"
_WORKDIR_FOLDERS = ("outputs", "logs")
_LOG_FOLDERS = ("user_logs", "azureml-logs", "system_logs", "logs")


def _walk(folder: str) -> list[str]:
    out = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            out.append(os.path.relpath(os.path.join(root, name), folder).replace(os.sep, "/"))
    return out


def file_names(run_dir: str) -> list[str]:
    """The names of the run's files, sorted (see the module doc)."""
    names = [f"{sub}/{rel}" for sub in _LOG_FOLDERS for rel in _walk(os.path.join(run_dir, sub))]
    for sub in _WORKDIR_FOLDERS:
        names += [f"{sub}/{rel}" for rel in _walk(os.path.join(run_dir, _WORKDIR, sub))]
    names += _walk(os.path.join(run_dir, ARTIFACTS_DIR))
    return sorted(set(names))


def file_path(run_dir: str, name: str, *, where: str) -> str:
    """Where the run's file ``name`` is; NotFoundError (with the names there are) when it has none."""
    root = os.path.realpath(run_dir)
    for base in (run_dir, os.path.join(run_dir, _WORKDIR), os.path.join(run_dir, ARTIFACTS_DIR)):
        candidate = os.path.join(base, *name.replace("\\", "/").split("/"))
        if os.path.isfile(candidate) and os.path.realpath(candidate).startswith(root + os.sep):
            return candidate
    raise NotFoundError("File", name, where=where, candidates=file_names(run_dir))


def download_file(run_dir: str, name: str, output_file_path: Any, *, where: str) -> str:
    """Copy the run's file ``name`` to ``output_file_path`` (a folder: into it; None: its base name here)."""
    src = file_path(run_dir, name, where=where)
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    dest = base if output_file_path is None else os.fspath(output_file_path)
    if os.path.isdir(dest):
        dest = os.path.join(dest, base)
    parent = os.path.dirname(os.path.abspath(dest))
    os.makedirs(parent, exist_ok=True)
    shutil.copyfile(src, dest)
    return dest


def download_files(
    run_dir: str,
    names: list[str],
    prefix: str | None,
    output_directory: Any,
    output_paths: list[Any] | None,
    append_prefix: bool,
    *,
    where: str,
) -> list[str]:
    """Copy the run's files ``names`` (those under ``prefix``) into ``output_directory`` (default: here),
    keeping their relative paths (without ``prefix`` when ``append_prefix`` is False); or to
    ``output_paths[i]`` for the i-th one when given."""
    target = os.getcwd() if output_directory is None else os.fspath(output_directory)
    chosen = [n for n in names if prefix is None or n.startswith(prefix)]
    if output_paths is not None and len(output_paths) != len(chosen):
        raise ValueError(f"download_files got {len(output_paths)} output_paths for {len(chosen)} files")
    out = []
    for i, name in enumerate(chosen):
        rel = name if append_prefix or not prefix else name[len(prefix) :].lstrip("/")
        dest = os.fspath(output_paths[i]) if output_paths is not None else os.path.join(target, *rel.split("/"))
        out.append(download_file(run_dir, name, dest, where=where))
    return out


def request_end(run_dir: str, status: str, error: dict[str, Any] | None) -> None:
    """Ask the step runner to end the run as ``status`` (Failed, Canceled) when the script exits."""
    import json

    path = os.path.join(run_dir, END_REQUEST_FILE)
    if os.path.isfile(path):  # the first request decides, as the first final status would
        return
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump({"status": status, "error": error or {}}, fh)
    os.replace(tmp, path)


def read_end_request(run_dir: str) -> dict[str, Any] | None:
    """The script's request to end its run (``{"status": ..., "error": {...}}``), or None."""
    import json

    try:
        with open(os.path.join(run_dir, END_REQUEST_FILE), encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("status") in statuses.END_STATUSES else None
