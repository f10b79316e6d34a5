"""The OpenAPI page documents every route; it and /api/health are the only routes open without a token."""

from __future__ import annotations

import importlib

import pytest
import requests
from fastapi.routing import APIRoute

from headwater.server.app import ROUTERS, create_app
from tests.server.conftest import LiveServer


def test_every_route_has_a_summary_and_a_description_in_the_schema(ws: object) -> None:
    from headwater import Workspace

    assert isinstance(ws, Workspace)
    app = create_app(ws.folder)
    schema = app.openapi()
    # The routes of every router the app includes (FastAPI keeps included routers lazily) but the
    # studio's pages, which are HTML for browsers and left out of the schema ...
    routes = [
        (r.path_format, method)
        for module in map(importlib.import_module, ROUTERS)
        for r in module.router.routes
        if isinstance(r, APIRoute) and r.include_in_schema
        for method in sorted(r.methods or ())
    ]
    assert ("/api/health", "GET") in routes
    assert not any(path.startswith("/studio") for path, _ in routes)
    for path, method in routes:
        op = schema["paths"][path][method.lower()]
        assert op.get("summary"), f"{method} {path} has no summary"
        assert op.get("description"), f"{method} {path} has no description"
    # ... and nothing else is in the schema.
    assert sum(len(ops) for ops in schema["paths"].values()) == len(routes)


@pytest.mark.slow
def test_the_docs_page_and_the_schema_are_served(live_server: LiveServer) -> None:
    assert requests.get(f"{live_server.url}/docs", timeout=10).status_code == 200
    schema = requests.get(f"{live_server.url}/openapi.json", timeout=10).json()
    assert "/api/health" in schema["paths"]
