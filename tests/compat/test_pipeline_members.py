"""The rest of SDK v1's Pipeline, PipelineRun, StepRun and PipelineStep members, through the ``azureml``
layer (issue 16): ``PipelineStep.validate_arguments`` / ``resolve_input_arguments`` /
``get_source_directory`` (and the service-graph members that say what to do instead),
``PipelineRun.get_graph`` / ``save`` / ``get_pipeline_runs``, the SDK v1 constructors of
``PipelineRun`` and ``StepRun``, and ``Pipeline.load_yaml``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from headwater import Workspace
from headwater.errors import HeadwaterError, NotFoundError, NotSupportedError
from tests.conftest import gen
from tests.e2e.conftest import ran

pytestmark = pytest.mark.usefixtures("azureml_on")

# write.py --out <folder> [--n N]: writes n.txt (N, default 1)
WRITE = """
import argparse, os
with open(os.environ["HW_TEST_LEDGER"], "a") as fh:
    fh.write("write\\n")
p = argparse.ArgumentParser()
p.add_argument("--out")
p.add_argument("--n", default="1")
a = p.parse_args()
os.makedirs(a.out, exist_ok=True)
with open(os.path.join(a.out, "n.txt"), "w") as fh:
    fh.write(a.n)
"""

# double.py --in <folder> --out <folder>: writes twice the number it reads
DOUBLE = """
import argparse, os
with open(os.environ["HW_TEST_LEDGER"], "a") as fh:
    fh.write("double\\n")
p = argparse.ArgumentParser()
p.add_argument("--in", dest="inp")
p.add_argument("--out")
a = p.parse_args()
with open(os.path.join(a.inp, "n.txt")) as fh:
    value = int(fh.read())
os.makedirs(a.out, exist_ok=True)
with open(os.path.join(a.out, "n.txt"), "w") as fh:
    fh.write(str(2 * value))
