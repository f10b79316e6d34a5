"""``headwater token create|list|revoke``: API tokens for the workspace's server.

A token is shown once, when it is created; the workspace keeps only its hash.
"""

from __future__ import annotations

import click

from headwater.cli import output
from headwater.cli.workspace import json_option, open_workspace, workspace_options

__all__ = ["token"]


@click.group("token")
def token() -> None:
    """Create, list and revoke API tokens for `headwater serve`."""


@token.command("create")
@click.option("--name", required=True, help="A name for the token (never reused).")
@click.option(
    "--scope",
    type=click.Choice(["read", "submit", "admin"]),
    default="read",
    show_default=True,
    help="read: GET routes; submit: also run pipelines; admin: everything.",
)
@workspace_options
def create_cmd(name: str, scope: str, workspace_name: str | None, folder: str | None) -> None:
    """Create a token and print it (this is the only time it is shown)."""
    from headwater.ops.tokens import create_token

    with open_workspace(workspace_name, folder) as ws:
        value = create_token(ws.metadata_store, name, scope)
    output.echo(value)
    output.echo(f"Token {name!r} (scope {scope}) created. It is shown only now: keep it somewhere safe.", err=True)


@token.command("list")
@workspace_options
@json_option
def list_cmd(workspace_name: str | None, folder: str | None, as_json: bool) -> None:
    """List tokens: name, scope, created, last used, revoked (never the tokens themselves)."""
    from dataclasses import asdict

    from headwater.ops.tokens import list_tokens

    with open_workspace(workspace_name, folder) as ws:
        records = list_tokens(ws.metadata_store)
    if as_json:
        output.emit_json([{k: v for k, v in asdict(r).items() if k != "id"} for r in records])
        return
    output.table(
        ["name", "scope", "created", "last used", "revoked"],
        [
            [
                r.name,
                r.scope,
                output.format_time(r.created_at),
                output.format_time(r.last_used_at),
                output.format_time(r.revoked_at) if r.revoked_at else "no",
            ]
            for r in records
        ],
    )


@token.command("revoke")
@click.argument("name")
@workspace_options
def revoke_cmd(name: str, workspace_name: str | None, folder: str | None) -> None:
    """Revoke token NAME: requests with it are refused from now on."""
    from headwater.ops.tokens import revoke_token

    with open_workspace(workspace_name, folder) as ws:
        revoke_token(ws.metadata_store, name)
    output.echo(f"Token {name!r} revoked.")
