"""The curated environments ``Environment.get`` knows without registration (SDK v1: ``AzureML-*``).

SDK v1's curated environments are prebuilt Docker images. Here each is a short pip spec: the
packages a script written for it imports, beyond the ``azureml-*`` ones Headwater provides.
Python is not pinned (the ``py38`` in a name is SDK v1's, kept so code runs unchanged): they run
on the Python that runs Headwater, or on one built with their packages when that Python lacks
them. Every name starts with ``AzureML-``, a prefix nobody may register.

Add an entry when a sample needs one; keep the spec to what its scripts import.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CURATED_ENVIRONMENTS", "CuratedEnvironment"]


@dataclass(frozen=True)
class CuratedEnvironment:
    """One curated environment: its SDK v1 name, version, a description and its pip packages."""

    name: str
    description: str
    pip_packages: tuple[str, ...]
    version: str = "1"


_AZUREML = ("azureml-core", "azureml-defaults")

CURATED_ENVIRONMENTS: dict[str, CuratedEnvironment] = {
    env.name: env
    for env in (
        CuratedEnvironment(
            "AzureML-Minimal",
            "The Azure ML basics: azureml-core and azureml-defaults (both provided by Headwater).",
            _AZUREML,
        ),
        CuratedEnvironment(
            "AzureML-Tutorial",
            "What the SDK v1 tutorials and pipeline samples use: the SDK, data preparation, pandas.",
            (
                "azureml-sdk",
                "azureml-widgets",
                "azureml-mlflow",
                "azureml-dataset-runtime[fuse,pandas]",
                "pandas",
                "numpy",
            ),
        ),
        CuratedEnvironment(
            "AzureML-sklearn-1.0-ubuntu20.04-py38-cpu",
            "scikit-learn 1.0 for training and scoring.",
            (*_AZUREML, "scikit-learn~=1.0", "pandas", "numpy", "scipy", "joblib"),
        ),
        CuratedEnvironment(
            "AzureML-lightgbm-3.2-ubuntu18.04-py37-cpu",
            "LightGBM 3.2 with pandas.",
            (*_AZUREML, "lightgbm~=3.2", "pandas", "numpy"),
        ),
        CuratedEnvironment(
            "AzureML-pytorch-1.10-ubuntu18.04-py38-cuda11-gpu",
            "PyTorch 1.10 (this machine's build: CPU unless a GPU build is installed).",
            (*_AZUREML, "torch~=1.10", "torchvision", "numpy"),
        ),
        CuratedEnvironment(
            "AzureML-tensorflow-2.4-ubuntu18.04-py37-cuda11-gpu",
            "TensorFlow 2.4.",
            (*_AZUREML, "tensorflow~=2.4", "numpy"),
        ),
    )
}
