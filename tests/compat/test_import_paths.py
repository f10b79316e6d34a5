"""The module paths public SDK v1 pipeline samples import all import through the layer.

The list was measured on Azure/MachineLearningNotebooks, microsoft/MLOpsPython and
Azure/azureml-examples (every ``from azureml.X import ...`` in their .py and .ipynb files) plus
public code found by searching for ``from azureml.pipeline.core.``, ``from azureml.pipeline.steps.``
and ``from azureml.data.``; the names a module serves are those the real module exports
(azureml-core 1.61.0.post4, azureml-pipeline-core/-steps 1.62.0; see headwater/compat/names_more.py).
"""

from __future__ import annotations

import importlib

import pytest

import headwater
from headwater.compat._loader import public_names
from headwater.compat.names import SDK_VERSION
from headwater.compat.placeholders import is_placeholder
from headwater.errors import NotSupportedError

pytestmark = pytest.mark.usefixtures("azureml_on")

SAMPLE_MODULES = [
    "azureml.core",
    "azureml.core.authentication",
    "azureml.core.compute",
    "azureml.core.compute_target",
    "azureml.core.conda_dependencies",
    "azureml.core.dataset",
    "azureml.core.datastore",
    "azureml.core.environment",
    "azureml.core.experiment",
    "azureml.core.keyvault",
    "azureml.core.model",
    "azureml.core.run",
    "azureml.core.runconfig",
    "azureml.core.script_run_config",
    "azureml.core.webservice",
    "azureml.core.workspace",
    "azureml.data",
    "azureml.data.abstract_dataset",
    "azureml.data.azure_storage_datastore",
    "azureml.data.data_reference",
    "azureml.data.datapath",
    "azureml.data.dataset_consumption_config",
    "azureml.data.dataset_factory",
    "azureml.data.output_dataset_config",
    "azureml.data.sql_data_reference",
    "azureml.exceptions",
    "azureml.pipeline.core",
    "azureml.pipeline.core.builder",
    "azureml.pipeline.core.graph",
    "azureml.pipeline.core.module",
    "azureml.pipeline.core.pipeline",
    "azureml.pipeline.core.pipeline_endpoint",
    "azureml.pipeline.core.run",
    "azureml.pipeline.core.schedule",
    "azureml.pipeline.steps",
    "azureml.pipeline.steps.automl_step",
    "azureml.pipeline.steps.databricks_step",
    "azureml.pipeline.steps.python_script_step",
    "azureml.train.automl",
    "azureml.train.dnn",
    "azureml.train.estimator",
    "azureml.train.hyperdrive",
    "azureml.widgets",
]
# The ones that raised ImportError before (the issue counted 12 among the three pinned packages).
WERE_MISSING = [
    "azureml.core.keyvault",
    "azureml.core.webservice",
    "azureml.data.abstract_dataset",
    "azureml.data.sql_data_reference",
    "azureml.pipeline.core.builder",
    "azureml.pipeline.core.module",
    "azureml.pipeline.core.pipeline",
    "azureml.pipeline.core.pipeline_endpoint",
    "azureml.pipeline.core.schedule",
    "azureml.pipeline.steps.automl_step",
    "azureml.pipeline.steps.databricks_step",
    "azureml.pipeline.steps.python_script_step",
]


@pytest.mark.parametrize("module", SAMPLE_MODULES)
def test_every_sample_module_path_imports_and_serves_each_name(module: str) -> None:
    mod = importlib.import_module(module)
    for name in public_names(module):
        served = getattr(mod, name)  # never AttributeError
        assert served is not None, f"{module}.{name}"
    namespace: dict[str, object] = {}
    exec(f"from {module} import *", namespace)


def test_the_twelve_paths_that_raised_import_error_are_in_the_list() -> None:
    assert len(WERE_MISSING) == 12
    assert set(WERE_MISSING) <= set(SAMPLE_MODULES)


def test_re_exports_code_relies_on_are_headwaters_objects() -> None:
    from azureml.core.environment import CondaDependencies
    from azureml.core.model import Dataset
    from azureml.core.runconfig import DatasetConsumptionConfig, Environment
    from azureml.data.abstract_dataset import AbstractDataset
    from azureml.data.dataset_factory import DataPath
    from azureml.pipeline.core.builder import PipelineData, StepSequence
    from azureml.pipeline.core.pipeline import Pipeline
    from azureml.pipeline.steps.python_script_step import PythonScriptStep

    assert CondaDependencies is headwater.CondaDependencies
    assert Dataset is headwater.Dataset
    assert Environment is headwater.Environment
    assert DatasetConsumptionConfig is headwater.DatasetConsumptionConfig
    assert DataPath is headwater.DataPath
    assert Pipeline is headwater.Pipeline
    assert PipelineData is headwater.PipelineData
    assert StepSequence is headwater.StepSequence
    assert PythonScriptStep is headwater.PythonScriptStep
    assert issubclass(headwater.FileDataset, AbstractDataset)


def test_a_sample_schedule_import_loads_and_fails_only_when_used_with_advice() -> None:
    from azureml.pipeline.core.schedule import Schedule, ScheduleRecurrence, TimeZone
    from azureml.train.hyperdrive import BanditPolicy, choice

    import headwater.sdk.schedule

    assert not is_placeholder(Schedule) and Schedule is headwater.sdk.schedule.Schedule
    ScheduleRecurrence(frequency="Day", interval=1, time_zone=TimeZone.PacificStandardTime).validate()
    with pytest.raises(NotSupportedError, match="Optuna"):
        BanditPolicy(slack_factor=0.1)
    with pytest.raises(NotSupportedError, match="Optuna"):
        choice(1, 2)


def test_promote_headers_behavior_is_understood_by_the_readers() -> None:
    from azureml.data.dataset_factory import PromoteHeadersBehavior

    from headwater.data.definition import header_mode

    assert header_mode(PromoteHeadersBehavior.ALL_FILES_HAVE_SAME_HEADERS) == "all_files_same"
    assert PromoteHeadersBehavior.NO_HEADERS.value == 0


def test_exceptions_that_code_catches_are_exception_classes() -> None:
    from azureml.exceptions import AzureMLAggregatedException, ServiceException

    try:
        raise ServiceException("x")
    except (ServiceException, AzureMLAggregatedException):
        pass


@pytest.mark.parametrize(
    "module", ["azureml.core", "azureml.core.compute", "azureml.data", "azureml.exceptions", "azureml.pipeline.core"]
)
def test_module_versions(module: str) -> None:
    assert importlib.import_module(module).__version__ == SDK_VERSION
