"""The notebook widget's graph: layers by longest path from the sources, no overlapping nodes, SVG."""

from __future__ import annotations

from headwater.compat.widget_graph import GraphNode, graph_svg, layers, layout


def _no_overlap(boxes: dict[str, tuple[float, float]], width: float, height: float) -> None:
    items = list(boxes.items())
    for i, (a, (ax, ay)) in enumerate(items):
        for b, (bx, by) in items[i + 1 :]:
            assert abs(ax - bx) >= width or abs(ay - by) >= height, (a, b, boxes)


def test_a_diamond_has_three_layers_and_no_overlap() -> None:
    nodes = ["d", "b", "c", "a"]  # any order: the layout follows the edges
    edges = [("a", "b", "x"), ("a", "c", "x"), ("b", "d", "y"), ("c", "d", "z")]
    assert layers(nodes, edges) == {"a": 0, "b": 1, "c": 1, "d": 2}
    boxes = layout(nodes, edges)
    _no_overlap(boxes, 160, 44)
    assert boxes["a"][0] < boxes["b"][0] == boxes["c"][0] < boxes["d"][0]


def test_a_chain_with_a_shortcut_layers_by_the_longest_path() -> None:
    nodes = ["a", "b", "c", "d"]
    edges = [("a", "b", ""), ("b", "c", ""), ("c", "d", ""), ("a", "d", "skip")]
    assert layers(nodes, edges) == {"a": 0, "b": 1, "c": 2, "d": 3}
    boxes = layout(nodes, edges)
    _no_overlap(boxes, 160, 44)
    assert len({y for _, y in boxes.values()}) == 1  # one node per layer: a straight line


def test_an_isolated_step_and_a_cycle_still_get_a_place() -> None:
    got = layers(["a", "b", "c"], [("a", "b", ""), ("b", "a", "")])
    assert set(got) == {"a", "b", "c"} and got["c"] == 0


def test_the_svg_has_one_node_per_step_edges_with_their_output_and_the_reason_as_tooltip() -> None:
    svg = graph_svg(
        [
            GraphNode("prep", "prep", "Finished", "reused", "unchanged"),
            GraphNode("train", "train <1>", "Running", "running", "input 'raw' changed"),
        ],
        [("prep", "train", "clean")],
    )
    assert svg.startswith("<svg") and svg.count('class="hw-node') == 2
    assert svg.count('class="hw-edge"') == 1 and ">clean</text>" in svg
    assert 'data-node="prep" data-state="reused"' in svg
    assert "<title>prep: reused: unchanged</title>" in svg
    assert "train &lt;1&gt;" in svg  # names are escaped