"""


def two_steps(ws: Workspace) -> Any:
    from azureml.pipeline.core import Pipeline, PipelineData, PipelineParameter
    from azureml.pipeline.steps import PythonScriptStep

    store = ws.get_default_datastore()
    first = PipelineData("first", datastore=store)
    second = PipelineData("second", datastore=store)
    n = PipelineParameter("n", default_value=3)
    write = PythonScriptStep(
        "write.py", name="write", source_directory="src", arguments=["--out", first, "--n", n], outputs=[first]
    )
    double = PythonScriptStep(
        "double.py",
        name="double",
        source_directory="src",
        arguments=["--in", first, "--out", second],
        inputs=[first],
        outputs=[second],
    )
    return Pipeline(ws, steps=[write, double], description="two steps")


def value(run: Any, step: str, output: str, where: Path) -> str:
    (step_run,) = run.find_step_run(step)
    step_run.get_output_data(output).download(str(where))
    return next(where.rglob("n.txt")).read_text()


def test_step_members_validate_and_resolve_arguments_and_find_the_source_directory(proj: Path, pws: Workspace) -> None:
    from azureml.pipeline.core import PipelineData, PipelineParameter, PipelineStep
    from azureml.pipeline.steps import PythonScriptStep

    gen(proj, {"src": {"write.py": WRITE}})
    out, other = PipelineData("out"), PipelineData("other")
    n = PipelineParameter("n", default_value=1)
    PipelineStep.validate_arguments(["--out", out, "--n", n], [], [out])  # fine
    with pytest.raises(HeadwaterError, match="PipelineData 'other' appears in arguments but is not in the input"):
        PythonScriptStep.validate_arguments(["--x", other], [], [out])
    resolved, annotated = PipelineStep.resolve_input_arguments(["--out", out, "--n", n], [], [out], {})
    assert resolved == ["--out", out, "--n", n]
    assert annotated == [{"literal": "--out"}, {"output": "out"}, {"literal": "--n"}, {"parameter": "n"}]

    step = PythonScriptStep("write.py", name="w", arguments=["--out", out], outputs=[out], source_directory="src")
    assert step.get_source_directory(None, "src", "write.py") == "src"

    class Context:
        default_source_directory = str(proj / "src")

    assert step.get_source_directory(Context(), None, "write.py") == str(proj / "src")
    with pytest.raises(HeadwaterError, match=r"Step 'w': script not found at .*missing\.py"):
        step.get_source_directory(None, "src", "missing.py")
    for call in (
        lambda: step.create_node(None, None, None),
        lambda: step.create_input_output_bindings([], [], None),
        lambda: step.create_module_def("escloud", [], []),
    ):
        with pytest.raises(
            NotSupportedError, match=r"PipelineStep\.create_\w+ .* Describe steps with PythonScriptStep"
        ):
            call()


@pytest.mark.slow
def test_a_pipeline_run_gives_its_graph_saves_yaml_that_loads_back_and_reruns_reused(
    proj: Path, pws: Workspace, tmp_path: Path
) -> None:
    from azureml.core import Experiment
    from azureml.pipeline.core import Pipeline, PipelineRun, StepRun

    gen(proj, {"src": {"write.py": WRITE, "double.py": DOUBLE}})
    experiment = Experiment(pws, "members")
    run = experiment.submit(two_steps(pws), pipeline_parameters={"n": 4})
    assert run.wait_for_completion(show_output=False) == "Finished"
    assert ran(proj) == ["write", "double"]
    assert value(run, "double", "second", tmp_path / "a") == "8"

    graph = run.get_graph()
    assert [s.name for s in graph.steps] == ["write", "double"] and graph.parameters == {"n": 3}
    same = PipelineRun(experiment, run.id)
    assert same.id == run.id and same.get_status() == "Finished"
    (double,) = run.find_step_run("double")
    step_run = StepRun(experiment, double.id, run.id, "double")
    assert step_run.name == "double" and step_run.pipeline_run_id == run.id
    with pytest.raises(NotFoundError, match="Step run"):
        StepRun(experiment, double.id, "another-pipeline-run", "double")

    run.save(str(tmp_path))
    saved = tmp_path / "pipeline.yml"
    text = saved.read_text()
    assert "PythonScriptStep" in text and "input:first" in text and "parameter:n" in text
    loaded = Pipeline.load_yaml(pws, str(saved))
    again = experiment.submit(loaded, pipeline_parameters={"n": 4})
    assert again.wait_for_completion(show_output=False) == "Finished"
    assert ran(proj) == []  # the same files (the run's snapshots), parameters and data: reused
    assert value(again, "double", "second", tmp_path / "b") == "8"


SDK_YAML = """
pipeline:
    description: SamplePipelineFromYaml
    parameters:
        NumParameter:
            type: int
            default: 5
    default_compute: cpu
    steps:
        WriteStep:
            type: PythonScriptStep
            name: write
            script_name: write.py
            source_directory: src
            allow_reuse: true
            arguments:
            - '--out'
            - output:written
            - '--n'
            - parameter:N
            parameters:
                N:
                    source: NumParameter
            outputs:
                written:
                    destination: Written
                    datastore: workspaceblobstore
                    bind_mode: mount
        DoubleStep:
            type: PythonScriptStep
            name: double
            script_name: double.py
            source_directory: src
            arguments:
            - '--in'
            - input:numbers
            - '--out'
            - output:doubled
            inputs:
                numbers:
                    source: Written
                    bind_mode: download
            outputs:
                doubled:
                    destination: Doubled
                    datastore: workspaceblobstore
"""


@pytest.mark.slow
def test_load_yaml_reads_sdk_v1s_pipeline_yaml(proj: Path, pws: Workspace, tmp_path: Path) -> None:
    from azureml.core import Experiment
    from azureml.core.compute import AmlCompute, ComputeTarget
    from azureml.pipeline.core import Pipeline

    ComputeTarget.create(pws, "cpu", AmlCompute.provisioning_configuration(max_nodes=2))
    gen(proj, {"src": {"write.py": WRITE, "double.py": DOUBLE}, "pipeline.yml": SDK_YAML})
    pipeline = Pipeline.load_yaml(pws, "pipeline.yml")
    assert pipeline.description == "SamplePipelineFromYaml"
    graph = pipeline.graph
    assert [s.compute_target for s in graph.steps] == ["cpu", "cpu"]
    assert graph.steps[1].inputs[0].mode == "download"
    run = Experiment(pws, "yaml").submit(pipeline, pipeline_parameters={"NumParameter": 6})
    assert run.wait_for_completion(show_output=False) == "Finished"
    assert value(run, "double", "Doubled", tmp_path / "a") == "12"

    gen(proj, {"bad.yml": "pipeline:\n  steps:\n    S:\n      type: HyperDriveStep\n"})
    with pytest.raises(NotSupportedError, match="Step 'S': type HyperDriveStep"):
        Pipeline.load_yaml(pws, "bad.yml")
    gen(proj, {"nosteps.yml": "pipeline:\n  description: x\n"})
    with pytest.raises(HeadwaterError, match="at least one step"):
        Pipeline.load_yaml(pws, "nosteps.yml")
