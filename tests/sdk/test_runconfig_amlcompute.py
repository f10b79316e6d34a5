"""``RunConfiguration.amlcompute`` (SDK v1's AmlComputeConfiguration): saved and loaded with the
``.runconfig`` file, and its ``vm_size`` carried into the step spec as the step's own request."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from headwater import PythonScriptStep, RunConfiguration, Workspace
from headwater.engine.executors.resources import STRICT_ENV, ResourceRequestWarning
from headwater.sdk.pipeline import Pipeline
from headwater.sdk.runconfig import AmlComputeConfiguration
from tests.conftest import gen


def test_amlcompute_vm_size_survives_a_save_load_round_trip(tmp_path: Path) -> None:
    rc = RunConfiguration(script="train.py")
    assert isinstance(rc.amlcompute, AmlComputeConfiguration) and rc.amlcompute.vm_size is None
    rc.amlcompute.vm_size = "STANDARD_NC6"
    rc.amlcompute.vm_priority = "lowpriority"
    rc.save(tmp_path, name="train")

    written = yaml.safe_load((tmp_path / ".azureml" / "train.runconfig").read_text())
    assert written["amlcompute"]["vmSize"] == "STANDARD_NC6"  # SDK v1's key
    loaded = RunConfiguration.load(tmp_path, name="train")
    assert (loaded.amlcompute.vm_size, loaded.amlcompute.vm_priority) == ("STANDARD_NC6", "lowpriority")
    assert loaded.amlcompute._cluster_max_node_count == 1


def test_a_runconfig_without_amlcompute_loads_with_an_empty_one(tmp_path: Path) -> None:
    file = tmp_path / "old.runconfig"
    file.write_text("script: train.py\ntarget: local\n", encoding="utf-8")
    assert RunConfiguration.load(file).amlcompute.vm_size is None


def _step(ws: Workspace, src: Path, vm_size: str | None, target: str = "local") -> PythonScriptStep:
    rc = RunConfiguration()
    rc.amlcompute.vm_size = vm_size
    return PythonScriptStep("s.py", name="train", source_directory=str(src), compute_target=target, runconfig=rc)


def test_the_step_spec_carries_the_step_s_own_request(tmp_path: Path, ws: Workspace) -> None:
    src = gen(tmp_path / "src", {"s.py": "print('hi')\n"})
    (spec,) = Pipeline(ws, steps=[_step(ws, src, "standard_d2_v2")]).graph.steps
    assert spec.resource_request == {"vm_size": "STANDARD_D2_V2", "cpu": 2, "gpu": 0, "memory_gb": 7.0}
    assert type(spec).from_dict(spec.to_dict()) == spec
    (plain,) = Pipeline(ws, steps=[_step(ws, src, None)]).graph.steps
    assert plain.resource_request is None


def test_an_unknown_step_vm_size_is_a_problem_naming_the_step(tmp_path: Path, ws: Workspace) -> None:
    src = gen(tmp_path / "src", {"s.py": "print('hi')\n"})
    problems = Pipeline(ws, steps=[_step(ws, src, "STANDARD_NC66")]).graph.problems
    (problem,) = problems
    assert "Step 'train'" in problem and "Unknown vm_size 'STANDARD_NC66'" in problem and "STANDARD_NC6" in problem


def test_on_a_local_target_a_step_request_larger_than_this_machine_is_lowered_or_refused_when_strict(
    tmp_path: Path, ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")  # no GPU here, whatever the machine has
    src = gen(tmp_path / "src", {"s.py": "print('hi')\n"})
    with pytest.warns(ResourceRequestWarning, match=r"step 'train': STANDARD_NC6 asks .*1 GPU.*this machine has"):
        (spec,) = Pipeline(ws, steps=[_step(ws, src, "STANDARD_NC6")]).graph.steps
    assert spec.resource_request is not None and spec.resource_request["gpu"] == 1  # the full request is carried

    monkeypatch.setenv(STRICT_ENV, "1")
    (problem,) = Pipeline(ws, steps=[_step(ws, src, "STANDARD_NC6")]).graph.problems
    assert "Step 'train'" in problem and "STANDARD_NC6 asks" in problem and "this machine has" in problem
