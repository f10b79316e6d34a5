"""``headwater studio``: open the workspace's studio in a browser, starting its server if needed."""

from __future__ import annotations

import click

from headwater.cli import output
from headwater.cli.workspace import open_workspace, workspace_options

__all__ = ["studio"]


@click.command("studio")
@workspace_options
@click.option("--no-browser", is_flag=True, help="Only print the login URL (for another browser or machine).")
@click.option("--run", "run_id", default=None, help="Open this run's page.")
def studio(workspace_name: str | None, folder: str | None, no_browser: bool, run_id: str | None) -> None:
    """Open the studio: start the workspace's server if none runs, then a browser, logged in.

    The URL carries a one-time login code valid for two minutes, not a token.
    """
    import webbrowser

    from headwater.ops.server_process import ensure_server
    from headwater.ops.studio_links import login_url

    with open_workspace(workspace_name, folder) as ws:
        info = ensure_server(ws.folder)
        next_path = "/studio/" if run_id is None else f"/studio/runs/{run_id}"
        url = login_url(info.url, ws.folder, ws.metadata_store, next_path)
    output.echo(f"Studio of workspace {ws.name!r}: {info.url}/studio/")
    if no_browser or not webbrowser.open(url):
        output.echo(f"Open this URL to log in (once, within 2 minutes): {url}")
