"""A DataDriftDetector whose compute target is a Ray cluster (the real single-node one the tests start)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from headwater import ComputeTarget, DataDriftDetector, RayCompute, Workspace
from headwater.ops.ray_targets import RESOURCES_PROPERTY
from tests.e2e.conftest import pws  # noqa: F401  (fixture shared with e2e)
from tests.sdk.test_datadrift import DAY0, ROWS, make_datasets

pytestmark = pytest.mark.slow


def test_a_detector_on_a_ray_target_runs_its_period_steps_on_ray(pws: Workspace, ray_address: str) -> None:  # noqa: F811
    target = ComputeTarget.attach(pws, "ray", RayCompute.attach_configuration(address=ray_address))
    baseline, target_dataset, _ = make_datasets(pws)
    d = DataDriftDetector.create_from_datasets(pws, "monitor", baseline, target_dataset, compute_target=target)
    assert d.compute_target == "ray"

    run = d.run(DAY0 + timedelta(days=6))
    run.wait_for_completion(show_output=False)
    assert run.get_status() == "Finished"
    (step,) = run.get_steps()
    assert step.name == "datadrift_2026-03-07"
    assert RESOURCES_PROPERTY in step.get_properties()  # placed on the Ray cluster, not run locally
    metrics = step.get_metrics()
    assert metrics["datadrift_coefficient"] > 0.5
    assert metrics["target_rows"] == ROWS and metrics["baseline_rows"] == 400

    # a backfill on the same target: one step per period, all on Ray, the 7 March one reused
    backfill = d.backfill(DAY0 + timedelta(days=5), DAY0 + timedelta(days=7))
    backfill.wait_for_completion(show_output=False)
    assert backfill.get_status() == "Finished"
    steps = {s.name: s for s in backfill.get_steps()}
    assert sorted(steps) == ["datadrift_2026-03-06", "datadrift_2026-03-07", "datadrift_2026-03-08"]
    assert steps["datadrift_2026-03-07"]._record.reused_run_id == step.id
    for name in ("datadrift_2026-03-06", "datadrift_2026-03-08"):
        assert RESOURCES_PROPERTY in steps[name].get_properties()
        assert steps[name].get_metrics()["datadrift_coefficient"] > 0.5
