"""A server for a workspace whose metadata is in PostgreSQL: tokens and reads go to that database."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from headwater import Workspace
from headwater.ops.server_process import ensure_server, stop_server
from headwater.ops.tokens import create_token

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def test_the_server_uses_the_workspace_postgres_store(headwater_home: Path, postgres_url: str) -> None:
    ws = Workspace.create("pg-ws", metadata_url=postgres_url)
    try:
        token = create_token(ws.metadata_store, "ci", "read")
        info = ensure_server(ws.folder)
        headers = {"Authorization": f"Bearer {token}"}
        answer = requests.get(f"{info.url}/api/experiments/none/runs", headers=headers, timeout=30)
        assert answer.status_code == 404 and "'none'" in answer.json()["detail"]  # authorized against PostgreSQL
        assert ws.metadata_store.get_token("ci").last_used_at is not None  # type: ignore[union-attr]
        assert requests.get(f"{info.url}/api/experiments/none/runs", timeout=30).status_code == 401
    finally:
        stop_server(ws.folder)
        ws.close()
