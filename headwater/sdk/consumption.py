"""``DatasetConsumptionConfig``: how a step receives a dataset.

SDK v1: ``azureml.data.dataset_consumption_config.DatasetConsumptionConfig``.

A config names the input (the environment variable the step reads), holds the dataset and says
how it arrives: ``direct`` (the step gets the dataset id and reads it itself), ``mount`` or
``download`` (the step gets a local folder). Tabular datasets only support ``direct``.
"""

from __future__ import annotations

import re
from typing import Any

from headwater.data.definition import DatasetArgumentError
from headwater.errors import NotSupportedError

__all__ = ["MODES", "DatasetConsumptionConfig", "validate_input_name"]

MODES = ("direct", "download", "mount")
_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def validate_input_name(name: object) -> str:
    """``name`` if it can be an input name (an environment variable), else DatasetArgumentError."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise DatasetArgumentError(
            f"Invalid dataset input name {name!r}.",
            hint="Use letters, digits and '_', not starting with a digit (it becomes an environment "
            "variable), e.g. 'training_data'.",
        )
    return name


def _resolve_dataset(dataset: Any) -> Any:
    """A ``(workspace, name)`` or ``(workspace, name, version)`` tuple becomes that registered dataset."""
    if isinstance(dataset, tuple):
        if len(dataset) not in (2, 3):
            raise DatasetArgumentError(
                f"A dataset tuple is (workspace, name) or (workspace, name, version), got {dataset!r}."
            )
        from headwater.sdk.dataset import Dataset

        version = dataset[2] if len(dataset) == 3 else "latest"
        return Dataset.get_by_name(dataset[0], dataset[1], version=version)
    if dataset is None:
        raise DatasetArgumentError("DatasetConsumptionConfig needs a dataset.")
    return dataset


def _is_tabular(dataset: Any) -> bool:
    return getattr(dataset, "_KIND", None) == "tabular"


class DatasetConsumptionConfig:
    """A named dataset input of a step, with its delivery mode.

    ``dataset`` is a Dataset, a ``(workspace, name[, version])`` tuple (resolved at once), or
    another input object a step accepts (an output of an earlier step, a pipeline parameter).
    """

    def __init__(self, name: str, dataset: Any, mode: str = "direct", path_on_compute: str | None = None) -> None:
        self._name = validate_input_name(name)
        self._dataset = _resolve_dataset(dataset)
        if mode not in MODES:
            if mode == "hdfs":
                raise NotSupportedError(
                    "Dataset mode 'hdfs' needs Spark, which Headwater does not run.",
                    hint="Use 'direct', 'mount' or 'download'.",
                )
            raise DatasetArgumentError(f"Unknown dataset mode {mode!r}.", hint=f"Use one of {', '.join(MODES)}.")
        if mode != "direct" and _is_tabular(self._dataset):
            raise DatasetArgumentError(
                f"Input {name!r}: a TabularDataset can only be consumed in 'direct' mode, not {mode!r}.",
                hint="Read it in the step with run.input_datasets[name].to_pandas_dataframe(); "
                "mount or download a FileDataset instead.",
            )
        self._mode = mode
        self._path_on_compute = path_on_compute

    @property
    def name(self) -> str:
        """The input name: the environment variable and ``run.input_datasets`` key in the step."""
        return self._name

    @property
    def dataset(self) -> Any:
        """The dataset (or input object) consumed."""
        return self._dataset

    @property
    def mode(self) -> str:
        """``'direct'``, ``'mount'`` or ``'download'``."""
        return self._mode

    @property
    def path_on_compute(self) -> str | None:
        """Where the files appear in the step (mount/download), or None for a folder Headwater picks."""
        return self._path_on_compute

    def as_mount(self, path_on_compute: str | None = None) -> DatasetConsumptionConfig:
        """The same input, mounted (read-only view of the files) in the step."""
        return DatasetConsumptionConfig(self._name, self._dataset, "mount", path_on_compute)

    def as_download(self, path_on_compute: str | None = None) -> DatasetConsumptionConfig:
        """The same input, downloaded (copied) into the step."""
        return DatasetConsumptionConfig(self._name, self._dataset, "download", path_on_compute)

    def as_hdfs(self) -> DatasetConsumptionConfig:
        """SDK v1's Spark/HDFS mode: not available in Headwater."""
        raise NotSupportedError(
            "Dataset mode 'hdfs' needs Spark, which Headwater does not run.",
            hint="Use as_mount() or as_download(), or consume the dataset directly.",
        )

    def __repr__(self) -> str:
        where = f", path_on_compute={self._path_on_compute!r}" if self._path_on_compute else ""
        return f"DatasetConsumptionConfig(name={self._name!r}, mode={self._mode!r}{where}, dataset={self._dataset!r})"
