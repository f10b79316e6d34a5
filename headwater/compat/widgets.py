"""``azureml.widgets.RunDetails``: SDK v1's notebook run widget.

``RunDetails(run).show()`` shows the run's status and one row per step (status, duration, and
why it ran or was reused). In a Jupyter kernel it displays an HTML table that updates in place
while the run runs (a daemon thread re-reads the run every :attr:`RunDetails.refresh_seconds` and
updates the display until the run ends), with a link to the run's studio page when the
workspace's server runs (``headwater serve``). Elsewhere it prints the table as text, as the run
is at that moment; ``run.wait_for_completion(show_output=True)`` follows a run to its end.

It uses only the runs' public methods (``get_status``, ``get_children``, ``get_details``).
IPython is imported only inside a kernel (where it already is); no other dependency.
"""

from __future__ import annotations

import sys
import threading
from datetime import datetime
from html import escape

from headwater.runtime import statuses as st

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


def _row(run: Any, details: dict[str, Any] | None = None) -> tuple[str, str, str, str]:
    details = run.get_details() if details is None else details
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
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


_TERMINAL = st.TERMINAL
_COLOURS: dict[str, str] = {
    st.FINISHED: "#1a7f37",
    st.COMPLETED: "#1a7f37",
    st.FAILED: "#cf222e",
    st.CANCELED: "#6e7781",
    st.RUNNING: "#0969da",
    st.QUEUED: "#9a6700",
    st.PREPARING: "#9a6700",
    st.FINALIZING: "#0969da",
}


def _state(status: str, reused: bool) -> str:
    """What happened to a step, as the studio's graph colours it."""
    if status in (st.FINISHED, st.COMPLETED):
        return "reused" if reused else "ran"
    states = {st.FAILED: "failed", st.CANCELED: "canceled", st.RUNNING: "running", st.QUEUED: "queued"}
    return states.get(status, "notstarted")


def _graph_of(run: Any) -> tuple[list[tuple[str, str]], list[tuple[str, str, str]]] | None:
    """The steps ``(node id, name)`` and edges ``(from, to, output)`` of a pipeline run's graph,
    from its plan (``run.get_graph()``); None for a run without one."""
    get_graph = getattr(run, "get_graph", None)
    if get_graph is None:
        return None
    try:
        spec = get_graph()
    except Exception:  # the plan file is gone: the table alone
        return None
    made_by: dict[str, list[str]] = {}
    for step in spec.steps:
        for output in step.outputs:
            made_by.setdefault(output.name, []).append(step.node_id)
    edges: list[tuple[str, str, str]] = []
    for step in spec.steps:
        for given in step.inputs:
            carried = str(given.source.get("output") or "") if isinstance(given.source, dict) else ""
            edges.extend((p, step.node_id, carried) for p in made_by.get(carried, ()) if carried and p != step.node_id)
        edges.extend((after, step.node_id, "") for after in step.run_after)
    return [(s.node_id, s.name) for s in spec.steps], edges


