"""``headwater workspace create|show|list|check|backup``, and how every command chooses its workspace.

The workspace a command works on is, in this order:

1. ``--workspace/-w NAME`` (with ``--folder PATH`` for one outside ``$HEADWATER_HOME``; ``--folder``
   alone names the workspace kept in that folder);
2. the one named in a ``config.json`` found as ``Workspace.from_config()`` finds it (from the
   current folder upwards), opened as ``from_config`` opens it;
3. ``$HEADWATER_WORKSPACE``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import click

from headwater.cli import output

if TYPE_CHECKING:
    from pathlib import Path

    from headwater.sdk.workspace import Workspace

__all__ = [
    "WORKSPACE_ENV",
    "WorkspaceChoice",
    "choose_workspace",
    "json_option",
    "known_workspace_folders",
    "open_workspace",
    "workspace",
    "workspace_options",
]

WORKSPACE_ENV = "HEADWATER_WORKSPACE"

F = TypeVar("F", bound=Callable[..., Any])


def workspace_options(f: F) -> F:
    """Add ``--workspace/-w NAME`` and ``--folder PATH`` to a command."""
    f = click.option(
        "--folder",
        type=click.Path(file_okay=False),
        metavar="PATH",
        help="The workspace's folder, for a workspace outside $HEADWATER_HOME.",
    )(f)
    f = click.option(
        "--workspace",
        "-w",
        "workspace_name",
        metavar="NAME",
        help=f"The workspace (default: the one in .azureml/config.json, else ${WORKSPACE_ENV}).",
    )(f)
    return f


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")


@dataclass(frozen=True)
class WorkspaceChoice:
    """Which workspace a command will open; ``config_file`` when a config.json named it."""

    name: str
    folder: Path | None
    config_file: Path | None = None


def choose_workspace(name: str | None, folder: str | None) -> WorkspaceChoice:
    """The workspace named by the options, a config file or the environment (nothing is opened)."""
    from pathlib import Path

    from headwater.config import find_config, load_config
    from headwater.errors import ConfigurationError

    where = None if folder is None else Path(folder)
    if name is not None:
        return WorkspaceChoice(name, where)
    if where is not None:
        return WorkspaceChoice(_name_in_folder(where), where)
    try:
        file = find_config()
    except ConfigurationError:
        file = None
    if file is not None:
        cfg = load_config(file)
        return WorkspaceChoice(cfg.workspace_name, cfg.folder, config_file=file)
    env = os.environ.get(WORKSPACE_ENV)
    if env:
        return WorkspaceChoice(env, None)
    known = [p.name for p in known_workspace_folders()]
    raise ConfigurationError(
        "No workspace chosen.",
        hint="Pass --workspace NAME, set $HEADWATER_WORKSPACE, or run `headwater workspace create NAME "
        "--write-config` in your project folder" + (f" (existing workspaces: {', '.join(known)})." if known else "."),
    )


def known_workspace_folders() -> list[Path]:
    """The folders of the workspaces under ``$HEADWATER_HOME/workspaces``, by name."""
    from headwater.config import workspaces_root
    from headwater.layout import WORKSPACE_FILE

    root = workspaces_root()
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if (p / WORKSPACE_FILE).is_file())


def _name_in_folder(folder: Path) -> str:
    from headwater.errors import ConfigurationError
    from headwater.layout import WORKSPACE_FILE

    info = folder / WORKSPACE_FILE
    try:
        data = json.loads(info.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigurationError(
            f"{folder} holds no workspace",
            path=str(info),
            hint="Pass the folder of an existing workspace, or create one with `headwater workspace create "
            "NAME --folder PATH`.",
        ) from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigurationError(f"The workspace file is unreadable: {exc}", path=str(info)) from exc
    name = data.get("name") if isinstance(data, dict) else None
    if not isinstance(name, str):
        raise ConfigurationError("The workspace file has no workspace name", path=str(info), key="name")
    return name


def open_workspace(name: str | None, folder: str | None) -> Workspace:
    """Open the workspace :func:`choose_workspace` picks; close it when done (it is a context manager)."""
    from headwater.sdk.workspace import Workspace

    choice = choose_workspace(name, folder)
    if choice.config_file is not None:
        return Workspace.from_config(choice.config_file)
    return Workspace.get(choice.name, folder=choice.folder)


@click.group()
def workspace() -> None:
    """Create, inspect and list workspaces."""


@workspace.command("create")
@click.argument("name")
@click.option(
    "--folder",
    type=click.Path(file_okay=False),
    metavar="PATH",
    help="Where to keep it (default: $HEADWATER_HOME/workspaces/NAME).",
)
@click.option("--metadata-url", metavar="URL", help="A postgresql:// URL for the metadata store (default: SQLite).")
@click.option("--exist-ok", is_flag=True, help="Succeed when the workspace exists already.")
@click.option(
    "--write-config",
    "write_config",
    is_flag=False,
    flag_value=".",
    default=None,
    metavar="[DIR]",
    type=click.Path(file_okay=False),
    help="Also write DIR/.azureml/config.json naming it (DIR defaults to the current folder).",
)
def create_cmd(
    name: str, folder: str | None, metadata_url: str | None, exist_ok: bool, write_config: str | None
) -> None:
    """Create the workspace NAME."""
    from headwater.errors import AlreadyExistsError
    from headwater.sdk.workspace import Workspace

    try:
        ws = Workspace.create(name, folder=folder, metadata_url=metadata_url, show_output=False)
        verb = "Created"
    except AlreadyExistsError:
        if not exist_ok:
            raise
        ws = Workspace.get(name, folder=folder)
        verb = "Using existing"
    with ws:
        output.echo(f"{verb} workspace {ws.name!r} at {ws.folder}")
        if write_config is not None:
            target = ws.write_config(os.path.abspath(write_config))
            output.echo(f"Wrote {target}")


def _counts(ws: Workspace) -> dict[str, int]:
    store = ws.metadata_store
    return {
        "datastores": len(store.list_datastores()),
        "datasets": len(store.list_datasets()),
        "experiments": len(store.list_experiments()),
        "runs": len(store.list_runs(top_level=True)),
    }


@workspace.command("show")
@click.argument("name", required=False)
@workspace_options
@json_option
def show_cmd(name: str | None, workspace_name: str | None, folder: str | None, as_json: bool) -> None:
    """Show a workspace: where it is, its metadata store and what it holds."""
    if name is not None and workspace_name is not None and name != workspace_name:
        raise click.UsageError(f"NAME {name!r} and --workspace {workspace_name!r} disagree; give one of them.")
    with open_workspace(name or workspace_name, folder) as ws:
        default = ws.get_default_datastore().name
        counts = _counts(ws)
        data: dict[str, Any] = {
            "name": ws.name,
            "folder": str(ws.folder),
            "metadata_url": ws.metadata_url,  # the password is redacted by the SDK
            "default_datastore": default,
            "counts": counts,
        }
    if as_json:
        output.emit_json(data)
        return
    output.fields(
        [
            ("name", ws.name),
            ("folder", str(ws.folder)),
            ("metadata store", data["metadata_url"]),
            ("default datastore", default),
            *((kind, str(n)) for kind, n in counts.items()),
        ]
    )


@workspace.command("list")
@json_option
def list_cmd(as_json: bool) -> None:
    """List the workspaces under $HEADWATER_HOME (* marks the one commands use by default)."""
    from headwater.errors import HeadwaterError

    try:
        current: str | None = choose_workspace(None, None).name
    except HeadwaterError:
        current = None
    rows: list[dict[str, Any]] = [
        {"name": p.name, "folder": str(p), "default": p.name == current} for p in known_workspace_folders()
    ]
    if as_json:
        output.emit_json(rows)
        return
    output.table(
        ["name", "folder", "default"],
        [[r["name"], r["folder"], "*" if r["default"] else ""] for r in rows],
    )


@workspace.command("check")
@click.argument("name", required=False)
@workspace_options
@click.option(
    "--no-outputs",
    "skip_outputs",
    is_flag=True,
    help="Leave out the outputs' digests (the slow part on a large workspace).",
)
@json_option
def check_cmd(
    name: str | None, workspace_name: str | None, folder: str | None, skip_outputs: bool, as_json: bool
) -> None:
    """Check a workspace: the metadata database's integrity and schema version, runs whose folders
    are missing, committed outputs changed on disk. Exits 1 when it finds a problem."""
    from headwater.errors import HeadwaterError
    from headwater.ops.workspace_check import check_workspace

    if name is not None and workspace_name is not None and name != workspace_name:
        raise click.UsageError(f"NAME {name!r} and --workspace {workspace_name!r} disagree; give one of them.")
    with open_workspace(name or workspace_name, folder) as ws:
        report = check_workspace(ws.name, ws.folder, ws._store_url(), outputs=not skip_outputs)
    if as_json:
        output.emit_json(report.to_dict())
    else:
        output.fields(
            [
                ("workspace", f"{report.workspace} ({report.folder})"),
                ("metadata store", report.metadata_url),
                ("schema", report.schema or "unknown"),
                ("runs checked", str(report.runs_checked)),
                ("outputs checked", str(report.outputs_checked)),
                ("problems", str(len(report.problems))),
            ]
        )
        for problem in report.problems:
            output.echo(f"  - [{problem.kind}] {problem.message}")
        for skipped in report.skipped:
            output.echo(f"  (not checked: {skipped})")
    if not report.ok:
        kinds = {p.kind for p in report.problems}
        hints = [text for kind, text in _CHECK_HINTS.items() if kind in kinds]
        raise HeadwaterError(
            f"Workspace {report.workspace!r} has {len(report.problems)} problem(s), listed above.",
            hint=" ".join(hints) or None,
        )


#: What to do about each kind of problem `workspace check` reports.
_CHECK_HINTS = {
    "database": "Restore metadata.db from a backup (`headwater workspace backup DEST` makes one).",
    "schema": "Use the Headwater version that wrote the workspace, or open it for writing to migrate it.",
    "output": "Submit with regenerate_outputs=True to write the changed outputs again.",
    "run_folder": "A run without its folder keeps its records and outputs; its logs are lost.",
}


@workspace.command("backup")
@click.argument("dest", type=click.Path(dir_okay=True, file_okay=True))
@workspace_options
def backup_cmd(dest: str, workspace_name: str | None, folder: str | None) -> None:
    """Copy the workspace's metadata database to DEST (a new file, or a folder to put it in),
    consistently even while runs are writing. On PostgreSQL it says how to use pg_dump instead."""
    from pathlib import Path

    from headwater.ops.workspace_check import backup_workspace

    with open_workspace(workspace_name, folder) as ws:
        result = backup_workspace(ws.name, ws._store_url(), Path(dest))
    output.echo(
        f"Backed up the metadata of workspace {ws.name!r} ({result.runs} runs, {result.size} bytes) to {result.path}"
    )
    output.echo("Datastores, snapshots and run folders are files: copy them with your usual backup tool.")
