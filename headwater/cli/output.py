"""What commands print: tables, key/value fields and JSON, on a terminal or into a pipe.

On a terminal (as rich detects it: a TTY, or ``FORCE_COLOR``/``TTY_COMPATIBLE`` set) tables are
drawn with rich. Anywhere else the output is plain and stable, for scripts and tests:

* a table is a header line and one line per row, columns separated by one tab;
* fields are ``key: value`` lines;
* ``--json`` prints indented JSON with sorted keys.

Nothing here interprets rich markup in values: a path or a log line with ``[brackets]`` is
printed as it is. rich is imported only when a terminal needs it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from headwater.status import ScriptRunStatus, StepRunStatus

if TYPE_CHECKING:
    from rich.console import Console

__all__ = [
    "STATUS_STYLES",
    "duration_seconds",
    "echo",
    "emit_json",
    "fields",
    "format_duration",
    "format_time",
    "get_console",
    "is_terminal",
    "table",
]

#: Colours of run statuses on a terminal.
STATUS_STYLES: dict[str, str] = {
    StepRunStatus.Finished: "green",
    ScriptRunStatus.Completed: "green",
    ScriptRunStatus.Failed: "red",
    ScriptRunStatus.Canceled: "magenta",
    ScriptRunStatus.Running: "yellow",
    ScriptRunStatus.Queued: "cyan",
    ScriptRunStatus.Preparing: "cyan",
    ScriptRunStatus.Finalizing: "yellow",
    ScriptRunStatus.NotStarted: "dim",
}

_console: Console | None = None


def get_console() -> Console:
    """The stdout console (created on first use, for the stream that is stdout now)."""
    import sys

    global _console
    if _console is None or _console.file is not sys.stdout:
        from rich.console import Console

        _console = Console(file=sys.stdout, highlight=False, soft_wrap=False)
    return _console


def is_terminal() -> bool:
    """Whether stdout is a terminal (rich's detection, which honours ``FORCE_COLOR``)."""
    return get_console().is_terminal


def echo(text: str = "", *, err: bool = False, nl: bool = True) -> None:
    """Print ``text`` as it is (no markup), to stdout or stderr."""
    click.echo(text, err=err, nl=nl)


def emit_json(data: Any) -> None:
    """Print ``data`` as indented JSON with sorted keys (dates and paths as strings)."""
    click.echo(json.dumps(data, indent=2, sort_keys=True, default=str, ensure_ascii=False))


def table(
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    title: str | None = None,
    styles: Mapping[str, Callable[[str], str | None]] | None = None,
) -> None:
    """Print rows under ``columns``: a rich table on a terminal, tab-separated lines elsewhere.

    ``styles`` maps a column name to a function giving a cell's style (terminal only).
    """
    if not is_terminal():
        click.echo("\t".join(columns))
        for row in rows:
            click.echo("\t".join(_one_line(cell) for cell in row))
        return
    from rich.table import Table
    from rich.text import Text

    t = Table(title=title, title_justify="left", header_style="bold", box=None, pad_edge=False)
    for column in columns:
        t.add_column(column, overflow="fold")
    stylers = styles or {}
    for row in rows:
        cells = []
        for column, value in zip(columns, row, strict=True):
            styler = stylers.get(column)
            cells.append(Text(value, style=(styler(value) or "") if styler else ""))
        t.add_row(*cells)
    get_console().print(t)


def fields(pairs: Sequence[tuple[str, str]]) -> None:
    """Print ``key: value`` lines (a two-column grid with bold keys on a terminal)."""
    if not is_terminal():
        for key, value in pairs:
            click.echo(f"{key}: {value}")
        return
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column(overflow="fold")
    for key, value in pairs:
        grid.add_row(Text(key), Text(value, style=STATUS_STYLES.get(value, "") if key == "status" else ""))
    get_console().print(grid)


def _one_line(value: str) -> str:
    """A cell for tab-separated output: tabs and newlines would break the columns."""
    return value.replace("\t", " ").replace("\r\n", " ").replace("\n", " ")


def _parse(iso: str | None) -> datetime | None:
    if not iso:
        return None
    try:
        return datetime.fromisoformat(iso)
    except ValueError:
        return None


def format_time(iso: str | None) -> str:
    """An ISO timestamp as local ``YYYY-MM-DD HH:MM:SS`` ('-' when missing)."""
    when = _parse(iso)
    if when is None:
        return "-"
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def duration_seconds(started: str | None, ended: str | None) -> float | None:
    """Seconds from ``started`` to ``ended`` (to now when it has not ended); None if it never started."""
    start = _parse(started)
    if start is None:
        return None
    end = _parse(ended) or datetime.now(UTC)
    return max(0.0, (end - start).total_seconds())


def format_duration(seconds: float | None) -> str:
    """``0.4s``, ``12.0s``, ``3m04s``, ``2h05m``; '-' for None."""
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    whole = int(seconds)
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"
