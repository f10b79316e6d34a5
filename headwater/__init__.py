"""Headwater: machine-learning pipelines in the Azure ML SDK v1 style, on your own machine.

Every public name is importable from here (``from headwater import Workspace``). They are loaded
lazily, on first use, so ``import headwater`` stays cheap inside a step process.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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
    "DataReference": "headwater.sdk.data_reference",
    "DataPath": "headwater.sdk.data_reference",
    "DataPathComputeBinding": "headwater.sdk.data_reference",
    "Dataset": "headwater.sdk.dataset",
    "FileDataset": "headwater.sdk.dataset",
    "TabularDataset": "headwater.sdk.dataset",
}

__all__ = ["__version__", *_EXPORTS]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
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
    from headwater.sdk.data_reference import DataPath, DataPathComputeBinding, DataReference
    from headwater.sdk.dataset import Dataset, FileDataset, TabularDataset
    from headwater.sdk.datastore import AzureBlobDatastore, AzureFileDatastore, Datastore, LocalDatastore
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
