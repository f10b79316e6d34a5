"""``headwater serve``: run the workspace's server (REST API, scheduler); ``serve status|stop``.

The server binds 127.0.0.1 unless ``--host`` names another address *and* ``--allow-remote`` is
given. A second ``headwater serve`` on a workspace whose server runs reports that server (exit 0)
instead of starting another. ``serve status`` exits 1 when no server runs.
"""

from __future__ import annotations

from pathlib import Path

import click

from headwater.cli import output
from headwater.cli.workspace import json_option, workspace_options

__all__ = ["serve"]

#: How long a second ``serve`` waits for the first one (which holds the owner lock) to answer.
_WAIT_FOR_OTHER = 30.0


def _folder(ctx: click.Context, workspace_name: str | None, folder: str | None) -> Path:
    """The chosen workspace's folder; a subcommand falls back to the options given to ``serve``."""
    from headwater.cli.workspace import open_workspace

    parent = ctx.parent.params if ctx.parent is not None and ctx.parent.command is serve else {}
    workspace_name = workspace_name or parent.get("workspace_name")
    folder = folder or parent.get("folder")
    with open_workspace(workspace_name, folder) as ws:
        return ws.folder.resolve()


@click.group("serve", invoke_without_command=True)
@workspace_options
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True, help="0 picks a free port.")
@click.option(
    "--allow-remote",
    is_flag=True,
    help="Allow a --host other than loopback: anyone who can reach it and holds a token can use the API.",
)
@click.option("--autostarted", is_flag=True, hidden=True, help="Started in the background by Headwater.")
@click.pass_context
def serve(
    ctx: click.Context,
    workspace_name: str | None,
    folder: str | None,
    host: str,
    port: int,
    allow_remote: bool,
    autostarted: bool,
) -> int | None:
    """Serve the workspace's REST API and scheduler until stopped (Ctrl-C, SIGTERM, `serve stop`)."""
    if ctx.invoked_subcommand is not None:
        return None
    from filelock import FileLock, Timeout

    from headwater.errors import ConfigurationError
    from headwater.layout import WorkspaceLayout
    from headwater.ops.server_process import running_server
    from headwater.server.runner import is_loopback

    if not is_loopback(host) and not allow_remote:
        raise ConfigurationError(
            f"Refusing to listen on {host!r}: it is not a loopback address, so other machines could reach the server",
            key="--host",
            hint="Pass --allow-remote to do it anyway (every route but /api/health needs a token), "
            "or leave --host at 127.0.0.1.",
        )
    ws_folder = _folder(ctx, workspace_name, folder)
    layout = WorkspaceLayout(ws_folder)
    layout.server_owner_lock.parent.mkdir(parents=True, exist_ok=True)
    owner = FileLock(str(layout.server_owner_lock))
    try:
        owner.acquire(timeout=0)
    except Timeout:
        return _report_other(ws_folder)
    try:
        if not is_loopback(host):
            output.echo(
                f"warning: listening on {host}, not loopback: other machines can reach this server. "
                "Every route but /api/health needs a token; keep tokens secret.",
                err=True,
            )
        stale = running_server(ws_folder)  # cannot answer without holding the lock; checked for a clear message
        if stale is not None:
            return _report_other(ws_folder)
        _serve(ws_folder, host, port, autostarted)
    finally:
        owner.release()
    return 0


def _serve(ws_folder: Path, host: str, port: int, autostarted: bool) -> None:
    from headwater.layout import WorkspaceLayout
    from headwater.ops.server_process import ServerInfo
    from headwater.server.runner import serve as run_server

    def ready(info: ServerInfo) -> None:
        how = " (autostarted)" if info.autostarted else ""
        output.echo(f"Serving workspace folder {ws_folder} at {info.url} (pid {info.pid}){how}")
        output.echo(f"API docs: {info.url}/docs. Stop with Ctrl-C or `headwater serve stop`.")
        import sys

        sys.stdout.flush()

    log = WorkspaceLayout(ws_folder).server_log if autostarted else None
    run_server(ws_folder, host=host, port=port, autostarted=autostarted, log_path=log, on_ready=ready)


def _report_other(ws_folder: Path) -> int:
    """Another process serves the workspace: print its URL (waiting, bounded, for it to answer)."""
    import time

    from headwater.errors import HeadwaterError
    from headwater.ops.server_process import running_server

    deadline = time.monotonic() + _WAIT_FOR_OTHER
    while True:
        info = running_server(ws_folder)
        if info is not None:
            output.echo(f"A server already serves this workspace at {info.url} (pid {info.pid}); not starting another.")
            output.echo(info.url)
            return 0
        if time.monotonic() >= deadline:
            raise HeadwaterError(
                f"Another process holds the server lock of workspace folder {ws_folder} but does not answer",
                hint="Stop it with `headwater serve stop`, or wait until it has started.",
            )
        time.sleep(0.1)


@serve.command("status")
@workspace_options
@json_option
@click.pass_context
def status_cmd(ctx: click.Context, workspace_name: str | None, folder: str | None, as_json: bool) -> int:
    """Say whether the workspace's server runs: URL, pid, uptime, autostarted (exit 1: not running)."""
    from headwater.ops.server_process import running_server
    from headwater.store.records import utcnow

    ws_folder = _folder(ctx, workspace_name, folder)
    info = running_server(ws_folder)
    if info is None:
        if as_json:
            output.emit_json({"running": False})
        else:
            output.echo("not running")
        return 1
    uptime = output.duration_seconds(info.started_at, utcnow())
    if as_json:
        output.emit_json({"running": True, **info.to_dict(), "uptime_seconds": uptime})
        return 0
    output.fields(
        [
            ("url", info.url),
            ("pid", str(info.pid)),
            ("started", output.format_time(info.started_at)),
            ("uptime", output.format_duration(uptime)),
            ("autostarted", "yes" if info.autostarted else "no"),
            ("log", info.log_path or "-"),
        ]
    )
    return 0


@serve.command("stop")
@workspace_options
@click.option("--timeout", type=float, default=10.0, show_default=True, help="Seconds to wait before SIGKILL.")
@click.pass_context
def stop_cmd(ctx: click.Context, workspace_name: str | None, folder: str | None, timeout: float) -> None:
    """Stop the workspace's server (SIGTERM; SIGKILL after --timeout seconds) and remove its record."""
    from headwater.ops.server_process import read_record, stop_server

    ws_folder = _folder(ctx, workspace_name, folder)
    record = read_record(ws_folder)
    if stop_server(ws_folder, timeout=timeout):
        assert record is not None
        output.echo(f"Stopped the server at {record.url} (pid {record.pid}).")
    else:
        output.echo("No server was running.")
