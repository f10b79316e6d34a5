"""``azureml.widgets.RunDetails``: SDK v1's notebook run widget, as a text table.

``RunDetails(run).show()`` prints the run's status and one row per step (status, duration, and
why it ran or was reused), in a terminal and in a notebook alike. It shows the run as it is at
that moment; ``run.wait_for_completion(show_output=True)`` follows a run to its end. It uses
only the runs' public methods (``get_status``, ``get_children``, ``get_details``). Stdlib only.
"""

from __future__ import annotations

import sys
from datetime import datetime

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["RunDetails"]

_HEADER = ("Step", "Status", "Duration", "Ran or reused")


def _duration(start: str | None, end: str | None) -> str:
    if not start:
        return ""
    if not end:
        return "running"
    try:
        seconds = (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()
    except ValueError:
        return ""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs:02d} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def _why(details: dict[str, Any]) -> str:
    properties = details.get("properties") or {}
    reason = details.get("reuseReason") or ""
    if properties.get("azureml.reusedrunid"):
        if reason.startswith("reused run"):  # "reused run <id>: unchanged" already names the run
            return reason
        return f"reused {properties['azureml.reusedrunid']}" + (f": {reason}" if reason else "")
    error = details.get("error") or {}
    if error.get("message"):
        return str(error["message"]).splitlines()[0]
    return f"ran: {reason}" if reason else ""


def _row(run: Any) -> tuple[str, str, str, str]:
    details = run.get_details()
    name = getattr(run, "name", None) or details.get("runId", "")
    return (
        str(name),
        str(details.get("status", "")),
        _duration(details.get("startTimeUtc"), details.get("endTimeUtc")),
        _why(details),
    )


def _table(rows: list[tuple[str, str, str, str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [_HEADER, *rows]) for i in range(len(_HEADER))]
    lines = []
    for r in [_HEADER, *rows]:
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


class RunDetails:
    """A run's progress as text (SDK v1: ``azureml.widgets.RunDetails``)."""

    def __init__(self, run_instance: Any) -> None:
        self.run_instance = run_instance

    def render(self) -> str:
        """The text :meth:`show` prints: a title line, then the step table."""
        run = self.run_instance
        if str(getattr(run, "id", "")).startswith("OfflineRun_"):  # an offline run: nothing was recorded
            return f"{type(run).__name__} {getattr(run, 'id', '')}: an offline run, nothing recorded to show.\n"
        children = list(run.get_children()) if hasattr(run, "get_children") else []
        kind = type(run).__name__
        experiment = getattr(getattr(run, "experiment", None), "name", None)
        title = f"{kind} {run.id}" + (f" (experiment {experiment!r})" if experiment else "")
        title += f": {run.get_status()}"
        rows = [_row(child) for child in children] if children else [_row(run)]
        return "\n".join([title, *_table(rows)]) + "\n"

    def show(self, render_lib: Any = None, widget_settings: Any = None) -> None:
        """Print the run's status and step table (SDK v1 draws a live notebook widget)."""
        sys.stdout.write(self.render())
        sys.stdout.flush()

    def get_widget_data(self, widget_settings: Any = None) -> dict[str, Any]:
        """The data behind the table: the run's id and status, and one dict per step."""
        run = self.run_instance
        children = list(run.get_children()) if hasattr(run, "get_children") else []
        steps = [dict(zip(("name", "status", "duration", "why"), _row(c), strict=True)) for c in children]
        return {"run_id": run.id, "status": run.get_status(), "child_runs": steps}
