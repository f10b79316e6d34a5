"""``headwater gc``: remove old runs' intermediate outputs, staging leftovers, unused snapshots and
built environments (:mod:`headwater.ops.gc`), and say what that freed."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import click

from headwater.cli import output
from headwater.cli.workspace import json_option, open_workspace, workspace_options

if TYPE_CHECKING:
    from headwater.ops.gc import GcReport

__all__ = ["gc"]

DEFAULT_AGE = "30d"


def _age(ctx: click.Context, param: click.Parameter, value: str | None) -> timedelta | None:
    if value is None:
        return None
    from headwater.ops.gc import parse_age

    try:
        return parse_age(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an age. Give a number and a unit: 30d, 12h, 90m, 2w.", param=param
        ) from None


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"  # unreachable


_NOUNS = {
    "outputs": "output(s)",
    "staging": "staging folder(s)",
    "snapshots": "snapshot(s)",
    "environments": "environment(s)",
    "models": "model file(s)",
    "progress": "ParallelRunStep progress folder(s)",
}


@click.command("gc")
@click.option(
    "--older-than",
    "older_than",
    metavar="AGE",
    callback=_age,
    help=f"Collect runs that ended more than AGE ago (30d, 12h, 2w). Default {DEFAULT_AGE}, "
    "unless --keep-last is given.",
)
@click.option(
    "--keep-last",
    "keep_last",
    type=click.IntRange(min=0),
    metavar="N",
    help="Keep everything of the newest N runs of each experiment.",
)
@click.option("--dry-run", is_flag=True, help="Remove nothing; report what would be removed.")
@click.option("--verbose", "-v", is_flag=True, help="List every item, and the outputs kept on purpose.")
@workspace_options
@json_option
def gc(
    older_than: timedelta | None,
    keep_last: int | None,
    dry_run: bool,
    verbose: bool,
    workspace_name: str | None,
    folder: str | None,
    as_json: bool,
) -> None:
    """Remove what old runs left behind: their steps' outputs on the datastores, staging
    leftovers, snapshots no kept run uses and built environments no registered or curated
    environment needs.

    Never removed: anything a run that has not ended uses, anything of the newest N runs per
    experiment (--keep-last), and any location a registered dataset version reads. A step whose
    outputs were removed runs again when it is next needed, and says why.
    """
    from pathlib import Path

    from headwater.cli.env import environments_root, environments_to_keep
    from headwater.ops.gc import ENDED, collect_garbage, parse_age
    from headwater.sdk.runs import run_from_record

    if older_than is None and keep_last is None:
        older_than = parse_age(DEFAULT_AGE)
    with open_workspace(workspace_name, folder) as ws:
        store = ws.metadata_store
        for record in store.list_runs(top_level=True):  # notices orchestrators that died
            if record.status not in ENDED and record.kind in ("pipeline", "script"):
                run_from_record(ws, record).get_status()
        report = collect_garbage(
            Path(ws.folder),
            store,
            older_than=older_than,
            keep_last=keep_last,
            dry_run=dry_run,
            environments_root=environments_root(ws),
            keep_environments=environments_to_keep(ws),
        )
    if as_json:
        output.emit_json(report.as_json())
    else:
        _print(report, dry_run=dry_run, verbose=verbose)
    if report.errors:
        raise click.exceptions.Exit(1)


def _print(report: GcReport, *, dry_run: bool, verbose: bool) -> None:
    verb = "Would remove" if dry_run else "Removed"
    if verbose:
        for item in report.removed:
            output.echo(
                f"{verb} {item.kind[:-1] if item.kind != 'staging' else 'staging'} {item.what} ({_human(item.bytes)})"
            )
        for what, why in report.kept:
            output.echo(f"Kept output {what}: {why}")
    totals = report.totals()
    parts = [f"{totals[k]['count']} {_NOUNS[k]} ({_human(totals[k]['bytes'])})" for k in totals]
    output.echo(f"{verb} {', '.join(parts)}; {'would free' if dry_run else 'freed'} {_human(report.freed_bytes)}.")
    if report.kept and not verbose:
        output.echo(
            f"Kept {len(report.kept)} old output(s) that a registered dataset or a kept run uses "
            "(--verbose lists them)."
        )
    for problem in report.errors:
        output.echo(f"Could not remove: {problem}", err=True)
