"""SDK v1 members found missing in sample code: Dataset.Scenario, Dataset.register's options,
ComputeTarget.cluster_resource_id, RunConfiguration.spark/hdi (accepted, NotSupported when used)."""

from __future__ import annotations

from pathlib import Path

import pytest

from headwater import Workspace
from headwater.errors import NotSupportedError
from tests.conftest import gen

pytestmark = pytest.mark.usefixtures("azureml_on")


def test_dataset_scenario_has_sdk_v1_values() -> None:
    from azureml.core import Dataset

    assert (Dataset.Scenario.TRAINING, Dataset.Scenario.VALIDATION, Dataset.Scenario.INFERENCING) == (
        "training",
        "validation",
        "inferencing",
    )


def test_register_accepts_sdk_v1_dataset_options(ws: Workspace, tmp_path: Path) -> None:
    from azureml.core import Dataset

    datastore = ws.get_default_datastore()
    datastore.upload_files([str(gen(tmp_path / "a", {"one.csv": "x\n1\n"}) / "one.csv")], target_path="d")
    datastore.upload_files([str(gen(tmp_path / "b", {"two.csv": "x\n2\n"}) / "two.csv")], target_path="e")
    first = Dataset.File.from_files((datastore, "d")).register(ws, "files", visible=False)
    other = Dataset.File.from_files((datastore, "e"))
    kept = other.register(ws, "files", exist_ok=True)
    assert kept.version == first.version == 1
    updated = other.register(ws, "files", update_if_exist=True)
    assert updated.version == 2


def test_compute_target_cluster_resource_id(ws: Workspace) -> None:
    from azureml.core.compute import AmlCompute, ComputeTarget

    target = ComputeTarget.create(ws, "cpu", AmlCompute.provisioning_configuration(max_nodes=1))
    assert target.cluster_resource_id is None
    assert ComputeTarget(ws, "cpu").cluster_location is None


def test_run_configuration_spark_is_accepted_and_not_supported_when_used() -> None:
    import copy

    from azureml.core.runconfig import RunConfiguration

    rc = RunConfiguration()
    assert "not supported" in repr(rc.spark)
    with pytest.raises(NotSupportedError, match=r"RunConfiguration\.spark\.configuration") as info:
        rc.spark.configuration  # noqa: B018
    assert "pandas" in str(info.value)
    with pytest.raises(NotSupportedError, match=r"RunConfiguration\.hdi\.yarn_deploy_mode"):
        rc.hdi.yarn_deploy_mode = "cluster"
    copy.deepcopy(rc)
    rc.spark = None  # accepted, ignored