def _in_kernel() -> bool:
    """True inside a Jupyter (IPython) kernel; never imports IPython itself."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _studio_url(run: Any) -> str | None:
    """The run's studio page when the workspace's server runs, else None (best effort)."""
    find = getattr(run, "_studio_url", None)
    if find is None:
        return None
    try:
        url = find()
    except Exception:  # no server, or one that does not answer: no link
        return None
    return url if isinstance(url, str) else None


class RunDetails:
    """A run's progress (SDK v1: ``azureml.widgets.RunDetails``): live HTML in Jupyter, text elsewhere."""

    #: Seconds between two reads of a running run by the notebook display.
    refresh_seconds = 1.0

    def __init__(self, run_instance: Any) -> None:
        self.run_instance = run_instance
        self._updater: threading.Thread | None = None
        self._stop = threading.Event()
        self._graph: tuple[list[tuple[str, str]], list[tuple[str, str, str]]] | None = None

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

    def _rows_and_title(self) -> tuple[str, str, list[tuple[str, str, str, str]], str]:
        """The title, the run's status, the step table's rows and the graph's SVG ("" without one)."""
        run = self.run_instance
        children = list(run.get_children()) if hasattr(run, "get_children") else []
        status = str(run.get_status())
        experiment = getattr(getattr(run, "experiment", None), "name", None)
        title = f"{type(run).__name__} {run.id}" + (f" (experiment {experiment!r})" if experiment else "")
        if not children:
            return title, status, [_row(run)], ""
        details = [child.get_details() for child in children]
        rows = [_row(child, d) for child, d in zip(children, details)]
        return title, status, rows, self._svg(rows, details)

    def _svg(self, rows: list[tuple[str, str, str, str]], details: list[dict[str, Any]]) -> str:
        """The pipeline's graph, its steps coloured by the rows' statuses (steps not created yet: not started)."""
        if self._graph is None:
            self._graph = _graph_of(self.run_instance) or ([], [])  # it does not change: read once
        if not self._graph:
            return ""
        from headwater.compat.widget_graph import GraphNode, graph_svg

        steps, edges = self._graph
        by_node: dict[str, tuple[tuple[str, str, str, str], dict[str, Any]]] = {}
        names = {name: node for node, name in steps}
        for row, d in zip(rows, details):
            node = (d.get("tags") or {}).get("azureml.nodeid") or names.get(row[0])
            if node is not None:
                by_node[node] = (row, d)
        nodes = []
        for node, name in steps:
            row, d = by_node.get(node, ((name, st.NOT_STARTED, "", ""), {}))
            reused = bool((d.get("properties") or {}).get("azureml.reusedrunid"))
            nodes.append(GraphNode(node, name, row[1], _state(row[1], reused), row[3]))
        return graph_svg(nodes, edges)

    def render_html(self, studio_url: str | None = None) -> str:
        """The HTML the notebook shows: title, status, the step table, the studio link (when given)."""
        title, status, rows, svg = self._rows_and_title()

        def badge(text: str) -> str:
            colour = _COLOURS.get(text, "#57606a")
            return f'<span class="hw-status" style="color:{colour};font-weight:600">{escape(text)}</span>'

        head = "".join(f'<th style="text-align:left;padding:2px 8px">{escape(h)}</th>' for h in _HEADER)
        body = "".join(
            f'<tr class="hw-step" data-status="{escape(r[1])}">'
            f'<td style="text-align:left;padding:2px 8px">{escape(r[0])}</td>'
            f'<td style="text-align:left;padding:2px 8px">{badge(r[1])}</td>'
            f'<td style="text-align:left;padding:2px 8px">{escape(r[2])}</td>'
            f'<td style="text-align:left;padding:2px 8px">{escape(r[3])}</td></tr>'
            for r in rows
        )
        link = (
            f' &middot; <a href="{escape(studio_url)}" target="_blank" rel="noopener">open in the studio</a>'
            if studio_url
            else ""
        )
        return (
            f'<div class="headwater-run-details" data-run-id="{escape(str(self.run_instance.id))}" '
            f'data-status="{escape(status)}">'
            f"<div><b>{escape(title)}</b>: {badge(status)}{link}</div>"
            f'<table style="border-collapse:collapse"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
            f"{svg}</div>"
        )

    def show(self, render_lib: Any = None, widget_settings: Any = None) -> None:
        """Show the run: live-updating HTML in a Jupyter kernel, else the text table on stdout."""
        run = self.run_instance
        if not _in_kernel() or str(getattr(run, "id", "")).startswith("OfflineRun_"):
            sys.stdout.write(self.render())
            sys.stdout.flush()
            return
        from IPython.display import HTML, display

        url = _studio_url(run)
        html = self.render_html(url)
        handle = display(HTML(html), display_id=True)
        if self._updater is not None or str(run.get_status()) in _TERMINAL:
            return  # already followed by this object, or nothing more will change
        self._stop.clear()
        self._updater = threading.Thread(
            target=self._follow, args=(handle, html, url), name=f"RunDetails {run.id}", daemon=True
        )
        self._updater.start()

    def _follow(self, handle: Any, shown: str, url: str | None) -> None:
        """Re-read the run until it ends, updating the display whenever what it shows changed."""
        from IPython.display import HTML

        while not self._stop.wait(self.refresh_seconds):
            try:
                ended = str(self.run_instance.get_status()) in _TERMINAL
                html = self.render_html(url)
            except Exception:  # the store went away (the kernel is shutting down): stop following
                break
            if html != shown:
                handle.update(HTML(html))
                shown = html
            if ended:
                break
        self._updater = None

    def stop(self) -> None:
        """Stop updating the notebook display (it ends by itself when the run ends)."""
        self._stop.set()

    def get_widget_data(self, widget_settings: Any = None) -> dict[str, Any]:
        """The data behind the table: the run's id and status, and one dict per step."""
        run = self.run_instance
        children = list(run.get_children()) if hasattr(run, "get_children") else []
        steps = [dict(zip(("name", "status", "duration", "why"), _row(c))) for c in children]
        return {"run_id": run.id, "status": run.get_status(), "child_runs": steps}
