"""The same pipeline on a Ray compute target, by compute target alone (#6), on a real local cluster."""

from __future__ import annotations

from pathlib import Path

import pytest

from headwater import (
    AmlCompute,
    ComputeTarget,
    ConfigurationError,
    Experiment,
    OutputFileDatasetConfig,
    Pipeline,
    PythonScriptStep,
    RayCompute,
    Workspace,
)
from tests.conftest import gen

pytestmark = pytest.mark.slow

PRODUCE = """
import os, sys
os.makedirs(sys.argv[1], exist_ok=True)
open(os.path.join(sys.argv[1], "n.txt"), "w").write("21")
"""
CONSUME = """
import os, sys
from headwater import Run
n = int(open(os.path.join(sys.argv[1], "n.txt")).read())
Run.get_context().log("answer", n * 2)
"""


def pipeline(ws: Workspace, src: Path, target: ComputeTarget) -> Pipeline:
    out = OutputFileDatasetConfig(name="n")
    produce = PythonScriptStep("produce.py", source_directory=str(src), arguments=[out], compute_target=target)
    consume = PythonScriptStep(
        "consume.py", source_directory=str(src), arguments=[out.as_input()], compute_target=target
    )
    return Pipeline(ws, steps=[produce, consume])


def test_a_pipeline_moves_to_ray_by_its_compute_target_alone(tmp_path: Path, pws: Workspace, ray_address: str) -> None:
    src = gen(tmp_path / "src", {"produce.py": PRODUCE, "consume.py": CONSUME})
    # SDK v1 code creates its cluster as usual; attaching Ray to that name moves it, no edits
    ComputeTarget.create(
        pws, "aml-compute", AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", max_nodes=2)
    )
    ComputeTarget.attach(pws, "aml-compute", RayCompute.attach_configuration(address=ray_address))
    target = ComputeTarget(pws, "aml-compute")
    run = Experiment(pws, "ray").submit(pipeline(pws, src, target))
    assert run.wait_for_completion(show_output=False) == "Finished"
    steps = {s.name: s for s in run.get_steps()}
    assert steps["consume.py"].get_metrics() == {"answer": 42}
    for step in steps.values():
        props = step.get_properties()
        assert props["headwater.ray.node"] and props["headwater.ray.task_id"]
        assert step.get_details()["target"] == "aml-compute"

    again = Experiment(pws, "ray").submit(pipeline(pws, src, target))  # reuse works as on local
    assert again.wait_for_completion(show_output=False) == "Finished"
    assert all(s.reused for s in again.get_steps())


def test_an_unreachable_ray_cluster_fails_the_submit_with_its_address(tmp_path: Path, pws: Workspace) -> None:
    src = gen(tmp_path / "src", {"produce.py": PRODUCE, "consume.py": CONSUME})
    target = ComputeTarget.attach(pws, "far-away", RayCompute.attach_configuration(address="127.0.0.1:1"))
    with pytest.raises(ConfigurationError, match=r"127\.0\.0\.1:1") as err:
        Experiment(pws, "ray").submit(pipeline(pws, src, target))
    assert "cannot reach the Ray cluster" in str(err.value)
    assert pws.metadata_store.list_runs() == []
