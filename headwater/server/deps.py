"""What the routes get from the app (FastAPI dependencies): the store and the workspace folder."""

from __future__ import annotations

from pathlib import Path

from fastapi import Request

from headwater.store.metadata import MetadataStore

__all__ = ["get_store", "get_ws_folder", "get_ws_name"]


def get_store(request: Request) -> MetadataStore:
    """The process's metadata store of the workspace (opened by the app's lifespan; thread-safe)."""
    store: MetadataStore = request.app.state.store
    return store


def get_ws_folder(request: Request) -> Path:
    """The workspace's folder (resolved)."""
    folder: Path = request.app.state.ws_folder
    return folder


def get_ws_name(request: Request) -> str:
    """The workspace's name."""
    name: str = request.app.state.ws_name
    return name
