"""``headwater dataset list|show|versions``: registered datasets and their versions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from headwater.cli import output
from headwater.cli.workspace import json_option, open_workspace, workspace_options

if TYPE_CHECKING:
    from headwater.sdk.workspace import Workspace
    from headwater.store.records import DatasetRecord

__all__ = ["dataset"]


@click.group()
def dataset() -> None:
    """Inspect registered datasets."""


def _short(digest: str | None) -> str:
    return digest[:12] if digest else "-"


@dataset.command("list")
@workspace_options
@json_option
def list_cmd(workspace_name: str | None, folder: str | None, as_json: bool) -> None:
    """List registered datasets with their latest version."""
    with open_workspace(workspace_name, folder) as ws:
        records = ws.metadata_store.list_datasets()
    rows: list[dict[str, Any]] = [
        {"name": r.name, "version": r.version, "kind": r.kind, "created_at": r.created_at, "id": r.id} for r in records
    ]
    if as_json:
        output.emit_json(rows)
        return
    output.table(
        ["name", "version", "kind", "created"],
        [[str(r["name"]), str(r["version"]), r["kind"], output.format_time(r["created_at"])] for r in rows],
    )


def _versions(ws: Workspace, name: str) -> list[DatasetRecord]:
    """Every version of ``name``; an unknown name raises NotFoundError with close names."""
    from headwater.errors import NotFoundError

    store = ws.metadata_store
    versions = store.list_dataset_versions(name)
    if not versions:
        raise NotFoundError(
            "Dataset",
            name,
            where=f"workspace {ws.name!r}",
            candidates=store.dataset_names(),
            hint="List them with `headwater dataset list`.",
        )
    return versions


@dataset.command("show")
@click.argument("name")
@click.option("--version", "version", type=int, metavar="N", help="The version (default: the latest).")
@workspace_options
@json_option
def show_cmd(name: str, version: int | None, workspace_name: str | None, folder: str | None, as_json: bool) -> None:
    """Show a dataset version: sources, digest, and whether its data changed since registration."""
    from headwater.data.files import describe_source
    from headwater.errors import HeadwaterError
    from headwater.sdk.dataset import Dataset

    with open_workspace(workspace_name, folder) as ws:
        ds = Dataset.get_by_name(ws, name, version="latest" if version is None else version)
        record = ds._record
        assert record is not None  # get_by_name returns registered versions only
        changed: list[str] | None
        try:
            changed = ds.data_changed()
            check_error = None
        except HeadwaterError as exc:  # an unreachable source: say so, still show the rest
            changed, check_error = None, str(exc)
    sources = record.definition.get("sources", [])
    data: dict[str, Any] = {
        "name": record.name,
        "version": record.version,
        "id": record.id,
        "kind": record.kind,
        "description": record.description,
        "tags": record.tags,
        "digest": record.digest,
        "created_at": record.created_at,
        "sources": [describe_source(s) for s in sources],
        "transformations": record.definition.get("transformations", []),
        "data_changed": None if changed is None else bool(changed),
        "changed_files": changed,
    }
    if check_error is not None:
        data["data_changed_error"] = check_error
    if as_json:
        output.emit_json(data)
        return
    if changed is None:
        status = f"unknown ({check_error})"
    elif changed:
        shown = ", ".join(changed[:5]) + (" ..." if len(changed) > 5 else "")
        status = f"yes, {len(changed)} file{'' if len(changed) == 1 else 's'}: {shown}"
    else:
        status = "no"
    pairs = [
        ("name", str(record.name)),
        ("version", str(record.version)),
        ("kind", record.kind),
        ("created", output.format_time(record.created_at)),
        ("description", record.description or "-"),
        ("tags", ", ".join(f"{k}={v}" for k, v in sorted(record.tags.items())) or "-"),
        ("digest", record.digest or "-"),
        *(("source", text) for text in data["sources"]),
        *(("transformation", _describe_op(op)) for op in data["transformations"]),
        ("data changed since registration", status),
    ]
    output.fields(pairs)


def _describe_op(op: dict[str, Any]) -> str:
    args = ", ".join(f"{k}={v}" for k, v in op.items() if k != "op")
    return f"{op.get('op')}({args})"


@dataset.command("versions")
@click.argument("name")
@workspace_options
@json_option
def versions_cmd(name: str, workspace_name: str | None, folder: str | None, as_json: bool) -> None:
    """List every version of a dataset, oldest first."""
    with open_workspace(workspace_name, folder) as ws:
        versions = _versions(ws, name)
    rows: list[dict[str, Any]] = [
        {"version": r.version, "created_at": r.created_at, "digest": r.digest, "description": r.description, "id": r.id}
        for r in versions
    ]
    if as_json:
        output.emit_json(rows)
        return
    output.table(
        ["version", "created", "digest", "description"],
        [
            [str(r["version"]), output.format_time(r["created_at"]), _short(r["digest"]), r["description"] or ""]
            for r in rows
        ],
    )
