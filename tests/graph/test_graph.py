"""The pure graph: order, edges and every validation problem, on plain objects."""

from __future__ import annotations

from typing import Any

import pytest

from headwater.graph import (
    InputSpec,
    OutputSpec,
    PipelineSpec,
    StepSpec,
    dependencies,
    downstream,
    topological_order,
    validate,
)


def step(name: str, *, inputs: tuple[str, ...] = (), outputs: tuple[str, ...] = (), **kw: Any) -> StepSpec:
    return StepSpec(
        node_id=kw.pop("node_id", name),
        name=name,
        kind=kw.pop("kind", "python"),
        source_directory="/src",
        script=kw.pop("script", f"{name}.py"),
        inputs=tuple(InputSpec(name=f"in_{o}", source={"output": o}) for o in inputs),
        outputs=tuple(OutputSpec(name=o) for o in outputs),
        **kw,
    )


def test_order_follows_data_edges_and_declaration_order() -> None:
    spec = PipelineSpec(
        steps=(
            step("compare", inputs=("model_a", "model_b")),
            step("train_b", inputs=("prepped",), outputs=("model_b",)),
            step("train_a", inputs=("prepped",), outputs=("model_a",)),
            step("prep", outputs=("prepped",)),
        )
    )
    assert validate(spec) == []
    assert topological_order(spec) == ["prep", "train_b", "train_a", "compare"]
    assert dependencies(spec)["compare"] == {"train_a", "train_b"}
    assert downstream(spec, "prep") == {"train_a", "train_b", "compare"}
    assert downstream(spec, "train_a") == {"compare"}


def test_run_after_adds_a_control_edge() -> None:
    spec = PipelineSpec(steps=(step("b", run_after=("a",)), step("a")))
    assert topological_order(spec) == ["a", "b"]


def test_cycle_names_the_steps() -> None:
    spec = PipelineSpec(steps=(step("a", inputs=("y",), outputs=("x",)), step("b", inputs=("x",), outputs=("y",))))
    problems = validate(spec)
    assert len(problems) == 1
    assert problems[0].startswith("Cycle detected including steps:")
    assert "'a'" in problems[0] and "'b'" in problems[0]


def test_every_problem_is_reported_at_once() -> None:
    spec = PipelineSpec(
        steps=(
            step("a", inputs=("nobody_makes_this",), outputs=("shared",)),
            step("b", outputs=("shared",), arguments=({"parameter": "lr"},)),
            step("c", run_after=("ghost",), arguments=({"input": "missing"},)),
            step("d", kind="python", script=None),
        )
    )
    problems = validate(spec)
    text = "\n".join(problems)
    assert "reads output 'nobody_makes_this', which no step" in text
    assert "Output 'shared' is written by more than one step ('a', 'b')" in text
    assert "unknown pipeline parameter 'lr'" in text
    assert "run_after refers to a step that is not in the pipeline ('ghost')" in text
    assert "argument refers to input 'missing'" in text
    assert "Step 'd': no script_name" in text
    assert len(problems) == 6


def test_empty_pipeline_is_invalid() -> None:
    assert validate(PipelineSpec(steps=())) == ["The pipeline has no steps."]


def test_round_trip_through_dicts() -> None:
    spec = PipelineSpec(
        steps=(
            step("prep", outputs=("prepped",), arguments=({"literal": "--x"}, {"output": "prepped"})),
            step("train", inputs=("prepped",), params={"lr": {"parameter": "lr"}}, run_after=("prep",)),
        ),
        parameters={"lr": 0.1},
        default_datastore="workspaceblobstore",
    )
    assert PipelineSpec.from_dict(spec.to_dict()) == spec


@pytest.mark.parametrize("mode", ["bogus", ""])
def test_unknown_modes_are_problems(mode: str) -> None:
    spec = PipelineSpec(
        steps=(
            StepSpec(
                node_id="a",
                name="a",
                kind="python",
                source_directory="/s",
                script="a.py",
                inputs=(InputSpec(name="i", source={"dataset": {}}, mode=mode),),
                outputs=(OutputSpec(name="o", mode=mode),),
            ),
        )
    )
    text = "\n".join(validate(spec))
    assert f"input 'i' has unknown mode {mode!r}" in text
    assert f"output 'o' has unknown mode {mode!r}" in text
