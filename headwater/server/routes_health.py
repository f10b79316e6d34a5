"""``GET /api/health``: whether the server answers, and for which workspace (no token needed).

It says nothing secret: the workspace's name, a digest identifying its folder (not the path),
and Headwater's version. Clients use it to tell this workspace's server from anything else on
the port.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from headwater._version import __version__

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get(
    "/api/health",
    summary="Whether the server answers, and for which workspace",
    description="No token needed. Returns the workspace's name, an id of its folder (a digest, not the path) "
    "and Headwater's version.",
)
def get_health(request: Request) -> dict[str, Any]:
    state = request.app.state
    return {
        "status": "ok",
        "workspace": {"name": state.ws_name, "folder_id": state.folder_id},
        "version": __version__,
    }
