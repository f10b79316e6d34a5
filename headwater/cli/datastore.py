"""``headwater datastore list|upload|download``: a workspace's datastores and moving files in and out."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from headwater.cli import output
from headwater.cli.workspace import json_option, open_workspace, workspace_options

if TYPE_CHECKING:
    from headwater.sdk.workspace import Workspace
    from headwater.store.records import DatastoreRecord

__all__ = ["datastore"]


@click.group()
def datastore() -> None:
    """List datastores and copy files to and from them."""


def _location(record: DatastoreRecord, ws: Workspace) -> str:
    """Where a datastore's files are: its folder, or its account/container for a remote kind."""
    from headwater.errors import HeadwaterError
    from headwater.store.datastores import backend_for

    try:
        return backend_for(record, ws.folder).root
    except HeadwaterError:
        parts = [str(record.config[k]) for k in ("account_name", "container_name", "bucket") if record.config.get(k)]
        return "/".join(parts) or "-"


@datastore.command("list")
@workspace_options
@json_option
def list_cmd(workspace_name: str | None, folder: str | None, as_json: bool) -> None:
    """List the workspace's datastores (* marks the default)."""
    with open_workspace(workspace_name, folder) as ws:
        default = ws.get_default_datastore().name
        rows: list[dict[str, Any]] = []
        for name, ds in ws.datastores.items():
            record = ds._record
            rows.append(
                {
                    "name": name,
                    "type": ds.datastore_type,
                    "kind": record.kind,
                    "location": _location(record, ws),
                    "default": name == default,
                }
            )
    if as_json:
        output.emit_json(rows)
        return
    output.table(
        ["name", "type", "location", "default"],
        [[r["name"], r["type"], r["location"], "*" if r["default"] else ""] for r in rows],
    )


_datastore_option = click.option(
    "--datastore", "datastore_name", metavar="NAME", help="The datastore (default: the workspace's default)."
)
_overwrite_option = click.option("--overwrite", is_flag=True, help="Replace files that exist (default: skip them).")


@datastore.command("upload")
@click.argument("src_dir", type=click.Path(exists=True, file_okay=False))
@_datastore_option
@click.option("--target-path", metavar="P", help="The folder on the datastore (default: its root).")
@_overwrite_option
@workspace_options
def upload_cmd(
    src_dir: str,
    datastore_name: str | None,
    target_path: str | None,
    overwrite: bool,
    workspace_name: str | None,
    folder: str | None,
) -> None:
    """Upload every file under SRC_DIR to a datastore."""
    from headwater.sdk.datastore import Datastore

    with open_workspace(workspace_name, folder) as ws:
        ds = Datastore(ws, datastore_name)
        ref = ds.upload(src_dir, target_path=target_path, overwrite=overwrite, show_progress=False)
        where = ref.path_on_datastore or "/"
        output.echo(f"Uploaded {src_dir} to datastore {ds.name!r} at {where!r}")


@datastore.command("download")
@click.argument("target_dir", type=click.Path(file_okay=False))
@_datastore_option
@click.option("--prefix", metavar="P", help="Only paths starting with P (end it with / for a folder).")
@_overwrite_option
@workspace_options
def download_cmd(
    target_dir: str,
    datastore_name: str | None,
    prefix: str | None,
    overwrite: bool,
    workspace_name: str | None,
    folder: str | None,
) -> None:
    """Download files from a datastore into TARGET_DIR (keeping their datastore paths)."""
    from headwater.sdk.datastore import Datastore

    with open_workspace(workspace_name, folder) as ws:
        ds = Datastore(ws, datastore_name)
        count = ds.download(target_dir, prefix=prefix, overwrite=overwrite, show_progress=False)
    output.echo(f"Downloaded {count} file{'' if count == 1 else 's'} from datastore {ds.name!r} to {target_dir}")
