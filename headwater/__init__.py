"""Headwater: machine-learning pipelines in the Azure ML SDK v1 style, on your own machine.

Every public name is importable from here (``from headwater import Workspace``). They are loaded
lazily, on first use, so ``import headwater`` stays cheap inside a step process.
"""

from __future__ import annotations

import importlib

from headwater._version import __version__

# name -> module that defines it. Keep sorted by module; `__all__` is derived from it.
_EXPORTS: dict[str, str] = {
    # errors
    "HeadwaterError": "headwater.errors",
    "ConfigurationError": "headwater.errors",
    "NotFoundError": "headwater.errors",
    "ComputeTargetException": "headwater.errors",
    "AlreadyExistsError": "headwater.errors",
    "DataAccessError": "headwater.errors",
    "PathEscapeError": "headwater.errors",
    "MetadataStoreError": "headwater.errors",
    "GraphValidationError": "headwater.errors",
    "EnvironmentBuildError": "headwater.errors",
    "StepFailedError": "headwater.errors",
    "ActivityFailedException": "headwater.errors",
    "NotSupportedError": "headwater.errors",
    # workspace and data
    "Workspace": "headwater.sdk.workspace",
    "Datastore": "headwater.sdk.datastore",
    "AzureBlobDatastore": "headwater.sdk.datastore",
    "AzureFileDatastore": "headwater.sdk.datastore",
    "LocalDatastore": "headwater.sdk.datastore",
    "S3Datastore": "headwater.sdk.datastore",
    "secret_from_env": "headwater.sdk.credentials",
    "DataReference": "headwater.sdk.data_reference",
    "DataPath": "headwater.sdk.data_reference",
    "DataPathComputeBinding": "headwater.sdk.data_reference",
    "Dataset": "headwater.sdk.dataset",
    "FileDataset": "headwater.sdk.dataset",
    "TabularDataset": "headwater.sdk.dataset",
    "DatasetDataChangedWarning": "headwater.sdk.dataset",
    "DatasetConsumptionConfig": "headwater.sdk.consumption",
    # environments and compute
    "Environment": "headwater.sdk.environment",
    "RunConfiguration": "headwater.sdk.environment",
    "DockerConfiguration": "headwater.sdk.environment",
    "CondaDependencies": "headwater.sdk.conda_dependencies",
    "ComputeTarget": "headwater.sdk.compute",
    "AmlCompute": "headwater.sdk.compute",
    "ComputeInstance": "headwater.sdk.compute",
    "RayCompute": "headwater.sdk.compute",
    "DataFactoryCompute": "headwater.sdk.compute_datafactory",
    "AmlComputeProvisioningConfiguration": "headwater.sdk.compute_config",
    "ComputeInstanceProvisioningConfiguration": "headwater.sdk.compute_config",
    # inside a step
    "Run": "headwater.runtime.run",
    # pipelines
    "PipelineParameter": "headwater.sdk.parameters",
    "OutputFileDatasetConfig": "headwater.sdk.pipeline_data",
    "OutputTabularDatasetConfig": "headwater.sdk.pipeline_data",
    "OutputDatasetConfig": "headwater.sdk.pipeline_data",
    "PipelineData": "headwater.sdk.pipeline_data",
    "PythonScriptStep": "headwater.sdk.steps",
    "CommandStep": "headwater.sdk.steps",
    "StepSequence": "headwater.sdk.steps",
    "PipelineStep": "headwater.sdk.steps",
    "DataTransferStep": "headwater.sdk.data_transfer_step",
    "ParallelRunConfig": "headwater.sdk.parallel_run_config",
    "ParallelRunStep": "headwater.sdk.parallel_run_step",
    "Pipeline": "headwater.sdk.pipeline",
    "Experiment": "headwater.sdk.experiment",
    "PipelineRun": "headwater.sdk.runs",
    "StepRun": "headwater.sdk.runs",
    "PortDataReference": "headwater.sdk.step_outputs",
    "ScriptRunConfig": "headwater.sdk.script_run_config",
    "ScriptRun": "headwater.sdk.script_run",
    # data drift
    "DataDriftDetector": "headwater.sdk.datadrift",
    "AlertConfiguration": "headwater.sdk.datadrift_config",
}

__all__ = ["__version__", *_EXPORTS]

TYPE_CHECKING = False  # `import typing` costs ~7 ms at start-up; type checkers treat this as True
if TYPE_CHECKING:
    from typing import Any

    from headwater.errors import (
        ActivityFailedException,
        AlreadyExistsError,
        ComputeTargetException,
        ConfigurationError,
        DataAccessError,
        EnvironmentBuildError,
        GraphValidationError,
        HeadwaterError,
        MetadataStoreError,
        NotFoundError,
        NotSupportedError,
        PathEscapeError,
        StepFailedError,
    )
    from headwater.runtime.run import Run
    from headwater.sdk.compute import AmlCompute, ComputeInstance, ComputeTarget, RayCompute
    from headwater.sdk.compute_config import (
        AmlComputeProvisioningConfiguration,
        ComputeInstanceProvisioningConfiguration,
    )
    from headwater.sdk.compute_datafactory import DataFactoryCompute
    from headwater.sdk.conda_dependencies import CondaDependencies
    from headwater.sdk.consumption import DatasetConsumptionConfig
    from headwater.sdk.credentials import secret_from_env
    from headwater.sdk.data_reference import DataPath, DataPathComputeBinding, DataReference
    from headwater.sdk.data_transfer_step import DataTransferStep
    from headwater.sdk.datadrift import DataDriftDetector
    from headwater.sdk.datadrift_config import AlertConfiguration
    from headwater.sdk.dataset import Dataset, DatasetDataChangedWarning, FileDataset, TabularDataset
    from headwater.sdk.datastore import (
        AzureBlobDatastore,
        AzureFileDatastore,
        Datastore,
        LocalDatastore,
        S3Datastore,
    )
    from headwater.sdk.environment import DockerConfiguration, Environment, RunConfiguration
    from headwater.sdk.experiment import Experiment
    from headwater.sdk.parallel_run_config import ParallelRunConfig
    from headwater.sdk.parallel_run_step import ParallelRunStep
    from headwater.sdk.parameters import PipelineParameter
    from headwater.sdk.pipeline import Pipeline
    from headwater.sdk.pipeline_data import (
        OutputDatasetConfig,
        OutputFileDatasetConfig,
        OutputTabularDatasetConfig,
        PipelineData,
    )
    from headwater.sdk.runs import PipelineRun, StepRun
    from headwater.sdk.script_run import ScriptRun
    from headwater.sdk.script_run_config import ScriptRunConfig
    from headwater.sdk.step_outputs import PortDataReference
    from headwater.sdk.steps import CommandStep, PipelineStep, PythonScriptStep, StepSequence
    from headwater.sdk.workspace import Workspace


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'headwater' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # cache: the next access is a plain attribute lookup
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
