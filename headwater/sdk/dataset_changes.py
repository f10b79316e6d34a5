"""A registered dataset version's baseline and the warning when its data changed; small helpers of datasets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from headwater.data.definition import DEFINITION_FORMAT, DatasetArgumentError

__all__ = ["DatasetDataChangedWarning"]


class DatasetDataChangedWarning(UserWarning):
    """The files under a registered dataset version changed since it was registered."""

    def __init__(self, name: str | None, version: int | None, changes: dict[str, list[str]]) -> None:
        self.name = name
        self.version = version
        self.changes = changes
        self.files = sorted({f for group in changes.values() for f in group})
        parts = [
            f"{kind} {', '.join(files[:5])}{' ...' if len(files) > 5 else ''}"
            for kind, files in changes.items()
            if files
        ]
        super().__init__(
            f"Dataset {name!r} version {version}: the data changed since it was registered "
            f"({'; '.join(parts)}). Register the current data as a new version "
            "(register(ws, name, create_new_version=True)) or restore the files."
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.name, self.version, self.changes))


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
