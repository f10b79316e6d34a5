"""``headwater model list|show|download``: registered models and their versions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from headwater.cli import output
from headwater.cli.workspace import json_option, open_workspace, workspace_options

if TYPE_CHECKING:
    from headwater.store.repo_models import ModelRecord

__all__ = ["model"]


@click.group()
def model() -> None:
    """Inspect and download registered models."""


def _row(r: ModelRecord) -> dict[str, Any]:
    return {
        "id": r.id,
        "name": r.name,
        "version": r.version,
        "framework": r.framework,
        "framework_version": r.framework_version,
        "description": r.description,
        "tags": r.tags,
        "properties": r.properties,
        "run_id": r.run_id,
        "experiment_name": r.experiment_name,
        "datasets": r.datasets,
        "digest": r.digest,
        "files": r.files,
        "created_at": r.created_at,
    }


@model.command("list")
@click.option("--name", help="Only the versions of this model.")
@click.option("--tag", "tags", multiple=True, metavar="KEY[=VALUE]", help="Only versions with this tag (repeatable).")
@click.option("--latest", is_flag=True, help="Only each model's latest version.")
@workspace_options
@json_option
def list_cmd(
    name: str | None, tags: tuple[str, ...], latest: bool, workspace_name: str | None, folder: str | None, as_json: bool
) -> None:
    """List registered model versions, newest version first."""
    from headwater.store.repo_models import matches_filters

    wanted: list[Any] = [t.split("=", 1) if "=" in t else t for t in tags]
    with open_workspace(workspace_name, folder) as ws:
        records = ws.metadata_store.list_models(name=name, latest=latest)
    rows = [_row(r) for r in records if matches_filters(r, tags=wanted)]
    if as_json:
        output.emit_json(rows)
        return
    output.table(
        ["name", "version", "framework", "run", "created", "tags"],
        [
            [
                r["name"],
                str(r["version"]),
                r["framework"] or "-",
                (r["run_id"] or "-")[:8],
                output.format_time(r["created_at"]),
                ", ".join(f"{k}={v}" for k, v in sorted(r["tags"].items())),
            ]
            for r in rows
        ],
    )


def _get(ws: Any, name: str, version: int | None) -> ModelRecord:
    from headwater.sdk.model import Model

    found = Model(ws, name, version=version)._record
    assert found is not None  # Model() raises when nothing matches
    return found


@model.command("show")
@click.argument("name")
@click.option("--version", "version", type=int, metavar="N", help="The version (default: the latest).")
@workspace_options
@json_option
def show_cmd(name: str, version: int | None, workspace_name: str | None, folder: str | None, as_json: bool) -> None:
    """Show a model version: its files, tags, properties and where it came from."""
    with open_workspace(workspace_name, folder) as ws:
        record = _get(ws, name, version)
    row = _row(record)
    if as_json:
        output.emit_json(row)
        return
    pairs = [
        ("id", record.id),
        ("framework", " ".join(x for x in (record.framework, record.framework_version) if x) or "-"),
        ("description", record.description or "-"),
        ("created", output.format_time(record.created_at)),
        ("run", record.run_id or "-"),
        ("experiment", record.experiment_name or "-"),
        ("tags", ", ".join(f"{k}={v}" for k, v in sorted(record.tags.items())) or "-"),
        ("properties", ", ".join(f"{k}={v}" for k, v in sorted(record.properties.items())) or "-"),
        ("datasets", ", ".join(f"{d['name']}: {d['id']}" for d in record.datasets) or "-"),
        ("files", ", ".join(f"{path} ({digest[:12]})" for path, digest in sorted(record.files.items()))),
    ]
    output.fields(pairs)


@model.command("download")
@click.argument("name")
@click.option("--version", "version", type=int, metavar="N", help="The version (default: the latest).")
@click.option("--target-dir", "-o", default=".", show_default=True, help="The folder to download into.")
@click.option("--exist-ok", is_flag=True, help="Overwrite files that exist already.")
@workspace_options
def download_cmd(
    name: str, version: int | None, target_dir: str, exist_ok: bool, workspace_name: str | None, folder: str | None
) -> None:
    """Copy a model version's files into a folder; print where its file or folder is."""
    from headwater.sdk.model import Model

    with open_workspace(workspace_name, folder) as ws:
        path = Model(ws, name, version=version).download(target_dir, exist_ok=exist_ok)
    output.echo(path)
