"""SDK v1's ``resolve_closure``: a step that reads another step's output pulls that step into the pipeline."""

from __future__ import annotations

from pathlib import Path

import pytest

from headwater import OutputFileDatasetConfig, Pipeline, PipelineData, PythonScriptStep, Workspace
from tests.conftest import gen


@pytest.fixture
def src(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = gen(tmp_path / "proj", {"src": {f"{n}.py": "" for n in ("a", "b", "c", "x")}})
    monkeypatch.chdir(root)
    return root


def step(name: str, **kwargs: object) -> PythonScriptStep:
    return PythonScriptStep(f"{name}.py", name=name, source_directory="src", **kwargs)  # type: ignore[arg-type]


def test_pipeline_data_listed_in_the_consumers_inputs_pulls_in_its_producer(src: Path, ws: Workspace) -> None:
    """The classic samples pass the PipelineData object itself in inputs=[...], not an input binding."""
    processed = PipelineData("processed", datastore=ws.get_default_datastore())
    step("a", arguments=["--out", processed], outputs=[processed])
    consume = step("b", arguments=["--in", processed], inputs=[processed])
    pipeline = Pipeline(ws, steps=[consume])
    assert [s.name for s in pipeline.graph.steps] == ["a", "b"]  # data-flow order
    assert pipeline.validate() == []


def test_a_chain_built_from_its_last_step_and_listed_steps_keep_their_order(src: Path, ws: Workspace) -> None:
    first, second = OutputFileDatasetConfig(name="first"), OutputFileDatasetConfig(name="second")
    step("a", arguments=[first])
    step("b", arguments=[first.as_input(), second])
    last = step("c", arguments=[second.as_input()])
    other = step("x")
    assert [s.name for s in Pipeline(ws, steps=[other, last]).graph.steps] == ["x", "a", "b", "c"]
    assert [s.name for s in Pipeline(ws, steps=[last, other]).graph.steps] == ["a", "b", "c", "x"]


def test_without_resolve_closure_the_missing_producer_is_a_problem(src: Path, ws: Workspace) -> None:
    processed = PipelineData("processed")
    step("a", arguments=[processed], outputs=[processed])
    consume = step("b", arguments=[processed], inputs=[processed])
    problems = Pipeline(ws, steps=[consume], resolve_closure=False).validate()
    assert any("'processed'" in p and "no step in the pipeline produces" in p for p in problems)


def test_run_after_predecessors_are_pulled_in_too(src: Path, ws: Workspace) -> None:
    """aml-pipelines-getting-started: chain steps with run_after, build the pipeline from the last one."""
    a, b, c = step("a"), step("b"), step("c")
    b.run_after(a)
    c.run_after(b)
    spec = Pipeline(ws, steps=[c]).graph
    assert [(s.name, s.run_after) for s in spec.steps] == [("a", ()), ("b", ("a",)), ("c", ("b",))]
    problems = Pipeline(ws, steps=[c], resolve_closure=False).validate()
    assert "Step 'c' runs after 'b', which is not in the pipeline." in problems


def test_a_step_rebuilt_around_the_same_output_does_not_pull_in_the_old_one(src: Path, ws: Workspace) -> None:
    """A notebook cell run twice: the second step writes the same output object; only it is in the pipeline."""
    out = OutputFileDatasetConfig(name="model")
    step("a", arguments=["--out", out])
    again = step("b", arguments=["--out", out])  # the cell, edited and run again
    pipeline = Pipeline(ws, steps=[again])
    assert [s.name for s in pipeline.graph.steps] == ["b"]
    assert pipeline.validate() == []
