"""``headwater pipeline list|show|enable|disable|submit``: the workspace's published pipelines.

Pipelines are published from Python (``Pipeline.publish(...)``); these commands list, inspect,
switch and run them. ``submit`` takes values as text (``-p lr=0.5``), converted to each
parameter's type as SDK v1's REST service does; a bad name or value is refused before anything
is recorded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from headwater.cli import output
from headwater.cli.workspace import json_option, open_workspace, workspace_options
from headwater.status import PipelineRunStatus

if TYPE_CHECKING:
    from headwater.sdk.workspace import Workspace
    from headwater.store.repo_published import PublishedRecord

__all__ = ["pipeline", "published_row", "rest_url", "submit_options", "submit_and_report"]


@click.group()
def pipeline() -> None:
    """List, inspect, enable, disable and submit published pipelines."""


def published_row(record: PublishedRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "name": record.name,
        "version": record.version,
        "status": record.status,
        "steps": len(record.graph.get("steps") or []),
        "created": record.created_at,
    }


def rest_url(ws: Workspace, build: Any, key: str) -> str | None:
    """The REST URL on the workspace's running server (None when no server runs: not started here)."""
    from headwater.ops.server_process import running_server

    info = running_server(ws.folder)
    return None if info is None else str(build(info.url, ws._ref(), key))


@pipeline.command("list")
@click.option("--all", "show_all", is_flag=True, help="Disabled pipelines too.")
@workspace_options
@json_option
def list_cmd(show_all: bool, workspace_name: str | None, folder: str | None, as_json: bool) -> None:
    """List the published pipelines (Active ones unless --all)."""
    with open_workspace(workspace_name, folder) as ws:
        rows = [published_row(r) for r in ws.metadata_store.list_published_pipelines(active_only=not show_all)]
    if as_json:
        output.emit_json(rows)
        return
    output.table(
        ["id", "name", "version", "status", "steps", "created"],
        [
            [
                r["id"],
                r["name"] or "",
                r["version"] or "",
                r["status"],
                str(r["steps"]),
                output.format_time(r["created"]),
            ]
            for r in rows
        ],
    )


@pipeline.command("show")
@click.argument("pipeline_id")
@workspace_options
@json_option
def show_cmd(pipeline_id: str, workspace_name: str | None, folder: str | None, as_json: bool) -> None:
    """Show a published pipeline: its steps, parameters and REST URL (when a server runs)."""
    from headwater.ops.publish import get_published
    from headwater.server.urls import published_pipeline_url

    with open_workspace(workspace_name, folder) as ws:
        record = get_published(ws.metadata_store, pipeline_id)
        url = rest_url(ws, published_pipeline_url, record.id)
        endpoints = [
            e.name
            for e in ws.metadata_store.list_pipeline_endpoints(active_only=False)
            if any(v.pipeline_id == record.id for v in ws.metadata_store.list_endpoint_versions(e.id))
        ]
    info = {
        **published_row(record),
        "description": record.description,
        "continue_on_step_failure": record.continue_on_step_failure,
        "source_run_id": record.source_run_id,
        "step_names": [s.get("name") for s in record.graph.get("steps") or []],
        "parameters": record.graph.get("parameters") or {},
        "endpoints": endpoints,
        "rest_url": url,
    }
    if as_json:
        output.emit_json(info)
        return
    output.fields(
        [
            ("id", record.id),
            ("name", record.name or ""),
            ("description", record.description or ""),
            ("version", record.version or ""),
            ("status", record.status),
            ("steps", ", ".join(str(n) for n in info["step_names"])),
            ("parameters", ", ".join(f"{k}={v!r}" for k, v in sorted(info["parameters"].items())) or "none"),
            ("continue on step failure", str(record.continue_on_step_failure)),
            ("published from run", record.source_run_id or ""),
            ("endpoints", ", ".join(endpoints)),
            ("created", output.format_time(record.created_at)),
            ("REST URL", url or "no server runs (start one with `headwater serve`)"),
        ]
    )


