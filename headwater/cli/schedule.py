"""``headwater schedule list|show|enable|disable``: the workspace's schedules and their fires.

Schedules are made from Python (``Schedule.create``); they fire inside the workspace's server
(``headwater serve``), which ``enable`` starts when none runs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from headwater.cli import output
from headwater.cli.workspace import json_option, open_workspace, workspace_options

__all__ = ["schedule"]


@click.group("schedule")
def schedule() -> None:
    """List, show, enable and disable pipeline schedules (made with Schedule.create)."""


def _find(store: Any, ref: str) -> Any:
    """The schedule with id ``ref``, else the one named ``ref``."""
    from headwater.errors import NotFoundError

    record = store.get_schedule(ref)
    if record is not None:
        return record
    records = store.list_schedules()
    named = [r for r in records if r.name == ref]
    if len(named) == 1:
        return named[0]
    if len(named) > 1:
        raise click.UsageError(
            f"{len(named)} schedules are named {ref!r}: give the id ({', '.join(r.id for r in named)})."
        )
    raise NotFoundError(
        "Schedule", ref, candidates=[r.name for r in records], hint="`headwater schedule list` lists them."
    )


def _trigger(record: Any) -> str:
    """What fires the schedule, in one line."""
    if record.recurrence is not None:
        r = record.recurrence
        text = f"every {r['interval']} {r['frequency']}" + ("s" if r["interval"] != 1 else "")
        if r.get("hours") or r.get("minutes"):
            times = [f"{h}:{int(m):02d}" for h in (r.get("hours") or [0]) for m in (r.get("minutes") or [0])]
            text += " at " + ", ".join(times)
        if r.get("week_days"):
            text += " on " + ", ".join(r["week_days"])
        if r.get("time_zone") and r["time_zone"] != "UTC":
            text += f" ({r['time_zone']})"
        return text
    where = f"{record.datastore}/{record.path_on_datastore or ''}".rstrip("/")
    return f"files changed in {where} (polled every {record.polling_interval or 0} min)"


def _next_text(record: Any, due: list[datetime]) -> str:
    if record.recurrence is None:
        return "when files change"
    text = ", ".join(output.format_time(at.isoformat()) for at in due) or "-"
    return text + (" (not while Disabled)" if record.status != "Active" else "")


def _target(record: Any) -> str:
    return f"pipeline {record.pipeline_id}" if record.pipeline_id else f"endpoint {record.pipeline_endpoint_id}"


@schedule.command("list")
@click.option("--all", "show_all", is_flag=True, help="Disabled schedules too.")
@workspace_options
@json_option
def list_cmd(show_all: bool, workspace_name: str | None, folder: str | None, as_json: bool) -> None:
    """List schedules: id, name, status, what they run and when."""
    with open_workspace(workspace_name, folder) as ws:
        records = ws.metadata_store.list_schedules(active_only=not show_all)
    if as_json:
        from dataclasses import asdict

        output.emit_json([{k: v for k, v in asdict(r).items() if k != "state"} for r in records])
        return
    output.table(
        ["id", "name", "status", "runs", "trigger"],
        [[r.id, r.name, r.status, _target(r), _trigger(r)] for r in records],
    )


@schedule.command("show")
@click.argument("ref")
@click.option(
    "--next", "count", type=click.IntRange(0, 100), default=5, show_default=True, help="Next due times shown."
)
@workspace_options
@json_option
def show_cmd(ref: str, count: int, workspace_name: str | None, folder: str | None, as_json: bool) -> None:
    """Show schedule REF (an id or a name): its settings, next due times and past fires (late ones marked)."""
    from headwater.ops.schedules import upcoming

    with open_workspace(workspace_name, folder) as ws:
        store = ws.metadata_store
        record = _find(store, ref)
        fires = store.list_fires(record.id)
        due = upcoming(store, record, datetime.now(UTC), count) if record.recurrence is not None else []
    if as_json:
        from dataclasses import asdict

        output.emit_json(
            {
                "schedule": {k: v for k, v in asdict(record).items() if k != "state"},
                "next": [at.isoformat() for at in due],
                "fires": [asdict(f) for f in fires],
            }
        )
        return
    output.fields(
        [
            ("name", record.name),
            ("id", record.id),
            ("status", record.status),
            ("runs", _target(record)),
            ("experiment", record.experiment_name),
            ("trigger", _trigger(record)),
            ("parameters", ", ".join(f"{k}={v}" for k, v in record.pipeline_parameters.items()) or "-"),
            ("description", record.description or "-"),
            ("next due", _next_text(record, due)),
        ]
    )
    output.echo()
    output.table(
        ["due", "recorded", "late", "status", "run", "detail"],
        [
            [
                output.format_time(f.due_at) if f.due_at else "on change",
                output.format_time(f.recorded_at),
                "LATE" if f.late else "",
                f.status,
                f.run_id or "-",
                f.detail or ("" if f.due_at else f.occurrence.split(":", 1)[-1].rsplit(":", 1)[0]),
            ]
            for f in fires
        ],
        title="Fires (newest first)",
    )


def _set_status(ref: str, status: str, workspace_name: str | None, folder: str | None) -> None:
    from headwater.ops.schedules import update_schedule

    with open_workspace(workspace_name, folder) as ws:
        record = update_schedule(ws.metadata_store, ws.folder, _find(ws.metadata_store, ref).id, status=status)
        if status == "Active":
            from headwater.ops.server_process import ensure_server

            info = ensure_server(ws.folder)
            output.echo(f"Schedule {record.name!r} ({record.id}) is Active; the server at {info.url} fires it.")
            return
    output.echo(f"Schedule {record.name!r} ({record.id}) is Disabled.")


@schedule.command("enable")
@click.argument("ref")
@workspace_options
def enable_cmd(ref: str, workspace_name: str | None, folder: str | None) -> None:
    """Make schedule REF Active (starts the workspace's server when none runs)."""
    _set_status(ref, "Active", workspace_name, folder)


@schedule.command("disable")
@click.argument("ref")
@workspace_options
def disable_cmd(ref: str, workspace_name: str | None, folder: str | None) -> None:
    """Make schedule REF Disabled: it does not fire until enabled."""
    _set_status(ref, "Disabled", workspace_name, folder)
