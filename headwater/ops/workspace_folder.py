"""A workspace read from its folder alone (``workspace.json``), for processes without the SDK.

The server and the other shells below the SDK know a workspace by its folder; these helpers read
its name and open its metadata store as ``Workspace`` does (``metadata_url`` when the workspace
names one, else the SQLite file in the folder).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from headwater.errors import ConfigurationError
from headwater.layout import WorkspaceLayout
from headwater.store.metadata import MetadataStore, sqlite_url

__all__ = ["folder_id", "open_workspace_store", "workspace_info", "workspace_store_url"]


def workspace_info(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """The workspace's ``workspace.json`` (its ``name``, ``metadata_url`` ...)."""
    path = WorkspaceLayout(folder).workspace_file
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigurationError(
            "No workspace in this folder (workspace.json is missing)",
            path=str(path),
            hint="Create the workspace first (`headwater workspace create NAME`), "
            "or pass the folder of an existing one.",
        ) from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigurationError(f"The workspace file is unreadable: {exc}", path=str(path)) from exc
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        raise ConfigurationError("The workspace file has no workspace name", path=str(path), key="name")
    return data


def workspace_store_url(folder: str | os.PathLike[str]) -> str:
    """The URL of the workspace's metadata store (with any password: never show it)."""
    url = workspace_info(folder).get("metadata_url")
    return str(url) if url else sqlite_url(WorkspaceLayout(folder).metadata_db)


def open_workspace_store(folder: str | os.PathLike[str]) -> MetadataStore:
    """The workspace's metadata store, opened (close it when done)."""
    return MetadataStore.open(workspace_store_url(folder))


def folder_id(folder: str | os.PathLike[str]) -> str:
    """A short digest of the folder's resolved path: identifies a workspace without naming its path."""
    return hashlib.sha256(str(Path(folder).resolve()).encode()).hexdigest()[:16]
