"""Small helpers of :mod:`headwater.sdk.dataset`: a registered version's baseline, lookup errors, definitions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from headwater.data.definition import DEFINITION_FORMAT, DatasetArgumentError
from headwater.errors import NotFoundError

__all__ = ["not_found"]


@dataclass(frozen=True)
class _Baseline:
    """What a registered version recorded: the reference for ``data_changed()``."""

    name: str | None
    version: int | None
    kind: str
    definition: dict[str, Any]
    file_digests: dict[str, str]


def _empty_definition() -> dict[str, Any]:
    return {
        "format": DEFINITION_FORMAT,
        "sources": [],
        "reader": {"type": "files"},
        "partition_format": None,
        "transformations": [],
    }


def _columns(columns: str | list[str]) -> list[str]:
    names = [columns] if isinstance(columns, str) else list(columns)
    if not names or not all(isinstance(c, str) for c in names):
        raise DatasetArgumentError(f"Expected column names (strings), got {columns!r}.")
    return names


def not_found(workspace: Any, name: str, version: Any) -> NotFoundError:
    """The error for a dataset name (or a version of it) that is not registered."""
    store = workspace.metadata_store
    where = f"workspace {workspace.name!r}"
    versions = [r.version for r in store.list_dataset_versions(name)]
    if not versions:
        return NotFoundError(
            "Dataset",
            name,
            where=where,
            candidates=store.dataset_names(),
            hint="Register it first: dataset.register(workspace, name).",
        )
    return NotFoundError(
        "Dataset version",
        f"{name}:{version}",
        where=where,
        hint=f"Existing versions of {name!r}: {', '.join(map(str, versions))}; or use version='latest'.",
    )
