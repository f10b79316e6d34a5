"""The local workspace's own API token, for the headers SDK v1's authentication classes return.

SDK v1 code authenticates its REST calls with ``auth.get_authentication_header()``; in Headwater
that header carries the token of the *local workspace*: the one ``Workspace.from_config()`` finds
from the current folder upwards (``.azureml/config.json``, ``aml_config/``, ``config.json``), else
the one named by ``$HEADWATER_WORKSPACE`` (as the CLI chooses it). The token is the workspace's
own admin token (:func:`headwater.ops.tokens.local_token`), made on first use and kept only in the
workspace's secrets file.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from headwater.sdk.workspace import Workspace

__all__ = ["WORKSPACE_ENV", "local_auth_header", "local_token", "local_workspace"]

WORKSPACE_ENV = "HEADWATER_WORKSPACE"


def local_workspace() -> Workspace:
    """The workspace the authentication classes' tokens are for (see the module doc); close it when done."""
    from headwater.config import find_config
    from headwater.errors import ConfigurationError
    from headwater.sdk.workspace import Workspace

    try:
        find_config()
    except ConfigurationError:
        name = os.environ.get(WORKSPACE_ENV)
        if not name:
            raise ConfigurationError(
                "No local workspace to authenticate to: no .azureml/config.json from this folder upwards, "
                f"and ${WORKSPACE_ENV} is not set",
                hint="Run from your project folder (`headwater workspace create NAME --write-config` writes its "
                f"config.json), or set {WORKSPACE_ENV}=NAME.",
            ) from None
        return Workspace.get(name)
    return Workspace.from_config()


def local_token(workspace: Workspace | None = None) -> str:
    """The admin token of ``workspace`` (default: :func:`local_workspace`)."""
    from headwater.ops.tokens import local_token as workspace_token

    if workspace is not None:
        return workspace_token(workspace.folder, workspace.metadata_store)
    with local_workspace() as ws:
        return workspace_token(ws.folder, ws.metadata_store)


def local_auth_header(workspace: Workspace | None = None) -> dict[str, str]:
    """``{"Authorization": "Bearer <local token>"}``."""
    return {"Authorization": f"Bearer {local_token(workspace)}"}
