"""``headwater endpoint list|show|set-default|enable|disable|submit``: the workspace's pipeline endpoints.

An endpoint is one name (and one REST URL) for numbered versions of published pipelines; it is
created from Python (``PipelineEndpoint.publish(ws, name, description, pipeline)``). An endpoint
is named by its name or its id.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from headwater.cli import output
from headwater.cli.pipeline import rest_url, submit_and_report, submit_options
from headwater.cli.workspace import json_option, open_workspace, workspace_options

if TYPE_CHECKING:
    from headwater.store.metadata import MetadataStore
    from headwater.store.repo_published import EndpointRecord

__all__ = ["endpoint"]


@click.group()
def endpoint() -> None:
    """List, inspect, switch and submit pipeline endpoints."""


def _find(store: MetadataStore, ref: str) -> EndpointRecord:
    from headwater.errors import NotFoundError

    record = store.get_pipeline_endpoint(name=ref) or store.get_pipeline_endpoint(endpoint_id=ref)
    if record is None:
        raise NotFoundError(
            "PipelineEndpoint",
            ref,
            candidates=[e.name for e in store.list_pipeline_endpoints(active_only=False)],
            hint="`headwater endpoint list --all` lists them.",
        )
    return record


def _row(store: MetadataStore, record: EndpointRecord) -> dict[str, Any]:
    versions = store.list_endpoint_versions(record.id)
    return {
        "id": record.id,
        "name": record.name,
        "status": record.status,
        "default_version": record.default_version,
        "versions": [{"version": v.version, "pipeline_id": v.pipeline_id} for v in versions],
        "created": record.created_at,
    }


@endpoint.command("list")
@click.option("--all", "show_all", is_flag=True, help="Disabled endpoints too.")
@workspace_options
@json_option
def list_cmd(show_all: bool, workspace_name: str | None, folder: str | None, as_json: bool) -> None:
    """List the pipeline endpoints (Active ones unless --all)."""
    with open_workspace(workspace_name, folder) as ws:
        store = ws.metadata_store
        rows = [_row(store, r) for r in store.list_pipeline_endpoints(active_only=not show_all)]
    if as_json:
        output.emit_json(rows)
        return
    output.table(
        ["name", "id", "status", "default", "versions"],
        [[r["name"], r["id"], r["status"], r["default_version"] or "", str(len(r["versions"]))] for r in rows],
    )


@endpoint.command("show")
@click.argument("endpoint_ref", metavar="NAME_OR_ID")
@workspace_options
@json_option
def show_cmd(endpoint_ref: str, workspace_name: str | None, folder: str | None, as_json: bool) -> None:
    """Show an endpoint: its versions, the default, its REST URL (when a server runs)."""
    from headwater.server.urls import endpoint_url

    with open_workspace(workspace_name, folder) as ws:
        store = ws.metadata_store
        record = _find(store, endpoint_ref)
        info = {**_row(store, record), "description": record.description, "rest_url": None}
        info["rest_url"] = rest_url(ws, endpoint_url, record.id)
        names = {}
        for v in info["versions"]:
            published = store.get_published_pipeline(v["pipeline_id"])
            names[v["version"]] = "" if published is None else f"{published.name or ''} ({published.status})"
    if as_json:
        output.emit_json(info)
        return
    output.fields(
        [
            ("name", record.name),
            ("id", record.id),
            ("description", record.description or ""),
            ("status", record.status),
            ("default version", record.default_version or ""),
            ("created", output.format_time(record.created_at)),
            ("REST URL", info["rest_url"] or "no server runs (start one with `headwater serve`)"),
        ]
    )
    output.echo()
    output.table(
        ["version", "pipeline id", "pipeline", "default"],
        [
            [v["version"], v["pipeline_id"], names[v["version"]], "*" if v["version"] == record.default_version else ""]
            for v in info["versions"]
        ],
    )


@endpoint.command("set-default")
@click.argument("endpoint_ref", metavar="NAME_OR_ID")
@click.argument("version")
@workspace_options
def set_default_cmd(endpoint_ref: str, version: str, workspace_name: str | None, folder: str | None) -> None:
    """Make VERSION the endpoint's default version (what a submit without a version runs)."""
    from headwater.errors import NotFoundError

    with open_workspace(workspace_name, folder) as ws:
        store = ws.metadata_store
        record = _find(store, endpoint_ref)
        known = [v.version for v in store.list_endpoint_versions(record.id)]
        if version not in known:
            raise NotFoundError(f"Version of PipelineEndpoint {record.name!r}:", version, candidates=known)
        store.update_pipeline_endpoint(record.id, default_version=version)
    output.echo(f"PipelineEndpoint {record.name!r}: default version {version}")


def _set_status(endpoint_ref: str, status: str, workspace_name: str | None, folder: str | None) -> None:
    with open_workspace(workspace_name, folder) as ws:
        store = ws.metadata_store
        record = store.update_pipeline_endpoint(_find(store, endpoint_ref).id, status=status)
    output.echo(f"PipelineEndpoint {record.name!r} is {record.status}")


@endpoint.command("enable")
@click.argument("endpoint_ref", metavar="NAME_OR_ID")
@workspace_options
def enable_cmd(endpoint_ref: str, workspace_name: str | None, folder: str | None) -> None:
    """Make an endpoint Active."""
    _set_status(endpoint_ref, "Active", workspace_name, folder)


@endpoint.command("disable")
@click.argument("endpoint_ref", metavar="NAME_OR_ID")
@workspace_options
def disable_cmd(endpoint_ref: str, workspace_name: str | None, folder: str | None) -> None:
    """Make an endpoint Disabled (submitting it fails until it is enabled)."""
    _set_status(endpoint_ref, "Disabled", workspace_name, folder)


@endpoint.command("submit")
@click.argument("endpoint_ref", metavar="NAME_OR_ID")
@click.option("--version", "pipeline_version", metavar="V", help="The version to run (default: the default one).")
@submit_options
@workspace_options
def submit_cmd(
    endpoint_ref: str,
    pipeline_version: str | None,
    experiment_name: str,
    params: tuple[str, ...],
    data_paths: tuple[str, ...],
    datasets: tuple[str, ...],
    continue_on_step_failure: bool | None,
    wait: bool,
    workspace_name: str | None,
    folder: str | None,
) -> None:
    """Run an endpoint's default version (or --version)."""
    from headwater.ops.publish import resolve_endpoint

    with open_workspace(workspace_name, folder) as ws:
        record = _find(ws.metadata_store, endpoint_ref)
        pipeline_id = resolve_endpoint(ws.metadata_store, endpoint_id=record.id, version=pipeline_version)
        submit_and_report(
            ws,
            pipeline_id,
            experiment_name=experiment_name,
            params=params,
            data_paths=data_paths,
            datasets=datasets,
            continue_on_step_failure=continue_on_step_failure,
            wait=wait,
        )
