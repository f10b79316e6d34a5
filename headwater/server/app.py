"""The FastAPI application of ``headwater serve``: one per process, for one workspace.

:func:`create_app` includes the ``router`` of every module named in :data:`ROUTERS`; its lifespan
opens the workspace's metadata store once for the process (:mod:`headwater.server.deps` hands it
to the routes) and starts and stops the scheduler (:mod:`headwater.server.scheduler_service`).
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from headwater._version import __version__

__all__ = ["ROUTERS", "create_app"]

#: The modules under headwater.server whose ``router`` the app includes, in this order.
ROUTERS: tuple[str, ...] = (
    "headwater.server.routes_health",
    "headwater.server.routes_runs",
    "headwater.server.routes_tokens",
    "headwater.server.routes_submit",
    "headwater.server.studio.pages_login",
    "headwater.server.studio.pages_runs",
    "headwater.server.studio.pages_logs",
    "headwater.server.studio.pages_metrics",
    "headwater.server.studio.pages_datasets",
    "headwater.server.studio.pages_diff",
    "headwater.server.studio.pages_sharing",
    "headwater.server.studio.pages_compute",
    "headwater.server.studio.pages_drift",
)

_DESCRIPTION = """\
The REST API of one Headwater workspace. Every route except `GET /api/health` and this page needs
a bearer token (`Authorization: Bearer hw_...`), made with `headwater token create --name N
--scope read|submit|admin`; admin may do what submit may, submit what read may.
"""


def create_app(ws_folder: Path) -> FastAPI:
    """The app serving the workspace in ``ws_folder``."""
    from headwater.ops.workspace_folder import folder_id, open_workspace_store, workspace_info
    from headwater.server import scheduler_service
    from headwater.server.errors import install_error_handlers

    folder = Path(ws_folder).resolve()
    name = workspace_info(folder)["name"]

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = open_workspace_store(folder)
        app.state.store = store
        try:
            scheduler_service.start(app)
            try:
                yield
            finally:
                scheduler_service.stop(app)
        finally:
            store.close()

    app = FastAPI(
        title=f"Headwater workspace {name!r}",
        version=__version__,
        description=_DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.ws_folder = folder
    app.state.stopping = threading.Event()  # set when the server is asked to stop (long responses end)
    app.state.ws_name = name
    app.state.folder_id = folder_id(folder)
    install_error_handlers(app)
    for module_name in ROUTERS:
        app.include_router(importlib.import_module(module_name).router)
    return app
