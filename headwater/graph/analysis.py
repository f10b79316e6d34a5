"""Edges, order and validation of a :class:`PipelineSpec` — pure functions, stdlib only."""

from __future__ import annotations

import graphlib
from collections import defaultdict

from headwater.graph.spec import INPUT_MODES, OUTPUT_MODES, PipelineSpec, StepSpec

__all__ = [
    "producers",
    "dependencies",
    "downstream",
    "topological_order",
    "validate",
    "referenced_parameters",
    "destination_escape",
]


def producers(spec: PipelineSpec) -> dict[str, list[str]]:
    """Output name -> node ids of the steps that write it (more than one is a validation error)."""
    out: dict[str, list[str]] = defaultdict(list)
    for step in spec.steps:
        for o in step.outputs:
            out[o.name].append(step.node_id)
    return dict(out)


def dependencies(spec: PipelineSpec) -> dict[str, set[str]]:
    """Node id -> node ids it must wait for (data edges plus ``run_after``)."""
    made_by = producers(spec)
    known = {s.node_id for s in spec.steps}
    deps: dict[str, set[str]] = {}
    for step in spec.steps:
        d = set(step.run_after) & known
        for i in step.inputs:
            name = i.source.get("output")
            if name is not None:
                d.update(p for p in made_by.get(name, ()) if p != step.node_id)
        deps[step.node_id] = d
    return deps


def downstream(spec: PipelineSpec, node_id: str) -> set[str]:
    """Every node that depends, directly or not, on ``node_id``."""
    deps = dependencies(spec)
    children: dict[str, set[str]] = defaultdict(set)
    for node, ds in deps.items():
        for d in ds:
            children[d].add(node)
    seen: set[str] = set()
    todo = [node_id]
    while todo:
        for child in children[todo.pop()]:
            if child not in seen:
                seen.add(child)
                todo.append(child)
    return seen


def topological_order(spec: PipelineSpec) -> list[str]:
    """Node ids in an order where every step comes after what it waits for.

    Deterministic: among ready steps, declaration order wins. Raises ``graphlib.CycleError``
    on a cycle (``validate`` reports cycles with the steps' names instead).
    """
    position = {s.node_id: i for i, s in enumerate(spec.steps)}
    sorter = graphlib.TopologicalSorter(dependencies(spec))
    sorter.prepare()
    order: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=position.__getitem__)
        order.extend(ready)
        sorter.done(*ready)
    return order


def referenced_parameters(step: StepSpec) -> set[str]:
    """Names of the pipeline parameters a step uses (arguments, params, inputs)."""
    names = {t["parameter"] for t in step.arguments if "parameter" in t}
    names.update(t["parameter"] for t in step.params.values() if "parameter" in t)
    names.update(i.source["parameter"] for i in step.inputs if "parameter" in i.source)
    return names


def destination_escape(path_template: str) -> str | None:
    """Why an output's destination leaves its datastore ('is absolute', '..' above the root), or None.

    Lexical only (no I/O): symlinks and datastores are checked where the datastores are known
    (:mod:`headwater.ops.destinations`). The placeholders ``{run-id}`` and ``{output-name}`` are one
    part each.
    """
    text = path_template.replace("\\", "/")
    if text.startswith("/") or (len(text) > 1 and text[1] == ":"):
        return "is absolute"
    depth = 0
    for part in text.split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                return "climbs above the datastore's root with '..'"
        elif part not in ("", "."):
            depth += 1
    return None


def _cycle_problem(spec: PipelineSpec, exc: graphlib.CycleError) -> str:
    names = {s.node_id: s.name for s in spec.steps}
    cycle = [names.get(n, n) for n in exc.args[1]] if len(exc.args) > 1 else []
    return "Cycle detected including steps: " + " -> ".join(repr(c) for c in cycle)


def validate(spec: PipelineSpec) -> list[str]:
    """Every problem that keeps the pipeline from running, in a stable order; [] when valid."""
    problems: list[str] = list(spec.problems)
    if not spec.steps:
        problems.append("The pipeline has no steps.")
    ids = [s.node_id for s in spec.steps]
    known = set(ids)
    if len(known) != len(ids):
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        problems.append(f"Duplicate step node ids: {dupes}.")

    made_by = producers(spec)
    for output, steps in sorted(made_by.items()):
        if len(steps) > 1:
            names = ", ".join(repr(spec.step(s).name) for s in steps)
            problems.append(f"Output {output!r} is written by more than one step ({names}).")

    for step in spec.steps:
        where = f"Step {step.name!r}"
        for i in step.inputs:
            if i.mode not in INPUT_MODES:
                problems.append(f"{where}: input {i.name!r} has unknown mode {i.mode!r}.")
            src = i.source.get("output")
            if src is not None and src not in made_by:
                problems.append(
                    f"{where}: input {i.name!r} reads output {src!r}, which no step in the pipeline produces."
                )
            if src is not None and step.node_id in made_by.get(src, ()):
                problems.append(f"{where}: input {i.name!r} reads the step's own output {src!r}.")
            p = i.source.get("parameter")
            if p is not None and p not in spec.parameters:
                problems.append(f"{where}: input {i.name!r} uses unknown pipeline parameter {p!r}.")
        for o in step.outputs:
            if o.mode not in OUTPUT_MODES:
                problems.append(f"{where}: output {o.name!r} has unknown mode {o.mode!r}.")
            escape = destination_escape(o.path_template)
            if escape:
                problems.append(
                    f"{where}: output {o.name!r} has destination {o.path_template!r}, which {escape}; a destination "
                    "is a path inside its datastore, such as 'outputs/{run-id}'."
                )
        in_names = [i.name for i in step.inputs]
        out_names = [o.name for o in step.outputs]
        for n in sorted({n for n in in_names + out_names if (in_names + out_names).count(n) > 1}):
            problems.append(f"{where}: the name {n!r} is used by more than one of its inputs/outputs.")
        for token in step.arguments:
            if "input" in token and token["input"] not in in_names:
                problems.append(f"{where}: argument refers to input {token['input']!r}, not among its inputs.")
            if "output" in token and token["output"] not in out_names:
                problems.append(f"{where}: argument refers to output {token['output']!r}, not among its outputs.")
        for p in sorted(referenced_parameters(step)):
            if p not in spec.parameters:
                problems.append(f"{where}: uses unknown pipeline parameter {p!r}.")
        for after in step.run_after:
            if after not in known:
                problems.append(f"{where}: run_after refers to a step that is not in the pipeline ({after!r}).")
        if step.kind in ("python", "parallel") and not step.script:
            problems.append(f"{where}: no script_name.")
        if step.kind == "command" and not step.arguments:
            problems.append(f"{where}: no command.")

    try:
        topological_order(spec)
    except graphlib.CycleError as exc:
        problems.append(_cycle_problem(spec, exc))
    return problems
