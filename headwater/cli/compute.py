"""``headwater compute list|show|attach-ray|detach``: the workspace's compute targets.

``attach-ray NAME --address ADDR [--shared-filesystem/--no-shared-filesystem] [--staging-datastore DS]``
binds NAME to a Ray cluster: a new name becomes a Ray target,
an existing one (the seed's ``aml-compute``) is rebound to Ray and keeps its settings, so SDK v1
code that names it runs on Ray without edits; ``detach NAME`` undoes it. The address is checked
for syntax only (``auto``, ``host:port``, ``ray://host:port``): the cluster is contacted when a
run is submitted. ``list`` shows the built-in ``local`` target first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from headwater.cli import output
from headwater.cli.workspace import json_option, open_workspace, workspace_options

if TYPE_CHECKING:
    from headwater.sdk.compute import ComputeTarget

__all__ = ["compute"]


@click.group("compute")
def compute() -> None:
    """List, inspect and attach compute targets (Ray clusters included)."""


def _describe(target: ComputeTarget) -> dict[str, Any]:
    """What ``show --json`` prints (``list --json`` prints a list of these)."""
    from headwater.sdk.compute import RayCompute

    return {
        "name": target.name,
        "type": target.type,
        "vm_size": target.vm_size,
        "min_nodes": target.min_nodes,
        "max_nodes": target.max_nodes,
        "max_concurrency": target.max_concurrency,
        "resources": target.resources.to_config(),
        "address": target.address if isinstance(target, RayCompute) else None,
        "attached_over": target.attached_over if isinstance(target, RayCompute) else None,
        "shared_filesystem": target.shared_filesystem if isinstance(target, RayCompute) else None,
        "staging_datastore": target.staging_datastore if isinstance(target, RayCompute) else None,
    }


def _resources(data: dict[str, Any]) -> str:
    r = data["resources"]
    memory = "-" if r["memory_gb"] is None else f"{r['memory_gb']:g} GiB"
    return f"{r['cpu']} CPU, {r['gpu']} GPU, {memory}"


@compute.command("list")
@workspace_options
@json_option
def list_cmd(workspace_name: str | None, folder: str | None, as_json: bool) -> None:
    """List the compute targets (the built-in 'local' first)."""
    from headwater.sdk.compute import LOCAL, ComputeTarget

    with open_workspace(workspace_name, folder) as ws:
        rows = [_describe(t) for t in [ComputeTarget(ws, LOCAL), *ComputeTarget.list(ws)]]
    if as_json:
        output.emit_json(rows)
        return
    output.table(
        ["name", "type", "vm_size", "max_nodes", "resources", "address"],
        [
            [r["name"], r["type"], r["vm_size"] or "-", str(r["max_nodes"] or "-"), _resources(r), r["address"] or "-"]
            for r in rows
        ],
    )


def _shared(value: bool | None) -> str:
    if value is None:
        return "auto (yes when every node of the cluster is on this host)"
    return "yes" if value else "no (steps are shipped through the staging datastore)"


def _show(data: dict[str, Any]) -> None:
    output.fields(
        [
            ("name", data["name"]),
            ("type", data["type"]),
            *([("address", data["address"])] if data["address"] else []),
            *([("attached over", data["attached_over"])] if data["attached_over"] else []),
            *(
                [
                    ("shared filesystem", _shared(data["shared_filesystem"])),
                    ("staging datastore", data["staging_datastore"] or "(the default datastore)"),
                ]
                if data["type"] == "Ray"
                else []
            ),
            ("vm_size", data["vm_size"] or "-"),
            ("min_nodes", str(data["min_nodes"])),
            ("max_nodes", str(data["max_nodes"] or "-")),
            ("max concurrency", str(data["max_concurrency"])),
            ("resources per step", _resources(data)),
        ]
    )


@compute.command("show")
@click.argument("name")
@workspace_options
@json_option
def show_cmd(name: str, workspace_name: str | None, folder: str | None, as_json: bool) -> None:
    """Show the compute target NAME: its type, size, nodes and what a step on it asks for."""
    from headwater.sdk.compute import ComputeTarget

    with open_workspace(workspace_name, folder) as ws:
        data = _describe(ComputeTarget(ws, name))
    if as_json:
        output.emit_json(data)
    else:
        _show(data)


@compute.command("attach-ray")
@click.argument("name")
@click.option(
    "--address",
    default="auto",
    show_default=True,
    metavar="ADDR",
    help="The Ray cluster: 'auto' (started on this machine), host:port, or ray://host:port.",
)
@click.option(
    "--shared-filesystem/--no-shared-filesystem",
    "shared_filesystem",
    default=None,
    help="Whether the cluster's nodes see this host's files (default: decided at each submit: "
    "yes when every node is on this host). Without one, steps are shipped through a datastore.",
)
@click.option(
    "--staging-datastore",
    default=None,
    metavar="DATASTORE",
    help="The Azure Blob or S3 datastore steps are shipped through (default: the default datastore).",
)
@workspace_options
def attach_ray_cmd(
    name: str,
    address: str,
    shared_filesystem: bool | None,
    staging_datastore: str | None,
    workspace_name: str | None,
    folder: str | None,
) -> None:
    """Bind NAME to a Ray cluster (an existing name is rebound and keeps its settings)."""
    from headwater.sdk.compute import ComputeTarget, RayCompute

    config = RayCompute.attach_configuration(
        address=address, shared_filesystem=shared_filesystem, staging_datastore=staging_datastore
    )
    with open_workspace(workspace_name, folder) as ws:
        target = ComputeTarget.attach(ws, name, config)
        assert isinstance(target, RayCompute)
        over = f" (was {target.attached_over})" if target.attached_over else ""
        output.echo(f"Attached {name!r}{over} to the Ray cluster at {target.address} in workspace {ws.name!r}")


@compute.command("detach")
@click.argument("name")
@workspace_options
def detach_cmd(name: str, workspace_name: str | None, folder: str | None) -> None:
    """Remove NAME's Ray attachment (a rebound name gets its former kind back)."""
    from headwater.sdk.compute import RayCompute

    with open_workspace(workspace_name, folder) as ws:
        target = RayCompute(ws, name)
        was = target.attached_over
        target.detach()
    output.echo(f"Detached {name!r} from Ray" + (f": it is a {was} again" if was else ": removed"))
