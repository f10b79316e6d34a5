"""``local_token``: the workspace's own admin token, kept only in its secrets file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from headwater import Workspace
from headwater.ops.tokens import LOCAL_TOKEN_KEY, local_token, revoke_token, verify_token
from headwater.store.secrets import SecretStore


def test_it_is_made_once_kept_in_the_secrets_file_only_and_is_admin(ws: Workspace) -> None:
    token = local_token(ws.folder, ws.metadata_store)
    assert local_token(ws.folder, ws.metadata_store) == token
    assert SecretStore(ws.folder).get(LOCAL_TOKEN_KEY) == token
    record = verify_token(ws.metadata_store, token)
    assert record is not None and record.scope == "admin"
    ws.close()
    for path in ws.folder.rglob("*"):
        if path.is_file() and path.name != "secrets.json":
            assert token.encode() not in path.read_bytes(), path
    assert (ws.folder / "secrets.json").stat().st_mode & 0o077 == 0


def test_a_revoked_local_token_is_replaced(ws: Workspace) -> None:
    first = local_token(ws.folder, ws.metadata_store)
    revoke_token(ws.metadata_store, "local")
    second = local_token(ws.folder, ws.metadata_store)
    assert second != first and verify_token(ws.metadata_store, second) is not None


def test_concurrent_processes_agree_on_one_token(ws: Workspace) -> None:
    code = (
        "import sys; from headwater import Workspace; from headwater.ops.tokens import local_token\n"
        "w = Workspace.get('test-ws'); print(local_token(w.folder, w.metadata_store)); w.close()"
    )
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) for _ in range(3)]
    tokens = {p.communicate(timeout=120)[0].strip() for p in procs}
    assert all(p.returncode == 0 for p in procs)
    assert len(tokens) == 1
    assert [t.name for t in ws.metadata_store.list_tokens()] == ["local"]
    assert json.loads(Path(ws.folder, "secrets.json").read_text())[LOCAL_TOKEN_KEY] == tokens.pop()