def _set_status(pipeline_id: str, status: str, workspace_name: str | None, folder: str | None) -> None:
    from headwater.ops.publish import get_published

    with open_workspace(workspace_name, folder) as ws:
        get_published(ws.metadata_store, pipeline_id)  # a NotFoundError naming close ids
        record = ws.metadata_store.set_published_pipeline_status(pipeline_id, status)
    output.echo(f"Published pipeline {record.name or record.id!r} ({record.id}) is {record.status}")


@pipeline.command("enable")
@click.argument("pipeline_id")
@workspace_options
def enable_cmd(pipeline_id: str, workspace_name: str | None, folder: str | None) -> None:
    """Make a published pipeline Active (it can be submitted)."""
    _set_status(pipeline_id, "Active", workspace_name, folder)


@pipeline.command("disable")
@click.argument("pipeline_id")
@workspace_options
def disable_cmd(pipeline_id: str, workspace_name: str | None, folder: str | None) -> None:
    """Make a published pipeline Disabled (submitting it fails until it is enabled)."""
    _set_status(pipeline_id, "Disabled", workspace_name, folder)


def _pairs(values: tuple[str, ...], option: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for text in values:
        name, sep, value = text.partition("=")
        if not sep or not name:
            raise click.UsageError(f"{option} {text!r}: write NAME=VALUE.")
        out[name] = value
    return out


def submit_options(f: Any) -> Any:
    """The options ``pipeline submit`` and ``endpoint submit`` share."""
    for option in reversed(
        [
            click.option("--experiment", "-e", "experiment_name", required=True, help="The experiment to run it in."),
            click.option(
                "--param", "-p", "params", multiple=True, metavar="NAME=VALUE", help="A parameter value (repeatable)."
            ),
            click.option(
                "--data-path",
                "data_paths",
                multiple=True,
                metavar="NAME=DATASTORE:PATH",
                help="A DataPath parameter's value (repeatable).",
            ),
            click.option(
                "--dataset", "datasets", multiple=True, metavar="NAME=ID", help="A dataset parameter's value by id."
            ),
            click.option(
                "--continue-on-step-failure/--stop-on-step-failure",
                "continue_on_step_failure",
                default=None,
                help="Override the published setting.",
            ),
            click.option("--wait", is_flag=True, help="Wait for the run to end; the exit code says how it ended."),
        ]
    ):
        f = option(f)
    return f


def submit_and_report(
    ws: Workspace,
    pipeline_id: str,
    *,
    experiment_name: str,
    params: tuple[str, ...],
    data_paths: tuple[str, ...],
    datasets: tuple[str, ...],
    continue_on_step_failure: bool | None,
    wait: bool,
) -> None:
    """Submit a published pipeline with the command line's values; print the run id (and wait)."""
    from headwater.ops.publish import submit_published

    paths: dict[str, tuple[str, str]] = {}
    for name, value in _pairs(data_paths, "--data-path").items():
        datastore, sep, path = value.partition(":")
        if not sep:
            raise click.UsageError(f"--data-path {name}={value}: write NAME=DATASTORE:PATH.")
        paths[name] = (datastore, path)
    run_id = submit_published(
        ws.metadata_store,
        ws._ref(),
        pipeline_id,
        experiment_name=experiment_name,
        parameter_assignments=_pairs(params, "--param"),
        data_path_assignments=paths,
        dataset_assignments=_pairs(datasets, "--dataset"),
        continue_on_step_failure=continue_on_step_failure,
    )
    output.echo(f"Submitted PipelineRun {run_id}")
    if wait:
        from headwater.sdk.runs import PipelineRun

        status = PipelineRun.get(ws, run_id).wait_for_completion(show_output=False, raise_on_error=False)
        output.echo(f"PipelineRun {run_id}: {status}")
        if status != PipelineRunStatus.Finished:
            raise SystemExit(1)


@pipeline.command("submit")
@click.argument("pipeline_id")
@submit_options
@workspace_options
def submit_cmd(
    pipeline_id: str,
    experiment_name: str,
    params: tuple[str, ...],
    data_paths: tuple[str, ...],
    datasets: tuple[str, ...],
    continue_on_step_failure: bool | None,
    wait: bool,
    workspace_name: str | None,
    folder: str | None,
) -> None:
    """Run a published pipeline (values as text, converted to each parameter's type)."""
    with open_workspace(workspace_name, folder) as ws:
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
