"""The pipeline graph ``RunDetails`` shows in a notebook: inline SVG laid out here, in Python.

Notebooks may not run arbitrary JavaScript, so the graph is drawn server-side: each step is put in
the layer of its longest path from the sources (a step after all of its upstream steps), steps of
a layer stacked top to bottom, edges drawn as lines labelled with the output they carry. Nodes are
coloured by what happened to the step, as in the studio; the reuse reason is the node's tooltip.

Stdlib-only and Python 3.8-safe: :mod:`headwater.compat.widgets` is also importable step-side.
"""

from __future__ import annotations

from html import escape
from typing import NamedTuple, Sequence, Tuple

Edge = Tuple[str, str, str]  # (from node, to node, the output it carries; "" for run_after)

__all__ = ["GraphNode", "graph_svg", "layers", "layout"]

NODE_WIDTH = 160
NODE_HEIGHT = 44
GAP_X = 70  # room between two layers for an edge and its label
GAP_Y = 18
MARGIN = 8

# The studio's colours (studio.css): stroke and fill per state.
_STATE_COLOURS = {
    "ran": ("#2e7d32", "#eef7ee"),
    "reused": ("#6a4fb3", "#f2effa"),
    "failed": ("#c62828", "#fdecea"),
    "canceled": ("#8d6e63", "#f6f1ef"),
    "running": ("#1565c0", "#e8f1fb"),
    "queued": ("#9aa5b1", "#f4f6f8"),
    "notstarted": ("#cfd8dc", "#ffffff"),
}


class GraphNode(NamedTuple):
    """A step as the graph draws it."""

    node_id: str
    name: str
    status: str
    state: str  # ran, reused, failed, canceled, running, queued or notstarted (the studio's states)
    reason: str  # why it ran or was reused: the node's tooltip


def layers(nodes: Sequence[str], edges: Sequence[Edge]) -> dict[str, int]:
    """Each node's layer: the length of its longest path from a source (Kahn's order).

    Edges to or from unknown nodes are ignored; nodes on a cycle (not a valid pipeline) are put
    after the layer of the deepest node placed, so every node gets one.
    """
    known = set(nodes)
    downstream: dict[str, list[str]] = {n: [] for n in nodes}
    indegree = dict.fromkeys(nodes, 0)
    for a, b, _ in edges:
        if a in known and b in known and a != b:
            downstream[a].append(b)
            indegree[b] += 1
    layer = dict.fromkeys(nodes, 0)
    ready = [n for n in nodes if indegree[n] == 0]
    placed: dict[str, int] = {}
    while ready:
        node = ready.pop()
        placed[node] = layer[node]
        for after in downstream[node]:
            layer[after] = max(layer[after], layer[node] + 1)
            indegree[after] -= 1
            if indegree[after] == 0:
                ready.append(after)
    deepest = max(placed.values(), default=-1)
    for n in nodes:
        if n not in placed:
            placed[n] = deepest + 1
    return placed


def layout(nodes: Sequence[str], edges: Sequence[Edge]) -> dict[str, tuple[float, float]]:
    """Each node's top-left corner: layers left to right, a layer's nodes top to bottom.

    Within a layer, nodes are ordered by the mean row of their upstream nodes (then as given), which
    keeps chains straight and crossings few.
    """
    of = layers(nodes, edges)
    upstream: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b, _ in edges:
        if a in of and b in of:
            upstream[b].append(a)
    row: dict[str, float] = {}
    position = {n: i for i, n in enumerate(nodes)}
    out: dict[str, tuple[float, float]] = {}
    by_layer: dict[int, list[str]] = {}
    for n in nodes:
        by_layer.setdefault(of[n], []).append(n)
    for depth in range(max(of.values(), default=-1) + 1):
        members = by_layer.get(depth, [])

        def key(n: str) -> tuple[float, int]:
            rows = [row[u] for u in upstream[n] if u in row]
            return (sum(rows) / len(rows) if rows else float(position[n]), position[n])

        for i, n in enumerate(sorted(members, key=key)):
            row[n] = float(i)
            out[n] = (MARGIN + depth * (NODE_WIDTH + GAP_X), MARGIN + i * (NODE_HEIGHT + GAP_Y))
    return out


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def graph_svg(nodes: Sequence[GraphNode], edges: Sequence[Edge]) -> str:
    """The graph as an inline ``<svg>``: one ``hw-node`` group per step, one ``hw-edge`` per edge."""
    ids = [n.node_id for n in nodes]
    boxes = layout(ids, edges)
    width = max((x for x, _ in boxes.values()), default=0) + NODE_WIDTH + MARGIN
    height = max((y for _, y in boxes.values()), default=0) + NODE_HEIGHT + MARGIN
    parts = [
        f'<svg class="hw-graph" xmlns="http://www.w3.org/2000/svg" width="{width:g}" height="{height:g}" '
        f'viewBox="0 0 {width:g} {height:g}" style="font-family:sans-serif;max-width:100%">'
    ]
    for a, b, label in edges:
        if a not in boxes or b not in boxes:
            continue
        (ax, ay), (bx, by) = boxes[a], boxes[b]
        x1, y1, x2, y2 = ax + NODE_WIDTH, ay + NODE_HEIGHT / 2, bx, by + NODE_HEIGHT / 2
        dashed = "" if label else ' stroke-dasharray="4 3"'  # a run_after edge carries no data
        parts.append(
            f'<g class="hw-edge" data-from="{escape(a)}" data-to="{escape(b)}">'
            f'<line x1="{x1:g}" y1="{y1:g}" x2="{x2:g}" y2="{y2:g}" stroke="#8c959f" stroke-width="1.5"{dashed}/>'
            f'<circle cx="{x2:g}" cy="{y2:g}" r="3" fill="#8c959f"/>'
        )
        if label:
            parts.append(
                f'<text x="{(x1 + x2) / 2:g}" y="{(y1 + y2) / 2 - 4:g}" text-anchor="middle" font-size="10" '
                f'fill="#57606a">{escape(_short(label, 14))}</text>'
            )
        parts.append("</g>")
    for n in nodes:
        x, y = boxes[n.node_id]
        stroke, fill = _STATE_COLOURS.get(n.state, _STATE_COLOURS["notstarted"])
        tip = f"{n.name}: {n.status if n.state != 'reused' else 'reused'}" + (f": {n.reason}" if n.reason else "")
        dash = ' stroke-dasharray="5 3"' if n.state == "reused" else ""
        parts.append(
            f'<g class="hw-node state-{escape(n.state)}" data-node="{escape(n.node_id)}" '
            f'data-state="{escape(n.state)}"><title>{escape(tip)}</title>'
            f'<rect x="{x:g}" y="{y:g}" width="{NODE_WIDTH}" height="{NODE_HEIGHT}" rx="6" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="2"{dash}/>'
            f'<text x="{x + 8:g}" y="{y + 18:g}" font-size="13" font-weight="600" fill="#1d232a">'
            f"{escape(_short(n.name, 20))}</text>"
            f'<text x="{x + 8:g}" y="{y + 35:g}" font-size="11" fill="{stroke}">'
            f"{escape(_short(n.reason or n.status, 24))}</text></g>"
        )
    parts.append("</svg>")
    return "".join(parts)
