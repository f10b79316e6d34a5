"""Where workspaces live and how ``config.json`` files are found and read.

``$HEADWATER_HOME`` (default ``~/.headwater``) holds ``workspaces/<name>/``. A ``config.json`` in
SDK v1's format (``subscription_id``, ``resource_group``, ``workspace_name``) is accepted as is;
Headwater adds two optional keys: ``folder`` (where the workspace lives) and ``metadata_url``
(a PostgreSQL URL for the metadata store). The homes and names are in :mod:`headwater.home`
(re-exported here), which creating a workspace imports without this module.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from headwater.errors import ConfigurationError
from headwater.home import NAME_RE, headwater_home, validate_name, workspaces_root

__all__ = [
    "CONFIG_DIRS",
    "CONFIG_FILE_NAMES",
    "WorkspaceConfig",
    "headwater_home",
    "workspaces_root",
    "find_config",
    "load_config",
    "validate_name",
]

#: Sub-folders searched at each level, in SDK v1's order ("" is the folder itself).
CONFIG_DIRS = (".azureml", "aml_config", "")
#: File names searched in each of those folders, in SDK v1's order.
CONFIG_FILE_NAMES = ("config.json", "project.json")


@dataclass(frozen=True)
class WorkspaceConfig:
    """The contents of a workspace ``config.json``."""

    workspace_name: str
    subscription_id: str | None = None
    resource_group: str | None = None
    folder: Path | None = None
    metadata_url: str | None = None
    path: Path | None = None  # the file it was read from


def find_config(path: str | os.PathLike[str] | None = None, file_name: str | None = None) -> Path:
    """Find a workspace config file the way SDK v1's ``Workspace.from_config`` does.

    If ``path`` is a file, that file is used. Otherwise the search starts at ``path`` (default: the
    current directory) and walks upward; at each level it looks in ``.azureml/``, ``aml_config/``
    and the folder itself for ``config.json`` (then the legacy ``project.json``).
    """
    names = (file_name,) if file_name else CONFIG_FILE_NAMES
    start = Path(path).expanduser() if path is not None else Path.cwd()
    if start.is_file():
        return start
    if path is not None and not start.exists():
        raise ConfigurationError(
            f"The config path {str(start)!r} does not exist",
            path=str(start),
            hint="Pass the folder that holds .azureml/config.json, or the config file itself.",
        )
    start = start.resolve()
    for folder in (start, *start.parents):
        for sub in CONFIG_DIRS:
            for name in names:
                candidate = folder / sub / name if sub else folder / name
                if candidate.is_file():
                    return candidate
    looked = ", ".join(f"{d + '/' if d else ''}{n}" for d in CONFIG_DIRS for n in names)
    raise ConfigurationError(
        f"No workspace config file found from {start} upwards (looked for {looked})",
        hint="Run `headwater workspace create NAME --write-config` here, or call Workspace.write_config().",
    )


def _check_folder(folder: Path, file: Path) -> None:
    """The ``folder`` key must name a folder, or a new one inside an existing folder."""
    fix = "Point it at the workspace's folder, or at a new folder to create the workspace in."
    if folder.is_dir():
        return
    if folder.exists():
        raise ConfigurationError(
            f"The workspace folder {str(folder)!r} is a file, not a folder", path=str(file), key="folder", hint=fix
        )
    if not folder.parent.is_dir():
        raise ConfigurationError(
            f"The workspace folder {str(folder)!r} cannot be created: its parent {str(folder.parent)!r} does not exist",
            path=str(file),
            key="folder",
            hint=f"Create {folder.parent} first, or fix the path. {fix}",
        )


def load_config(file: Path) -> WorkspaceConfig:
    """Read and validate a workspace config file; errors name the file, the key and the fix."""
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"Cannot read the workspace config: {exc.strerror}", path=str(file)) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(
            f"The workspace config is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
            path=str(file),
            hint='Fix the file; it should look like {"workspace_name": "my-ws"}.',
        ) from exc
    if not isinstance(data, dict):
        raise ConfigurationError(
            "The workspace config must be a JSON object",
            path=str(file),
            hint='It should look like {"workspace_name": "my-ws"}.',
        )
    name = data.get("workspace_name")
    if name is None:
        raise ConfigurationError(
            "The workspace config has no workspace name",
            path=str(file),
            key="workspace_name",
            hint='Add "workspace_name": "<name>" to the file.',
        )
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise ConfigurationError(
            f"Invalid workspace name {name!r}",
            path=str(file),
            key="workspace_name",
            hint="Use letters, digits, '-' and '_', starting with a letter or digit.",
        )
    for key in ("subscription_id", "resource_group", "metadata_url", "folder", "location"):
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            raise ConfigurationError(f"Expected a string, got {type(value).__name__}", path=str(file), key=key)
    url = data.get("metadata_url")
    if url is not None and not url.startswith(("postgresql://", "postgres://", "sqlite:///")):
        raise ConfigurationError(
            f"Unsupported metadata_url {url!r}",
            path=str(file),
            key="metadata_url",
            hint="Use postgresql://user@host:port/database, or leave it out for the embedded SQLite store.",
        )
    folder = data.get("folder")
    folder_path = None
    if folder:
        folder_path = Path(folder).expanduser()
        if not folder_path.is_absolute():
            folder_path = (file.parent / folder_path).resolve()
        _check_folder(folder_path, file)
    return WorkspaceConfig(
        workspace_name=name,
        subscription_id=data.get("subscription_id"),
        resource_group=data.get("resource_group"),
        folder=folder_path,
        metadata_url=url,
        path=file,
    )
