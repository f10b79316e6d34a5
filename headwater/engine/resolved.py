"""A step's inputs and outputs once resolved: what :mod:`headwater.engine.launch` hands the step.

Apart from the launch so that deciding reuse (:mod:`headwater.engine.inputs`) does not import it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["ResolvedInput", "ResolvedOutput"]


@dataclass(frozen=True)
class ResolvedInput:
    name: str
    mode: str  # 'direct' | 'download' | 'mount'
    value: str  # what argv and the <name> variable get: a local path, or the dataset id (direct)
    digest: str
    path: str | None = None
    legacy: bool = False
    dataset: dict[str, Any] | None = None  # the dataset record, for run.input_datasets
    folder: str | None = None  # where the files are put, when ``path`` names the one file in it

    @property
    def materialized_at(self) -> str | None:
        """The local folder the input's files are put in: ``path``, except for a one-file FileDataset,
        whose ``path`` (and ``value``) name that file inside ``folder``, as SDK v1 hands it to a step."""
        return self.folder or self.path


@dataclass(frozen=True)
class ResolvedOutput:
    name: str
    staging: Path
    datastore: str
    path: str  # on the datastore, placeholders filled in
    legacy: bool = False
