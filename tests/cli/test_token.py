"""``headwater token create|list|revoke``: a token shown once, stored as a hash, listable and revocable."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from headwater import Workspace
from headwater.ops.tokens import verify_token
from tests.cli.conftest import Cli, one_error_line, table


def _everything_but_secrets(folder: Path) -> bytes:
    """Every byte in the workspace folder (the database included), except the secrets file."""
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "secrets.json")


def test_create_prints_a_recognisable_token_once_and_keeps_only_its_hash(hw: Cli, cli_ws: Workspace) -> None:
    result = hw("token", "create", "--name", "ci", "--scope", "submit", "-w", "test-ws")
    token = result.stdout.strip()
    assert token.startswith("hw_") and len(token) >= 3 + 43  # 32 random bytes, url-safe base64
    assert "shown only now" in result.stderr
    record = verify_token(cli_ws.metadata_store, token)
    assert record is not None and (record.name, record.scope) == ("ci", "submit")
    cli_ws.close()  # the database's own files, checkpointed
    stored = _everything_but_secrets(cli_ws.folder)
    assert token.encode() not in stored
    assert hashlib.sha256(token.encode()).hexdigest().encode() in stored


def test_list_shows_names_scopes_and_times_never_tokens(hw: Cli, cli_ws: Workspace) -> None:
    token = hw("token", "create", "--name", "reader", "-w", "test-ws").stdout.strip()
    hw("token", "create", "--name", "admin", "--scope", "admin", "-w", "test-ws")
    listed = hw("token", "list", "-w", "test-ws")
    rows = {r["name"]: r for r in table(listed.stdout)}
    assert set(rows) == {"admin", "reader"}
    assert rows["reader"]["scope"] == "read" and rows["reader"]["revoked"] == "no"
    assert set(rows["reader"]) == {"name", "scope", "created", "last used", "revoked"}
    assert token not in listed.stdout
    as_json = json.loads(hw("token", "list", "-w", "test-ws", "--json").stdout)
    assert {t["name"] for t in as_json} == {"admin", "reader"} and "hash" not in as_json[0]


def test_revoke_stops_a_token_and_the_name_is_not_reused(hw: Cli, cli_ws: Workspace) -> None:
    token = hw("token", "create", "--name", "ci", "-w", "test-ws").stdout.strip()
    hw("token", "revoke", "ci", "-w", "test-ws")
    assert verify_token(cli_ws.metadata_store, token) is None
    rows = table(hw("token", "list", "-w", "test-ws").stdout)
    assert rows[0]["revoked"] != "no"
    again = hw("token", "create", "--name", "ci", "-w", "test-ws", code=1)
    assert "'ci' already exists" in one_error_line(again)
    missing = hw("token", "revoke", "nope", "-w", "test-ws", code=1)
    assert "Token 'nope' does not exist" in one_error_line(missing)


def test_an_unknown_scope_is_refused(hw: Cli, cli_ws: Workspace) -> None:
    result = hw("token", "create", "--name", "x", "--scope", "root", "-w", "test-ws", code=2)
    assert "root" in result.stderr
